//! The application context every handler shares, and how it is built from the config.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use progimage_core::db::Repository;
use progimage_core::engine::Engine;
use progimage_core::jobs::JobService;
use progimage_core::limits::Limits;
use progimage_core::net::{FetchOptions, HttpClient, UrlPolicy};
use progimage_core::processor::Processor;
use progimage_core::queue::{self, Message, Queue};
use progimage_core::service::{ImageService, ServiceOptions};
use progimage_core::storage::Storage;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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
    /// Connects every dependency and starts the in-process workers. The returned handle
    /// ends once `shutdown` is cancelled and in-flight background work has finished.
    pub async fn build(
        config: Config,
        shutdown: CancellationToken,
    ) -> anyhow::Result<(AppContext, tokio::task::JoinHandle<()>)> {
        let api_keys = ApiKeys::parse(&config.api_keys).map_err(anyhow::Error::msg)?;
        if !api_keys.enabled() {
            tracing::warn!(
                "OPEN MODE: no PROGIMAGE_API_KEYS configured; every request is served without \
                 authentication as tenant \"default\""
            );
        }
        let policy: UrlPolicy = config
            .allow_urls
            .parse()
            .map_err(|error| anyhow::anyhow!("Failed to parse PROGIMAGE_ALLOW_URLS: {error}"))?;
        let limits = Limits {
            max_bytes: config.max_upload_bytes,
            max_pixels: config.max_pixels,
            max_side: config.max_output_side,
        };
        let http = HttpClient::new(
            policy,
            FetchOptions {
                max_bytes: config.max_upload_bytes,
                timeout: Duration::from_secs(config.fetch_timeout_s),
            },
        )
        .context("Failed to build the HTTP client")?;

        let repository = Repository::connect(&config.database_url())
            .await
            .context("Failed to connect to the database")?;
        let storage =
            Storage::from_url(&config.storage_url()).context("Failed to open the storage")?;
        let workers = config.workers();
        let engine = Engine::new(
            workers,
            config.queue_depth.unwrap_or(workers * 16),
            Duration::from_secs(config.process_timeout_s),
        );
        let service = ImageService::new(
            repository.clone(),
            storage.clone(),
            engine,
            ServiceOptions { limits, max_variants_per_image: config.max_variants_per_image },
        );
        let webhook_master_secret = match &config.webhook_secret {
            Some(secret) if !secret.is_empty() => secret.clone(),
            _ => {
                let generated = hex::encode(Uuid::new_v4().as_bytes())
                    + &hex::encode(Uuid::new_v4().as_bytes());
                repository
                    .init_setting("webhook_master_secret", &generated)
                    .await
                    .context("Failed to keep the webhook secret")?
            }
        };

        let (queue, consumers) = queue::embedded::new(repository.clone());
        let queue: Arc<dyn Queue> = Arc::new(queue);
        let jobs = JobService::new(
            service.clone(),
            http.clone(),
            queue.clone(),
            webhook_master_secret.into(),
            api_keys.enabled(),
        );
        let processor = Processor { images: service.clone(), jobs: jobs.clone() };
        let redeliver = repository
            .unfinished_items()
            .await
            .context("Failed to read unfinished job items")?
            .into_iter()
            .map(|(job_id, index, family)| Message::JobItem { job_id, index, family })
            .collect();
        let mut background = JoinSet::new();
        let consumers = consumers
            .start(Arc::new(processor), workers, redeliver, shutdown.clone())
            .await
            .context("Failed to start the in-process workers")?;
        background.spawn(async move {
            let _ = consumers.await;
        });
        {
            let jobs = jobs.clone();
            let shutdown = shutdown.clone();
            background.spawn(async move { jobs.run_webhooks(shutdown).await });
        }
        let background =
            tokio::spawn(async move { while background.join_next().await.is_some() {} });
        tracing::info!(
            storage = ?storage, workers, limits.max_bytes = limits.max_bytes,
            limits.max_pixels = limits.max_pixels, "ready to serve"
        );
        let context = AppContext {
            service,
            jobs,
            http,
            api_keys: Arc::new(api_keys),
            queue,
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
