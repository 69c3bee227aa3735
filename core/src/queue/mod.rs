//! The queue seam: messages that carry ids only (the database holds the state), routed
//! by transformation family so a deployment can run a worker pool per family.
//!
//! Two implementations of both sides, the producer ([`Queue`]) and the consumer
//! ([`Consumer`]): `embedded` (durable in the database, delivered in-process) and
//! [`amqp`] (RabbitMQ with publisher confirms, manual acks and a dead-letter queue for
//! unreadable messages). Both deliver by the same [`RetryPolicy`].

pub mod amqp;
pub(crate) mod embedded;
pub(crate) mod retry;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use crate::domain::family::Family;
pub use retry::{Attempt, RetryPolicy};

use crate::format::ImageFormat;

/// A unit of background work. Messages carry ids only; handlers read the state from the
/// database and must be idempotent (a message may be delivered more than once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// Make the plain `{id}.{format}` variant of an image (`?eager=`).
    Variant { tenant: String, image_id: Uuid, format: ImageFormat, family: Family },
    /// Process one item of a bulk job.
    JobItem { job_id: Uuid, index: u32, family: Family },
}

impl Message {
    /// The family queue this message goes to.
    pub(crate) fn family(&self) -> Family {
        match self {
            Message::Variant { family, .. } | Message::JobItem { family, .. } => *family,
        }
    }
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// The producer side of a queue.
#[async_trait::async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Hands a message to the queue; when this returns `Ok` the message is durable.
    async fn publish(&self, message: &Message) -> Result<(), QueueError>;

    /// Proves the queue answers (readiness).
    async fn check(&self) -> Result<(), QueueError>;
}

/// How a handler's failure should be treated.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Transient (storage, database, broker, overload): deliver again later, with backoff.
    /// On the last attempt it means the handler could not record an outcome: the message
    /// waits the policy's longest delay and comes back.
    #[error("retryable: {0:#}")]
    Retry(anyhow::Error),
    /// Will fail the same way again (a malformed message): dead-letter it.
    #[error("fatal: {0:#}")]
    Fatal(anyhow::Error),
}

/// Processes one message. It must commit its effects before returning `Ok` (the message
/// is acknowledged right after) and be idempotent.
#[async_trait::async_trait]
pub trait MessageHandler: Send + Sync + 'static {
    /// Processes one delivery of `message`; on `attempt.last` it records a final outcome
    /// rather than asking for a retry whenever it can.
    async fn handle(&self, message: &Message, attempt: Attempt) -> Result<(), HandleError>;
}

/// Where a consumer hands its deliveries, how many at once, and until when.
#[derive(Clone)]
pub struct Dispatch {
    pub handler: Arc<dyn MessageHandler>,
    /// Handlers running at once (at least one).
    pub concurrency: usize,
    pub shutdown: CancellationToken,
}

/// The consumer side of a queue: delivers its messages to a handler until shutdown.
#[async_trait::async_trait]
pub trait Consumer: Send + 'static {
    /// Runs up to `dispatch.concurrency` handlers at once until its shutdown, then lets
    /// the in-flight ones finish (unfinished messages are delivered again later).
    async fn run(self: Box<Self>, dispatch: Dispatch) -> anyhow::Result<()>;
}
