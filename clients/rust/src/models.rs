//! The JSON documents of the API, as the client reads them.
//!
//! These are the wire contract of API.md, declared here on their own so that a client never
//! depends on the server's internals. Unknown fields are ignored and unknown status words
//! read as `Unknown`, so a newer server does not break an older client.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::format::Format;

/// A stored image.
///
/// ```
/// let image: progimage_client::Image = serde_json::from_value(serde_json::json!({
///     "id": "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", "url": "/v1/images/0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69",
///     "format": "png", "content_type": "image/png", "width": 2, "height": 1, "bytes": 70,
///     "sha256": "ab", "filename": "a.png", "created_at": "2024-07-01T00:00:00Z",
///     "source_image_id": null, "job_id": null
/// }))?;
/// assert_eq!(image.format, progimage_client::Format::Png);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// UUIDv7.
    pub id: Uuid,
    /// Its path, `/v1/images/{id}`.
    pub url: String,
    /// The stored original's format.
    pub format: Format,
    /// The original's content type.
    pub content_type: String,
    /// Width as displayed (after EXIF orientation).
    pub width: u32,
    /// Height as displayed (after EXIF orientation).
    pub height: u32,
    /// Size of the original in bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the original.
    pub sha256: String,
    /// The name it was uploaded under, if any.
    pub filename: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// For a job output, the stored image it was made from (null for URL sources).
    pub source_image_id: Option<Uuid>,
    /// For a job output, the job that made it.
    pub job_id: Option<Uuid>,
}

/// One page of `GET /v1/images`, newest first.
///
/// ```
/// let page: progimage_client::ImagePage =
///     serde_json::from_str(r#"{"images": [], "next_cursor": null}"#)?;
/// assert!(page.next_cursor.is_none());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePage {
    /// The images of this page.
    pub images: Vec<Image>,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// A job's status.
///
/// ```
/// use progimage_client::JobStatus;
/// assert!(JobStatus::CompletedWithErrors.is_finished());
/// assert!(!JobStatus::Running.is_finished());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Nothing started yet.
    Queued,
    /// Items are being processed.
    Running,
    /// Every item succeeded.
    Succeeded,
    /// Every item failed.
    Failed,
    /// Some items succeeded, some did not.
    CompletedWithErrors,
    /// Cancelled; items that were running finished first.
    Cancelled,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

impl JobStatus {
    /// The name on the wire (`completed_with_errors`).
    ///
    /// ```
    /// assert_eq!(progimage_client::JobStatus::Queued.name(), "queued");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::CompletedWithErrors => "completed_with_errors",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Unknown => "unknown",
        }
    }

    /// Whether the job has ended (its `finished_at` is set).
    ///
    /// ```
    /// assert!(progimage_client::JobStatus::Cancelled.is_finished());
    /// ```
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded
                | JobStatus::Failed
                | JobStatus::CompletedWithErrors
                | JobStatus::Cancelled
        )
    }
}

/// The status name on the wire.
///
/// ```
/// assert_eq!(progimage_client::JobStatus::Running.to_string(), "running");
/// ```
impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One item's status.
///
/// ```
/// let status: progimage_client::ItemStatus = serde_json::from_str("\"succeeded\"")?;
/// assert_eq!(status, progimage_client::ItemStatus::Succeeded);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Waiting for a worker.
    Queued,
    /// Being processed.
    Running,
    /// Its output is stored (see [`JobItem::image`]).
    Succeeded,
    /// See [`JobItem::error`].
    Failed,
    /// Cancelled before it ran.
    Cancelled,
    /// A status this client does not know.
    #[serde(other)]
    Unknown,
}

/// One item of a job.
///
/// ```
/// let item: progimage_client::JobItem = serde_json::from_str(
///     r#"{"index": 0, "status": "queued", "image": null, "error": null}"#,
/// )?;
/// assert_eq!(item.index, 0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobItem {
    /// 0-based position in the submitted `items`.
    pub index: u32,
    /// Where it stands.
    pub status: ItemStatus,
    /// The stored output, once succeeded.
    pub image: Option<Image>,
    /// Why it failed.
    pub error: Option<Problem>,
}

/// A job's webhook delivery state.
///
/// ```
/// let webhook: progimage_client::Webhook = serde_json::from_str(
///     r#"{"url": "https://example.com/hook", "attempts": 0, "delivered_at": null, "last_status": null}"#,
/// )?;
/// assert_eq!(webhook.attempts, 0);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    /// Where the job is posted when it ends.
    pub url: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// RFC 3339 UTC, once a delivery got a 2xx.
    pub delivered_at: Option<String>,
    /// The HTTP status of the last attempt (`None` when it got no answer).
    pub last_status: Option<u16>,
}

/// A job: its counts, and its items when fetched one by one (listings leave them out).
///
/// ```
/// let job: progimage_client::Job = serde_json::from_value(serde_json::json!({
///     "id": "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", "url": "/v1/jobs/0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69",
///     "status": "running", "total": 3, "succeeded": 1, "failed": 0, "cancelled": 0,
///     "metadata": null, "webhook": null, "created_at": "2024-07-01T00:00:00Z",
///     "updated_at": "2024-07-01T00:00:01Z", "finished_at": null
/// }))?;
/// assert_eq!(job.done(), 1);
/// assert!(job.items.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// UUIDv7.
    pub id: Uuid,
    /// Its path, `/v1/jobs/{id}`.
    pub url: String,
    /// Where it stands.
    pub status: JobStatus,
    /// Items submitted.
    pub total: u32,
    /// Items whose output is stored.
    pub succeeded: u32,
    /// Items that failed.
    pub failed: u32,
    /// Items cancelled before they ran.
    pub cancelled: u32,
    /// Every item, in submission order; empty in listings.
    #[serde(default)]
    pub items: Vec<JobItem>,
    /// The `metadata` given at submission, as given (`null` when none).
    #[serde(default)]
    pub metadata: Value,
    /// Webhook delivery state, when the job has a `webhook_url`.
    pub webhook: Option<Webhook>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
    /// RFC 3339 UTC, once the job has ended.
    pub finished_at: Option<String>,
}

impl Job {
    /// Items that have ended one way or the other: succeeded, failed or cancelled.
    ///
    /// ```no_run
    /// # async fn run(job: progimage_client::Job) {
    /// println!("{}/{} done", job.done(), job.total);
    /// # }
    /// ```
    pub fn done(&self) -> u32 {
        self.succeeded + self.failed + self.cancelled
    }

    /// Whether the job has ended.
    ///
    /// ```no_run
    /// # fn run(job: progimage_client::Job) {
    /// if job.is_finished() {
    ///     println!("{} ended {}", job.id, job.status);
    /// }
    /// # }
    /// ```
    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some() || self.status.is_finished()
    }
}

/// The answer to a new job: `202 Accepted`.
///
/// ```
/// let accepted: progimage_client::JobAccepted = serde_json::from_str(
///     r#"{"id": "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", "status": "queued",
///         "url": "/v1/jobs/0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69", "total": 2}"#,
/// )?;
/// assert_eq!(accepted.total, 2);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAccepted {
    /// The new job's id.
    pub id: Uuid,
    /// Always `queued`.
    pub status: JobStatus,
    /// Its path, `/v1/jobs/{id}`.
    pub url: String,
    /// Items submitted.
    pub total: u32,
}

/// One page of `GET /v1/jobs`, newest first; its jobs carry no items.
///
/// ```
/// let page: progimage_client::JobPage = serde_json::from_str(r#"{"jobs": [], "next_cursor": null}"#)?;
/// assert!(page.jobs.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    /// The jobs of this page.
    pub jobs: Vec<Job>,
    /// The cursor of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// An RFC 9457 problem document: every error the API answers with.
///
/// ```
/// let problem: progimage_client::Problem = serde_json::from_str(
///     r#"{"type": "urn:progimage:problem:not_found", "title": "Not found", "status": 404,
///         "detail": "no such image", "code": "not_found", "request_id": "r1"}"#,
/// )?;
/// assert_eq!(problem.code, "not_found");
/// assert_eq!(problem.to_string(), "no such image (not_found, HTTP 404, request r1)");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `urn:progimage:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short human summary of the code.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a human.
    pub detail: String,
    /// The stable machine-readable code (`invalid_parameter`, `not_found`, ...).
    pub code: String,
    /// Equals the response's `x-request-id`, for the server's logs.
    #[serde(default)]
    pub request_id: String,
    /// The query parameter or JSON path at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The remote status of a failed fetch, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_status: Option<u16>,
}

/// `detail (code, HTTP status, param p, request r)`.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, HTTP {}", self.detail, self.code, self.status)?;
        if let Some(param) = &self.param {
            write!(f, ", param {param}")?;
        }
        if !self.request_id.is_empty() {
            write!(f, ", request {}", self.request_id)?;
        }
        f.write_str(")")
    }
}
