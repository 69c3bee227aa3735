//! Wiring shared by both binaries: from settings to connected services, and the
//! background loops a worker runs (queue consumers, webhook delivery, the sweeper).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::Secret;
use crate::db::Repository;
use crate::engine::Engine;
use crate::jobs::JobService;
use crate::limits::Limits;
use crate::net::{FetchOptions, HttpClient, UrlPolicy};
use crate::processor::Processor;
use crate::queue::amqp::{self, AmqpConfig, AmqpQueue};
use crate::queue::embedded::{self, Consumers};
use crate::queue::{Family, Message, Queue};
use crate::service::{ImageService, ServiceOptions};
use crate::storage::Storage;

/// How often, by default, the distributed set-up looks for job items whose message was
/// lost (an item counts as lost once it has waited twice that long).
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Everything needed to connect the services.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Secret,
    pub storage_url: String,
    /// RabbitMQ; `None` runs the embedded queue in this process.
    pub amqp: Option<AmqpConfig>,
    pub allow_urls: String,
    pub limits: Limits,
    pub fetch_timeout: Duration,
    pub workers: usize,
    pub queue_depth: usize,
    pub process_timeout: Duration,
    pub max_variants_per_image: u64,
    /// The webhook master secret; generated once and kept in the database when unset.
    pub webhook_secret: Option<Secret>,
    /// Whether each tenant signs with its own derived secret (API keys configured).
    pub per_tenant_secrets: bool,
}

/// The connected services.
pub struct Services {
    pub repository: Repository,
    pub storage: Storage,
    pub images: ImageService,
    pub http: HttpClient,
    pub jobs: JobService,
    pub queue: Arc<dyn Queue>,
    /// The embedded queue's consumers, until started.
    embedded: Option<Consumers>,
    settings: Settings,
}

impl Services {
    /// Connects the database (migrating it), the storage and the queue.
    pub async fn connect(settings: Settings) -> anyhow::Result<Services> {
        let policy: UrlPolicy = settings
            .allow_urls
            .parse()
            .map_err(|error| anyhow::anyhow!("Failed to parse PROGIMAGE_ALLOW_URLS: {error}"))?;
        let http = HttpClient::new(
            policy,
            FetchOptions { max_bytes: settings.limits.max_bytes, timeout: settings.fetch_timeout },
        )
        .context("Failed to build the HTTP client")?;
        let repository = Repository::connect(settings.database_url.expose())
            .await
            .context("Failed to connect to the database")?;
        let storage =
            Storage::from_url(&settings.storage_url).context("Failed to open the storage")?;
        let engine = Engine::new(settings.workers, settings.queue_depth, settings.process_timeout);
        let images = ImageService::new(
            repository.clone(),
            storage.clone(),
            engine,
            ServiceOptions {
                limits: settings.limits,
                max_variants_per_image: settings.max_variants_per_image,
            },
        );
        let webhook_master_secret = match &settings.webhook_secret {
            Some(secret) if !secret.expose().is_empty() => secret.expose().to_string(),
            _ => {
                let generated = hex::encode(Uuid::new_v4().as_bytes())
                    + &hex::encode(Uuid::new_v4().as_bytes());
                repository
                    .init_setting("webhook_master_secret", &generated)
                    .await
                    .context("Failed to keep the webhook secret")?
            }
        };
        let (queue, embedded): (Arc<dyn Queue>, Option<Consumers>) = match &settings.amqp {
            Some(config) => (
                Arc::new(
                    AmqpQueue::connect(config).await.context("Failed to connect to RabbitMQ")?,
                ),
                None,
            ),
            None => {
                let (queue, consumers) = embedded::new(repository.clone());
                (Arc::new(queue), Some(consumers))
            }
        };
        let jobs = JobService::new(
            images.clone(),
            http.clone(),
            queue.clone(),
            webhook_master_secret.into(),
            settings.per_tenant_secrets,
        );
        Ok(Services { repository, storage, images, http, jobs, queue, embedded, settings })
    }

    /// The handler of queue messages.
    pub fn processor(&self) -> Processor {
        Processor { images: self.images.clone(), jobs: self.jobs.clone() }
    }

    /// Starts the embedded set-up's in-process workers (re-delivering unfinished work)
    /// and webhook delivery; `None` when the queue is RabbitMQ (workers run elsewhere).
    pub async fn start_embedded_workers(
        &mut self,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
        let Some(consumers) = self.embedded.take() else { return Ok(None) };
        let redeliver = self
            .repository
            .unfinished_items()
            .await
            .context("Failed to read unfinished job items")?
            .into_iter()
            .map(|(job_id, index, family)| Message::JobItem { job_id, index, family })
            .collect();
        let consumers = consumers
            .start(Arc::new(self.processor()), self.settings.workers, redeliver, shutdown.clone())
            .await
            .context("Failed to start the in-process workers")?;
        let jobs = self.jobs.clone();
        let mut background = JoinSet::new();
        background.spawn(async move {
            let _ = consumers.await;
        });
        background.spawn(async move { jobs.run_webhooks(shutdown).await });
        Ok(Some(tokio::spawn(async move { while background.join_next().await.is_some() {} })))
    }

    /// Runs a distributed worker until `shutdown`: consumes `families` from RabbitMQ with
    /// `workers` handlers at once, delivers webhooks and, every `sweep_every`, re-publishes
    /// items that have waited in `queued` for twice that long (a message lost between the
    /// commit and the broker's confirm, or submitted while the broker was down).
    pub async fn run_worker(
        &self,
        families: &[Family],
        sweep_every: Duration,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let config = self.settings.amqp.clone().context("a worker needs AMQP_URL (RabbitMQ)")?;
        let jobs = self.jobs.clone();
        let webhooks = {
            let jobs = jobs.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move { jobs.run_webhooks(shutdown).await })
        };
        let sweeper = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(sweep_every) => {}
                    }
                    if let Err(error) = jobs.sweep(sweep_every * 2).await {
                        tracing::warn!(%error, "sweep failed");
                    }
                }
            })
        };
        let consumed = amqp::consume(
            &config,
            families,
            self.settings.workers,
            Arc::new(self.processor()),
            shutdown.clone(),
        )
        .await;
        shutdown.cancel();
        let _ = tokio::join!(webhooks, sweeper);
        consumed
    }
}
