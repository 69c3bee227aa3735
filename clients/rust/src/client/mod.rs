//! The HTTP client: images, variants, stateless transforms and the webhook secret.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};
use uuid::Uuid;

use crate::error::Error;
use crate::format::Format;
use crate::jobs::Jobs;
use crate::models::{Image, ImagePage, Problem};
use crate::transform::Transform;

mod download;
mod upload;

pub use download::{CacheStatus, Download};
pub use upload::{UploadFile, UploadOptions};

/// Environment variable with the service's base URL.
const URL_VARIABLE: &str = "PROGIMAGE_URL";
/// Environment variable with the API key.
const KEY_VARIABLE: &str = "PROGIMAGE_API_KEY";
/// The base URL when none is given: the server's default listen address.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";
/// The longest `Retry-After` the client honours on its own before giving the error back.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);
/// Read size when streaming an [`AsyncRead`] upload.
const CHUNK_BYTES: usize = 64 * 1024;

/// A ProgImage API client. Cheap to clone: clones share one connection pool.
///
/// ```no_run
/// use progimage_client::{Client, Fit, Format, Transform};
/// # async fn run() -> Result<(), progimage_client::Error> {
/// let client = Client::new("http://127.0.0.1:8080")?.with_api_key("s3cr3t");
/// let image = client.upload_path("cat.jpg", &Default::default()).await?;
/// let thumbnail = Transform::new().resize(300, 300).fit(Fit::Cover).format(Format::Webp);
/// let bytes = client.download(image.id, &thumbnail).await?.bytes;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: Url,
    api_key: Option<String>,
    retries: u32,
    timeout: Option<Duration>,
}

/// Shows the base URL, never the key.
impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("retries", &self.retries)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `GET /v1/webhook-secret`.
#[derive(Deserialize)]
struct SecretBody {
    secret: String,
}

impl Client {
    /// A client for the service at `base_url` (`http://host:port`, optionally with a path
    /// prefix), without an API key (open mode).
    ///
    /// ```
    /// let client = progimage_client::Client::new("https://images.example.com")?;
    /// assert_eq!(client.base_url().as_str(), "https://images.example.com/");
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn new(base_url: impl AsRef<str>) -> Result<Client, Error> {
        let text = base_url.as_ref();
        let mut base_url = Url::parse(text)
            .map_err(|error| Error::InvalidInput(format!("bad base URL {text:?}: {error}")))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(Error::InvalidInput(format!("base URL {text:?} is not http or https")));
        }
        // Endpoints are joined onto the base, which therefore must end in a slash.
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        // reqwest is built without a bundled TLS provider; the process-wide default must be
        // set before any HTTPS client is made. An error means one is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("progimage-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, base_url, api_key: None, retries: 2, timeout: None })
    }

    /// A client from `PROGIMAGE_URL` (default `http://127.0.0.1:8080`) and
    /// `PROGIMAGE_API_KEY` (optional).
    ///
    /// ```no_run
    /// let client = progimage_client::Client::from_env()?;
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        let url = std::env::var(URL_VARIABLE).unwrap_or_else(|_| DEFAULT_URL.to_string());
        let client = Client::new(url)?;
        Ok(match std::env::var(KEY_VARIABLE) {
            Ok(key) if !key.is_empty() => client.with_api_key(key),
            _ => client,
        })
    }

    /// Sends `Authorization: Bearer <key>` on every `/v1` call.
    ///
    /// ```
    /// let client = progimage_client::Client::new("http://localhost:8080")?.with_api_key("k1");
    /// assert!(format!("{client:?}").contains("<set>"));
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn with_api_key(mut self, key: impl Into<String>) -> Client {
        self.api_key = Some(key.into());
        self
    }

    /// How many times a request answered 429 or 503 is sent again, after the server's
    /// `Retry-After` (at most 10 s). Default 2; streamed uploads are never resent.
    ///
    /// ```
    /// let client = progimage_client::Client::new("http://localhost:8080")?.with_retries(0);
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn with_retries(mut self, retries: u32) -> Client {
        self.retries = retries;
        self
    }

    /// A time limit for each whole request (none by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = progimage_client::Client::new("http://localhost:8080")?
    ///     .with_timeout(Duration::from_secs(30));
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = Some(timeout);
        self
    }

    /// Uses a reqwest client of your own (proxies, TLS roots, connection limits). Build it
    /// after [`Client::new`], which installs the TLS crypto provider reqwest needs.
    ///
    /// ```
    /// let client = progimage_client::Client::new("http://localhost:8080")?;
    /// let http = reqwest::Client::builder().pool_max_idle_per_host(4).build()?;
    /// let client = client.with_http_client(http);
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn with_http_client(mut self, http: reqwest::Client) -> Client {
        self.http = http;
        self
    }

    /// The base URL, with a trailing slash.
    ///
    /// ```
    /// let client = progimage_client::Client::new("http://localhost:8080/api")?;
    /// assert_eq!(client.base_url().as_str(), "http://localhost:8080/api/");
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The absolute URL of an API path (`v1/images`) with a query.
    pub(crate) fn endpoint(&self, path: &str, query: &[(String, String)]) -> Url {
        let mut url = self.base_url.clone();
        url.set_path(&format!("{}{path}", self.base_url.path()));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// A request with the key and timeout set.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let mut builder = self.http.request(method, url);
        if let Some(key) = &self.api_key {
            builder = builder.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        builder
    }

    /// Sends a request built by `build`, again after a 429 or 503 as long as retries are
    /// left, and turns an error status into [`Error::Api`].
    pub(crate) async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, Error> {
        let mut attempt = 0;
        loop {
            let response = build().send().await?;
            let status = response.status();
            let retryable =
                matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
            if retryable && attempt < self.retries {
                attempt += 1;
                tokio::time::sleep(retry_after(response.headers())).await;
                continue;
            }
            return check(response).await;
        }
    }

    /// Sends `build` and reads a JSON answer.
    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<T, Error> {
        read_json(self.send(build).await?).await
    }

    /// The caller's tenant's webhook signing secret, for [`crate::verify_webhook`].
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// let secret = client.webhook_secret().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn webhook_secret(&self) -> Result<String, Error> {
        let url = self.endpoint("v1/webhook-secret", &[]);
        let body: SecretBody = self.send_json(|| self.request(Method::GET, url.clone())).await?;
        Ok(body.secret)
    }

    /// The jobs API.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// let job = client.jobs().get(id).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs::new(self)
    }
}

/// `limit` and `cursor` as a query.
pub(crate) fn page_query(limit: Option<u32>, cursor: Option<&str>) -> Vec<(String, String)> {
    let mut query = Vec::new();
    if let Some(limit) = limit {
        query.push(("limit".to_string(), limit.to_string()));
    }
    if let Some(cursor) = cursor {
        query.push(("cursor".to_string(), cursor.to_string()));
    }
    query
}

/// A stream over cursor-paged results: `fetch(cursor)` gives a page and the next cursor.
pub(crate) fn paginate<T, F, Fut>(fetch: F) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    F: Fn(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Error>> + Send + 'static,
{
    // The state is the cursor to fetch next: `Some(None)` is the first page, `None` the end.
    futures::stream::try_unfold((fetch, Some(None::<String>)), |(fetch, next)| async move {
        let Some(cursor) = next else {
            return Ok::<_, Error>(None);
        };
        let (items, next_cursor) = fetch(cursor).await?;
        let next = next_cursor.map(Some);
        Ok(Some((futures::stream::iter(items.into_iter().map(Ok)), (fetch, next))))
    })
    .try_flatten()
}

/// How long a 429 or 503 asks to wait: `Retry-After` seconds, capped, else one second.
fn retry_after(headers: &HeaderMap) -> Duration {
    headers
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
        .min(MAX_RETRY_WAIT)
}

/// The response when its status is a success; otherwise its problem document as an error.
pub(crate) async fn check(response: Response) -> Result<Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await?;
    Err(match serde_json::from_slice::<Problem>(&body) {
        Ok(problem) => Error::Api(Box::new(problem)),
        Err(_) => Error::UnexpectedResponse {
            status: status.as_u16(),
            message: String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        },
    })
}

/// A JSON body of the expected shape.
pub(crate) async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, Error> {
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    serde_json::from_slice(&body).map_err(|error| Error::UnexpectedResponse {
        status,
        message: format!("the body is not the documented JSON: {error}"),
    })
}
