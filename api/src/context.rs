//! The application context every handler shares, and how it is built from the config.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use progimage_core::db::{Repository, TaskRecord};
use progimage_core::engine::Engine;
use progimage_core::format::ImageFormat;
use progimage_core::limits::Limits;
use progimage_core::net::{HttpClient, UrlPolicy};
use progimage_core::queue::{self, TaskHandler, TaskQueue};
use progimage_core::service::{ImageService, ServiceError, ServiceOptions, plain_transform};
use progimage_core::storage::Storage;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::ApiKeys;
use crate::config::Config;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppContext {
    pub service: ImageService,
    pub http: HttpClient,
    pub api_keys: Arc<ApiKeys>,
    pub queue: TaskQueue,
    pub config: Arc<Config>,
    pub metrics: PrometheusHandle,
    /// The webhook master secret (configured, or generated once and kept in the database).
    pub webhook_master_secret: Arc<str>,
}

/// The queue task that makes an eager variant.
#[derive(Debug, Serialize, Deserialize)]
pub struct EagerVariant {
    pub tenant: String,
    pub image_id: Uuid,
    pub format: ImageFormat,
}

/// The task kind of [`EagerVariant`].
pub const EAGER_VARIANT: &str = "variant";

struct EagerVariants(ImageService);

#[async_trait::async_trait]
impl TaskHandler for EagerVariants {
    async fn handle(&self, task: &TaskRecord) -> anyhow::Result<()> {
        let eager: EagerVariant =
            serde_json::from_str(&task.payload).context("Failed to read an eager variant task")?;
        let image = match self.0.image(&eager.tenant, eager.image_id).await {
            Ok(image) => image,
            // Deleted since: nothing left to do.
            Err(ServiceError::NotFound { .. }) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let variant = self.0.variant(&image, &plain_transform(eager.format), eager.format).await?;
        tracing::info!(
            image.id = %image.id, output.format = %eager.format, cache = variant.cache.as_str(),
            "eager variant ready"
        );
        Ok(())
    }
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
        let policy = UrlPolicy::parse(&config.allow_urls)
            .map_err(|error| anyhow::anyhow!("Failed to parse PROGIMAGE_ALLOW_URLS: {error}"))?;
        let limits = Limits {
            max_bytes: config.max_upload_bytes,
            max_pixels: config.max_pixels,
            max_side: config.max_output_side,
        };
        let http = HttpClient::new(
            policy,
            config.max_upload_bytes,
            Duration::from_secs(config.fetch_timeout_s),
        )
        .map_err(|error| anyhow::anyhow!("Failed to build the HTTP client: {error}"))?;

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
        let (queue, background) =
            queue::start(repository, Arc::new(EagerVariants(service.clone())), workers, shutdown)
                .await
                .context("Failed to start the task queue")?;
        tracing::info!(
            storage = ?storage, workers, limits.max_bytes = limits.max_bytes,
            limits.max_pixels = limits.max_pixels, "ready to serve"
        );
        let context = AppContext {
            service,
            http,
            api_keys: Arc::new(api_keys),
            queue,
            config: Arc::new(config),
            metrics: metrics_handle(),
            webhook_master_secret: webhook_master_secret.into(),
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
