//! Bulk jobs: submission, status, cancellation, item processing and webhooks.
//!
//! The database owns a job's state; the queue carries `(job id, item index)` messages, one
//! per item, so one job spreads over every worker. Processing is idempotent: an item's
//! output image id is chosen at submission, so a redelivered item writes the same image.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::jobs::{Inserted, ItemOutcome, ItemRecord, JobRecord, JobStatus, NewItem, NewJob};
use crate::db::{DbError, ImageRecord, Repository};
use crate::format::ImageFormat;
use crate::net::{FetchError, HttpClient};
use crate::problem::{ErrorCode, Problem};
use crate::queue::{Family, HandleError, Message, Queue};
use crate::service::{ImageService, ServiceError, Upload};
use crate::signature;
use crate::spec::{OutputSettings, Pipeline, SpecError, Transform};
use crate::views::JobView;

/// Most items one job may hold.
pub const MAX_ITEMS: usize = 10_000;
/// Attempts an item gets when its failures are transient.
pub const MAX_ITEM_ATTEMPTS: u32 = 5;
/// Attempts for an item whose image work timed out or crashed.
pub const MAX_WORK_ATTEMPTS: u32 = 2;
/// Webhook delivery attempts in all.
pub const WEBHOOK_ATTEMPTS: u32 = 10;
/// Publishes of one submission awaiting the broker's confirm at once.
const PUBLISH_IN_FLIGHT: usize = 64;
/// Time one webhook attempt may take.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys of a job-level or item-level output setting.
const SETTING_KEYS: [&str; 6] = ["format", "quality", "lossless", "background", "strip", "svg"];

/// A validated submission, before it is stored.
#[derive(Debug, Clone)]
pub struct Submission {
    pub items: Vec<SubmittedItem>,
    pub webhook_url: Option<String>,
    pub metadata: Option<Value>,
}

/// One validated item: its source and its effective spec (job defaults applied).
#[derive(Debug, Clone)]
pub struct SubmittedItem {
    pub source: Source,
    /// `{"operations": [...], "format": ..., ...}` with only the keys given.
    pub spec: Map<String, Value>,
    pub output_format: Option<ImageFormat>,
}

/// Where an item's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Image(Uuid),
    Url(String),
}

fn invalid(param: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::new(param, message)
}

/// Validates a job body (already known to be a JSON object) without touching the network.
pub fn parse_submission(body: &Map<String, Value>) -> Result<Submission, SpecError> {
    const JOB_KEYS: [&str; 10] = [
        "items",
        "operations",
        "format",
        "quality",
        "lossless",
        "background",
        "strip",
        "svg",
        "webhook_url",
        "metadata",
    ];
    if let Some(key) = body.keys().find(|key| !JOB_KEYS.contains(&key.as_str())) {
        return Err(invalid(key.as_str(), format!("unknown field {key}")));
    }
    // Job-level defaults, validated once.
    if let Some(operations) = body.get("operations").filter(|value| !value.is_null()) {
        Pipeline::from_json(operations, "operations")?;
    }
    OutputSettings::from_json(body, "")?;
    let items = match body.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_ITEMS => items,
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(invalid("items", "items must not be empty"));
        }
        Some(Value::Array(_)) => {
            return Err(invalid("items", format!("a job holds at most {MAX_ITEMS} items")));
        }
        _ => return Err(invalid("items", "items must be a list")),
    };
    let mut submitted = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("items[{index}]");
        let Value::Object(item) = item else {
            return Err(invalid(path, "an item must be an object"));
        };
        const ITEM_KEYS: [&str; 9] = [
            "image_id",
            "url",
            "operations",
            "format",
            "quality",
            "lossless",
            "background",
            "strip",
            "svg",
        ];
        if let Some(key) = item.keys().find(|key| !ITEM_KEYS.contains(&key.as_str())) {
            return Err(invalid(format!("{path}.{key}"), format!("unknown field {path}.{key}")));
        }
        let source = match (item.get("image_id"), item.get("url")) {
            (Some(Value::String(id)), None) => Source::Image(
                Uuid::parse_str(id)
                    .map_err(|_| invalid(format!("{path}.image_id"), "image_id must be a UUID"))?,
            ),
            (None, Some(Value::String(url))) => Source::Url(url.clone()),
            (Some(_), None) => {
                return Err(invalid(format!("{path}.image_id"), "image_id must be a string"));
            }
            (None, Some(_)) => return Err(invalid(format!("{path}.url"), "url must be a string")),
            _ => {
                return Err(invalid(path, "an item needs exactly one of image_id or url"));
            }
        };
        if let Some(operations) = item.get("operations").filter(|value| !value.is_null()) {
            Pipeline::from_json(operations, &format!("{path}.operations"))?;
        }
        OutputSettings::from_json(item, &path)?;
        // The item's own value replaces the job's, key by key; lists are not merged.
        let mut spec = Map::new();
        for key in std::iter::once("operations").chain(SETTING_KEYS) {
            if let Some(value) = item.get(key).or_else(|| body.get(key)).filter(|v| !v.is_null()) {
                spec.insert(key.to_string(), value.clone());
            }
        }
        let output_format =
            spec.get("format").and_then(Value::as_str).and_then(ImageFormat::from_name);
        submitted.push(SubmittedItem { source, spec, output_format });
    }
    let webhook_url = match body.get("webhook_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => Some(url.clone()),
        Some(_) => return Err(invalid("webhook_url", "webhook_url must be a string")),
    };
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value.clone()),
        Some(_) => return Err(invalid("metadata", "metadata must be a JSON object")),
    };
    if metadata.as_ref().is_some_and(|value| value.to_string().len() > 64 * 1024) {
        return Err(invalid("metadata", "metadata must be at most 64 KiB of JSON"));
    }
    Ok(Submission { items: submitted, webhook_url, metadata })
}

/// The transform an item's stored spec describes.
pub fn item_transform(spec: &str) -> Result<Transform, SpecError> {
    let spec: Map<String, Value> = serde_json::from_str(spec)
        .map_err(|error| invalid("spec", format!("unreadable item spec: {error}")))?;
    let pipeline = match spec.get("operations") {
        Some(operations) => Pipeline::from_json(operations, "operations")?,
        None => Pipeline::default(),
    };
    Ok(Transform { pipeline, output: OutputSettings::from_json(&spec, "")? })
}

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

/// Bulk jobs over the image service.
#[derive(Clone)]
pub struct JobService {
    images: ImageService,
    http: HttpClient,
    queue: Arc<dyn Queue>,
    webhook_master_secret: Arc<str>,
    /// Whether each tenant signs with its own derived secret (API keys configured).
    per_tenant_secrets: bool,
}

impl JobService {
    /// A job service publishing to `queue`.
    pub fn new(
        images: ImageService,
        http: HttpClient,
        queue: Arc<dyn Queue>,
        webhook_master_secret: Arc<str>,
        per_tenant_secrets: bool,
    ) -> JobService {
        JobService { images, http, queue, webhook_master_secret, per_tenant_secrets }
    }

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
        self.repository().list_jobs(tenant, status, limit, before).await
    }

    /// Processes one item: claims it, makes and stores its output, records the outcome.
    /// Transient failures are retried by the queue; others fail the item.
    pub async fn process_item(&self, job_id: Uuid, index: u32) -> Result<(), HandleError> {
        let retry = |error: DbError| HandleError::Retry(error.into());
        let Some(item) = self.repository().claim_item(job_id, index).await.map_err(retry)? else {
            // Ended or cancelled already: a duplicate delivery.
            return Ok(());
        };
        let Some(job) = self.repository().job_by_id(job_id).await.map_err(retry)? else {
            return Ok(());
        };
        let span = tracing::info_span!("job_item", job.id = %job_id, item.index = index);
        // Claimed more often than any retry allows: earlier attempts never recorded an
        // outcome (the process died or was stopped mid-item), so fail it instead of looping.
        let outcome = if item.attempts > MAX_ITEM_ATTEMPTS {
            Err(Problem::new(
                ErrorCode::Internal,
                format!("the item was interrupted {} times without an outcome", item.attempts - 1),
            ))
        } else {
            tracing::Instrument::instrument(self.run_item(&job, &item), span).await
        };
        let outcome = match outcome {
            Ok(image) => {
                tracing::debug!(job.id = %job_id, index, image.id = %image.id, "item succeeded");
                ItemOutcome::Succeeded
            }
            Err(mut problem) => {
                // Work that timed out or crashed is tried once more, not five times: the
                // same input will most likely do it again.
                let budget =
                    if problem.is_work_failure() { MAX_WORK_ATTEMPTS } else { MAX_ITEM_ATTEMPTS };
                if problem.is_transient() && item.attempts < budget {
                    return Err(HandleError::Retry(anyhow::anyhow!(
                        "item {index} of job {job_id}: {}",
                        problem.detail
                    )));
                }
                problem.request_id = job.request_id.clone();
                tracing::info!(job.id = %job_id, index, code = %problem.code, "item failed");
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

    /// Publishes items whose messages may have been lost (queued longer than `age`).
    pub async fn sweep(&self, age: Duration) -> Result<usize, DbError> {
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

    /// Delivers due webhooks until `shutdown`: each attempt signed afresh, retried with
    /// exponential backoff (1, 2, 4, 8 s … capped at 5 min), the state in the database so
    /// retries survive restarts and any process may deliver.
    pub async fn run_webhooks(&self, shutdown: tokio_util::sync::CancellationToken) {
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
    pub async fn deliver_one(&self) -> Result<bool, DbError> {
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
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn items_take_the_job_defaults_key_by_key() {
        let id = Uuid::now_v7();
        let submission = parse_submission(&object(json!({
            "items": [
                {"image_id": id.to_string()},
                {"url": "https://example.com/a.png", "format": "png", "operations": []},
            ],
            "operations": [{"op": "grayscale"}],
            "format": "webp",
            "quality": 70,
        })))
        .unwrap();
        assert_eq!(submission.items[0].source, Source::Image(id));
        assert_eq!(submission.items[0].spec["format"], "webp");
        assert_eq!(submission.items[0].spec["operations"], json!([{"op": "grayscale"}]));
        assert_eq!(submission.items[1].spec["format"], "png");
        assert_eq!(submission.items[1].spec["operations"], json!([]));
        assert_eq!(submission.items[1].spec["quality"], 70);
        assert_eq!(submission.items[1].output_format, Some(ImageFormat::Png));
        let transform =
            item_transform(&Value::Object(submission.items[0].spec.clone()).to_string()).unwrap();
        assert_eq!(transform.output.format, Some(ImageFormat::Webp));
        assert_eq!(transform.output.quality, Some(70));
        assert_eq!(transform.pipeline.steps.len(), 1);
    }

    #[test]
    fn submission_errors_name_their_json_path() {
        let error = |body: Value| parse_submission(&object(body)).unwrap_err().param;
        assert_eq!(error(json!({"items": []})), "items");
        assert_eq!(error(json!({})), "items");
        assert_eq!(error(json!({"items": [{"image_id": "x"}]})), "items[0].image_id");
        assert_eq!(error(json!({"items": [{}]})), "items[0]");
        assert_eq!(error(json!({"items": [{"url": "a", "image_id": "b"}]})), "items[0]");
        assert_eq!(error(json!({"items": [{"url": "a", "extra": 1}]})), "items[0].extra");
        assert_eq!(
            error(
                json!({"items": [{"url": "a"}, {"url": "b", "operations": [{"op": "resize", "width": 1.5}]}]})
            ),
            "items[1].operations[0].width"
        );
        assert_eq!(error(json!({"items": [{"url": "a"}], "format": "heic"})), "format");
        assert_eq!(error(json!({"items": [{"url": "a", "format": "heic"}]})), "items[0].format");
        assert_eq!(error(json!({"items": [{"url": "a"}], "webhook_url": 3})), "webhook_url");
        assert_eq!(error(json!({"items": [{"url": "a"}], "colour": 3})), "colour");
        let too_many: Vec<Value> = (0..=MAX_ITEMS).map(|_| json!({"url": "a"})).collect();
        assert_eq!(error(json!({"items": too_many})), "items");
    }

    #[test]
    fn outputs_are_renamed_to_their_format() {
        assert_eq!(rename_extension("photo.jpg", ImageFormat::Webp), "photo.webp");
        assert_eq!(rename_extension("notes.txt", ImageFormat::Png), "notes.txt.png");
    }
}
