//! ProgImage's worker process for the distributed set-up: consumes job items and eager
//! variants from RabbitMQ (only the families it is given, so a deployment can run a pool
//! per transformation family), delivers webhooks, and re-publishes job items whose message
//! was lost. Any number of workers may run; the database holds the state.

use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use progimage_core::app::{SWEEP_EVERY, Services, Settings};
use progimage_core::limits::Limits;
use progimage_core::queue::Family;
use progimage_core::queue::amqp::AmqpConfig;
use tokio_util::sync::CancellationToken;

/// How long in-flight items may take to finish after SIGTERM before the process exits
/// (their messages, unacknowledged, go back to the queue).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(9);

/// ProgImage's background worker (distributed set-up).
#[derive(Debug, Clone, Parser)]
#[command(name = "progimage-worker", version, about)]
pub struct Config {
    /// The Postgres database shared with the API processes.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,

    /// `s3://bucket/prefix` (with the `AWS_*` variables) or a directory shared with the API.
    #[arg(long, env = "PROGIMAGE_STORAGE")]
    pub storage: String,

    /// RabbitMQ, `amqp://…`.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: String,

    /// Names the RabbitMQ exchange and queues (must match the API's).
    #[arg(long, env = "PROGIMAGE_AMQP_PREFIX", default_value = "progimage")]
    pub amqp_prefix: String,

    /// The transformation families this worker consumes: `raster`, `vector` or both.
    #[arg(
        long,
        env = "PROGIMAGE_FAMILIES",
        default_value = "raster,vector",
        value_delimiter = ','
    )]
    pub families: Vec<String>,

    /// Items processed at once (and image threads); default one per core.
    #[arg(long, env = "PROGIMAGE_WORKERS")]
    pub workers: Option<usize>,

    /// Seconds one item's image work may run.
    #[arg(long, env = "PROGIMAGE_PROCESS_TIMEOUT_S", default_value_t = 60)]
    pub process_timeout_s: u64,

    /// Seconds one SVG render or AVIF decode may run in its sandbox process before it is
    /// stopped and the image refused as too costly (422 `image_too_large`).
    #[arg(long, env = "PROGIMAGE_MAX_RENDER_S", default_value_t = 20)]
    pub max_render_s: u64,

    /// Seconds between sweeps for job items whose queue message was lost; an item counts
    /// as lost once it has waited in `queued` twice that long.
    #[arg(long, env = "PROGIMAGE_SWEEP_EVERY_S", default_value_t = SWEEP_EVERY.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sweep_every_s: u64,

    /// IPs, CIDRs or host names that URL sources and webhooks may reach despite the SSRF rules.
    #[arg(long, env = "PROGIMAGE_ALLOW_URLS", default_value = "")]
    pub allow_urls: String,

    /// Bytes per fetched source.
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

    /// The webhook master secret (the API's); generated and kept in the database when unset.
    #[arg(long, env = "PROGIMAGE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,

    /// The API's `tenant:key` pairs: with keys, each tenant's webhooks are signed with its
    /// own secret (only whether keys exist matters here).
    #[arg(long, env = "PROGIMAGE_API_KEYS", hide_env_values = true, default_value = "")]
    pub api_keys: String,

    /// Log format: `text` or `json`.
    #[arg(long, env = "PROGIMAGE_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

impl Config {
    fn families(&self) -> anyhow::Result<Vec<Family>> {
        self.families
            .iter()
            .map(|name| {
                Family::from_name(name.trim())
                    .with_context(|| format!("unknown family {name:?}: use raster or vector"))
            })
            .collect()
    }

    fn settings(&self) -> Settings {
        let workers = self
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1);
        Settings {
            database_url: self.database_url.clone(),
            storage_url: self.storage.clone(),
            amqp: Some(AmqpConfig { url: self.amqp_url.clone(), prefix: self.amqp_prefix.clone() }),
            allow_urls: self.allow_urls.clone(),
            limits: Limits {
                max_bytes: self.max_upload_bytes,
                max_pixels: self.max_pixels,
                max_side: self.max_output_side,
                max_render: Duration::from_secs(self.max_render_s.max(1)),
            },
            fetch_timeout: Duration::from_secs(self.fetch_timeout_s),
            workers,
            // Items arrive at most `workers` at a time (the prefetch): nothing waits.
            queue_depth: workers,
            process_timeout: Duration::from_secs(self.process_timeout_s),
            max_variants_per_image: u64::MAX,
            webhook_secret: self.webhook_secret.clone(),
            per_tenant_secrets: self.api_keys.split(',').any(|pair| !pair.trim().is_empty()),
        }
    }
}

/// Runs until `shutdown` is cancelled, then stops taking messages and lets in-flight
/// items finish (up to the grace period).
pub async fn run_until(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let families = config.families()?;
    let sweep_every = Duration::from_secs(config.sweep_every_s);
    let settings = config.settings();
    let workers = settings.workers;
    let services = Services::connect(settings).await?;
    tracing::info!(
        families = ?families.iter().map(|family| family.name()).collect::<Vec<_>>(),
        workers, storage = ?services.storage, "worker started"
    );
    services.run_worker(&families, sweep_every, shutdown).await?;
    services.repository.close().await;
    tracing::info!("worker stopped");
    Ok(())
}

/// Runs as the binary does: until SIGTERM or Ctrl-C, then a graceful stop bounded by
/// [`SHUTDOWN_GRACE`].
pub async fn run(config: Config) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(run_until(config, shutdown.clone()));
    tokio::pin!(worker);
    tokio::select! {
        result = &mut worker => return result.context("the worker task failed")?,
        _ = shutdown_signal() => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight items");
    shutdown.cancel();
    match tokio::time::timeout(SHUTDOWN_GRACE, worker).await {
        Ok(result) => result.context("the worker task failed")?,
        Err(_) => {
            tracing::warn!("grace period over; unfinished items go back to the queue");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
