//! RabbitMQ: publisher confirms, manual acks after the database commit, a dead-letter
//! queue, and reconnection after a broker restart.
//!
//! Producers (`AmqpQueue`) and consumers (`consume`) declare the same topology on
//! every connection (see `topology`). A message is published persistent on a channel in
//! confirm mode, and [`Queue::publish`] returns only once the broker has confirmed it. A
//! consumer acknowledges a delivery only after its handler returned `Ok`; a retryable
//! failure goes through a delay queue and back (by the [`RetryPolicy`]), a fatal one (an
//! unreadable message, a panicking handler) to `{prefix}.dead`.

mod consumer;
mod topology;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::uri::AMQPUri;
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::queue::{Family, Message, Queue, QueueError, RetryPolicy};
pub(crate) use consumer::AmqpConsumer;
#[cfg(test)]
use consumer::{SHUTDOWN_DEADLINE, consume};
use topology::Topology;

/// The exchange and queue prefix when none is configured.
pub const DEFAULT_PREFIX: &str = "progimage";

/// The header that counts deliveries of a message (1 for the first).
pub(crate) const ATTEMPT_HEADER: &str = "x-progimage-attempt";

/// How long connecting, and waiting for a publish confirm, may take.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the broker is and which names to use there.
#[derive(Clone)]
pub struct AmqpConfig {
    /// `amqp://user:password@host:port/vhost` (the default vhost is `%2f`).
    pub url: String,
    /// Names the exchange and prefixes the queues, so deployments (and tests) sharing a
    /// broker stay apart.
    pub prefix: String,
    /// How failed deliveries come back (one delay queue per distinct delay).
    pub retry: RetryPolicy,
}

impl AmqpConfig {
    /// A configuration with the default prefix and retry policy.
    #[cfg(test)]
    pub(crate) fn new(url: impl Into<String>) -> AmqpConfig {
        AmqpConfig {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            retry: RetryPolicy::default(),
        }
    }

    /// The consumer of `families` on this broker.
    pub(crate) fn consumer(&self, families: &[Family]) -> AmqpConsumer {
        AmqpConsumer { config: self.clone(), families: families.to_vec() }
    }

    fn uri(&self) -> Result<AMQPUri, QueueError> {
        // The parser's message may quote the URL, password included: keep it out.
        self.url.parse().map_err(|_| QueueError::Unavailable("invalid AMQP URL".to_owned()))
    }
}

impl fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match url::Url::parse(&self.url) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("redacted"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            Err(_) => "<invalid>".to_owned(),
        };
        f.debug_struct("AmqpConfig")
            .field("url", &url)
            .field("prefix", &self.prefix)
            .field("retry", &self.retry)
            .finish()
    }
}

/// Opens a connection, bounded by [`BROKER_TIMEOUT`] so an unreachable broker fails
/// instead of hanging.
async fn connect(uri: &AMQPUri, name: String) -> lapin::Result<Connection> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    match tokio::time::timeout(BROKER_TIMEOUT, Connection::connect_uri(uri.clone(), properties))
        .await
    {
        Ok(connection) => connection,
        Err(_) => Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into()),
    }
}

/// Properties of a queued message: persistent JSON, with an id and its delivery count.
fn message_properties(message_id: &str, attempt: u32) -> BasicProperties {
    let mut headers = FieldTable::default();
    headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongLongInt(attempt.into()));
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_message_id(message_id.into())
        .with_timestamp(timestamp)
        .with_headers(headers)
}

/// The delivery count a message carries (1 when the header is missing or unreadable).
fn attempt_of(properties: &BasicProperties) -> u32 {
    let value =
        properties.headers().as_ref().and_then(|headers| headers.inner().get(ATTEMPT_HEADER));
    let count = match value {
        Some(AMQPValue::LongLongInt(count)) => u32::try_from(*count).ok(),
        Some(AMQPValue::LongInt(count)) => u32::try_from(*count).ok(),
        Some(AMQPValue::LongUInt(count)) => Some(*count),
        _ => None,
    };
    count.unwrap_or(1).max(1)
}

/// Why a confirmed publish failed.
#[derive(Debug, thiserror::Error)]
enum PublishError {
    /// The channel or connection failed: worth one more try on a fresh connection.
    #[error("broker connection: {0}")]
    Connection(#[from] lapin::Error),
    #[error("no confirm from the broker within {BROKER_TIMEOUT:?}")]
    Timeout,
    #[error("the broker refused the message")]
    Nacked,
    #[error("no queue is bound for routing key {0:?}")]
    Unroutable(String),
}

/// Publishes on a channel in confirm mode and waits for the broker's confirm: when this
/// returns `Ok` the message is stored in a durable queue.
async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    payload: &[u8],
    properties: BasicProperties,
) -> Result<(), PublishError> {
    // Mandatory: an unroutable message comes back instead of vanishing silently.
    let options = BasicPublishOptions { mandatory: true, ..Default::default() };
    let publish = async {
        channel
            .basic_publish(exchange.into(), routing_key.into(), options, payload, properties)
            .await?
            .await
    };
    match tokio::time::timeout(BROKER_TIMEOUT, publish).await {
        Err(_) => Err(PublishError::Timeout),
        Ok(Err(error)) => Err(PublishError::Connection(error)),
        Ok(Ok(Confirmation::Ack(None))) => Ok(()),
        Ok(Ok(Confirmation::Ack(Some(_)))) => Err(PublishError::Unroutable(routing_key.to_owned())),
        Ok(Ok(Confirmation::Nack(_) | Confirmation::NotRequested)) => Err(PublishError::Nacked),
    }
}

/// The producer side: cheap to clone; one connection with one confirm-mode channel,
/// reopened on the next call after it dropped.
#[derive(Clone)]
pub(crate) struct AmqpQueue {
    inner: Arc<Producer>,
}

struct Producer {
    uri: AMQPUri,
    topology: Topology,
    session: Mutex<Option<Arc<Session>>>,
}

/// A live connection and its confirm-mode channel.
struct Session {
    connection: Connection,
    channel: Channel,
}

impl Session {
    async fn open(producer: &Producer) -> lapin::Result<Session> {
        let name = format!("{} producer", producer.topology.exchange());
        let connection = connect(&producer.uri, name).await?;
        let channel = connection.create_channel().await?;
        producer.topology.declare(&channel).await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(Session { connection, channel })
    }

    fn is_open(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }
}

impl fmt::Debug for AmqpQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpQueue")
            .field("prefix", &self.inner.topology.exchange())
            .finish_non_exhaustive()
    }
}

impl AmqpQueue {
    /// Connects and declares the topology; fails if the broker cannot be reached.
    pub(crate) async fn connect(config: &AmqpConfig) -> Result<AmqpQueue, QueueError> {
        let producer = Producer {
            uri: config.uri()?,
            topology: Topology::new(&config.prefix, &config.retry),
            session: Mutex::new(None),
        };
        let queue = AmqpQueue { inner: Arc::new(producer) };
        queue.session().await?;
        Ok(queue)
    }

    /// The open session, reconnecting first if the last one dropped. Callers queue on the
    /// lock while one of them reconnects, so a broker restart costs one connection.
    async fn session(&self) -> Result<Arc<Session>, QueueError> {
        let mut slot = self.inner.session.lock().await;
        if let Some(session) = slot.as_ref().filter(|session| session.is_open()) {
            return Ok(session.clone());
        }
        if slot.is_some() {
            tracing::info!("broker connection lost; reconnecting");
        }
        let session = Session::open(&self.inner).await.map_err(|error| {
            QueueError::Unavailable(format!("cannot connect to the broker: {error}"))
        })?;
        let session = Arc::new(session);
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Forgets `session` (unless another caller already replaced it) so the next call
    /// reconnects.
    async fn discard(&self, session: &Arc<Session>) {
        let mut slot = self.inner.session.lock().await;
        if slot.as_ref().is_some_and(|current| Arc::ptr_eq(current, session)) {
            *slot = None;
        }
    }
}

#[async_trait::async_trait]
impl Queue for AmqpQueue {
    /// Publishes persistently and waits for the broker's confirm. A connection that turns
    /// out dead is replaced and the publish tried once more: a duplicate is harmless
    /// (handlers are idempotent), a lost message is not.
    async fn publish(&self, message: &Message) -> Result<(), QueueError> {
        let payload = serde_json::to_vec(message)
            .map_err(|error| QueueError::Unavailable(format!("cannot encode message: {error}")))?;
        let message_id = Uuid::now_v7().to_string();
        let routing_key = message.family().name();
        let mut tries_left = 2;
        loop {
            tries_left -= 1;
            let session = self.session().await?;
            let properties = message_properties(&message_id, 1);
            let published = publish_confirmed(
                &session.channel,
                self.inner.topology.exchange(),
                routing_key,
                &payload,
                properties,
            )
            .await;
            match published {
                Ok(()) => return Ok(()),
                Err(PublishError::Connection(error)) if tries_left > 0 => {
                    tracing::warn!(%error, "publish failed on a dead connection; reconnecting");
                    self.discard(&session).await;
                }
                Err(error) => {
                    if matches!(error, PublishError::Connection(_) | PublishError::Timeout) {
                        self.discard(&session).await;
                    }
                    return Err(QueueError::Unavailable(error.to_string()));
                }
            }
        }
    }

    /// A passive declare of the exchange: a round trip, so it proves the broker answers
    /// and not merely that a socket is open.
    async fn check(&self) -> Result<(), QueueError> {
        let mut tries_left = 2;
        loop {
            tries_left -= 1;
            let session = self.session().await?;
            let options = ExchangeDeclareOptions { passive: true, ..Default::default() };
            let declare = session.channel.exchange_declare(
                self.inner.topology.exchange().into(),
                ExchangeKind::Direct,
                options,
                FieldTable::default(),
            );
            let error = match tokio::time::timeout(BROKER_TIMEOUT, declare).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(error)) => error.to_string(),
                Err(_) => format!("no answer from the broker within {BROKER_TIMEOUT:?}"),
            };
            self.discard(&session).await;
            if tries_left == 0 {
                return Err(QueueError::Unavailable(error));
            }
        }
    }
}
