//! Runs image work on blocking threads, bounded: at most `workers` at once, at most
//! `queue_depth` waiting, each under a deadline. Past the queue depth callers are told to
//! come back later (the API answers 503 with `Retry-After`) instead of piling up.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::problem::{ErrorCode, Problem, Recovery, internal};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// How long a timed-out computation keeps its permit before it is given back.
pub(crate) const TIMEOUT_GRACE: Duration = Duration::from_secs(2);

/// Why work did not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the image workers are busy")]
    Busy,
    #[error("image processing took longer than {0:?}")]
    Timeout(Duration),
    #[error("image processing failed unexpectedly: {0}")]
    Panicked(String),
}

/// The bounded pool in front of the blocking threads.
#[derive(Clone, Debug)]
pub(crate) struct Engine {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    queue_depth: usize,
    timeout: Duration,
}

/// Decrements the waiting count however the wait ends (including cancellation).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Engine {
    /// `workers` threads at most (at least 1), `queue_depth` callers waiting at most.
    pub(crate) fn new(workers: usize, queue_depth: usize, timeout: Duration) -> Engine {
        let workers = workers.max(1);
        Engine {
            permits: Arc::new(Semaphore::new(workers)),
            waiting: Arc::new(AtomicUsize::new(0)),
            queue_depth,
            timeout,
        }
    }

    /// Runs `work` on a blocking thread once a permit is free. The deadline covers the
    /// work itself. A thread cannot be killed, so a timed-out computation finishes in the
    /// background, but it gives its permit back after [`TIMEOUT_GRACE`]: work that can
    /// outlive a deadline by more (SVG renders, AVIF decodes) runs in a sandbox process
    /// that is stopped at its own budget, so a stuck request never starves the others.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, EngineError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue_depth {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(EngineError::Busy);
                }
                let _waiting = Waiting(&self.waiting);
                self.permits.clone().acquire_owned().await.map_err(|_| EngineError::Busy)?
            }
        };
        let permit = Arc::new(Mutex::new(Some(permit)));
        let held = permit.clone();
        let span = tracing::Span::current();
        let handle = tokio::task::spawn_blocking(move || {
            let value = span.in_scope(work);
            held.lock().unwrap_or_else(|e| e.into_inner()).take();
            value
        });
        match tokio::time::timeout(self.timeout, handle).in_current_span().await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(join_error)) => Err(EngineError::Panicked(join_error.to_string())),
            Err(_) => {
                tokio::spawn(async move {
                    tokio::time::sleep(TIMEOUT_GRACE).await;
                    if permit.lock().unwrap_or_else(|e| e.into_inner()).take().is_some() {
                        tracing::warn!("timed-out image work still running; its permit is freed");
                    }
                });
                Err(EngineError::Timeout(self.timeout))
            }
        }
    }
}

impl From<&EngineError> for Problem {
    fn from(error: &EngineError) -> Problem {
        match error {
            EngineError::Busy => {
                Problem::new(ErrorCode::Unavailable, "the image workers are busy; retry shortly")
                    .with_recovery(Recovery::Transient)
            }
            EngineError::Timeout(limit) => Problem::new(
                ErrorCode::Unavailable,
                format!("processing took longer than {} s", limit.as_secs()),
            )
            .with_recovery(Recovery::WorkFailure),
            EngineError::Panicked(_) => internal(error).with_recovery(Recovery::WorkFailure),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn refuses_past_the_queue_depth_and_times_out() {
        let engine = Engine::new(1, 1, Duration::from_millis(300));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let busy = {
            let engine = engine.clone();
            tokio::spawn(async move { engine.run(move || wait.recv().ok()).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let queued = {
            let engine = engine.clone();
            tokio::spawn(async move { engine.run(|| 7).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(engine.run(|| 0).await, Err(EngineError::Busy)));
        release.send(()).unwrap();
        assert!(busy.await.unwrap().is_ok());
        assert_eq!(queued.await.unwrap().unwrap(), 7);

        let slow = engine.run(|| std::thread::sleep(Duration::from_millis(600))).await;
        assert!(matches!(slow, Err(EngineError::Timeout(_))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_timed_out_computation_gives_its_permit_back_after_the_grace() {
        let engine = Engine::new(1, 0, Duration::from_millis(100));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let stuck = engine.run(move || wait.recv().ok()).await;
        assert!(matches!(stuck, Err(EngineError::Timeout(_))));
        // Still running, so still holding the permit for now.
        assert!(matches!(engine.run(|| 0).await, Err(EngineError::Busy)));
        let started = std::time::Instant::now();
        while engine.permits.available_permits() == 0 {
            assert!(started.elapsed() < TIMEOUT_GRACE * 3, "the permit never came back");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(engine.run(|| 7).await.unwrap(), 7);
        release.send(()).unwrap();
    }
}
