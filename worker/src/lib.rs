//! ProgImage's worker process for the distributed set-up: consumes job items and eager
//! variants from RabbitMQ (only the families it is given, so a deployment can run a pool
//! per transformation family), delivers webhooks, and re-publishes job items whose message
//! was lost. Any number of workers may run; the database holds the state.

use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use progimage_core::app::{SWEEP_EVERY, Services, Settings};
use progimage_core::config::{Secret, SharedConfig};
use progimage_core::queue::Family;
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
    pub database_url: Secret,

    /// `s3://bucket/prefix` (with the `AWS_*` variables) or a directory shared with the API.
    #[arg(long, env = "PROGIMAGE_STORAGE")]
    pub storage: String,

    /// RabbitMQ, `amqp://…`.
    #[arg(long, env = "AMQP_URL", hide_env_values = true)]
    pub amqp_url: Secret,

    /// The transformation families this worker consumes: `raster`, `vector` or both.
    #[arg(
        long,
        env = "PROGIMAGE_FAMILIES",
        default_value = "raster,vector",
        value_delimiter = ','
    )]
    pub families: Vec<String>,

    /// Seconds between sweeps for job items whose queue message was lost; an item counts
    /// as lost once it has waited in `queued` twice that long.
    #[arg(long, env = "PROGIMAGE_SWEEP_EVERY_S", default_value_t = SWEEP_EVERY.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sweep_every_s: u64,

    /// What the API processes share: limits, timeouts, keys, secrets, logging.
    #[command(flatten)]
    pub shared: SharedConfig,
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
        // Items arrive at most `workers` at a time (the prefetch): nothing waits.
        let queue_depth = self.shared.workers();
        self.shared.settings(
            self.database_url.clone(),
            self.storage.clone(),
            Some(&self.amqp_url),
            queue_depth,
        )
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
    let consumer = services.broker_consumer(&families)?;
    services.background().run(consumer, sweep_every, shutdown).await?;
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
