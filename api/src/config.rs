//! Configuration: every setting a flag and a `PROGIMAGE_*` variable, with working
//! defaults, so `progimage-api` with no configuration runs the embedded set-up.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use progimage_core::app::Settings;
use progimage_core::config::{Secret, SharedConfig};

/// ProgImage's HTTP API (and, in the embedded set-up, its workers).
#[derive(Debug, Clone, Parser)]
#[command(name = "progimage-api", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PROGIMAGE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory of the embedded set-up's SQLite database and image files.
    #[arg(long, env = "PROGIMAGE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// `postgres://…` for the distributed set-up; default: SQLite under the data dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<Secret>,

    /// `s3://bucket/prefix` (with the `AWS_*` variables) or a directory; default: the
    /// data dir's `images/`.
    #[arg(long, env = "PROGIMAGE_STORAGE")]
    pub storage: Option<String>,

    /// RabbitMQ (`amqp://…`) for the distributed set-up, where `progimage-worker`
    /// processes do the background work; default: the embedded in-process queue.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<Secret>,

    /// Image jobs that may wait for a thread before requests get 503; default 16 per
    /// worker thread.
    #[arg(long, env = "PROGIMAGE_QUEUE_DEPTH")]
    pub queue_depth: Option<usize>,

    /// Seconds one HTTP request may take in all.
    #[arg(long, env = "PROGIMAGE_REQUEST_TIMEOUT_S", default_value_t = 120)]
    pub request_timeout_s: u64,

    /// What the worker processes share: limits, timeouts, keys, secrets, logging.
    #[command(flatten)]
    pub shared: SharedConfig,
}

impl Config {
    /// The configuration from the environment alone (tests build one this way).
    pub fn from_env() -> Config {
        Config::parse_from(["progimage-api"])
    }

    /// The database URL: the given one, or SQLite under the data dir.
    pub fn database_url(&self) -> Secret {
        self.database_url.clone().unwrap_or_else(|| {
            Secret::new(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("progimage.sqlite").display()
            ))
        })
    }

    /// The services' settings.
    pub fn settings(&self) -> Settings {
        let queue_depth = self.queue_depth.unwrap_or(self.shared.workers() * 16);
        self.shared.settings(
            self.database_url(),
            self.storage_url(),
            self.amqp_url.as_ref(),
            queue_depth,
        )
    }

    /// The storage URL: the given one, or the data dir's `images/`.
    pub fn storage_url(&self) -> String {
        self.storage.clone().unwrap_or_else(|| self.data_dir.join("images").display().to_string())
    }
}
