//! Webhook signatures: `ProgImage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<raw body>"`, keyed with the tenant's secret ([`crate::Client::webhook_secret`]).
//!
//! Verify the raw bytes as received, before parsing them: re-serialised JSON would not match.
//! The signing and checking are `progimage-signature`'s, the crate the service signs with.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a signature was refused.
///
/// ```
/// use progimage_client::{WebhookError, verify_webhook};
/// let refused = verify_webhook(b"{}", "nonsense", "secret", std::time::Duration::from_secs(300));
/// assert_eq!(refused, Err(WebhookError::Malformed));
/// ```
pub use progimage_signature::SignatureError as WebhookError;

/// The header that carries the signature.
///
/// ```
/// assert_eq!(progimage_client::SIGNATURE_HEADER, "ProgImage-Signature");
/// ```
pub const SIGNATURE_HEADER: &str = progimage_signature::HEADER;

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
    progimage_signature::verify(secret, header, payload, now, tolerance.as_secs())
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
    progimage_signature::sign(secret, timestamp, payload)
}
