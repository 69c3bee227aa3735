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

/// How to store an upload.
///
/// ```
/// use progimage_client::{Format, UploadOptions};
/// let options = UploadOptions::new().filename("cat.png").eager([Format::Webp, Format::Avif]);
/// assert_eq!(options.eager.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadOptions {
    /// The name to keep with the image; its extension, when it names a format, declares it.
    pub filename: Option<String>,
    /// The declared format (sent as the Content-Type); `None` lets the server judge the
    /// bytes (and the filename's extension).
    pub format: Option<Format>,
    /// Variants to convert in the background right away (`?eager=webp,avif`).
    pub eager: Vec<Format>,
}

impl UploadOptions {
    /// No filename, no declared format, nothing eager.
    ///
    /// ```
    /// assert!(progimage_client::UploadOptions::new().filename.is_none());
    /// ```
    pub fn new() -> UploadOptions {
        UploadOptions::default()
    }

    /// Sets the filename.
    ///
    /// ```
    /// let options = progimage_client::UploadOptions::new().filename("a.png");
    /// assert_eq!(options.filename.as_deref(), Some("a.png"));
    /// ```
    pub fn filename(mut self, filename: impl Into<String>) -> UploadOptions {
        self.filename = Some(filename.into());
        self
    }

    /// Declares the format.
    ///
    /// ```
    /// use progimage_client::{Format, UploadOptions};
    /// assert_eq!(UploadOptions::new().format(Format::Png).format, Some(Format::Png));
    /// ```
    pub fn format(mut self, format: Format) -> UploadOptions {
        self.format = Some(format);
        self
    }

    /// Sets the formats to convert to eagerly.
    ///
    /// ```
    /// use progimage_client::{Format, UploadOptions};
    /// assert_eq!(UploadOptions::new().eager([Format::Webp]).eager, vec![Format::Webp]);
    /// ```
    pub fn eager(mut self, formats: impl IntoIterator<Item = Format>) -> UploadOptions {
        self.eager = formats.into_iter().collect();
        self
    }
}

/// One file of a multipart upload ([`Client::upload_many`]).
///
/// ```
/// let file = progimage_client::UploadFile::new("a.png", vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(file.filename, "a.png");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadFile {
    /// The part's filename.
    pub filename: String,
    /// The image bytes.
    pub bytes: Bytes,
    /// The declared format; `None` lets the server judge the bytes.
    pub format: Option<Format>,
}

impl UploadFile {
    /// A file typed by its bytes (and its filename's extension).
    ///
    /// ```
    /// let file = progimage_client::UploadFile::new("b.jpg", b"...".to_vec());
    /// assert!(file.format.is_none());
    /// ```
    pub fn new(filename: impl Into<String>, bytes: impl Into<Bytes>) -> UploadFile {
        UploadFile { filename: filename.into(), bytes: bytes.into(), format: None }
    }
}

/// Whether a variant came from the service's variant store.
///
/// ```
/// use progimage_client::CacheStatus;
/// assert_eq!(CacheStatus::from_header("hit"), Some(CacheStatus::Hit));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from storage.
    Hit,
    /// Made for this request (and stored).
    Miss,
    /// Made but not stored: the image keeps as many variants as it may.
    Bypass,
}

impl CacheStatus {
    /// Reads an `x-progimage-cache` value.
    ///
    /// ```
    /// use progimage_client::CacheStatus;
    /// assert_eq!(CacheStatus::from_header("bypass"), Some(CacheStatus::Bypass));
    /// assert_eq!(CacheStatus::from_header("maybe"), None);
    /// ```
    pub fn from_header(value: &str) -> Option<CacheStatus> {
        match value {
            "hit" => Some(CacheStatus::Hit),
            "miss" => Some(CacheStatus::Miss),
            "bypass" => Some(CacheStatus::Bypass),
            _ => None,
        }
    }
}

/// Encoded image bytes and what the response said about them.
///
/// ```no_run
/// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
/// let download = client.download_original(id).await?;
/// std::fs::write("original", &download.bytes)?;
/// println!("{} bytes of {}", download.bytes.len(), download.content_type);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The encoded image.
    pub bytes: Bytes,
    /// Its content type.
    pub content_type: String,
    /// `x-progimage-cache` of a variant; `None` for originals and stateless transforms.
    pub cache: Option<CacheStatus>,
    /// The strong `ETag`, where the response has one.
    pub etag: Option<String>,
}

impl Download {
    /// The format its content type names.
    ///
    /// ```
    /// use progimage_client::{Download, Format};
    /// let download = Download {
    ///     bytes: Default::default(),
    ///     content_type: "image/webp".into(),
    ///     cache: None,
    ///     etag: None,
    /// };
    /// assert_eq!(download.format(), Some(Format::Webp));
    /// ```
    pub fn format(&self) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.content_type() == self.content_type)
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

    /// Uploads image bytes (`POST /v1/images` with a raw body).
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use progimage_client::UploadOptions;
    /// let bytes = std::fs::read("cat.png")?;
    /// let image = client.upload_bytes(bytes, &UploadOptions::new().filename("cat.png")).await?;
    /// println!("stored as {}", image.id);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_bytes(
        &self,
        bytes: impl Into<Bytes>,
        options: &UploadOptions,
    ) -> Result<Image, Error> {
        let bytes = bytes.into();
        let url = self.endpoint("v1/images", &upload_query(options));
        let content_type = upload_content_type(options);
        self.send_json(|| {
            self.request(Method::POST, url.clone())
                .header(CONTENT_TYPE, content_type)
                .body(bytes.clone())
        })
        .await
    }

    /// Uploads a file; its name is the filename unless `options` gives one. The file is read
    /// whole first, so a 429 or 503 can be retried.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// let image = client.upload_path("photos/beach.jpg", &Default::default()).await?;
    /// assert_eq!(image.filename.as_deref(), Some("beach.jpg"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_path(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &UploadOptions,
    ) -> Result<Image, Error> {
        let path = path.as_ref();
        let bytes = tokio::fs::read(path).await?;
        let mut options = options.clone();
        if options.filename.is_none() {
            options.filename = path.file_name().map(|name| name.to_string_lossy().into_owned());
        }
        self.upload_bytes(bytes, &options).await
    }

    /// Streams an upload from any async reader (a file, a socket, a decompressor) without
    /// holding it in memory. A streamed body cannot be sent twice, so it is never retried.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use progimage_client::{Format, UploadOptions};
    /// let file = tokio::fs::File::open("scan.tiff").await?;
    /// let image = client.upload_reader(file, &UploadOptions::new().format(Format::Tiff)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_reader<R>(&self, reader: R, options: &UploadOptions) -> Result<Image, Error>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        let chunks = futures::stream::try_unfold(reader, |mut reader| async move {
            let mut chunk = vec![0; CHUNK_BYTES];
            let read = reader.read(&mut chunk).await?;
            if read == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            chunk.truncate(read);
            Ok(Some((Bytes::from(chunk), reader)))
        });
        let url = self.endpoint("v1/images", &upload_query(options));
        let request = self
            .request(Method::POST, url)
            .header(CONTENT_TYPE, upload_content_type(options))
            .body(reqwest::Body::wrap_stream(chunks));
        read_json(check(request.send().await?).await?).await
    }

    /// Has the service fetch an image from a URL (`{"url"}`); the bytes decide the format
    /// and the filename defaults to the URL's last segment.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// let image = client.upload_url("https://example.com/cat.jpg", &Default::default()).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_url(&self, url: &str, options: &UploadOptions) -> Result<Image, Error> {
        let mut body = json!({ "url": url });
        if let Some(filename) = &options.filename {
            body["filename"] = json!(filename);
        }
        let query: Vec<_> = upload_query(&UploadOptions { filename: None, ..options.clone() });
        let endpoint = self.endpoint("v1/images", &query);
        self.send_json(|| self.request(Method::POST, endpoint.clone()).json(&body)).await
    }

    /// Uploads up to 100 files in one multipart request; each file succeeds or fails on its
    /// own, in order. The form is streamed once, so a 429 or 503 is not retried.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use progimage_client::UploadFile;
    /// let files = vec![
    ///     UploadFile::new("a.png", std::fs::read("a.png")?),
    ///     UploadFile::new("b.jpg", std::fs::read("b.jpg")?),
    /// ];
    /// for outcome in client.upload_many(files, &[]).await? {
    ///     match outcome {
    ///         Ok(image) => println!("stored {}", image.id),
    ///         Err(problem) => println!("refused: {problem}"),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn upload_many(
        &self,
        files: Vec<UploadFile>,
        eager: &[Format],
    ) -> Result<Vec<Result<Image, Problem>>, Error> {
        #[derive(Deserialize)]
        struct Outcome {
            image: Option<Image>,
            error: Option<Problem>,
        }
        #[derive(Deserialize)]
        struct Outcomes {
            items: Vec<Outcome>,
        }
        let options = UploadOptions { eager: eager.to_vec(), ..UploadOptions::default() };
        let url = self.endpoint("v1/images", &upload_query(&options));
        let mut form = reqwest::multipart::Form::new();
        for file in files {
            let mut part = reqwest::multipart::Part::stream(file.bytes).file_name(file.filename);
            if let Some(format) = file.format {
                part = part.mime_str(format.content_type())?;
            }
            form = form.part("file", part);
        }
        // A form is consumed by sending, so this request is not retried.
        let response = self.request(Method::POST, url).multipart(form).send().await?;
        let outcomes: Outcomes = read_json(check(response).await?).await?;
        outcomes
            .items
            .into_iter()
            .map(|outcome| match (outcome.image, outcome.error) {
                (Some(image), _) => Ok(Ok(image)),
                (None, Some(problem)) => Ok(Err(problem)),
                (None, None) => Err(Error::UnexpectedResponse {
                    status: 207,
                    message: "an item has neither image nor error".to_string(),
                }),
            })
            .collect()
    }

    /// An image's metadata (`GET /v1/images/{id}/metadata`).
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// let image = client.image(id).await?;
    /// println!("{} {}x{}", image.format, image.width, image.height);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn image(&self, id: Uuid) -> Result<Image, Error> {
        let url = self.endpoint(&format!("v1/images/{id}/metadata"), &[]);
        self.send_json(|| self.request(Method::GET, url.clone())).await
    }

    /// One page of images, newest first (`limit` 1..1000, default 50).
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// let first = client.images_page(Some(10), None).await?;
    /// if let Some(cursor) = &first.next_cursor {
    ///     let second = client.images_page(Some(10), Some(cursor)).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn images_page(
        &self,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<ImagePage, Error> {
        let url = self.endpoint("v1/images", &page_query(limit, cursor));
        self.send_json(|| self.request(Method::GET, url.clone())).await
    }

    /// Every image, newest first, fetching pages of `page_size` as the stream is read.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use futures::TryStreamExt;
    /// let images: Vec<_> = client.list_images(100).try_collect().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list_images(
        &self,
        page_size: u32,
    ) -> impl Stream<Item = Result<Image, Error>> + Send + 'static {
        let client = self.clone();
        paginate(move |cursor| {
            let client = client.clone();
            async move {
                let page = client.images_page(Some(page_size), cursor.as_deref()).await?;
                Ok((page.images, page.next_cursor))
            }
        })
    }

    /// Deletes an image and every variant of it.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// client.delete_image(id).await?;
    /// assert!(client.image(id).await.unwrap_err().is_not_found());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete_image(&self, id: Uuid) -> Result<(), Error> {
        let url = self.endpoint(&format!("v1/images/{id}"), &[]);
        self.send(|| self.request(Method::DELETE, url.clone())).await?;
        Ok(())
    }

    /// The original bytes, unchanged.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// let original = client.download_original(id).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download_original(&self, id: Uuid) -> Result<Download, Error> {
        let url = self.endpoint(&format!("v1/images/{id}"), &[]);
        read_download(self.send(|| self.request(Method::GET, url.clone())).await?).await
    }

    /// A variant: the image after `transform`, encoded in its format. An empty transform
    /// gives the original; a transform without a format keeps the original's, which costs one
    /// metadata request to learn.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// use progimage_client::{Format, Transform};
    /// let thumb = client.download(id, &Transform::new().width(200).format(Format::Webp)).await?;
    /// println!("cache: {:?}", thumb.cache);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn download(&self, id: Uuid, transform: &Transform) -> Result<Download, Error> {
        if transform.is_empty() {
            return self.download_original(id).await;
        }
        let format = match transform.output_format() {
            Some(format) => format,
            None => self.image(id).await?.format,
        };
        let url = self.variant_url(id, format, transform);
        read_download(self.send(|| self.request(Method::GET, url.clone())).await?).await
    }

    /// The absolute URL of an image after `transform` (for an `<img src>` or a CDN): the
    /// original's URL when the transform is empty, `/v1/images/{id}.{ext}?ops=...` when it
    /// has a format. Steps without a format cannot be written as a URL (the extension names
    /// the output), so that is [`Error::InvalidInput`].
    ///
    /// ```
    /// use progimage_client::{Client, Format, Transform};
    /// let client = Client::new("http://localhost:8080")?;
    /// let id: uuid::Uuid = "0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69".parse().unwrap();
    /// let url = client.image_url(id, &Transform::new().width(300).format(Format::Webp))?;
    /// assert_eq!(
    ///     url.as_str(),
    ///     "http://localhost:8080/v1/images/0190a6c2-7f5e-7cc3-8e0e-1f2d3c4b5a69.webp?ops=resize%3Awidth%3D300"
    /// );
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn image_url(&self, id: Uuid, transform: &Transform) -> Result<Url, Error> {
        match transform.output_format() {
            Some(format) => Ok(self.variant_url(id, format, transform)),
            None if transform.is_empty() => Ok(self.endpoint(&format!("v1/images/{id}"), &[])),
            None => Err(Error::InvalidInput(
                "a variant URL needs an output format (Transform::format)".to_string(),
            )),
        }
    }

    fn variant_url(&self, id: Uuid, format: Format, transform: &Transform) -> Url {
        self.endpoint(&format!("v1/images/{id}.{}", format.name()), &transform.query())
    }

    /// Transforms image bytes without storing anything (`POST /v1/transform`, raw body);
    /// the output keeps the source's format unless the transform names one.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use progimage_client::{Format, Transform};
    /// let bytes = std::fs::read("cat.png")?;
    /// let gray = client.transform_bytes(bytes, &Transform::new().grayscale().format(Format::Jpeg)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transform_bytes(
        &self,
        bytes: impl Into<Bytes>,
        transform: &Transform,
    ) -> Result<Download, Error> {
        let bytes = bytes.into();
        let mut query = Vec::new();
        if let Some(format) = transform.output_format() {
            query.push(("format".to_string(), format.name().to_string()));
        }
        query.extend(transform.query());
        let url = self.endpoint("v1/transform", &query);
        let response = self
            .send(|| {
                self.request(Method::POST, url.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.clone())
            })
            .await?;
        read_download(response).await
    }

    /// Transforms the image at a URL without storing anything (the service fetches it).
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client) -> Result<(), progimage_client::Error> {
    /// use progimage_client::Transform;
    /// let small = client.transform_url("https://example.com/cat.jpg", &Transform::new().width(64)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transform_url(&self, url: &str, transform: &Transform) -> Result<Download, Error> {
        self.transform_json(json!({ "url": url }), transform).await
    }

    /// Transforms a stored image without storing the result.
    ///
    /// ```no_run
    /// # async fn run(client: progimage_client::Client, id: uuid::Uuid) -> Result<(), progimage_client::Error> {
    /// use progimage_client::{Mask, Transform};
    /// let avatar = client.transform_image(id, &Transform::new().resize(128, 128).mask(Mask::Circle)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transform_image(
        &self,
        id: Uuid,
        transform: &Transform,
    ) -> Result<Download, Error> {
        self.transform_json(json!({ "image_id": id }), transform).await
    }

    async fn transform_json(
        &self,
        mut body: Value,
        transform: &Transform,
    ) -> Result<Download, Error> {
        if let Value::Object(object) = &mut body {
            object.extend(transform.json_fields());
        }
        let url = self.endpoint("v1/transform", &[]);
        let response = self.send(|| self.request(Method::POST, url.clone()).json(&body)).await?;
        read_download(response).await
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

/// The query of an upload: `filename` and `eager`.
fn upload_query(options: &UploadOptions) -> Vec<(String, String)> {
    let mut query = Vec::new();
    if let Some(filename) = &options.filename {
        query.push(("filename".to_string(), filename.clone()));
    }
    if !options.eager.is_empty() {
        let names: Vec<&str> = options.eager.iter().map(|format| format.name()).collect();
        query.push(("eager".to_string(), names.join(",")));
    }
    query
}

/// The declared format's content type, or octet-stream to let the server judge the bytes.
fn upload_content_type(options: &UploadOptions) -> &'static str {
    options.format.map_or("application/octet-stream", Format::content_type)
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

async fn read_download(response: Response) -> Result<Download, Error> {
    let header = |name: &str| {
        response.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let cache = header("x-progimage-cache").as_deref().and_then(CacheStatus::from_header);
    let etag = header("etag");
    let bytes = response.bytes().await?;
    Ok(Download { bytes, content_type, cache, etag })
}
