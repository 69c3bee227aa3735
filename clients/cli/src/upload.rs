//! `progimage upload`: many files, concurrently, with a progress bar, a summary and a
//! manifest that makes re-runs skip what is already stored.

use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use progimage_client::{Client, Format, UploadOptions};
use sha2::{Digest, Sha256};

use crate::manifest::{Entry, Manifest};
use crate::output::human_bytes;
use crate::{Exit, Failure, exit_for};

/// The arguments of `progimage upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files and directories; directories are walked for files with an image extension.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Formats to convert each image to in the background right away (`webp,avif`).
    #[arg(long, value_delimiter = ',')]
    eager: Vec<Format>,
    /// JSON-lines manifest of uploaded files: read to skip them, appended as files are stored.
    #[arg(long)]
    manifest: Option<PathBuf>,
}

/// What happened to one file.
enum Outcome {
    Uploaded { bytes: u64 },
    Skipped { bytes: u64 },
    Failed { path: PathBuf, message: String, exit: Exit },
}

/// Uploads every file, prints the summary table and picks the exit code.
pub async fn run(client: &Client, args: UploadArgs) -> Result<Exit, Failure> {
    let files = collect(&args.paths)?;
    let manifest = match &args.manifest {
        Some(path) => Some(Manifest::open(path).await.map_err(|error| {
            Failure::new(Exit::Io, format!("cannot open manifest {}: {error}", path.display()))
        })?),
        None => None,
    };
    let options = UploadOptions::new().eager(args.eager.iter().copied());
    let progress = ProgressBar::new(files.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} [{elapsed_precise}] {wide_msg}")
            .expect("a valid template"),
    );
    let started = Instant::now();
    let outcomes: Vec<Outcome> = futures::stream::iter(files)
        .map(|path| {
            let (manifest, options, progress) = (manifest.as_ref(), &options, &progress);
            async move {
                let outcome = upload_one(client, manifest, options, &path).await;
                progress.set_message(path.display().to_string());
                progress.inc(1);
                outcome
            }
        })
        .buffer_unordered(usize::from(args.concurrency))
        .collect()
        .await;
    progress.finish_and_clear();
    let elapsed = started.elapsed();

    let mut summary = [(0u64, 0u64); 3];
    let mut worst = None;
    for outcome in &outcomes {
        match outcome {
            Outcome::Uploaded { bytes } => add(&mut summary[0], *bytes),
            Outcome::Skipped { bytes } => add(&mut summary[1], *bytes),
            Outcome::Failed { path, message, exit } => {
                add(&mut summary[2], 0);
                eprintln!("failed: {}: {message}", path.display());
                worst.get_or_insert(*exit);
            }
        }
    }
    let rate = summary[0].0 as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    println!("{:<10}{:>8}{:>14}", "", "files", "bytes");
    for (name, (count, bytes)) in ["uploaded", "skipped", "failed"].iter().zip(summary) {
        println!("{name:<10}{count:>8}{:>14}", human_bytes(bytes));
    }
    println!("elapsed {:.2} s, {rate:.1} images/s", elapsed.as_secs_f64());

    Ok(match worst {
        None => Exit::Ok,
        // Nothing worked: the failure's own kind says more than "partial".
        Some(exit) if summary[0].0 + summary[1].0 == 0 => exit,
        Some(_) => Exit::Partial,
    })
}

fn add(row: &mut (u64, u64), bytes: u64) {
    row.0 += 1;
    row.1 += bytes;
}

/// The files to upload: named files as they are, directories walked (sorted, so runs are
/// repeatable) for files whose extension names an image format. Paths are absolute, the
/// manifest's key.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let unreadable = |path: &Path, error: std::io::Error| {
        Failure::new(Exit::Usage, format!("cannot read {}: {error}", path.display()))
    };
    let mut files = Vec::new();
    let mut directories = Vec::new();
    for path in paths {
        let path = std::fs::canonicalize(path).map_err(|error| unreadable(path, error))?;
        if path.is_dir() {
            directories.push(path);
        } else {
            files.push(path);
        }
    }
    while let Some(directory) = directories.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&directory)
            .and_then(|entries| entries.map(|entry| entry.map(|entry| entry.path())).collect())
            .map_err(|error| unreadable(&directory, error))?;
        entries.sort();
        for entry in entries {
            if entry.is_dir() {
                directories.push(entry);
            } else if Format::from_path(&entry).is_some() {
                files.push(entry);
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

async fn upload_one(
    client: &Client,
    manifest: Option<&Manifest>,
    options: &UploadOptions,
    path: &Path,
) -> Outcome {
    let failed =
        |message: String, exit: Exit| Outcome::Failed { path: path.to_path_buf(), message, exit };
    let metadata = match tokio::fs::metadata(path).await {
        Ok(metadata) => metadata,
        Err(error) => return failed(error.to_string(), Exit::Usage),
    };
    let size = metadata.len();
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_secs());
    let recorded = manifest.and_then(|manifest| manifest.get(path));
    if recorded.is_some_and(|entry| entry.size == size && entry.mtime == mtime) {
        return Outcome::Skipped { bytes: size };
    }
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(error) => return failed(error.to_string(), Exit::Usage),
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let entry = |image_id| Entry {
        path: path.to_path_buf(),
        size,
        mtime,
        sha256: sha256.clone(),
        image_id,
    };
    // Touched but unchanged: record the new mtime so the next run skips it without hashing.
    if let (Some(manifest), Some(recorded)) = (manifest, recorded)
        && recorded.size == size
        && recorded.sha256 == sha256
    {
        return match manifest.record(&entry(recorded.image_id)).await {
            Ok(()) => Outcome::Skipped { bytes: size },
            Err(error) => failed(format!("cannot write the manifest: {error}"), Exit::Io),
        };
    }
    let filename = path.file_name().map(|name| name.to_string_lossy().into_owned());
    let options = UploadOptions { filename, ..options.clone() };
    match client.upload_bytes(bytes, &options).await {
        Ok(image) => {
            if let Some(manifest) = manifest
                && let Err(error) = manifest.record(&entry(image.id)).await
            {
                return failed(format!("cannot write the manifest: {error}"), Exit::Io);
            }
            Outcome::Uploaded { bytes: size }
        }
        Err(error) => failed(error.to_string(), exit_for(&error)),
    }
}
