//! What the API shows of images and jobs: the JSON shapes of API.md, shared by the HTTP
//! handlers and the webhook sender so both send the same document.

use serde::Serialize;
use uuid::Uuid;

use crate::db::jobs::{ItemRecord, ItemStatus, JobRecord};
use crate::db::{ImageRecord, format_time};
use crate::problem::Problem;

/// An image.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Image)]
pub struct ImageView {
    pub id: Uuid,
    pub url: String,
    /// `jpeg`, `png`, `webp`, `gif`, `avif`, `tiff`, `bmp` or `svg`.
    pub format: &'static str,
    pub content_type: &'static str,
    /// As displayed (after EXIF orientation).
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub sha256: String,
    pub filename: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The stored image a job output was made from (null for URL sources and uploads).
    pub source_image_id: Option<Uuid>,
    /// The job that made this image (null for uploads).
    pub job_id: Option<Uuid>,
}

impl From<&ImageRecord> for ImageView {
    fn from(image: &ImageRecord) -> ImageView {
        ImageView {
            id: image.id,
            url: format!("/v1/images/{}", image.id),
            format: image.format.name(),
            content_type: image.format.content_type(),
            width: image.width,
            height: image.height,
            bytes: image.bytes,
            sha256: image.sha256.clone(),
            filename: image.filename.clone(),
            created_at: format_time(image.created_at),
            source_image_id: image.source_image_id,
            job_id: image.job_id,
        }
    }
}

/// One item of a job.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = JobItem)]
pub struct ItemView {
    /// 0-based position in the submitted `items`.
    pub index: u32,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub status: &'static str,
    pub image: Option<ImageView>,
    pub error: Option<Problem>,
}

/// A job's webhook delivery state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = JobWebhook)]
pub struct WebhookView {
    pub url: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    pub delivered_at: Option<String>,
    /// The HTTP status of the last attempt (null when it got no answer).
    pub last_status: Option<u16>,
}

/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Job)]
pub struct JobView {
    pub id: Uuid,
    pub url: String,
    /// `queued`, `running`, `succeeded`, `failed`, `completed_with_errors` or `cancelled`.
    pub status: &'static str,
    pub total: u32,
    pub succeeded: u32,
    pub failed: u32,
    pub cancelled: u32,
    /// Absent in listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<ItemView>>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub webhook: Option<WebhookView>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

impl JobView {
    /// A job without its items (listings).
    pub fn summary(job: &JobRecord) -> JobView {
        JobView {
            id: job.id,
            url: format!("/v1/jobs/{}", job.id),
            status: job.status.name(),
            total: job.total,
            succeeded: job.succeeded,
            failed: job.failed,
            cancelled: job.cancelled,
            items: None,
            metadata: job
                .metadata
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
            webhook: job.webhook_url.as_ref().map(|url| WebhookView {
                url: url.clone(),
                attempts: job.webhook_attempts,
                delivered_at: job.webhook_delivered_at.map(format_time),
                last_status: job.webhook_last_status,
            }),
            created_at: format_time(job.created_at),
            updated_at: format_time(job.updated_at),
            finished_at: job.finished_at.map(format_time),
        }
    }

    /// A job with its items; `outputs` are the images the job wrote.
    pub(crate) fn full(job: &JobRecord, items: &[ItemRecord], outputs: &[ImageRecord]) -> JobView {
        let mut view = JobView::summary(job);
        view.items = Some(
            items
                .iter()
                .map(|item| ItemView {
                    index: item.index,
                    status: item.status.name(),
                    image: (item.status == ItemStatus::Succeeded)
                        .then(|| outputs.iter().find(|image| image.id == item.output_image_id))
                        .flatten()
                        .map(ImageView::from),
                    error: item.error.as_deref().and_then(|text| serde_json::from_str(text).ok()),
                })
                .collect(),
        );
        view
    }
}
