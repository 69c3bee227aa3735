//! Configuration: every setting a flag and a `PROGIMAGE_*` variable, with working
//! defaults, so `progimage-api` with no configuration runs the embedded set-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use progimage_core::app::Settings;
use progimage_core::limits::Limits;
use progimage_core::queue::amqp::AmqpConfig;

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
    pub database_url: Option<String>,

    /// `s3://bucket/prefix` (with the `AWS_*` variables) or a directory; default: the
    /// data dir's `images/`.
    #[arg(long, env = "PROGIMAGE_STORAGE")]
    pub storage: Option<String>,

    /// RabbitMQ (`amqp://…`) for the distributed set-up, where `progimage-worker`
    /// processes do the background work; default: the embedded in-process queue.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Option<String>,

    /// Names the RabbitMQ exchange and queues (deployments sharing a broker stay apart).
    #[arg(long, env = "PROGIMAGE_AMQP_PREFIX", default_value = "progimage")]
    pub amqp_prefix: String,

    /// Comma-separated `tenant:key` pairs; none means open mode (tenant `default`).
    #[arg(long, env = "PROGIMAGE_API_KEYS", hide_env_values = true, default_value = "")]
    pub api_keys: String,

    /// The webhook master secret; generated and kept in the database when unset.
    #[arg(long, env = "PROGIMAGE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// IPs, CIDRs or host names that remote URLs may reach despite the SSRF rules.
    #[arg(long, env = "PROGIMAGE_ALLOW_URLS", default_value = "")]
    pub allow_urls: String,

    /// Bytes per upload or fetch.
    #[arg(long, env = "PROGIMAGE_MAX_UPLOAD_BYTES", default_value_t = 50 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Pixels of one frame, input, any step or output.
    #[arg(long, env = "PROGIMAGE_MAX_PIXELS", default_value_t = 100_000_000)]
    pub max_pixels: u64,

    /// Longest side of any step's result or of the output.
    #[arg(long, env = "PROGIMAGE_MAX_OUTPUT_SIDE", default_value_t = 16384)]
    pub max_output_side: u32,

    /// Seconds for a whole remote fetch, redirects included.
    #[arg(long, env = "PROGIMAGE_FETCH_TIMEOUT_S", default_value_t = 10)]
    pub fetch_timeout_s: u64,

    /// Threads for image work; default one per core.
    #[arg(long, env = "PROGIMAGE_WORKERS")]
    pub workers: Option<usize>,

    /// Image jobs that may wait for a thread before requests get 503; default 16 per
    /// worker thread.
    #[arg(long, env = "PROGIMAGE_QUEUE_DEPTH")]
    pub queue_depth: Option<usize>,

    /// Seconds one image operation may run.
    #[arg(long, env = "PROGIMAGE_PROCESS_TIMEOUT_S", default_value_t = 60)]
    pub process_timeout_s: u64,

    /// Seconds one SVG render or AVIF decode may run in its sandbox process before it is
    /// stopped and the image refused as too costly (422 `image_too_large`).
    #[arg(long, env = "PROGIMAGE_MAX_RENDER_S", default_value_t = 20)]
    pub max_render_s: u64,

    /// Seconds one HTTP request may take in all.
    #[arg(long, env = "PROGIMAGE_REQUEST_TIMEOUT_S", default_value_t = 120)]
    pub request_timeout_s: u64,

    /// Variants one image keeps; past it they are made but not stored.
    #[arg(long, env = "PROGIMAGE_MAX_VARIANTS_PER_IMAGE", default_value_t = 1000)]
    pub max_variants_per_image: u64,

    /// Log format: `text` or `json`.
    #[arg(long, env = "PROGIMAGE_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

impl Config {
    /// The configuration from the environment alone (tests build one this way).
    pub fn from_env() -> Config {
        Config::parse_from(["progimage-api"])
    }

    /// The worker thread count.
    pub fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// The database URL: the given one, or SQLite under the data dir.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("progimage.sqlite").display())
        })
    }

    /// The services' settings; `per_tenant_secrets` when API keys are configured.
    pub fn settings(&self, per_tenant_secrets: bool) -> Settings {
        let workers = self.workers();
        Settings {
            database_url: self.database_url(),
            storage_url: self.storage_url(),
            amqp: self
                .amqp_url
                .as_ref()
                .map(|url| AmqpConfig { url: url.clone(), prefix: self.amqp_prefix.clone() }),
            allow_urls: self.allow_urls.clone(),
            limits: Limits {
                max_bytes: self.max_upload_bytes,
                max_pixels: self.max_pixels,
                max_side: self.max_output_side,
                max_render: Duration::from_secs(self.max_render_s.max(1)),
            },
            fetch_timeout: Duration::from_secs(self.fetch_timeout_s),
            workers,
            queue_depth: self.queue_depth.unwrap_or(workers * 16),
            process_timeout: Duration::from_secs(self.process_timeout_s),
            max_variants_per_image: self.max_variants_per_image,
            webhook_secret: self.webhook_secret.clone(),
            per_tenant_secrets,
        }
    }

    /// The storage URL: the given one, or the data dir's `images/`.
    pub fn storage_url(&self) -> String {
        self.storage.clone().unwrap_or_else(|| self.data_dir.join("images").display().to_string())
    }
}
