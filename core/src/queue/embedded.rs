//! The embedded queue: durable in the database, delivered in-process.
//!
//! A task is a row first and a message second: `enqueue` commits the row, then wakes a
//! consumer. At start-up every row still queued or running (the process stopped with it
//! in flight) is delivered again, so nothing queued is lost across restarts. Handlers
//! must therefore be idempotent.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::{DbError, Repository};
use crate::queue::{
    Consumer, Dispatch, HandleError, Message, MessageHandler, Queue, QueueError, RetryPolicy,
};

/// The task kind of queue messages in the tasks table.
const KIND: &str = "message";

/// What travels on the in-process channel.
#[derive(Debug)]
enum Delivery {
    /// A row of the tasks table (durable on its own).
    Task(Uuid),
    /// A message whose state is durable elsewhere (a job item's row), re-delivered from
    /// there at start-up.
    Direct(Message),
}

/// The producer side: cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct EmbeddedQueue {
    repository: Repository,
    sender: mpsc::UnboundedSender<Delivery>,
}

#[async_trait::async_trait]
impl Queue for EmbeddedQueue {
    /// Job items are durable as job rows already, so they go straight to a consumer;
    /// anything else commits a task row first.
    async fn publish(&self, message: &Message) -> Result<(), QueueError> {
        let delivery = match message {
            Message::JobItem { .. } => Delivery::Direct(message.clone()),
            Message::Variant { .. } => {
                let id = Uuid::now_v7();
                let payload = serde_json::to_string(message)
                    .map_err(|error| DbError::Corrupt(format!("task payload: {error}")))?;
                self.repository.insert_task(id, KIND, &payload).await?;
                Delivery::Task(id)
            }
        };
        // A closed channel means shutdown: the state stays queued for the next start.
        let _ = self.sender.send(delivery);
        Ok(())
    }

    async fn check(&self) -> Result<(), QueueError> {
        Ok(self.repository.ping().await?)
    }
}

/// The consumer side, before it starts.
pub(crate) struct Consumers {
    repository: Repository,
    policy: RetryPolicy,
    sender: mpsc::UnboundedSender<Delivery>,
    receiver: mpsc::UnboundedReceiver<Delivery>,
}

/// A queue whose consumers start later (their handler needs the queue to exist).
pub(crate) fn new(repository: Repository, policy: RetryPolicy) -> (EmbeddedQueue, Consumers) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let queue = EmbeddedQueue { repository: repository.clone(), sender: sender.clone() };
    (queue, Consumers { repository, policy, sender, receiver })
}

#[async_trait::async_trait]
impl Consumer for Consumers {
    /// Delivers again what a stopped process left unfinished (task rows, and job items
    /// still queued or running), then consumes until `shutdown`.
    async fn run(self: Box<Self>, dispatch: Dispatch) -> anyhow::Result<()> {
        let Dispatch { handler, concurrency, shutdown } = dispatch;
        let redeliver = self
            .repository
            .unfinished_items()
            .await
            .map_err(|error| anyhow::anyhow!("Failed to read unfinished job items: {error}"))?
            .into_iter()
            .map(|(job_id, index, family)| Message::JobItem { job_id, index, family })
            .collect();
        let consumers = self
            .start(handler, concurrency, redeliver, shutdown)
            .await
            .map_err(|error| anyhow::anyhow!("Failed to start the in-process workers: {error}"))?;
        consumers.await?;
        Ok(())
    }
}

impl Consumers {
    /// Re-delivers unfinished task rows and `redeliver` (messages whose state says they are
    /// unfinished), then runs `concurrency` consumers until `shutdown`; the handle ends
    /// once in-flight messages have been handled.
    pub(crate) async fn start(
        self,
        handler: Arc<dyn MessageHandler>,
        concurrency: usize,
        redeliver: Vec<Message>,
        shutdown: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, DbError> {
        let Consumers { repository, policy, sender, receiver } = self;
        let pending = repository.pending_tasks().await?;
        if !pending.is_empty() || !redeliver.is_empty() {
            tracing::info!(
                tasks = pending.len(),
                messages = redeliver.len(),
                "re-queueing unfinished work"
            );
        }
        for id in pending {
            let _ = sender.send(Delivery::Task(id));
        }
        for message in redeliver {
            let _ = sender.send(Delivery::Direct(message));
        }
        let receiver = Arc::new(Mutex::new(receiver));
        let mut consumers = JoinSet::new();
        for _ in 0..concurrency.max(1) {
            let receiver = receiver.clone();
            let delivery = Deliverer {
                repository: repository.clone(),
                policy: policy.clone(),
                handler: handler.clone(),
                shutdown: shutdown.clone(),
            };
            let shutdown = shutdown.clone();
            consumers.spawn(async move {
                loop {
                    let next = tokio::select! {
                        _ = shutdown.cancelled() => None,
                        delivery = async { receiver.lock().await.recv().await } => delivery,
                    };
                    match next {
                        Some(Delivery::Task(id)) => delivery.task(id).await,
                        Some(Delivery::Direct(message)) => delivery.direct(&message).await,
                        None => break,
                    }
                }
            });
        }
        Ok(tokio::spawn(async move { while consumers.join_next().await.is_some() {} }))
    }
}

/// What one consumer needs to deliver a message by the retry policy.
struct Deliverer {
    repository: Repository,
    policy: RetryPolicy,
    handler: Arc<dyn MessageHandler>,
    shutdown: CancellationToken,
}

impl Deliverer {
    /// Waits out the delay after failed delivery `number`; `false` when shutdown came
    /// first (the message's state stays unfinished and is delivered at the next start).
    async fn pause(&self, number: u32, error: &anyhow::Error) -> bool {
        let delay = self.policy.delay_after(number);
        let error = format!("{error:#}");
        if self.policy.attempt(number).last {
            tracing::warn!(attempt = number, retry_in_ms = delay.as_millis(), %error,
                "message failed past its attempts without an outcome; trying again later");
        } else {
            tracing::info!(attempt = number, retry_in_ms = delay.as_millis(), %error,
                "message failed; retrying");
        }
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(delay) => true,
        }
    }

    /// A message whose state lives elsewhere (a job item): delivered until it settles.
    async fn direct(&self, message: &Message) {
        let mut number = 1;
        loop {
            match self.handler.handle(message, self.policy.attempt(number)).await {
                Ok(()) => return,
                Err(HandleError::Retry(error)) => {
                    if !self.pause(number, &error).await {
                        return;
                    }
                }
                Err(HandleError::Fatal(error)) => {
                    tracing::warn!(%error, ?message, "message failed for good");
                    return;
                }
            }
            number = number.saturating_add(1);
        }
    }

    /// A task row: its attempts are counted in the row, so they survive restarts.
    async fn task(&self, id: Uuid) {
        loop {
            let task = match self.repository.start_task(id).await {
                Ok(Some(task)) => task,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(task.id = %id, %error, "cannot start task; left for the next start");
                    return;
                }
            };
            let outcome = match serde_json::from_str::<Message>(&task.payload) {
                Ok(message) => {
                    self.handler.handle(&message, self.policy.attempt(task.attempts)).await
                }
                Err(error) => {
                    Err(HandleError::Fatal(anyhow::anyhow!("unreadable message: {error}")))
                }
            };
            let finished = match &outcome {
                Ok(()) => self.repository.finish_task(id, true).await,
                Err(HandleError::Retry(error)) => {
                    if self.pause(task.attempts, error).await {
                        continue;
                    }
                    return;
                }
                Err(HandleError::Fatal(error)) => {
                    tracing::warn!(task.id = %id, %error, "task failed for good");
                    self.repository.finish_task(id, false).await
                }
            };
            if let Err(error) = finished {
                tracing::error!(task.id = %id, %error, "cannot record task end");
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    struct Flaky(AtomicU32);

    #[async_trait::async_trait]
    impl MessageHandler for Flaky {
        async fn handle(
            &self,
            _message: &Message,
            _attempt: crate::queue::Attempt,
        ) -> Result<(), HandleError> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                return Err(HandleError::Retry(anyhow::anyhow!("first attempt fails")));
            }
            Ok(())
        }
    }

    fn message() -> Message {
        Message::Variant {
            tenant: "default".into(),
            image_id: Uuid::now_v7(),
            format: crate::format::ImageFormat::Png,
            family: crate::queue::Family::Raster,
        }
    }

    #[tokio::test]
    async fn survives_a_restart_and_retries() {
        let path = std::env::temp_dir().join(format!("progimage-queue-{}.sqlite", Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let repository = Repository::connect(&url).await.unwrap();
        // A task left behind by a stopped process.
        let leftover = Uuid::now_v7();
        let payload = serde_json::to_string(&message()).unwrap();
        repository.insert_task(leftover, KIND, &payload).await.unwrap();

        let handler = Arc::new(Flaky(AtomicU32::new(0)));
        let shutdown = CancellationToken::new();
        let policy = RetryPolicy::new(3, vec![Duration::from_millis(10)]).unwrap();
        let (queue, consumers) = new(repository.clone(), policy);
        let join = consumers.start(handler.clone(), 2, Vec::new(), shutdown.clone()).await.unwrap();
        queue.publish(&message()).await.unwrap();
        for _ in 0..100 {
            if repository.pending_tasks().await.unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(repository.pending_tasks().await.unwrap().is_empty());
        assert_eq!(handler.0.load(Ordering::SeqCst), 3, "two tasks, one retry");
        shutdown.cancel();
        join.await.unwrap();
    }
}
