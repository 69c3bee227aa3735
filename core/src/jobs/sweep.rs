//! The sweeper: publishes job items whose message may have been lost (committed while the
//! broker was down, or lost between the commit and the broker's confirm).

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::JobService;
use crate::db::DbError;
use crate::queue::Message;

impl JobService {
    /// Publishes items whose messages may have been lost (queued longer than `age`).
    pub(crate) async fn sweep(&self, age: Duration) -> Result<usize, DbError> {
        let older_than = Utc::now() - chrono::Duration::from_std(age).unwrap_or_default();
        let stale = self.repository().stale_queued_items(older_than, 1000).await?;
        for (job_id, index, family) in &stale {
            let message = Message::JobItem { job_id: *job_id, index: *index, family: *family };
            if let Err(error) = self.queue.publish(&message).await {
                tracing::warn!(%error, "sweeper cannot publish; trying again next round");
                break;
            }
            self.repository().mark_published(*job_id, Some(*index)).await?;
        }
        if !stale.is_empty() {
            tracing::info!(count = stale.len(), "re-published queued job items");
        }
        Ok(stale.len())
    }

    /// Sweeps every `every` until `shutdown`, for items queued longer than twice that.
    pub(crate) async fn run_sweeper(&self, every: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(error) = self.sweep(every * 2).await {
                tracing::warn!(%error, "sweep failed");
            }
        }
    }
}
