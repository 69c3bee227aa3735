//! Webhook signatures: `ProgImage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<raw body>"`, keyed with the tenant's secret ([`crate::Client::webhook_secret`]).
//!
//! Verify the raw bytes as received, before parsing them: re-serialised JSON would not match.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header that carries the signature.
///
/// ```
/// assert_eq!(progimage_client::SIGNATURE_HEADER, "ProgImage-Signature");
/// ```
pub const SIGNATURE_HEADER: &str = "ProgImage-Signature";

/// Why a signature was refused.
///
/// ```
/// use progimage_client::{WebhookError, verify_webhook};
/// let refused = verify_webhook(b"{}", "nonsense", "secret", std::time::Duration::from_secs(300));
/// assert_eq!(refused, Err(WebhookError::Malformed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The header is not `t=<integer>` with at least one `v1=<hex>`.
    #[error("the signature header is malformed")]
    Malformed,
    /// The timestamp is further from now than the tolerance: a replay or a skewed clock.
    #[error("the signature timestamp is outside the tolerance")]
    OutsideTolerance,
    /// No `v1` value matches the payload and secret.
    #[error("no signature matches")]
    Mismatch,
}

/// Checks a `ProgImage-Signature` header against the raw `payload`, accepting it when one of
/// its `v1` values matches (compared in constant time) and its timestamp is within
/// `tolerance` of the system clock.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use progimage_client::{sign_webhook, verify_webhook};
/// let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
/// let header = sign_webhook("secret", now, b"{\"id\":1}");
/// assert!(verify_webhook(b"{\"id\":1}", &header, "secret", Duration::from_secs(300)).is_ok());
/// assert!(verify_webhook(b"{\"id\":2}", &header, "secret", Duration::from_secs(300)).is_err());
/// ```
pub fn verify_webhook(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance: Duration,
) -> Result<(), WebhookError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    verify_webhook_at(payload, header, secret, tolerance, i64::try_from(now).unwrap_or(i64::MAX))
}

/// [`verify_webhook`] at a given time (unix seconds), for tests and replays.
///
/// ```
/// use std::time::Duration;
/// use progimage_client::{WebhookError, verify_webhook_at};
/// let header = "t=1700000000,v1=efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d";
/// let body = br#"{"id":"job"}"#;
/// let tolerance = Duration::from_secs(300);
/// assert_eq!(verify_webhook_at(body, header, "whsec_test", tolerance, 1_700_000_100), Ok(()));
/// assert_eq!(
///     verify_webhook_at(body, header, "whsec_test", tolerance, 1_700_001_000),
///     Err(WebhookError::OutsideTolerance)
/// );
/// ```
pub fn verify_webhook_at(
    payload: &[u8],
    header: &str,
    secret: &str,
    tolerance: Duration,
    now: i64,
) -> Result<(), WebhookError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(WebhookError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| WebhookError::Malformed)?);
            }
            "t" => return Err(WebhookError::Malformed),
            "v1" => candidates.push(value),
            // Other schemes (a future v2) are skipped so receivers keep working across upgrades.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::Malformed)?;
    if candidates.is_empty() {
        return Err(WebhookError::Malformed);
    }
    if now.abs_diff(timestamp) > tolerance.as_secs() {
        return Err(WebhookError::OutsideTolerance);
    }
    let mac = payload_mac(secret, timestamp, payload);
    let matches = candidates.iter().any(|candidate| {
        // A value that is not hex cannot match; `verify_slice` compares in constant time.
        hex::decode(candidate).is_ok_and(|code| mac.clone().verify_slice(&code).is_ok())
    });
    if matches { Ok(()) } else { Err(WebhookError::Mismatch) }
}

/// The header value the service would send for `payload` at `timestamp` (unix seconds):
/// for testing a receiver.
///
/// ```
/// let header = progimage_client::sign_webhook("whsec_test", 1_700_000_000, br#"{"id":"job"}"#);
/// assert_eq!(
///     header,
///     "t=1700000000,v1=efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d"
/// );
/// ```
pub fn sign_webhook(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let code = payload_mac(secret, timestamp, payload).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(code))
}

/// The MAC over `"<t>.<payload>"`, ready to finalise or verify.
fn payload_mac(secret: &str, timestamp: i64, payload: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}
