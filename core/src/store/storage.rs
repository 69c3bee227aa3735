//! Object storage for originals and variants, over `object_store`.
//!
//! The embedded default writes files under the data directory (`LocalFileSystem`, whose
//! puts are atomic: a staging file renamed into place), the distributed set-up an
//! S3-compatible bucket. Objects are written before the database row that makes them
//! visible, so a crash never leaves a row pointing at half an object.

use std::sync::Arc;

use crate::problem::{ErrorCode, Problem, Recovery, insufficient_storage};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use uuid::Uuid;

/// Where an object lives; owns the path layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StorageKey {
    /// The bytes an upload stored, unchanged.
    Original { image_id: Uuid },
    /// One encoded variant of an image, named by the hash of its canonical transform.
    Variant { image_id: Uuid, variant_hash: String },
}

impl StorageKey {
    fn path(&self, prefix: &Path) -> Path {
        let relative = match self {
            StorageKey::Original { image_id } => format!("originals/{image_id}"),
            StorageKey::Variant { image_id, variant_hash } => {
                format!("variants/{image_id}/{variant_hash}")
            }
        };
        within(prefix, &relative)
    }
}

/// `relative` under `prefix` (which may be empty).
fn within(prefix: &Path, relative: &str) -> Path {
    if prefix.as_ref().is_empty() {
        Path::from(relative)
    } else {
        Path::from(format!("{prefix}/{relative}"))
    }
}

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    #[error("storage backend error: {0}")]
    Backend(#[from] object_store::Error),
    #[error("invalid storage configuration: {0}")]
    Config(String),
}

impl StorageError {
    /// Whether the store has no room (a full disk under the local store): retrying soon
    /// will not help until space is freed.
    pub(crate) fn is_full(&self) -> bool {
        let StorageError::Backend(error) = self else { return false };
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(error) = source {
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && (io.kind() == std::io::ErrorKind::StorageFull
                    || io.kind() == std::io::ErrorKind::QuotaExceeded)
            {
                return true;
            }
            source = error.source();
        }
        false
    }
}

/// A small facade over an `ObjectStore` and a key prefix.
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    description: String,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl Storage {
    /// Files under `directory` (created if missing).
    pub(crate) fn local(directory: &std::path::Path) -> Result<Storage, StorageError> {
        std::fs::create_dir_all(directory).map_err(|error| {
            StorageError::Config(format!("cannot create {}: {error}", directory.display()))
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(directory)?
            .with_automatic_cleanup(true);
        Ok(Storage {
            store: Arc::new(store),
            prefix: Path::default(),
            description: format!("file://{}", directory.display()),
        })
    }

    /// An S3-compatible bucket from `s3://bucket/prefix`, configured by the usual `AWS_*`
    /// variables (`AWS_ENDPOINT_URL` for S3-compatible stores; plain http allowed there).
    pub(crate) fn s3(url: &str) -> Result<Storage, StorageError> {
        let parsed = url::Url::parse(url)
            .map_err(|error| StorageError::Config(format!("{url}: {error}")))?;
        let bucket = parsed
            .host_str()
            .filter(|bucket| !bucket.is_empty())
            .ok_or_else(|| StorageError::Config(format!("{url}: no bucket")))?;
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        let store = builder.build()?;
        Ok(Storage {
            store: Arc::new(store),
            prefix: Path::from(parsed.path().trim_matches('/')),
            description: url.to_string(),
        })
    }

    /// From `PROGIMAGE_STORAGE`-style text: `s3://…`, `file:///…` or a plain directory.
    pub(crate) fn from_url(url: &str) -> Result<Storage, StorageError> {
        if url.starts_with("s3://") {
            Storage::s3(url)
        } else if let Some(path) = url.strip_prefix("file://") {
            Storage::local(std::path::Path::new(path))
        } else {
            Storage::local(std::path::Path::new(url))
        }
    }

    /// An in-memory store (unit tests).
    #[cfg(test)]
    pub(crate) fn in_memory() -> Storage {
        Storage {
            store: Arc::new(object_store::memory::InMemory::new()),
            prefix: Path::default(),
            description: "memory://".to_string(),
        }
    }

    /// Writes an object atomically (readers see all of it or none).
    pub(crate) async fn put(&self, key: &StorageKey, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&key.path(&self.prefix), PutPayload::from_bytes(bytes)).await?;
        Ok(())
    }

    /// Reads a whole object.
    pub(crate) async fn get(&self, key: &StorageKey) -> Result<Bytes, StorageError> {
        match self.store.get(&key.path(&self.prefix)).await {
            Ok(result) => Ok(result.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(StorageError::NotFound),
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes an object; a missing one is not an error.
    pub(crate) async fn delete(&self, key: &StorageKey) -> Result<(), StorageError> {
        match self.store.delete(&key.path(&self.prefix)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes an image's original and every variant stored under it.
    pub(crate) async fn delete_image(&self, image_id: Uuid) -> Result<(), StorageError> {
        self.delete(&StorageKey::Original { image_id }).await?;
        let variants = within(&self.prefix, &format!("variants/{image_id}"));
        let locations = self.store.list(Some(&variants)).map_ok(|meta| meta.location).boxed();
        let mut deleted = self.store.delete_stream(locations);
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Proves the store answers (readiness): a listing of the prefix.
    pub async fn check(&self) -> Result<(), StorageError> {
        let mut listing = self.store.list(Some(&self.prefix));
        if let Some(Err(error)) = listing.next().await {
            return Err(error.into());
        }
        Ok(())
    }
}

impl From<&StorageError> for Problem {
    fn from(error: &StorageError) -> Problem {
        if error.is_full() {
            return insufficient_storage(error);
        }
        Problem::new(ErrorCode::Unavailable, "storage is unavailable")
            .with_cause(error)
            .with_recovery(Recovery::Transient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_and_delete_image() {
        let storage = Storage::in_memory();
        let image_id = Uuid::now_v7();
        let original = StorageKey::Original { image_id };
        let variant = StorageKey::Variant { image_id, variant_hash: "abc".into() };
        storage.put(&original, Bytes::from_static(b"0123456789")).await.unwrap();
        storage.put(&variant, Bytes::from_static(b"variant")).await.unwrap();
        assert_eq!(storage.get(&original).await.unwrap(), Bytes::from_static(b"0123456789"));
        storage.delete_image(image_id).await.unwrap();
        assert!(matches!(storage.get(&original).await, Err(StorageError::NotFound)));
        assert!(matches!(storage.get(&variant).await, Err(StorageError::NotFound)));
        storage.check().await.unwrap();
    }
}
