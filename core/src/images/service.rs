//! The image service: ingest, variants and stateless transforms, over the repository,
//! the storage and the bounded engine. The HTTP API and the workers both call it; it
//! knows nothing of HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{self, DbError, ImageRecord, Repository, VariantRecord};
use crate::engine::{Engine, EngineError};
use crate::format::{ImageFormat, Sniffed, sniff};
use crate::imaging::{self, Encoded, ImageInfo, ImagingError, MaskImages};
use crate::limits::Limits;
use crate::problem::{ErrorCode, Problem};
use crate::spec::{OutputSettings, Pipeline, Transform};
use crate::storage::{Storage, StorageError, StorageKey};

/// Why a service call failed; each variant maps onto one API error code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Unknown id, or another tenant's. `param` names where the id came from when it
    /// was not the path (`mask`, `image_id`).
    #[error("{message}")]
    NotFound { param: Option<String>, message: String },
    /// Bytes recognisably of another format than declared.
    #[error("{0}")]
    MediaTypeMismatch(String),
    #[error(transparent)]
    Imaging(#[from] ImagingError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Fetch(#[from] crate::net::FetchError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whether a variant came from storage, was made now and stored, or was made now and
/// not stored (the image is at its variant cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
    Bypass,
}

impl CacheStatus {
    /// The `x-progimage-cache` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "hit",
            CacheStatus::Miss => "miss",
            CacheStatus::Bypass => "bypass",
        }
    }
}

/// An encoded variant and where it came from.
#[derive(Debug, Clone)]
pub struct Variant {
    pub bytes: Bytes,
    pub format: ImageFormat,
    pub sha256: String,
    pub cache: CacheStatus,
}

/// What an upload declares about itself (from its Content-Type and filename).
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub declared: Option<ImageFormat>,
    pub filename: Option<String>,
    /// Set on job outputs.
    pub source_image_id: Option<Uuid>,
    pub job_id: Option<Uuid>,
    /// A caller-chosen id (job outputs use a deterministic one so a redelivery writes
    /// the same image); `None` for a fresh UUIDv7.
    pub id: Option<Uuid>,
}

/// Service-level settings.
#[derive(Debug, Clone)]
pub(crate) struct ServiceOptions {
    pub limits: Limits,
    /// Variants one image keeps at most; past it, variants are made but not stored.
    pub max_variants_per_image: u64,
}

/// The variants being made now, each behind a lock its makers and waiters share.
type InFlight = HashMap<(Uuid, String), Weak<tokio::sync::Mutex<()>>>;

/// Ingest, variants and transforms.
#[derive(Clone)]
pub struct ImageService {
    repository: Repository,
    storage: Storage,
    engine: Engine,
    options: Arc<ServiceOptions>,
    in_flight: Arc<Mutex<InFlight>>,
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Checks an upload's bytes in the documented order: empty or unrecognisable, a format
/// we do not take, a mismatch with the declared format, the header's pixel limits, then
/// a full decode.
pub(crate) fn check_upload(
    bytes: &[u8],
    declared: Option<ImageFormat>,
    limits: &Limits,
) -> Result<ImageInfo, ServiceError> {
    if bytes.is_empty() {
        return Err(ImagingError::Invalid("the body is empty".into()).into());
    }
    match sniff(bytes) {
        Sniffed::Unknown => {
            return Err(
                ImagingError::Invalid("the bytes are not a recognisable image".into()).into()
            );
        }
        Sniffed::Unsupported(name) => {
            return Err(ImagingError::Unsupported(format!(
                "{name} images are not supported; send JPEG, PNG, WebP, GIF, AVIF, TIFF, BMP or SVG"
            ))
            .into());
        }
        Sniffed::Known(actual) => {
            if let Some(declared) = declared.filter(|declared| *declared != actual) {
                return Err(ServiceError::MediaTypeMismatch(format!(
                    "declared as {declared} but the bytes are {actual}"
                )));
            }
        }
    }
    Ok(imaging::verify(bytes, limits)?)
}

impl ImageService {
    /// A service over its three seams.
    pub(crate) fn new(
        repository: Repository,
        storage: Storage,
        engine: Engine,
        options: ServiceOptions,
    ) -> ImageService {
        ImageService {
            repository,
            storage,
            engine,
            options: Arc::new(options),
            in_flight: Arc::default(),
        }
    }

    /// The repository (for handlers that only read rows).
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The storage.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The limits every request is judged by.
    pub fn limits(&self) -> &Limits {
        &self.options.limits
    }

    /// Validates and stores an original; the row is written after the object, so a
    /// crash in between leaves an orphan object, never a row without bytes.
    pub async fn ingest(
        &self,
        tenant: &str,
        bytes: Bytes,
        upload: Upload,
    ) -> Result<ImageRecord, ServiceError> {
        let limits = self.options.limits;
        let checked = bytes.clone();
        let declared = upload.declared;
        let (info, sha256) = self
            .engine
            .run(move || {
                check_upload(&checked, declared, &limits).map(|info| (info, sha256_hex(&checked)))
            })
            .await??;
        let id = upload.id.unwrap_or_else(Uuid::now_v7);
        if upload.id.is_some()
            && let Some(existing) = self.repository.get_image(tenant, id).await?
        {
            return Ok(existing);
        }
        let shape = (info.format, info.width, info.height);
        self.persist(tenant, id, shape, bytes, sha256, upload).await
    }

    /// Stores an output the engine made (a job item's): no second decode, and when an
    /// image with `upload.id` exists already (a redelivered item) it is returned as is.
    pub(crate) async fn store_output(
        &self,
        tenant: &str,
        encoded: Encoded,
        upload: Upload,
    ) -> Result<ImageRecord, ServiceError> {
        let id = upload.id.unwrap_or_else(Uuid::now_v7);
        if let Some(existing) = self.repository.get_image(tenant, id).await? {
            return Ok(existing);
        }
        let sha256 = sha256_hex(&encoded.bytes);
        let shape = (encoded.format, encoded.width, encoded.height);
        self.persist(tenant, id, shape, Bytes::from(encoded.bytes), sha256, upload).await
    }

    /// Writes the object, then its row (a row always points at complete bytes); the object
    /// goes again when the row cannot be written.
    async fn persist(
        &self,
        tenant: &str,
        id: Uuid,
        (format, width, height): (ImageFormat, u32, u32),
        bytes: Bytes,
        sha256: String,
        upload: Upload,
    ) -> Result<ImageRecord, ServiceError> {
        let record = ImageRecord {
            id,
            tenant: tenant.to_string(),
            format,
            width,
            height,
            bytes: bytes.len() as u64,
            sha256,
            filename: upload.filename,
            created_at: db::now(),
            source_image_id: upload.source_image_id,
            job_id: upload.job_id,
        };
        let key = StorageKey::Original { image_id: id };
        self.storage.put(&key, bytes).await?;
        if let Err(error) = self.repository.insert_image(&record).await {
            // Best effort: the object is unreachable without its row either way.
            let _ = self.storage.delete(&key).await;
            return Err(error.into());
        }
        tracing::info!(
            image.id = %id, image.format = %record.format, size_bytes = record.bytes,
            width = record.width, height = record.height, "image stored"
        );
        Ok(record)
    }

    /// A tenant's image row, or `NotFound`.
    pub async fn image(&self, tenant: &str, id: Uuid) -> Result<ImageRecord, ServiceError> {
        self.repository
            .get_image(tenant, id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { param: None, message: "no such image".into() })
    }

    /// The original bytes.
    pub async fn original(&self, image: &ImageRecord) -> Result<Bytes, ServiceError> {
        Ok(self.storage.get(&StorageKey::Original { image_id: image.id }).await?)
    }

    /// Deletes an image, its variants and their objects.
    pub async fn delete(&self, tenant: &str, id: Uuid) -> Result<(), ServiceError> {
        if !self.repository.delete_image(tenant, id).await? {
            return Err(ServiceError::NotFound { param: None, message: "no such image".into() });
        }
        self.storage.delete_image(id).await?;
        tracing::info!(image.id = %id, "image deleted");
        Ok(())
    }

    /// The variant of `image` for `transform` in `format`: from storage when made before,
    /// else made once (concurrent callers wait for the one conversion) and stored.
    pub async fn variant(
        &self,
        image: &ImageRecord,
        transform: &Transform,
        format: ImageFormat,
    ) -> Result<Variant, ServiceError> {
        let variant_hash = sha256_hex(transform.cache_key(format).as_bytes())[..32].to_string();
        if let Some(variant) = self.stored_variant(image.id, &variant_hash).await? {
            return Ok(variant);
        }
        let lock = self.flight_lock(image.id, &variant_hash);
        let _guard = lock.lock().await;
        if let Some(variant) = self.stored_variant(image.id, &variant_hash).await? {
            return Ok(variant);
        }
        let mut transform = transform.clone();
        transform.output.format = Some(format);
        let encoded = self.make(image, &transform).await?;
        let sha256 = sha256_hex(&encoded.bytes);
        let bytes = Bytes::from(encoded.bytes);
        let cache = if self.repository.count_variants(image.id).await?
            >= self.options.max_variants_per_image
        {
            CacheStatus::Bypass
        } else {
            let key =
                StorageKey::Variant { image_id: image.id, variant_hash: variant_hash.clone() };
            let record = VariantRecord {
                image_id: image.id,
                variant_hash,
                format,
                bytes: bytes.len() as u64,
                sha256: sha256.clone(),
                width: encoded.width,
                height: encoded.height,
                created_at: db::now(),
            };
            match self.storage.put(&key, bytes.clone()).await {
                Ok(()) => {
                    self.repository.insert_variant(&record).await?;
                    CacheStatus::Miss
                }
                // A cache that cannot grow: the variant is still served, just not kept.
                Err(error) if error.is_full() => {
                    tracing::warn!(image.id = %image.id, %error, "storage full; variant not stored");
                    CacheStatus::Bypass
                }
                Err(error) => return Err(error.into()),
            }
        };
        Ok(Variant { bytes, format, sha256, cache })
    }

    /// Runs a transform on a stored image without storing the result.
    pub async fn transform_stored(
        &self,
        image: &ImageRecord,
        transform: &Transform,
    ) -> Result<Encoded, ServiceError> {
        self.make(image, transform).await
    }

    /// Runs a transform on bytes that are not stored (checked like an upload first).
    pub async fn transform_bytes(
        &self,
        tenant: &str,
        bytes: Bytes,
        declared: Option<ImageFormat>,
        transform: &Transform,
    ) -> Result<Encoded, ServiceError> {
        let masks = self.load_masks(tenant, &transform.pipeline).await?;
        let limits = self.options.limits;
        let transform = transform.clone();
        self.engine
            .run(move || {
                check_upload(&bytes, declared, &limits)?;
                Ok(imaging::process(&bytes, &transform, &masks, &limits)?)
            })
            .await?
    }

    async fn make(
        &self,
        image: &ImageRecord,
        transform: &Transform,
    ) -> Result<Encoded, ServiceError> {
        let original = self.original(image).await?;
        let masks = self.load_masks(&image.tenant, &transform.pipeline).await?;
        let limits = self.options.limits;
        let transform = transform.clone();
        let started = std::time::Instant::now();
        let encoded = self
            .engine
            .run(move || imaging::process(&original, &transform, &masks, &limits))
            .await??;
        tracing::debug!(
            image.id = %image.id, output.format = %encoded.format,
            size_bytes = encoded.bytes.len(), duration_ms = started.elapsed().as_millis() as u64,
            "variant made"
        );
        Ok(encoded)
    }

    /// The original bytes of every mask image a pipeline names, all the tenant's.
    async fn load_masks(
        &self,
        tenant: &str,
        pipeline: &Pipeline,
    ) -> Result<MaskImages, ServiceError> {
        let mut masks = MaskImages::new();
        for id in pipeline.mask_image_ids() {
            let Some(mask) = self.repository.get_image(tenant, id).await? else {
                return Err(ServiceError::NotFound {
                    param: Some("mask".into()),
                    message: format!("no such mask image {id}"),
                });
            };
            masks.insert(id, self.original(&mask).await?.to_vec());
        }
        Ok(masks)
    }

    async fn stored_variant(
        &self,
        image_id: Uuid,
        variant_hash: &str,
    ) -> Result<Option<Variant>, ServiceError> {
        let Some(record) = self.repository.get_variant(image_id, variant_hash).await? else {
            return Ok(None);
        };
        let key = StorageKey::Variant { image_id, variant_hash: variant_hash.to_string() };
        match self.storage.get(&key).await {
            Ok(bytes) => Ok(Some(Variant {
                bytes,
                format: record.format,
                sha256: record.sha256,
                cache: CacheStatus::Hit,
            })),
            Err(StorageError::NotFound) => {
                // Evicted or lost: forget the row and make it again.
                self.repository.delete_variant(image_id, variant_hash).await?;
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// One lock per variant being made; entries vanish with their last holder.
    fn flight_lock(&self, image_id: Uuid, variant_hash: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poison| poison.into_inner());
        in_flight.retain(|_, lock| lock.strong_count() > 0);
        let key = (image_id, variant_hash.to_string());
        if let Some(lock) = in_flight.get(&key).and_then(Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        in_flight.insert(key, Arc::downgrade(&lock));
        lock
    }
}

/// A plain conversion: no steps, default settings, the given format.
pub(crate) fn plain_transform(format: ImageFormat) -> Transform {
    Transform {
        pipeline: Pipeline::default(),
        output: OutputSettings { format: Some(format), ..OutputSettings::default() },
    }
}

impl From<&ServiceError> for Problem {
    fn from(error: &ServiceError) -> Problem {
        match error {
            ServiceError::NotFound { param, message } => {
                let problem = Problem::new(ErrorCode::NotFound, message);
                match param {
                    Some(param) => problem.with_param(param),
                    None => problem,
                }
            }
            ServiceError::MediaTypeMismatch(detail) => {
                Problem::new(ErrorCode::MediaTypeMismatch, detail)
            }
            ServiceError::Imaging(error) => error.into(),
            ServiceError::Engine(error) => error.into(),
            ServiceError::Fetch(error) => error.into(),
            ServiceError::Storage(error) => error.into(),
            ServiceError::Db(error) => error.into(),
        }
    }
}
