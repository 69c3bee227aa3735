//! The upload manifest: JSON lines of `{path, size, mtime, sha256, image_id}`, appended as
//! each file is stored, so an interrupted run loses nothing and a re-run skips what is done.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use uuid::Uuid;

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Its size in bytes when uploaded.
    pub size: u64,
    /// Its modification time, unix seconds, when uploaded.
    pub mtime: u64,
    /// Lowercase hex SHA-256 of its bytes.
    pub sha256: String,
    /// The stored image.
    pub image_id: Uuid,
}

/// The entries read at start, and the file new ones are appended to.
pub struct Manifest {
    entries: HashMap<PathBuf, Entry>,
    file: Mutex<tokio::fs::File>,
}

impl Manifest {
    /// Opens (or creates) a manifest; a later line for a path replaces an earlier one, and
    /// a line that does not parse (a torn last write) is ignored.
    pub async fn open(path: &Path) -> std::io::Result<Manifest> {
        let text = match tokio::fs::read_to_string(path).await {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error),
        };
        let entries = text
            .lines()
            .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
            .map(|entry| (entry.path.clone(), entry))
            .collect();
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(path).await?;
        // A torn last line must not swallow the next entry.
        if !text.is_empty() && !text.ends_with('\n') {
            file.write_all(b"\n").await?;
        }
        Ok(Manifest { entries, file: Mutex::new(file) })
    }

    /// The entry recorded for a path.
    pub fn get(&self, path: &Path) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Appends an entry and flushes it, so it survives an interrupted run.
    pub async fn record(&self, entry: &Entry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self.file.lock().await;
        file.write_all(&line).await?;
        file.flush().await
    }
}
