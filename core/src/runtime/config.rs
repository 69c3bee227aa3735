//! The settings both binaries share, declared once and flattened into each one's command
//! line (`#[command(flatten)]`): limits, timeouts, the URL policy, webhook signing, the
//! queue's names and logging. Every one is a flag and a `PROGIMAGE_*` variable; the limit
//! defaults are [`Limits::default`]'s.

use std::fmt;
use std::time::Duration;

use crate::app::Settings;
use crate::limits::Limits;
use crate::queue::RetryPolicy;
use crate::queue::amqp::AmqpConfig;
use crate::queue::retry::{DEFAULT_DELAYS, DEFAULT_MAX_ATTEMPTS};

/// A value that must not reach the logs: `Debug` shows `[redacted]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "[empty]" } else { "[redacted]" })
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// Retry delays on the command line: milliseconds, comma-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryDelays(pub Vec<Duration>);

impl Default for RetryDelays {
    fn default() -> RetryDelays {
        RetryDelays(DEFAULT_DELAYS.to_vec())
    }
}

impl fmt::Display for RetryDelays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis: Vec<String> = self.0.iter().map(|d| d.as_millis().to_string()).collect();
        f.write_str(&millis.join(","))
    }
}

fn parse_retry_delays(value: &str) -> Result<RetryDelays, String> {
    let policy = RetryPolicy::from_millis(DEFAULT_MAX_ATTEMPTS, value)?;
    Ok(RetryDelays(policy.delays().to_vec()))
}

/// The shared settings (see the module docs).
#[derive(Debug, Clone, clap::Args)]
pub struct SharedConfig {
    /// Names the RabbitMQ exchange and queues (deployments sharing a broker stay apart; the
    /// API's and the workers' must match).
    #[arg(long, env = "PROGIMAGE_AMQP_PREFIX", default_value = crate::queue::amqp::DEFAULT_PREFIX)]
    pub amqp_prefix: String,

    /// Comma-separated `tenant:key` pairs; none means open mode (tenant `default`). Workers
    /// read it to sign each tenant's webhooks with its own secret.
    #[arg(long, env = "PROGIMAGE_API_KEYS", hide_env_values = true, default_value = "")]
    pub api_keys: Secret,

    /// The webhook master secret; generated and kept in the database when unset.
    #[arg(long, env = "PROGIMAGE_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<Secret>,

    /// IPs, CIDRs or host names that remote URLs and webhooks may reach despite the SSRF
    /// rules.
    #[arg(long, env = "PROGIMAGE_ALLOW_URLS", default_value = "")]
    pub allow_urls: String,

    /// Bytes per upload or fetch.
    #[arg(long, env = "PROGIMAGE_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_bytes)]
    pub max_upload_bytes: u64,

    /// Pixels of one frame, input, any step or output.
    #[arg(long, env = "PROGIMAGE_MAX_PIXELS", default_value_t = Limits::default().max_pixels)]
    pub max_pixels: u64,

    /// Longest side of any step's result or of the output.
    #[arg(long, env = "PROGIMAGE_MAX_OUTPUT_SIDE", default_value_t = Limits::default().max_side)]
    pub max_output_side: u32,

    /// Seconds one SVG render or AVIF decode may run in its sandbox process before it is
    /// stopped and the image refused as too costly (422 `image_too_large`).
    #[arg(
        long,
        env = "PROGIMAGE_MAX_RENDER_S",
        default_value_t = Limits::default().max_render.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub max_render_s: u64,

    /// Seconds for a whole remote fetch, redirects included.
    #[arg(long, env = "PROGIMAGE_FETCH_TIMEOUT_S", default_value_t = 10)]
    pub fetch_timeout_s: u64,

    /// Threads for image work (and, in a worker, items processed at once); default one
    /// per core.
    #[arg(long, env = "PROGIMAGE_WORKERS")]
    pub workers: Option<usize>,

    /// Seconds one image operation may run.
    #[arg(long, env = "PROGIMAGE_PROCESS_TIMEOUT_S", default_value_t = 60)]
    pub process_timeout_s: u64,

    /// Deliveries a background message (a job item, an eager variant) gets; on the last
    /// one a job item that still fails is recorded `failed`.
    #[arg(
        long,
        env = "PROGIMAGE_MAX_ATTEMPTS",
        default_value_t = DEFAULT_MAX_ATTEMPTS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_attempts: u32,

    /// Milliseconds between deliveries of a failing message, comma-separated; the last
    /// repeats.
    #[arg(
        long,
        env = "PROGIMAGE_RETRY_DELAYS_MS",
        default_value_t = RetryDelays::default(),
        value_parser = parse_retry_delays
    )]
    pub retry_delays_ms: RetryDelays,

    /// Variants one image keeps; past it they are made but not stored.
    #[arg(long, env = "PROGIMAGE_MAX_VARIANTS_PER_IMAGE", default_value_t = 1000)]
    pub max_variants_per_image: u64,

    /// Log format: `text` or `json`.
    #[arg(long, env = "PROGIMAGE_LOG_FORMAT", default_value = "text",
          value_parser = ["text", "json"])]
    pub log_format: String,
}

impl SharedConfig {
    /// The image thread count.
    pub fn workers(&self) -> usize {
        self.workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.max_upload_bytes,
            max_pixels: self.max_pixels,
            max_side: self.max_output_side,
            max_render: Duration::from_secs(self.max_render_s),
        }
    }

    /// The queue's retry policy.
    pub(crate) fn retry(&self) -> RetryPolicy {
        RetryPolicy::new(self.max_attempts, self.retry_delays_ms.0.clone()).unwrap_or_default()
    }

    /// Whether API keys are configured (then each tenant signs with its own secret).
    pub(crate) fn has_api_keys(&self) -> bool {
        self.api_keys.expose().split(',').any(|pair| !pair.trim().is_empty())
    }

    /// The services' settings, with what each binary decides itself.
    pub fn settings(
        &self,
        database_url: Secret,
        storage_url: String,
        amqp_url: Option<&Secret>,
        queue_depth: usize,
    ) -> Settings {
        let retry = self.retry();
        Settings {
            database_url,
            storage_url,
            amqp: amqp_url.map(|url| AmqpConfig {
                url: url.expose().to_string(),
                prefix: self.amqp_prefix.clone(),
                retry: retry.clone(),
            }),
            retry,
            allow_urls: self.allow_urls.clone(),
            limits: self.limits(),
            fetch_timeout: Duration::from_secs(self.fetch_timeout_s),
            workers: self.workers(),
            queue_depth,
            process_timeout: Duration::from_secs(self.process_timeout_s),
            max_variants_per_image: self.max_variants_per_image,
            webhook_secret: self.webhook_secret.clone(),
            per_tenant_secrets: self.has_api_keys(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        shared: SharedConfig,
    }

    #[test]
    fn defaults_are_the_limits_and_secrets_stay_out_of_debug() {
        let command = Command::parse_from(["x", "--api-keys", "acme:s3cr3t"]);
        let defaults = Limits::default();
        let limits = command.shared.limits();
        assert_eq!(
            (limits.max_bytes, limits.max_pixels, limits.max_side, limits.max_render),
            (defaults.max_bytes, defaults.max_pixels, defaults.max_side, defaults.max_render)
        );
        assert!(command.shared.has_api_keys());
        let shown = format!("{command:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert!(Command::try_parse_from(["x", "--max-render-s", "0"]).is_err());
        assert!(Command::try_parse_from(["x", "--log-format", "yaml"]).is_err());
        assert_eq!(command.shared.retry(), RetryPolicy::default());
        let tuned = Command::parse_from(["x", "--max-attempts", "2", "--retry-delays-ms", "50,80"]);
        let expected =
            RetryPolicy::new(2, vec![Duration::from_millis(50), Duration::from_millis(80)]);
        assert_eq!(tuned.shared.retry(), expected.unwrap());
        assert!(Command::try_parse_from(["x", "--retry-delays-ms", "soon"]).is_err());
        assert!(Command::try_parse_from(["x", "--max-attempts", "0"]).is_err());
    }
}
