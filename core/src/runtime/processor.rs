//! The message handler every worker runs, in-process (embedded) or in `progimage-worker`
//! processes (distributed): eager variants and job items.

use crate::jobs::JobService;
use crate::problem::Problem;
use crate::queue::{Attempt, HandleError, Message, MessageHandler};
use crate::service::{ImageService, ServiceError, plain_transform};

/// Handles queue messages over the image and job services.
#[derive(Clone)]
pub(crate) struct Processor {
    pub images: ImageService,
    pub jobs: JobService,
}

#[async_trait::async_trait]
impl MessageHandler for Processor {
    async fn handle(&self, message: &Message, attempt: Attempt) -> Result<(), HandleError> {
        match message {
            Message::JobItem { job_id, index, .. } => {
                self.jobs.process_item(*job_id, *index, attempt).await
            }
            Message::Variant { tenant, image_id, format, .. } => {
                let made = match self.images.image(tenant, *image_id).await {
                    // Deleted since: nothing left to do.
                    Err(ServiceError::NotFound { .. }) => return Ok(()),
                    Err(error) => Err(error),
                    Ok(image) => {
                        self.images.variant(&image, &plain_transform(*format), *format).await
                    }
                };
                let error = match made {
                    Ok(variant) => {
                        tracing::info!(
                            image.id = %image_id, output.format = %format,
                            cache = variant.cache.as_str(), "eager variant ready"
                        );
                        return Ok(());
                    }
                    Err(error) => error,
                };
                let problem = Problem::from(&error);
                if problem.is_retryable() && !attempt.last {
                    return Err(HandleError::Retry(error.into()));
                }
                // An eager variant is an optimisation: a GET makes it on demand and says
                // why when it cannot be made.
                let _span = tracing::info_span!(
                    "eager_variant", image.id = %image_id, output.format = %format,
                    attempt = attempt.number
                )
                .entered();
                problem.log("eager variant cannot be made");
                Ok(())
            }
        }
    }
}
