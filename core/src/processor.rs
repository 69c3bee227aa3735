//! The message handler every worker runs, in-process (embedded) or in `progimage-worker`
//! processes (distributed): eager variants and job items.

use crate::jobs::JobService;
use crate::problem::Problem;
use crate::queue::{HandleError, Message, MessageHandler};
use crate::service::{ImageService, ServiceError, plain_transform};

/// Handles queue messages over the image and job services.
#[derive(Clone)]
pub struct Processor {
    pub images: ImageService,
    pub jobs: JobService,
}

#[async_trait::async_trait]
impl MessageHandler for Processor {
    async fn handle(&self, message: &Message) -> Result<(), HandleError> {
        match message {
            Message::JobItem { job_id, index, .. } => self.jobs.process_item(*job_id, *index).await,
            Message::Variant { tenant, image_id, format, .. } => {
                let image = match self.images.image(tenant, *image_id).await {
                    Ok(image) => image,
                    // Deleted since: nothing left to do.
                    Err(ServiceError::NotFound { .. }) => return Ok(()),
                    Err(error) => return Err(HandleError::Retry(error.into())),
                };
                match self.images.variant(&image, &plain_transform(*format), *format).await {
                    Ok(variant) => {
                        tracing::info!(
                            image.id = %image_id, output.format = %format,
                            cache = variant.cache.as_str(), "eager variant ready"
                        );
                        Ok(())
                    }
                    Err(error) if Problem::from(&error).is_transient() => {
                        Err(HandleError::Retry(error.into()))
                    }
                    // A variant that cannot be made now never will; a GET reports why.
                    Err(error) => {
                        tracing::info!(image.id = %image_id, output.format = %format, %error, "eager variant cannot be made");
                        Ok(())
                    }
                }
            }
        }
    }
}
