//! The application context every handler shares, and how it is built from the config.

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use progimage_core::app::{SWEEP_EVERY, Services};
use progimage_core::jobs::JobService;
use progimage_core::net::HttpClient;
use progimage_core::queue::Queue;
use progimage_core::service::ImageService;
use tokio_util::sync::CancellationToken;

use crate::auth::ApiKeys;
use crate::config::Config;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppContext {
    pub service: ImageService,
    pub jobs: JobService,
    pub http: HttpClient,
    pub api_keys: Arc<ApiKeys>,
    pub queue: Arc<dyn Queue>,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
}

/// The process-wide Prometheus recorder (installed once, shared by every server in the
/// process, which tests start several of).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder already installed (embedding process): keep ours private.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

impl AppContext {
    /// Connects every dependency and, in the embedded set-up, starts the in-process
    /// workers. The returned handle ends once `shutdown` is cancelled and in-flight
    /// background work has finished.
    pub async fn build(
        config: Config,
        shutdown: CancellationToken,
    ) -> anyhow::Result<(AppContext, tokio::task::JoinHandle<()>)> {
        let api_keys =
            ApiKeys::parse(config.shared.api_keys.expose()).map_err(anyhow::Error::msg)?;
        if !api_keys.enabled() {
            tracing::warn!(
                "OPEN MODE: no PROGIMAGE_API_KEYS configured; every request is served without \
                 authentication as tenant \"default\""
            );
        }
        // The embedded default keeps its SQLite file and queue under the data directory,
        // which on a fresh machine does not exist yet.
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("Failed to create the data directory {}", config.data_dir.display())
        })?;
        let mut services = Services::connect(config.settings()).await?;
        // With the embedded queue this process is the worker too; with RabbitMQ,
        // `progimage-worker` processes are.
        let background = match services.in_process_consumer() {
            Some(consumer) => {
                let background = services.background();
                tokio::spawn(async move {
                    if let Err(error) = background.run(consumer, SWEEP_EVERY, shutdown).await {
                        tracing::error!(error = %format!("{error:#}"), "the in-process workers stopped");
                    }
                })
            }
            None => tokio::spawn(async {}),
        };
        tracing::info!(
            storage = ?services.storage,
            queue = if config.amqp_url.is_some() { "rabbitmq" } else { "embedded" },
            workers = config.shared.workers(),
            "ready to serve"
        );
        let context = AppContext {
            service: services.images,
            jobs: services.jobs,
            http: services.http,
            api_keys: Arc::new(api_keys),
            queue: services.queue,
            config: Arc::new(config),
            metrics: metrics_handle(),
        };
        Ok((context, background))
    }

    /// `Cache-Control` of image responses: shared caches may keep them only in open mode.
    pub fn image_cache_control(&self) -> &'static str {
        if self.api_keys.enabled() {
            "private, max-age=31536000, immutable"
        } else {
            "public, max-age=31536000, immutable"
        }
    }
}
