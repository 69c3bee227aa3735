//! The broker topology, declared idempotently by producers and consumers alike so that
//! either side can start first.
//!
//! ```text
//! publish ──► {prefix} (direct) ──raster──► {prefix}.raster ──nack──► {prefix}.dlx ──► {prefix}.dead
//!                 ▲                └─vector──► {prefix}.vector ─┘          (fanout)
//!                 │
//!                 └── expiry (routing key kept) ── {prefix}.retry.{ms} ◄── retry (fanout, TTL)
//! ```

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use crate::queue::{Family, RetryPolicy};

/// The names of one deployment's exchanges and queues, all under one prefix.
#[derive(Debug, Clone)]
pub(super) struct Topology {
    prefix: String,
    /// The retry policy's distinct delays: one delay queue each.
    delays: Vec<Duration>,
}

impl Topology {
    pub(super) fn new(prefix: &str, policy: &RetryPolicy) -> Topology {
        Topology { prefix: prefix.to_owned(), delays: policy.distinct_delays() }
    }

    /// The delays there is a retry queue for.
    #[cfg(test)]
    pub(super) fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The direct exchange messages are published to, routed by family name.
    pub(super) fn exchange(&self) -> &str {
        &self.prefix
    }

    /// The durable queue of one family.
    pub(super) fn family_queue(&self, family: Family) -> String {
        format!("{}.{}", self.prefix, family.name())
    }

    /// Where rejected messages go: a fanout exchange in front of the dead queue.
    pub(super) fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.prefix)
    }

    /// Messages that failed for good, kept for inspection.
    pub(super) fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// The fanout exchange and the queue (same name) that hold a retried message for
    /// `delay`.
    pub(super) fn retry(&self, delay: Duration) -> String {
        format!("{}.retry.{}", self.prefix, delay.as_millis())
    }

    /// Declares every exchange, queue and binding; declaring what exists with the same
    /// arguments is a no-op, so every connection does it.
    pub(super) async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        let durable_exchange = ExchangeDeclareOptions { durable: true, ..Default::default() };
        let durable_queue = QueueDeclareOptions { durable: true, ..Default::default() };
        let no_arguments = FieldTable::default;

        channel
            .exchange_declare(
                self.exchange().into(),
                ExchangeKind::Direct,
                durable_exchange,
                no_arguments(),
            )
            .await?;

        // Fanout, so a dead message keeps its family routing key for inspection yet
        // needs no per-family binding.
        let dlx = self.dead_letter_exchange();
        channel
            .exchange_declare(
                dlx.as_str().into(),
                ExchangeKind::Fanout,
                durable_exchange,
                no_arguments(),
            )
            .await?;
        let dead = self.dead_queue();
        channel.queue_declare(dead.as_str().into(), durable_queue, no_arguments()).await?;
        channel
            .queue_bind(
                dead.as_str().into(),
                dlx.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                no_arguments(),
            )
            .await?;

        for family in Family::ALL {
            let queue = self.family_queue(family);
            let mut arguments = FieldTable::default();
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(dlx.as_str().into()),
            );
            channel.queue_declare(queue.as_str().into(), durable_queue, arguments).await?;
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.exchange().into(),
                    family.name().into(),
                    QueueBindOptions::default(),
                    no_arguments(),
                )
                .await?;
        }

        // A retried message sits in a queue nobody consumes until its TTL expires; it is
        // then dead-lettered to the main exchange with its routing key (the family name)
        // unchanged, so it lands back in its family queue.
        for &delay in &self.delays {
            let name = self.retry(delay);
            channel
                .exchange_declare(
                    name.as_str().into(),
                    ExchangeKind::Fanout,
                    durable_exchange,
                    no_arguments(),
                )
                .await?;
            let ttl_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            let mut arguments = FieldTable::default();
            arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl_ms));
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(self.exchange().into()),
            );
            channel.queue_declare(name.as_str().into(), durable_queue, arguments).await?;
            channel
                .queue_bind(
                    name.as_str().into(),
                    name.as_str().into(),
                    "".into(),
                    QueueBindOptions::default(),
                    no_arguments(),
                )
                .await?;
        }
        Ok(())
    }
}
