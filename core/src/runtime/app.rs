//! Wiring shared by both binaries: from settings to connected services, and the
//! background loops a worker runs (a queue consumer, webhook delivery, the sweeper), the
//! same for either queue: the embedded one runs them inside the API process, RabbitMQ in
//! `progimage-worker` processes.

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
use crate::queue::amqp::{AmqpConfig, AmqpQueue};
use crate::queue::embedded;
use crate::queue::{Consumer, Dispatch, Family, Queue, RetryPolicy};
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
    /// How failed background work is delivered again, on either queue.
    pub retry: RetryPolicy,
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
    /// Where this process's consumer comes from.
    consumers: ConsumerSource,
    settings: Settings,
}

/// The consumer side of the configured queue.
enum ConsumerSource {
    /// The embedded queue's in-process consumers, until taken.
    InProcess(Option<embedded::Consumers>),
    /// RabbitMQ: any number of consumers, each of some families.
    Broker(AmqpConfig),
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
        let (queue, consumers): (Arc<dyn Queue>, ConsumerSource) = match &settings.amqp {
            Some(config) => (
                Arc::new(
                    AmqpQueue::connect(config).await.context("Failed to connect to RabbitMQ")?,
                ),
                ConsumerSource::Broker(config.clone()),
            ),
            None => {
                let (queue, consumers) = embedded::new(repository.clone(), settings.retry.clone());
                (Arc::new(queue), ConsumerSource::InProcess(Some(consumers)))
            }
        };
        let jobs = JobService {
            images: images.clone(),
            http: http.clone(),
            queue: queue.clone(),
            webhook_master_secret: webhook_master_secret.into(),
            per_tenant_secrets: settings.per_tenant_secrets,
            retry: settings.retry.clone(),
        };
        Ok(Services { repository, storage, images, http, jobs, queue, consumers, settings })
    }

    /// The handler of queue messages.
    pub(crate) fn processor(&self) -> Processor {
        Processor { images: self.images.clone(), jobs: self.jobs.clone() }
    }

    /// The consumer this process runs beside the API: the embedded queue's (once), or
    /// `None` with RabbitMQ, where `progimage-worker` processes consume.
    pub fn in_process_consumer(&mut self) -> Option<Box<dyn Consumer>> {
        match &mut self.consumers {
            ConsumerSource::InProcess(consumers) => {
                consumers.take().map(|consumers| Box::new(consumers) as Box<dyn Consumer>)
            }
            ConsumerSource::Broker(_) => None,
        }
    }

    /// A consumer of `families` on the shared broker; an error with the embedded queue,
    /// whose messages only the API process that holds them can consume.
    pub fn broker_consumer(&self, families: &[Family]) -> anyhow::Result<Box<dyn Consumer>> {
        match &self.consumers {
            ConsumerSource::Broker(config) => Ok(Box::new(config.consumer(families))),
            ConsumerSource::InProcess(_) => {
                anyhow::bail!(
                    "a worker needs AMQP_URL (RabbitMQ): the embedded queue is in-process"
                )
            }
        }
    }

    /// What the background loops need, to run in a task of their own.
    pub fn background(&self) -> Background {
        Background {
            jobs: self.jobs.clone(),
            processor: self.processor(),
            workers: self.settings.workers,
        }
    }
}

/// The background work of a process: cheap to clone.
#[derive(Clone)]
pub struct Background {
    jobs: JobService,
    processor: Processor,
    workers: usize,
}

impl Background {
    /// Runs the background work until `shutdown`: `consumer` with one handler per worker
    /// thread, webhook delivery, and every `sweep_every` the sweeper, which publishes job
    /// items that have waited unpublished in `queued` for twice that long (a message lost
    /// between the commit and the broker's confirm, or submitted while the broker was
    /// down). Ends once in-flight work has finished.
    pub async fn run(
        self,
        consumer: Box<dyn Consumer>,
        sweep_every: Duration,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let mut background = JoinSet::new();
        let jobs = self.jobs.clone();
        let stop = shutdown.clone();
        background.spawn(async move { jobs.run_webhooks(stop).await });
        let jobs = self.jobs.clone();
        let stop = shutdown.clone();
        background.spawn(async move { jobs.run_sweeper(sweep_every, stop).await });
        let dispatch = Dispatch {
            handler: Arc::new(self.processor),
            concurrency: self.workers,
            shutdown: shutdown.clone(),
        };
        let consumed = consumer.run(dispatch).await;
        // A consumer that ends on its own (it cannot start) stops the rest too.
        shutdown.cancel();
        while background.join_next().await.is_some() {}
        consumed
    }
}
