//! Bulk asynchronous jobs: submit, follow, list, cancel, wait.

use std::time::{Duration, Instant};

use futures::Stream;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::client::{Client, page_query, paginate, read_json};
use crate::error::Error;
use crate::models::{Job, JobAccepted, JobPage, JobStatus};
use crate::transform::Transform;

/// First pause between two polls of [`Jobs::wait`].
const FIRST_POLL: Duration = Duration::from_millis(100);
/// Longest pause between two polls of [`Jobs::wait`].
const LONGEST_POLL: Duration = Duration::from_secs(2);

/// Where a job item's source image comes from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Image(Uuid),
    Url(String),
}

/// One item of a job: a source and, optionally, its own transformation, which replaces the
/// job's (no merging).
///
/// ```
/// use progimage_client::{Format, JobItemRequest, Transform};
/// let item = JobItemRequest::url("https://example.com/a.jpg")
///     .transform(Transform::new().rotate(90.0).format(Format::Png));
/// assert_eq!(item.to_json()["format"], "png");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct JobItemRequest {
    source: Source,
    transform: Option<Transform>,
}

impl JobItemRequest {
    /// An item over a stored image.
    ///
    /// ```
    /// let id = uuid::Uuid::nil();
    /// let item = progimage_client::JobItemRequest::image(id);
    /// assert_eq!(item.to_json(), serde_json::json!({"image_id": id}));
    /// ```
    pub fn image(id: Uuid) -> JobItemRequest {
        JobItemRequest { source: Source::Image(id), transform: None }
    }

    /// An item over an image the service fetches.
    ///
    /// ```
    /// let item = progimage_client::JobItemRequest::url("https://example.com/a.png");
    /// assert_eq!(item.to_json(), serde_json::json!({"url": "https://example.com/a.png"}));
    /// ```
    pub fn url(url: impl Into<String>) -> JobItemRequest {
        JobItemRequest { source: Source::Url(url.into()), transform: None }
    }

    /// The item's own steps and output settings, replacing the job's defaults.
    ///
    /// ```
    /// use progimage_client::{JobItemRequest, Transform};
    /// let item = JobItemRequest::image(uuid::Uuid::nil()).transform(Transform::new().grayscale());
    /// assert_eq!(item.to_json()["operations"][0]["op"], "grayscale");
    /// ```
    pub fn transform(mut self, transform: Transform) -> JobItemRequest {
        self.transform = Some(transform);
        self
    }

    /// The item as the job body writes it.
    ///
    /// ```
    /// let item = progimage_client::JobItemRequest::image(uuid::Uuid::nil());
    /// assert!(item.to_json().get("image_id").is_some());
    /// ```
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        match &self.source {
            Source::Image(id) => object.insert("image_id".to_string(), json!(id)),
            Source::Url(url) => object.insert("url".to_string(), json!(url)),
        };
        if let Some(transform) = &self.transform {
            object.extend(transform.json_fields());
        }
        Value::Object(object)
    }
}

/// A job to submit: items, the default transformation, a webhook and metadata.
///
/// ```
/// use progimage_client::{Format, JobRequest, Transform};
/// let request = JobRequest::new()
///     .image(uuid::Uuid::nil())
///     .url("https://example.com/b.jpg")
///     .transform(Transform::new().width(300).format(Format::Webp))
///     .webhook_url("https://client.example/hooks/progimage")
///     .metadata(serde_json::json!({"batch": 7}));
/// let body = request.to_json();
/// assert_eq!(body["items"].as_array().unwrap().len(), 2);
/// assert_eq!(body["operations"], serde_json::json!([{"op": "resize", "width": 300}]));
/// assert_eq!(body["format"], "webp");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JobRequest {
    items: Vec<JobItemRequest>,
    transform: Transform,
    webhook_url: Option<String>,
    metadata: Option<Value>,
}

impl JobRequest {
    /// A job without items yet.
    ///
    /// ```
    /// assert_eq!(progimage_client::JobRequest::new().len(), 0);
    /// ```
    pub fn new() -> JobRequest {
        JobRequest::default()
    }

    /// Adds an item.
    ///
    /// ```
    /// use progimage_client::{JobItemRequest, JobRequest};
    /// let request = JobRequest::new().item(JobItemRequest::image(uuid::Uuid::nil()));
    /// assert_eq!(request.len(), 1);
    /// ```
    pub fn item(mut self, item: JobItemRequest) -> JobRequest {
        self.items.push(item);
        self
    }

    /// Adds an item over a stored image, with the job's transformation.
    ///
    /// ```
    /// let request = progimage_client::JobRequest::new().image(uuid::Uuid::nil());
    /// assert_eq!(request.len(), 1);
    /// ```
    pub fn image(self, id: Uuid) -> JobRequest {
        self.item(JobItemRequest::image(id))
    }

    /// Adds an item over a URL, with the job's transformation.
    ///
    /// ```
    /// let request = progimage_client::JobRequest::new().url("https://example.com/a.png");
    /// assert_eq!(request.len(), 1);
    /// ```
    pub fn url(self, url: impl Into<String>) -> JobRequest {
        self.item(JobItemRequest::url(url))
    }

    /// The default steps and output settings of every item.
    ///
    /// ```
    /// use progimage_client::{JobRequest, Transform};
    /// let request = JobRequest::new().transform(Transform::new().quality(80));
    /// assert_eq!(request.to_json()["quality"], 80);
    /// ```
    pub fn transform(mut self, transform: Transform) -> JobRequest {
        self.transform = transform;
        self
    }

    /// Where to post the job when it ends (signed, see [`crate::verify_webhook`]).
    ///
    /// ```
    /// let request = progimage_client::JobRequest::new().webhook_url("https://example.com/hook");
    /// assert_eq!(request.to_json()["webhook_url"], "https://example.com/hook");
    /// ```
    pub fn webhook_url(mut self, url: impl Into<String>) -> JobRequest {
        self.webhook_url = Some(url.into());
        self
    }

    /// Any JSON, kept with the job and echoed back.
    ///
    /// ```
    /// let request = progimage_client::JobRequest::new().metadata(serde_json::json!({"a": 1}));
    /// assert_eq!(request.to_json()["metadata"]["a"], 1);
    /// ```
    pub fn metadata(mut self, metadata: Value) -> JobRequest {
        self.metadata = Some(metadata);
        self
    }

    /// How many items the job has.
    ///
    /// ```
    /// assert_eq!(progimage_client::JobRequest::new().url("https://e.com/a.png").len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the job has no items yet (the server refuses such a job).
    ///
    /// ```
    /// assert!(progimage_client::JobRequest::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The `POST /v1/jobs` body.
    ///
    /// ```
    /// let body = progimage_client::JobRequest::new().url("https://e.com/a.png").to_json();
    /// assert_eq!(body, serde_json::json!({"items": [{"url": "https://e.com/a.png"}]}));
    /// ```
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        let items: Vec<Value> = self.items.iter().map(JobItemRequest::to_json).collect();
        object.insert("items".to_string(), Value::Array(items));
        object.extend(self.transform.json_fields());
        if let Some(url) = &self.webhook_url {
            object.insert("webhook_url".to_string(), json!(url));
        }
        if let Some(metadata) = &self.metadata {
            object.insert("metadata".to_string(), metadata.clone());
        }
        Value::Object(object)
    }
}

/// The answer to a submission: a new job, or the existing one an `Idempotency-Key` names.
///
/// ```no_run
/// # async fn run(client: progimage_client::Client, request: progimage_client::JobRequest) -> Result<(), progimage_client::Error> {
/// let submitted = client.jobs().create(&request, Some("batch-2024-07-01")).await?;
/// println!("job {} of {} items", submitted.id(), submitted.total());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum JobSubmission {
    /// `202 Accepted`: a new job.
    Accepted(JobAccepted),
    /// `200 OK`: the job made earlier with the same key and body, as it stands now.
    Existing(Job),
}

impl JobSubmission {
    /// The job's id.
    ///
    /// ```no_run
    /// # fn run(submitted: progimage_client::JobSubmission) {
    /// let id: uuid::Uuid = submitted.id();
    /// # }
    /// ```
    pub fn id(&self) -> Uuid {
        match self {
            JobSubmission::Accepted(accepted) => accepted.id,
            JobSubmission::Existing(job) => job.id,
        }
    }

    /// How many items the job has.
    ///
    /// ```no_run
    /// # fn run(submitted: progimage_client::JobSubmission) {
    /// println!("{} items", submitted.total());
    /// # }
    /// ```
    pub fn total(&self) -> u32 {
        match self {
            JobSubmission::Accepted(accepted) => accepted.total,
            JobSubmission::Existing(job) => job.total,
        }
    }

    /// Whether this is the earlier job an idempotency key named.
    ///
    /// ```no_run
    /// # fn run(submitted: progimage_client::JobSubmission) {
    /// if submitted.is_existing() {
    ///     println!("already submitted");
    /// }
    /// # }
    /// ```
    pub fn is_existing(&self) -> bool {
        matches!(self, JobSubmission::Existing(_))
    }
}

/// The jobs API, from [`Client::jobs`].
///
/// ```no_run
/// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
/// use std::time::Duration;
/// use progimage_client::{Format, JobRequest, Transform};
/// let request = JobRequest::new().image(id).transform(Transform::new().width(300).format(Format::Webp));
/// let submitted = client.jobs().create(&request, None).await?;
/// let job = client.jobs().wait(submitted.id(), Duration::from_secs(60)).await?;
/// for item in &job.items {
///     println!("{}: {:?}", item.index, item.image.as_ref().map(|image| image.id));
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Jobs<'a> {
    client: &'a Client,
}

impl<'a> Jobs<'a> {
    pub(crate) fn new(client: &'a Client) -> Jobs<'a> {
        Jobs { client }
    }

    /// Submits a job. With an `idempotency_key`, the same key and body give back the same
    /// job ([`JobSubmission::Existing`]); another body under that key is 409
    /// `idempotency_conflict`.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// use progimage_client::JobRequest;
    /// let submitted = client.jobs().create(&JobRequest::new().image(id), Some("nightly-42")).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(
        &self,
        request: &JobRequest,
        idempotency_key: Option<&str>,
    ) -> Result<JobSubmission, Error> {
        let client = self.client;
        let url = client.endpoint("v1/jobs", &[]);
        let body = request.to_json();
        let response = client
            .send(|| {
                let builder = client.request(Method::POST, url.clone()).json(&body);
                match idempotency_key {
                    Some(key) => builder.header("idempotency-key", key),
                    None => builder,
                }
            })
            .await?;
        if response.status() == StatusCode::ACCEPTED {
            Ok(JobSubmission::Accepted(read_json(response).await?))
        } else {
            Ok(JobSubmission::Existing(read_json(response).await?))
        }
    }

    /// A job with its items.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// let job = client.jobs().get(id).await?;
    /// println!("{}: {}/{}", job.status, job.done(), job.total);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, id: Uuid) -> Result<Job, Error> {
        let url = self.client.endpoint(&format!("v1/jobs/{id}"), &[]);
        self.client.send_json(|| self.client.request(Method::GET, url.clone())).await
    }

    /// Cancels a job: queued items are cancelled at once, running ones finish. Gives the job
    /// as it stands; a finished job comes back unchanged.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// let job = client.jobs().cancel(id).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cancel(&self, id: Uuid) -> Result<Job, Error> {
        let url = self.client.endpoint(&format!("v1/jobs/{id}"), &[]);
        self.client.send_json(|| self.client.request(Method::DELETE, url.clone())).await
    }

    /// One page of jobs (without items), newest first, optionally of one status.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use progimage_client::JobStatus;
    /// let page = client.jobs().page(Some(JobStatus::Running), Some(20), None).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn page(
        &self,
        status: Option<JobStatus>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<JobPage, Error> {
        let mut query = page_query(limit, cursor);
        if let Some(status) = status {
            query.push(("status".to_string(), status.name().to_string()));
        }
        let url = self.client.endpoint("v1/jobs", &query);
        self.client.send_json(|| self.client.request(Method::GET, url.clone())).await
    }

    /// Every job (without items), newest first, optionally of one status, fetching pages of
    /// `page_size` as the stream is read.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use futures::TryStreamExt;
    /// let mut jobs = std::pin::pin!(client.jobs().list(None, 100));
    /// while let Some(job) = jobs.try_next().await? {
    ///     println!("{} {}", job.id, job.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(
        &self,
        status: Option<JobStatus>,
        page_size: u32,
    ) -> impl Stream<Item = Result<Job, Error>> + Send + 'static {
        let client = self.client.clone();
        paginate(move |cursor| {
            let client = client.clone();
            async move {
                let page = client.jobs().page(status, Some(page_size), cursor.as_deref()).await?;
                Ok((page.jobs, page.next_cursor))
            }
        })
    }

    /// Polls a job until it has ended, with backoff (100 ms growing to 2 s), and gives it
    /// with its items; [`Error::Timeout`] when it has not ended within `timeout`.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// use std::time::Duration;
    /// let job = client.jobs().wait(id, Duration::from_secs(120)).await?;
    /// println!("ended {}: {} succeeded, {} failed", job.status, job.succeeded, job.failed);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(&self, id: Uuid, timeout: Duration) -> Result<Job, Error> {
        self.wait_with_progress(id, timeout, |_| {}).await
    }

    /// [`Jobs::wait`], calling `progress` with every state polled (for a progress bar).
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// use std::time::Duration;
    /// let job = client
    ///     .jobs()
    ///     .wait_with_progress(id, Duration::from_secs(120), |job| {
    ///         eprintln!("{}/{}", job.done(), job.total);
    ///     })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait_with_progress(
        &self,
        id: Uuid,
        timeout: Duration,
        mut progress: impl FnMut(&Job),
    ) -> Result<Job, Error> {
        let deadline = Instant::now() + timeout;
        let mut pause = FIRST_POLL;
        loop {
            let job = self.get(id).await?;
            progress(&job);
            if job.is_finished() {
                return Ok(job);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(timeout));
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = pause.mul_f32(1.5).min(LONGEST_POLL);
        }
    }
}
