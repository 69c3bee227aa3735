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
        let declare = Declarer { channel };
        declare.exchange(self.exchange(), ExchangeKind::Direct).await?;

        // Fanout, so a dead message keeps its family routing key for inspection yet
        // needs no per-family binding.
        let dlx = self.dead_letter_exchange();
        declare.exchange(&dlx, ExchangeKind::Fanout).await?;
        let dead = self.dead_queue();
        declare.queue(&dead, FieldTable::default()).await?;
        declare.bind(&dead, &dlx, "").await?;

        for family in Family::ALL {
            let queue = self.family_queue(family);
            let mut arguments = FieldTable::default();
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(dlx.as_str().into()),
            );
            declare.queue(&queue, arguments).await?;
            declare.bind(&queue, self.exchange(), family.name()).await?;
        }

        // A retried message sits in a queue nobody consumes until its TTL expires; it is
        // then dead-lettered to the main exchange with its routing key (the family name)
        // unchanged, so it lands back in its family queue.
        for &delay in &self.delays {
            let name = self.retry(delay);
            declare.exchange(&name, ExchangeKind::Fanout).await?;
            let ttl_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            let mut arguments = FieldTable::default();
            arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl_ms));
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(self.exchange().into()),
            );
            declare.queue(&name, arguments).await?;
            declare.bind(&name, &name, "").await?;
        }
        Ok(())
    }
}

/// Durable declarations on one channel.
struct Declarer<'a> {
    channel: &'a Channel,
}

impl Declarer<'_> {
    async fn exchange(&self, name: &str, kind: ExchangeKind) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions { durable: true, ..Default::default() };
        self.channel.exchange_declare(name.into(), kind, durable, FieldTable::default()).await
    }

    async fn queue(&self, name: &str, arguments: FieldTable) -> lapin::Result<()> {
        let durable = QueueDeclareOptions { durable: true, ..Default::default() };
        self.channel.queue_declare(name.into(), durable, arguments).await.map(|_| ())
    }

    async fn bind(&self, queue: &str, exchange: &str, routing_key: &str) -> lapin::Result<()> {
        let options = QueueBindOptions::default();
        let arguments = FieldTable::default();
        self.channel
            .queue_bind(queue.into(), exchange.into(), routing_key.into(), options, arguments)
            .await
    }
}
