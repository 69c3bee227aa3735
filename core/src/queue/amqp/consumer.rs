//! The consumer side: bounded concurrency, acks after the handler committed, retries
//! through delay queues, dead-lettering, reconnection and a graceful stop.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::stream::SelectAll;
use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
    ConfirmSelectOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::uri::AMQPUri;
use lapin::{Channel, Connection, Consumer};
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::topology::Topology;
use super::{AmqpConfig, attempt_of, connect, message_properties, publish_confirmed};
use crate::queue::{self, Family, HandleError, Message, MessageHandler, RetryPolicy};

/// How long a stopping consumer waits for in-flight handlers; the unfinished ones are
/// abandoned unacknowledged, so the broker hands their messages to another consumer.
pub(crate) const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(8);

/// The first pause before reconnecting after a failed attempt; it doubles up to
/// [`MAX_RECONNECT_DELAY`].
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(500);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);

/// The consumer of some family queues: [`AmqpConfig::consumer`].
#[derive(Debug)]
pub(crate) struct AmqpConsumer {
    pub(super) config: AmqpConfig,
    pub(super) families: Vec<Family>,
}

#[async_trait::async_trait]
impl queue::Consumer for AmqpConsumer {
    async fn run(self: Box<Self>, dispatch: queue::Dispatch) -> anyhow::Result<()> {
        let queue::Dispatch { handler, concurrency, shutdown } = dispatch;
        consume(&self.config, &self.families, concurrency, handler, shutdown).await
    }
}

/// Consumes the `families` queues with up to `concurrency` handlers at once until
/// `shutdown` is cancelled, reconnecting (with backoff) whenever the broker goes away.
///
/// Returns `Ok` after a graceful stop; errors only for an unusable configuration.
pub(crate) async fn consume(
    config: &AmqpConfig,
    families: &[Family],
    concurrency: usize,
    handler: Arc<dyn MessageHandler>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    anyhow::ensure!(!families.is_empty(), "no queue families to consume");
    let concurrency = concurrency.max(1);
    let prefetch =
        u16::try_from(concurrency).context("concurrency exceeds the AMQP prefetch limit")?;
    let uri = config.uri()?;
    let topology = Arc::new(Topology::new(&config.prefix, &config.retry));
    let names: Vec<&str> = families.iter().map(|family| family.name()).collect();

    // Handlers outlive a lost connection (their acks then fail and the broker
    // redelivers), so they are counted across sessions to keep the bound.
    let mut handlers = JoinSet::new();
    let mut delay = FIRST_RECONNECT_DELAY;
    while !shutdown.is_cancelled() {
        let opened = tokio::select! {
            _ = shutdown.cancelled() => break,
            opened = Session::open(&uri, &topology, &config.retry, families, prefetch) => opened,
        };
        let mut session = match opened {
            Ok(session) => session,
            Err(error) => {
                tracing::warn!(%error, retry_in_ms = delay.as_millis(), "cannot consume from the broker; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(MAX_RECONNECT_DELAY);
                continue;
            }
        };
        delay = FIRST_RECONNECT_DELAY;
        tracing::info!(families = ?names, concurrency, "consuming");
        match session.run(handler.clone(), &mut handlers, concurrency, &shutdown).await {
            Ended::Shutdown => {
                session.stop(&mut handlers).await;
                return Ok(());
            }
            Ended::Lost(error) => {
                tracing::warn!(error = %format!("{error:#}"), "lost the broker connection; reconnecting");
            }
        }
    }
    // Stopped while disconnected: finishing handlers is all that is left (their acks
    // fail and the broker redelivers their messages).
    drain(&mut handlers).await;
    Ok(())
}

/// Why a session stopped reading deliveries.
enum Ended {
    Shutdown,
    Lost(anyhow::Error),
}

/// One connection's worth of consuming.
struct Session {
    connection: Connection,
    channel: Channel,
    consumer_tags: Vec<ShortString>,
    deliveries: SelectAll<Consumer>,
    settler: Arc<Settler>,
}

/// What a handler task needs to settle a delivery.
struct Settler {
    topology: Arc<Topology>,
    policy: RetryPolicy,
    /// A confirm-mode channel for retries, on the same connection as the deliveries.
    publisher: Channel,
}

impl Session {
    async fn open(
        uri: &AMQPUri,
        topology: &Arc<Topology>,
        policy: &RetryPolicy,
        families: &[Family],
        prefetch: u16,
    ) -> lapin::Result<Session> {
        let connection = connect(uri, format!("{} consumer", topology.exchange())).await?;
        let channel = connection.create_channel().await?;
        topology.declare(&channel).await?;
        let publisher = connection.create_channel().await?;
        publisher.confirm_select(ConfirmSelectOptions::default()).await?;
        // Per consumer: the broker never has more than `prefetch` unacked deliveries
        // out per family queue; the handler bound caps how many run.
        channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
        let mut consumer_tags = Vec::new();
        let mut deliveries = SelectAll::new();
        for &family in families {
            let consumer = channel
                .basic_consume(
                    topology.family_queue(family).into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            consumer_tags.push(consumer.tag());
            deliveries.push(consumer);
        }
        let settler =
            Arc::new(Settler { topology: topology.clone(), policy: policy.clone(), publisher });
        Ok(Session { connection, channel, consumer_tags, deliveries, settler })
    }

    /// Hands deliveries to handlers, never more than `concurrency` running at once,
    /// until shutdown or until the consumer stream fails or ends.
    async fn run(
        &mut self,
        handler: Arc<dyn MessageHandler>,
        handlers: &mut JoinSet<()>,
        concurrency: usize,
        shutdown: &CancellationToken,
    ) -> Ended {
        loop {
            if handlers.len() >= concurrency {
                tokio::select! {
                    _ = shutdown.cancelled() => return Ended::Shutdown,
                    Some(joined) = handlers.join_next() => report(joined),
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ended::Shutdown,
                Some(joined) = handlers.join_next() => report(joined),
                next = self.deliveries.next() => match next {
                    Some(Ok(delivery)) => {
                        let settler = self.settler.clone();
                        let handler = handler.clone();
                        handlers.spawn(async move { settler.settle(handler.as_ref(), delivery).await });
                    }
                    Some(Err(error)) => return Ended::Lost(error.into()),
                    None => return Ended::Lost(anyhow::anyhow!("the broker cancelled the consumers")),
                },
            }
        }
    }

    /// Stops taking deliveries, lets in-flight handlers finish (up to the deadline) so
    /// their acks go out on this connection, then closes it; whatever is still unacked
    /// goes back to its queue.
    async fn stop(self, handlers: &mut JoinSet<()>) {
        for tag in &self.consumer_tags {
            if let Err(error) =
                self.channel.basic_cancel(tag.clone(), BasicCancelOptions::default()).await
            {
                tracing::warn!(%error, consumer = %tag, "cannot cancel consumer");
            }
        }
        drop(self.deliveries);
        drain(handlers).await;
        if let Err(error) = self.connection.close(200, "shutdown".into()).await {
            tracing::warn!(%error, "cannot close the broker connection cleanly");
        }
        tracing::info!("consumer stopped");
    }
}

/// Waits for the running handlers up to [`SHUTDOWN_DEADLINE`], then aborts the rest.
async fn drain(handlers: &mut JoinSet<()>) {
    if handlers.is_empty() {
        return;
    }
    tracing::info!(in_flight = handlers.len(), "waiting for in-flight messages");
    let finished = tokio::time::timeout(SHUTDOWN_DEADLINE, async {
        while let Some(joined) = handlers.join_next().await {
            report(joined);
        }
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            unfinished = handlers.len(),
            deadline_ms = SHUTDOWN_DEADLINE.as_millis(),
            "shutdown deadline passed; unfinished messages go back to the queue"
        );
        handlers.shutdown().await;
    }
}

fn report(joined: Result<(), JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "message task panicked; the message will be redelivered");
    }
}

impl Settler {
    /// Runs the handler on one delivery and settles it: ack on success, a delayed retry
    /// on a retryable failure (the policy's delay, or its longest once the attempts are
    /// spent: the handler could not record an outcome), the dead-letter queue when fatal.
    async fn settle(&self, handler: &dyn MessageHandler, delivery: Delivery) {
        let attempt = self.policy.attempt(attempt_of(&delivery.properties));
        let message_id =
            delivery.properties.message_id().as_ref().map_or("", |id| id.as_str()).to_owned();
        let message = match serde_json::from_slice::<Message>(&delivery.data) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(message.id = %message_id, %error, "unreadable message; dead-lettering");
                return reject(&delivery, &message_id).await;
            }
        };
        // A panicking handler is a bug that would panic again: treat it as fatal rather
        // than leave the delivery unacked and its prefetch slot taken.
        let outcome = AssertUnwindSafe(handler.handle(&message, attempt))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(HandleError::Fatal(anyhow::anyhow!("handler panicked"))));
        match outcome {
            Ok(()) => {
                if let Err(error) = delivery.acker.ack(BasicAckOptions::default()).await {
                    tracing::warn!(message.id = %message_id, %error, "cannot ack; the message will be redelivered");
                }
            }
            Err(HandleError::Retry(error)) => {
                let delay = self.policy.delay_after(attempt.number);
                let error = format!("{error:#}");
                if attempt.last {
                    tracing::warn!(
                        message.id = %message_id, attempt = attempt.number,
                        retry_in_ms = delay.as_millis(), %error,
                        "message failed past its attempts without an outcome; parking it again"
                    );
                } else {
                    tracing::info!(
                        message.id = %message_id, attempt = attempt.number,
                        retry_in_ms = delay.as_millis(), %error, "message failed; retrying"
                    );
                }
                self.retry(&delivery, &message, &message_id, attempt.number, delay).await;
            }
            Err(HandleError::Fatal(error)) => {
                tracing::warn!(message.id = %message_id, attempt = attempt.number, error = %format!("{error:#}"), "message failed for good; dead-lettering");
                reject(&delivery, &message_id).await;
            }
        }
    }

    /// Parks a copy in the delay queue, then acks the original: the copy is confirmed
    /// first, so a failure in between duplicates the message but never loses it.
    async fn retry(
        &self,
        delivery: &Delivery,
        message: &Message,
        message_id: &str,
        attempt: u32,
        delay: Duration,
    ) {
        let properties = message_properties(message_id, attempt + 1);
        let retry_exchange = self.topology.retry(delay);
        // The routing key is the family: kept through the delay queue's dead-lettering,
        // it routes the copy back to its family queue.
        let parked = publish_confirmed(
            &self.publisher,
            &retry_exchange,
            message.family().name(),
            &delivery.data,
            properties,
        )
        .await;
        let settled = match parked {
            Ok(()) => delivery.acker.ack(BasicAckOptions::default()).await,
            Err(error) => {
                tracing::warn!(message.id = %message_id, %error, "cannot park message for retry; requeueing it");
                let requeue = BasicNackOptions { requeue: true, ..Default::default() };
                delivery.acker.nack(requeue).await
            }
        };
        if let Err(error) = settled {
            tracing::warn!(message.id = %message_id, %error, "cannot settle message; it will be redelivered");
        }
    }
}

/// Rejects without requeueing: the queue's dead-letter exchange takes the message.
async fn reject(delivery: &Delivery, message_id: &str) {
    let dead_letter = BasicNackOptions { requeue: false, ..Default::default() };
    if let Err(error) = delivery.acker.nack(dead_letter).await {
        tracing::warn!(message.id = %message_id, %error, "cannot dead-letter; the message will be redelivered");
    }
}
