//! Images and variants: metadata, listing, deletion, downloads, URLs and stateless
//! transforms.

use super::*;

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

impl Client {
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
