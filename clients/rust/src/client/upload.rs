//! Uploads: raw bytes, files, readers, remote URLs and many files at once.

use super::*;

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

impl Client {
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
