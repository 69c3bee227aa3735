//! The embedded queue: durable in the database, delivered in-process.
//!
//! A task is a row first and a message second: `enqueue` commits the row, then wakes a
//! consumer. At start-up every row still queued or running (the process stopped with it
//! in flight) is delivered again, so nothing queued is lost across restarts. Handlers
//! must therefore be idempotent.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::{DbError, Repository, TaskRecord};

/// Attempts before a task is marked failed.
pub const MAX_ATTEMPTS: u32 = 3;

/// Processes one kind of task.
#[async_trait::async_trait]
pub trait TaskHandler: Send + Sync + 'static {
    /// Does the work; an error is retried up to [`MAX_ATTEMPTS`] times.
    async fn handle(&self, task: &TaskRecord) -> anyhow::Result<()>;
}

/// The producer side: cheap to clone.
#[derive(Clone, Debug)]
pub struct TaskQueue {
    repository: Repository,
    sender: mpsc::UnboundedSender<Uuid>,
}

impl TaskQueue {
    /// Commits a task row, then delivers it.
    pub async fn enqueue(&self, kind: &str, payload: &impl Serialize) -> Result<Uuid, DbError> {
        let id = Uuid::now_v7();
        let payload = serde_json::to_string(payload)
            .map_err(|error| DbError::Corrupt(format!("task payload: {error}")))?;
        self.repository.insert_task(id, kind, &payload).await?;
        // A closed channel means shutdown: the row stays queued for the next start.
        let _ = self.sender.send(id);
        Ok(id)
    }
}

/// Starts `concurrency` consumers, re-delivers unfinished rows, and returns the producer
/// with the consumers' join handle (it ends when `shutdown` is cancelled and in-flight
/// tasks have finished).
pub async fn start(
    repository: Repository,
    handler: Arc<dyn TaskHandler>,
    concurrency: usize,
    shutdown: CancellationToken,
) -> Result<(TaskQueue, tokio::task::JoinHandle<()>), DbError> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let pending = repository.pending_tasks().await?;
    if !pending.is_empty() {
        tracing::info!(count = pending.len(), "re-queueing unfinished tasks");
    }
    for id in pending {
        let _ = sender.send(id);
    }
    let receiver = Arc::new(Mutex::new(receiver));
    let mut consumers = JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let receiver = receiver.clone();
        let repository = repository.clone();
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        consumers.spawn(async move {
            loop {
                let next = tokio::select! {
                    _ = shutdown.cancelled() => None,
                    id = async { receiver.lock().await.recv().await } => id,
                };
                let Some(id) = next else { break };
                run_task(&repository, handler.as_ref(), id).await;
            }
        });
    }
    let join = tokio::spawn(async move { while consumers.join_next().await.is_some() {} });
    Ok((TaskQueue { repository, sender }, join))
}

async fn run_task(repository: &Repository, handler: &dyn TaskHandler, id: Uuid) {
    loop {
        let task = match repository.start_task(id).await {
            Ok(Some(task)) => task,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(task.id = %id, %error, "cannot start task; left for the next start");
                return;
            }
        };
        let outcome = handler.handle(&task).await;
        let finished = match &outcome {
            Ok(()) => repository.finish_task(id, true).await,
            Err(error) if task.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(task.id = %id, task.kind = %task.kind, error = %format!("{error:#}"), "task failed for good");
                repository.finish_task(id, false).await
            }
            Err(error) => {
                tracing::info!(task.id = %id, attempt = task.attempts, error = %format!("{error:#}"), "task failed; retrying");
                tokio::time::sleep(Duration::from_millis(250 << task.attempts.min(6))).await;
                continue;
            }
        };
        if let Err(error) = finished {
            tracing::error!(task.id = %id, %error, "cannot record task end");
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Flaky(AtomicU32);

    #[async_trait::async_trait]
    impl TaskHandler for Flaky {
        async fn handle(&self, _task: &TaskRecord) -> anyhow::Result<()> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                anyhow::bail!("first attempt fails");
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn survives_a_restart_and_retries() {
        let path = std::env::temp_dir().join(format!("progimage-queue-{}.sqlite", Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let repository = Repository::connect(&url).await.unwrap();
        // A task left behind by a stopped process.
        let leftover = Uuid::now_v7();
        repository.insert_task(leftover, "test", "{}").await.unwrap();

        let handler = Arc::new(Flaky(AtomicU32::new(0)));
        let shutdown = CancellationToken::new();
        let (queue, join) =
            start(repository.clone(), handler.clone(), 2, shutdown.clone()).await.unwrap();
        queue.enqueue("test", &serde_json::json!({"n": 1})).await.unwrap();
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
