//! Bulk jobs: status and cancellation here; `submission` (validating a body), `submit`
//! (storing and publishing), `process` (one item), `sweep` (lost messages) and `webhooks`
//! (delivery) each in their own module.
//!
//! The database owns a job's state; the queue carries `(job id, item index)` messages, one
//! per item, so one job spreads over every worker. Processing is idempotent: an item's
//! output image id is chosen at submission, so a redelivered item writes the same image.

mod process;
mod submission;
mod submit;
mod sweep;
mod webhooks;

use std::sync::Arc;

use uuid::Uuid;

use crate::db::jobs::{JobRecord, JobStatus};
use crate::db::{DbError, Repository};
use crate::net::HttpClient;
use crate::queue::{Queue, RetryPolicy};
use crate::service::ImageService;
use crate::signature;
use crate::views::JobView;
pub use process::MAX_WORK_ATTEMPTS;
pub use submission::{
    MAX_ITEMS, Source, Submission, SubmittedItem, item_transform, parse_submission,
};
pub use submit::{SubmitError, Submitted};
pub use webhooks::{WEBHOOK_ATTEMPTS, WEBHOOK_TIMEOUT};

/// Bulk jobs over the image service, built by `app` (the wiring).
#[derive(Clone)]
pub struct JobService {
    pub(crate) images: ImageService,
    pub(crate) http: HttpClient,
    /// Where item messages are published.
    pub(crate) queue: Arc<dyn Queue>,
    pub(crate) webhook_master_secret: Arc<str>,
    /// Whether each tenant signs with its own derived secret (API keys configured).
    pub(crate) per_tenant_secrets: bool,
    /// The queue's retry policy: an item's attempts are counted against it.
    pub(crate) retry: RetryPolicy,
}

impl JobService {
    fn repository(&self) -> &Repository {
        self.images.repository()
    }

    /// The secret webhooks to `tenant` are signed with.
    pub fn webhook_secret(&self, tenant: &str) -> String {
        if self.per_tenant_secrets {
            signature::tenant_secret(&self.webhook_master_secret, tenant)
        } else {
            self.webhook_master_secret.to_string()
        }
    }

    /// A tenant's job with its items.
    pub async fn view(&self, tenant: &str, id: Uuid) -> Result<Option<JobView>, DbError> {
        match self.repository().get_job(tenant, id).await? {
            Some(job) => Ok(Some(self.full_view(&job).await?)),
            None => Ok(None),
        }
    }

    async fn full_view(&self, job: &JobRecord) -> Result<JobView, DbError> {
        let items = self.repository().job_items(job.id).await?;
        let outputs = self.repository().job_outputs(job.id).await?;
        Ok(JobView::full(job, &items, &outputs))
    }

    /// Cancels a tenant's job and returns it with its items.
    pub async fn cancel(&self, tenant: &str, id: Uuid) -> Result<Option<JobView>, DbError> {
        match self.repository().cancel_job(tenant, id).await? {
            Some(job) => {
                if job.finished_at.is_some() {
                    tracing::info!(job.id = %id, status = job.status.name(), "job ended");
                }
                Ok(Some(self.full_view(&job).await?))
            }
            None => Ok(None),
        }
    }

    /// A page of a tenant's jobs, newest first.
    pub async fn list(
        &self,
        tenant: &str,
        status: Option<JobStatus>,
        limit: u32,
        before: Option<Uuid>,
    ) -> Result<Vec<JobRecord>, DbError> {
        self.repository().list_jobs(tenant, (status, limit, before)).await
    }
}
