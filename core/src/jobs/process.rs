//! Processing one item: claim it, make and store its output, record the outcome.

use uuid::Uuid;

use super::JobService;
use super::submission::item_transform;
use crate::db::ImageRecord;
use crate::db::jobs::{ItemOutcome, ItemRecord, JobRecord};
use crate::format::ImageFormat;
use crate::problem::{ErrorCode, Problem, Recovery};
use crate::queue::{Attempt, HandleError};
use crate::service::{ServiceError, Upload};

/// Attempts for an item whose image work timed out or crashed: the same input will most
/// likely do it again.
pub const MAX_WORK_ATTEMPTS: u32 = 2;

impl JobService {
    /// Processes one delivery of an item: claims it, makes and stores its output and
    /// records the outcome. A retryable failure asks the queue for another delivery while
    /// the item has attempts left; on its last attempt the item is recorded `failed`. Only
    /// when nothing can be recorded (the database is down) does the last attempt ask again.
    pub(crate) async fn process_item(
        &self,
        job_id: Uuid,
        index: u32,
        delivery: Attempt,
    ) -> Result<(), HandleError> {
        let retry = |error: crate::db::DbError| HandleError::Retry(error.into());
        let Some(item) = self.repository().claim_item(job_id, index).await.map_err(retry)? else {
            // Ended or cancelled already: a duplicate delivery.
            return Ok(());
        };
        let Some(job) = self.repository().job_by_id(job_id).await.map_err(retry)? else {
            return Ok(());
        };
        // One budget: the message's deliveries or the row's claims, whichever is further
        // (a process killed mid-item is redelivered by the broker without a new count).
        let attempt = self.retry.attempt(delivery.number.max(item.attempts));
        let span = tracing::info_span!(
            "job_item", job.id = %job_id, item.index = index, attempt = attempt.number
        );
        // Claimed more often than the policy allows: earlier attempts never recorded an
        // outcome (the process died or was stopped mid-item), so fail it instead of looping.
        let outcome = if item.attempts > self.retry.max_attempts() {
            Err(Problem::new(
                ErrorCode::Internal,
                format!("the item was interrupted {} times without an outcome", item.attempts - 1),
            ))
        } else {
            tracing::Instrument::instrument(self.run_item(&job, &item), span.clone()).await
        };
        let outcome = match outcome {
            Ok(image) => {
                tracing::debug!(job.id = %job_id, index, image.id = %image.id, "item succeeded");
                ItemOutcome::Succeeded
            }
            Err(mut problem) => {
                let attempts_left = match problem.recovery {
                    Recovery::Fatal => false,
                    Recovery::Transient => !attempt.last,
                    Recovery::WorkFailure => !attempt.last && item.attempts < MAX_WORK_ATTEMPTS,
                };
                if attempts_left {
                    return Err(HandleError::Retry(anyhow::anyhow!(
                        "item {index} of job {job_id}: {}",
                        problem.cause.as_deref().unwrap_or(&problem.detail)
                    )));
                }
                problem.request_id = job.request_id.clone();
                span.in_scope(|| problem.log("item failed"));
                ItemOutcome::Failed(serde_json::to_string(&problem).unwrap_or_default())
            }
        };
        if let Some(finished) =
            self.repository().finish_item(job_id, index, &outcome).await.map_err(retry)?
        {
            tracing::info!(
                job.id = %job_id, status = finished.status.name(), succeeded = finished.succeeded,
                failed = finished.failed, cancelled = finished.cancelled, "job ended"
            );
        }
        Ok(())
    }

    async fn run_item(&self, job: &JobRecord, item: &ItemRecord) -> Result<ImageRecord, Problem> {
        let path = format!("items[{}]", item.index);
        let transform = item_transform(&item.spec).map_err(|error| Problem::from(&error))?;
        let (encoded, source_image_id, filename) = match (&item.source_image_id, &item.source_url) {
            (Some(image_id), _) => {
                let image = self.images.image(&job.tenant, *image_id).await.map_err(|error| {
                    let problem = Problem::from(&error);
                    if problem.code_is(ErrorCode::NotFound) {
                        problem.with_param(format!("{path}.image_id"))
                    } else {
                        problem
                    }
                })?;
                let encoded = self
                    .images
                    .transform_stored(&image, &transform)
                    .await
                    .map_err(|error| Problem::from(&error))?;
                (encoded, Some(image.id), image.filename.clone())
            }
            (None, Some(url)) => {
                let fetched = self
                    .http
                    .fetch(url)
                    .await
                    .map_err(|error| Problem::from(&error).with_param(format!("{path}.url")))?;
                let filename = fetched
                    .final_url
                    .path_segments()
                    .and_then(|mut segments| segments.next_back().map(str::to_owned))
                    .filter(|name| !name.is_empty());
                let encoded = self
                    .images
                    .transform_bytes(&job.tenant, fetched.bytes, None, &transform)
                    .await
                    .map_err(|error| Problem::from(&error))?;
                (encoded, None, filename)
            }
            (None, None) => {
                return Err(Problem::new(ErrorCode::Internal, "the item has no source"));
            }
        };
        let filename = filename.map(|name| rename_extension(&name, encoded.format));
        self.images
            .store_output(
                &job.tenant,
                encoded,
                Upload {
                    filename,
                    source_image_id,
                    job_id: Some(job.id),
                    id: Some(item.output_image_id),
                    declared: None,
                },
            )
            .await
            .map_err(|error: ServiceError| Problem::from(&error))
    }
}

/// `photo.jpg` → `photo.webp` when the output is WebP.
fn rename_extension(filename: &str, format: ImageFormat) -> String {
    match filename.rsplit_once('.') {
        Some((stem, extension)) if ImageFormat::from_name(extension).is_some() => {
            format!("{stem}.{}", format.name())
        }
        _ => format!("{filename}.{}", format.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_are_renamed_to_their_format() {
        assert_eq!(rename_extension("photo.jpg", ImageFormat::Webp), "photo.webp");
        assert_eq!(rename_extension("notes.txt", ImageFormat::Png), "notes.txt.png");
    }
}
