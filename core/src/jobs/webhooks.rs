//! Webhook delivery: due webhooks are claimed from the database under a lease, signed
//! afresh on every attempt and retried with backoff, so retries survive restarts and any
//! process may deliver.

use std::time::Duration;

use chrono::Utc;

use super::JobService;
use crate::db::DbError;
use crate::net::FetchError;
use crate::signature;

/// Webhook delivery attempts in all.
pub const WEBHOOK_ATTEMPTS: u32 = 10;
/// Time one webhook attempt may take.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

impl JobService {
    /// Delivers due webhooks until `shutdown`: each attempt signed afresh, retried with
    /// exponential backoff (1, 2, 4, 8 s … capped at 5 min), the state in the database so
    /// retries survive restarts and any process may deliver.
    pub(crate) async fn run_webhooks(&self, shutdown: tokio_util::sync::CancellationToken) {
        loop {
            let delivered = match self.deliver_one().await {
                Ok(delivered) => delivered,
                Err(error) => {
                    tracing::warn!(%error, "webhook dispatcher: database error");
                    false
                }
            };
            if !delivered {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            } else if shutdown.is_cancelled() {
                return;
            }
        }
    }

    /// Delivers one due webhook, if any; `true` when one was attempted.
    pub(crate) async fn deliver_one(&self) -> Result<bool, DbError> {
        let lease = Utc::now() + chrono::Duration::seconds(60);
        let Some(job) = self.repository().claim_due_webhook(lease).await? else {
            return Ok(false);
        };
        let Some(url) = job.webhook_url.clone() else { return Ok(true) };
        let body = serde_json::to_vec(&self.full_view(&job).await?).unwrap_or_default();
        let attempt = job.webhook_attempts + 1;
        let timestamp = Utc::now().timestamp();
        let mut headers = reqwest::header::HeaderMap::new();
        let secret = self.webhook_secret(&job.tenant);
        let pairs = [
            ("progimage-event", "job.finished".to_string()),
            ("progimage-delivery", format!("{}:{attempt}", job.id)),
            ("progimage-signature", signature::sign(&secret, timestamp, &body)),
        ];
        for (name, value) in pairs {
            if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        let outcome = self.http.post_json(&url, body.into(), headers, WEBHOOK_TIMEOUT).await;
        let (status, delivered, retry) = match &outcome {
            Ok(status) if status.is_success() => (Some(status.as_u16()), true, false),
            Ok(status) => (Some(status.as_u16()), false, true),
            // An address refused at delivery time is not retried.
            Err(FetchError::NotAllowed(_)) => (None, false, false),
            Err(_) => (None, false, true),
        };
        let next_at = (retry && attempt < WEBHOOK_ATTEMPTS).then(|| {
            let delay = 1u64.checked_shl(attempt - 1).unwrap_or(u64::MAX).min(300);
            Utc::now() + chrono::Duration::seconds(delay as i64)
        });
        tracing::info!(
            job.id = %job.id, attempt, status = ?status, delivered,
            next_attempt_at = ?next_at, "webhook attempt"
        );
        self.repository().record_webhook_attempt(job.id, status, delivered, next_at).await?;
        Ok(true)
    }
}
