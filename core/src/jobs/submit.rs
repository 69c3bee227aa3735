//! Submitting a job: the SSRF checks of its URLs, the rows, and one message per item.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::StreamExt as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::JobService;
use super::submission::{Source, Submission, parse_submission};
use crate::db::DbError;
use crate::db::jobs::{Inserted, JobRecord, NewItem, NewJob};
use crate::format::ImageFormat;
use crate::net::FetchError;
use crate::queue::{Family, Message};
use crate::spec::SpecError;

/// Publishes of one submission awaiting the broker's confirm at once.
const PUBLISH_IN_FLIGHT: usize = 64;

/// What submitting a job gave.
#[derive(Debug)]
pub enum Submitted {
    /// A new job (202).
    Created(JobRecord),
    /// The same `Idempotency-Key` and body as before: that job as it is now (200).
    Existing(JobRecord),
    /// The same key with another body (409).
    Conflict,
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A URL the SSRF rules refuse, with the parameter that named it.
    #[error("{error}")]
    Url { param: String, error: FetchError },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl JobService {
    /// Checks every URL against the SSRF rules (schemes, literal addresses, and each
    /// distinct host's resolved addresses), stores the job and publishes one message per
    /// item.
    pub async fn submit(
        &self,
        tenant: &str,
        body: &Map<String, Value>,
        idempotency_key: Option<&str>,
        request_id: &str,
    ) -> Result<Submitted, SubmitError> {
        let submission = parse_submission(body)?;
        if let Some(url) = &submission.webhook_url {
            self.http
                .check_url(url)
                .await
                .map_err(|error| SubmitError::Url { param: "webhook_url".into(), error })?;
        }
        self.check_item_urls(&submission).await?;

        let id = Uuid::now_v7();
        let mut formats: HashMap<Uuid, Option<ImageFormat>> = HashMap::new();
        let mut items = Vec::with_capacity(submission.items.len());
        for item in &submission.items {
            let source_format = match &item.source {
                Source::Image(image_id) => match formats.get(image_id) {
                    Some(format) => *format,
                    None => {
                        let format = self
                            .repository()
                            .get_image(tenant, *image_id)
                            .await?
                            .map(|image| image.format);
                        formats.insert(*image_id, format);
                        format
                    }
                },
                Source::Url(_) => None,
            };
            items.push(NewItem {
                source_image_id: match &item.source {
                    Source::Image(image_id) => Some(*image_id),
                    Source::Url(_) => None,
                },
                source_url: match &item.source {
                    Source::Url(url) => Some(url.clone()),
                    Source::Image(_) => None,
                },
                spec: Value::Object(item.spec.clone()).to_string(),
                family: Family::of(source_format, item.output_format),
                output_image_id: Uuid::now_v7(),
            });
        }
        let job = NewJob {
            id,
            tenant: tenant.to_string(),
            metadata: submission.metadata.as_ref().map(Value::to_string),
            request_id: request_id.to_string(),
            webhook_url: submission.webhook_url.clone(),
            items,
        };
        // Bodies are compared as parsed JSON: serde_json's maps are ordered by key, so the
        // re-serialised text is the same for equal documents.
        let body_sha256 = hex::encode(Sha256::digest(Value::Object(body.clone()).to_string()));
        let idempotency = idempotency_key.map(|key| (key, body_sha256.as_str()));
        match self.repository().insert_job(&job, idempotency).await? {
            Inserted::Created => {}
            Inserted::Existing(existing) => {
                let job = self.repository().job_by_id(existing).await?.ok_or_else(|| {
                    DbError::Corrupt(format!("idempotency key names a missing job {existing}"))
                })?;
                return Ok(Submitted::Existing(job));
            }
            Inserted::Conflict => return Ok(Submitted::Conflict),
        }
        // Confirms are awaited many at a time: a large job costs a few round trips, not one
        // per item. Any failure leaves the job's items unmarked for the sweeper, which
        // publishes them later (a duplicate message is harmless: items are idempotent).
        // Owned messages and queue handles: the future stays `Send` for any caller.
        let messages: Vec<Message> = job
            .items
            .iter()
            .enumerate()
            .map(|(index, item)| Message::JobItem {
                job_id: id,
                index: index as u32,
                family: item.family,
            })
            .collect();
        let failure = futures::stream::iter(messages)
            .map(|message| {
                let queue = Arc::clone(&self.queue);
                async move { queue.publish(&message).await }
            })
            .buffered(PUBLISH_IN_FLIGHT)
            .filter_map(|published| std::future::ready(published.err()))
            .next()
            .await;
        match failure {
            None => self.repository().mark_published(id, None).await?,
            Some(error) => {
                tracing::warn!(job.id = %id, %error, "publish failed; the sweeper will retry")
            }
        }
        tracing::info!(job.id = %id, total = job.items.len(), "job queued");
        let job = self
            .repository()
            .job_by_id(id)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("job {id} vanished after its insert")))?;
        Ok(Submitted::Created(job))
    }

    async fn check_item_urls(&self, submission: &Submission) -> Result<(), SubmitError> {
        // One resolution per distinct host; the syntax of every URL still gets checked.
        let mut checked_hosts = HashSet::new();
        for (index, item) in submission.items.iter().enumerate() {
            let Source::Url(url) = &item.source else { continue };
            let host_key = url::Url::parse(url).ok().map(|parsed| {
                (parsed.scheme().to_string(), parsed.host_str().map(str::to_owned), parsed.port())
            });
            let param = format!("items[{index}].url");
            let first_of_host =
                host_key.as_ref().is_none_or(|key| checked_hosts.insert(key.clone()));
            let outcome = if first_of_host {
                self.http.check_url(url).await
            } else {
                self.http.check_url_syntax(url)
            };
            match outcome {
                Ok(()) => {}
                // Whether a source can be fetched is found out per item.
                Err(FetchError::Failed { .. }) => {}
                Err(error) => return Err(SubmitError::Url { param, error }),
            }
        }
        Ok(())
    }
}
