//! One retry policy for every transport: how many deliveries a message gets and how long
//! it waits between them. The embedded queue sleeps the delays; RabbitMQ parks the
//! message in one delay queue per distinct delay.
//!
//! The policy never drops a message. A handler learns from [`Attempt::last`] that it is on
//! its last delivery and must then record a final outcome (a job item `failed`) instead of
//! asking for another try; a handler that still asks (it could not record anything, say
//! the database is down) gets its message parked again at the longest delay, so the work
//! waits for the outage to end rather than vanishing into a dead-letter queue.

use std::time::Duration;

/// Deliveries a message gets, the first included, unless configured otherwise.
pub(crate) const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The pauses after the first, second, … failed delivery; the last repeats.
pub(crate) const DEFAULT_DELAYS: [Duration; 3] =
    [Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(30)];

/// How often and how patiently a failing message is delivered again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    delays: Vec<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { max_attempts: DEFAULT_MAX_ATTEMPTS, delays: DEFAULT_DELAYS.to_vec() }
    }
}

/// Why a retry policy was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("at least one attempt is needed")]
    NoAttempts,
    #[error("at least one retry delay is needed")]
    NoDelays,
    #[error("retry delays must be between 1 ms and 1 hour, got {0:?}")]
    DelayOutOfRange(Duration),
}

impl RetryPolicy {
    /// A policy of `max_attempts` deliveries separated by `delays` (the last repeats).
    pub fn new(max_attempts: u32, delays: Vec<Duration>) -> Result<RetryPolicy, PolicyError> {
        if max_attempts == 0 {
            return Err(PolicyError::NoAttempts);
        }
        if delays.is_empty() {
            return Err(PolicyError::NoDelays);
        }
        if let Some(delay) = delays
            .iter()
            .find(|delay| **delay < Duration::from_millis(1) || **delay > Duration::from_secs(3600))
        {
            return Err(PolicyError::DelayOutOfRange(*delay));
        }
        Ok(RetryPolicy { max_attempts, delays })
    }

    /// A policy from a comma-separated list of delays in milliseconds (`1000,5000,30000`).
    pub(crate) fn from_millis(max_attempts: u32, delays_ms: &str) -> Result<RetryPolicy, String> {
        let delays = delays_ms
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<u64>()
                    .map(Duration::from_millis)
                    .map_err(|_| format!("{part:?} is not a number of milliseconds"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        RetryPolicy::new(max_attempts, delays).map_err(|error| error.to_string())
    }

    /// The pauses after the first, second, … failed delivery.
    pub(crate) fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// Deliveries a message gets before its handler must settle it.
    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Every distinct delay, shortest first (RabbitMQ declares one queue for each).
    pub(crate) fn distinct_delays(&self) -> Vec<Duration> {
        let mut delays = self.delays.clone();
        delays.sort();
        delays.dedup();
        delays
    }

    /// The longest delay: the pause between deliveries once the attempts are spent.
    pub(crate) fn longest_delay(&self) -> Duration {
        self.delays.iter().copied().max().unwrap_or(DEFAULT_DELAYS[0])
    }

    /// Delivery `number` (1-based; a missing count reads as 1) as its handler sees it.
    pub(crate) fn attempt(&self, number: u32) -> Attempt {
        let number = number.max(1);
        Attempt { number, last: number >= self.max_attempts }
    }

    /// How long to wait after delivery `number` failed: the policy's delay while attempts
    /// remain, then the longest one (the handler could not settle the message).
    pub(crate) fn delay_after(&self, number: u32) -> Duration {
        let step = usize::try_from(number.max(1) - 1).unwrap_or(usize::MAX);
        if number >= self.max_attempts {
            return self.longest_delay();
        }
        self.delays[step.min(self.delays.len() - 1)]
    }
}

/// One delivery of a message, as its handler sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first delivery.
    pub number: u32,
    /// Whether the policy allows no further delivery: the handler must record an outcome.
    pub last: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    #[test]
    fn delays_grow_then_the_longest_repeats() {
        let policy = RetryPolicy::default();
        let delays: Vec<_> = (1..=7).map(|n| policy.delay_after(n)).collect();
        let s = Duration::from_secs;
        assert_eq!(delays, [s(1), s(5), s(30), s(30), s(30), s(30), s(30)]);
        assert_eq!(policy.delay_after(0), s(1), "a missing count is the first delivery");
        assert_eq!(policy.distinct_delays(), [s(1), s(5), s(30)]);
    }

    #[test]
    fn the_last_attempt_is_marked() {
        let policy = RetryPolicy::new(3, vec![ms(10)]).unwrap();
        let lasts: Vec<_> = (0..=4).map(|n| policy.attempt(n).last).collect();
        assert_eq!(lasts, [false, false, false, true, true]);
        assert_eq!(policy.attempt(0).number, 1);
        assert!(RetryPolicy::new(1, vec![ms(10)]).unwrap().attempt(1).last);
    }

    #[test]
    fn policies_are_parsed_and_checked() {
        let policy = RetryPolicy::from_millis(4, "50, 100,200").unwrap();
        assert_eq!(policy.distinct_delays(), [ms(50), ms(100), ms(200)]);
        assert_eq!(policy.delay_after(3), ms(200));
        assert!(RetryPolicy::from_millis(0, "10").unwrap_err().contains("attempt"));
        assert!(RetryPolicy::from_millis(3, "").unwrap_err().contains("delay"));
        assert!(RetryPolicy::from_millis(3, "ten").unwrap_err().contains("milliseconds"));
        assert!(RetryPolicy::from_millis(3, "0").unwrap_err().contains("between"));
    }
}
