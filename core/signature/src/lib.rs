//! Webhook signatures: `ProgImage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.
//!
//! The signed message is `"<t>.<raw body>"`, so a receiver verifies the exact bytes it got
//! and a replayed delivery is recognised by its old timestamp. Each tenant signs with its own
//! secret derived from the master one ([`tenant_secret`]), so no tenant can forge another's
//! webhooks.
//!
//! The service (`progimage-core`) signs with [`sign`]; receivers, the Rust client's
//! `verify_webhook` among them, check with [`verify`]. One implementation serves both, so the
//! two sides cannot drift apart.
//!
//! ```
//! use progimage_signature::{SignatureError, sign, verify};
//! let body = br#"{"id":"job"}"#;
//! let header = sign("whsec_test", 1_700_000_000, body);
//! assert_eq!(verify("whsec_test", &header, body, 1_700_000_100, 300), Ok(()));
//! assert_eq!(
//!     verify("whsec_test", &header, body, 1_700_001_000, 300),
//!     Err(SignatureError::OutsideTolerance)
//! );
//! ```

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header that carries the signature.
pub const HEADER: &str = "ProgImage-Signature";

/// Why a `ProgImage-Signature` header was not accepted.
///
/// ```
/// use progimage_signature::{SignatureError, verify};
/// assert_eq!(verify("secret", "nonsense", b"{}", 0, 300), Err(SignatureError::Malformed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The header is not `t=<integer>` with at least one `v1=<hex>`.
    Malformed,
    /// The timestamp is further from now than the tolerance: a replay or a skewed clock.
    OutsideTolerance,
    /// No `v1` value matches the body and secret.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Malformed => "the signature header is malformed",
            SignatureError::OutsideTolerance => "the signature timestamp is outside the tolerance",
            SignatureError::Mismatch => "no signature matches",
        })
    }
}

impl std::error::Error for SignatureError {}

/// A parsed `ProgImage-Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    /// `t`: when the delivery was signed, in unix seconds.
    pub timestamp: i64,
    /// Every `v1` value in the order written; hex is expected, but not checked here.
    pub signatures: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses comma-separated `key=value` parts: exactly one `t=<integer>` and at least one
    /// `v1=<value>`. Other schemes (a future `v2`) are skipped so receivers keep working
    /// across upgrades; several `v1` values let a sender sign with an old and a new secret
    /// while rotating.
    ///
    /// ```
    /// use progimage_signature::SignatureHeader;
    /// let header = SignatureHeader::parse("t=1700000000, v1=ab, v2=cd, v1=ef").unwrap();
    /// assert_eq!(header.timestamp, 1_700_000_000);
    /// assert_eq!(header.signatures, ["ab", "ef"]);
    /// ```
    pub fn parse(header: &'a str) -> Result<SignatureHeader<'a>, SignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
            match key {
                "t" if timestamp.is_none() => {
                    timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
                }
                "t" => return Err(SignatureError::Malformed),
                "v1" => signatures.push(value),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed);
        }
        Ok(SignatureHeader { timestamp, signatures })
    }
}

/// The `ProgImage-Signature` header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let code = signed_payload_mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(code))
}

/// Checks a `ProgImage-Signature` header against the raw `body`, accepting it when one of
/// its `v1` values matches (compared in constant time) and its timestamp is within
/// `tolerance_s` seconds of `now` (unix seconds, either side).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_s: u64,
) -> Result<(), SignatureError> {
    let header = SignatureHeader::parse(header)?;
    if now.abs_diff(header.timestamp) > tolerance_s {
        return Err(SignatureError::OutsideTolerance);
    }
    let mac = signed_payload_mac(secret, header.timestamp, body);
    let matches = header.signatures.iter().any(|candidate| {
        // A value that is not hex cannot match; `verify_slice` compares in constant time.
        hex::decode(candidate).is_ok_and(|code| mac.clone().verify_slice(&code).is_ok())
    });
    if matches { Ok(()) } else { Err(SignatureError::Mismatch) }
}

/// A tenant's signing secret: the lowercase hex of HMAC-SHA256(key = master, message = tenant).
///
/// The result is itself used as a secret string (its UTF-8 bytes are the HMAC key), which is
/// what `GET /v1/webhook-secret` hands to the tenant.
pub fn tenant_secret(master: &str, tenant: &str) -> String {
    let mut mac = new_mac(master);
    mac.update(tenant.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The MAC over `"<t>.<raw body>"`, ready to finalise or verify.
fn signed_payload_mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = new_mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

fn new_mac(secret: &str) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python:
    // hmac.new(key, msg, hashlib.sha256).hexdigest()
    const BODY: &[u8] = br#"{"id":"job"}"#;
    const BODY_MAC: &str = "efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d";

    #[test]
    fn sign_matches_known_vectors() {
        assert_eq!(sign("whsec_test", 1_700_000_000, BODY), format!("t=1700000000,v1={BODY_MAC}"));
        // The timestamp and the dot are signed even for an empty body and secret.
        assert_eq!(
            sign("", 0, b""),
            "t=0,v1=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"
        );
        assert_eq!(
            sign("k", -5, b"x"),
            "t=-5,v1=bb37629728762e2c6ee7834ab2032390a78036f097a83c7e352a333cc28f5c2a"
        );
        assert_eq!(
            sign("clé", 1, "ünï".as_bytes()),
            "t=1,v1=80e64049d7373bd8df5bb184da83471484389240a6a1fa8afcf7ce3b3f394f5b"
        );
    }

    #[test]
    fn tenant_secret_matches_known_vectors() {
        assert_eq!(
            tenant_secret("master-secret", "acme"),
            "29fb51eb0d387bd3720de243e5750d86a769f951fd4ff7cec383fa2a9e632b4c"
        );
        assert_eq!(
            tenant_secret("master-secret", "globex"),
            "de605b241dff6b2b273f0719b9b4eca3ebe8e342361054a2f6010b1b5882d3f3"
        );
        assert_eq!(
            tenant_secret("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"
        );
    }

    #[test]
    fn a_tenant_secret_signs_as_its_hex_string() {
        let secret = tenant_secret("master-secret", "acme");
        assert_eq!(
            sign(&secret, 1_700_000_000, b"{}"),
            "t=1700000000,v1=f3969bb1e106bb5a457bca91d4c76c850f359eab1f8aac1c9ca6fc8e1443de7b"
        );
    }

    #[test]
    fn verify_accepts_a_fresh_signature() {
        let header = sign("whsec_test", 1_700_000_000, BODY);
        assert_eq!(verify("whsec_test", &header, BODY, 1_700_000_000, 300), Ok(()));
        assert_eq!(verify("whsec_test", &header, BODY, 1_700_000_300, 300), Ok(()));
        assert_eq!(verify("whsec_test", &header, BODY, 1_699_999_700, 300), Ok(()));
    }

    #[test]
    fn verify_accepts_any_of_several_v1_values_and_ignores_other_schemes() {
        let header = format!("t=1700000000, v1={}, v0=zz, v1={BODY_MAC}", "00".repeat(32));
        assert_eq!(verify("whsec_test", &header, BODY, 1_700_000_000, 300), Ok(()));
        let header = format!("t=1700000000,v1=not-hex,v1={BODY_MAC}");
        assert_eq!(verify("whsec_test", &header, BODY, 1_700_000_000, 300), Ok(()));
    }

    #[test]
    fn verify_refuses_wrong_secret_body_or_timestamp() {
        let header = sign("whsec_test", 1_700_000_000, BODY);
        let now = 1_700_000_000;
        assert_eq!(verify("other", &header, BODY, now, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify("whsec_test", &header, b"{}", now, 300), Err(SignatureError::Mismatch));
        // The timestamp is part of what is signed: moving it breaks the signature.
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert_eq!(verify("whsec_test", &moved, BODY, now, 300), Err(SignatureError::Mismatch));
        // A truncated signature never matches.
        let short = &header[..header.len() - 2];
        assert_eq!(verify("whsec_test", short, BODY, now, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn verify_refuses_old_and_future_timestamps() {
        let header = sign("whsec_test", 1_700_000_000, BODY);
        for now in [1_700_000_301, 1_699_999_699] {
            assert_eq!(
                verify("whsec_test", &header, BODY, now, 300),
                Err(SignatureError::OutsideTolerance)
            );
        }
    }

    #[test]
    fn verify_refuses_malformed_headers() {
        let v1 = format!("v1={BODY_MAC}");
        for header in [
            String::new(),
            v1.clone(),
            "t=1700000000".to_owned(),
            format!("t=soon,{v1}"),
            format!("t=1700000000,t=1700000000,{v1}"),
            format!("t=1700000000;{v1}"),
        ] {
            assert_eq!(
                verify("whsec_test", &header, BODY, 1_700_000_000, 300),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }

    #[test]
    fn parse_keeps_every_v1_value_in_order() {
        let header = SignatureHeader::parse(" t=-5 ,v1=aa,v0=bb,v1=cc").unwrap();
        assert_eq!(header, SignatureHeader { timestamp: -5, signatures: vec!["aa", "cc"] });
        assert_eq!(SignatureHeader::parse("t=1,v2=aa"), Err(SignatureError::Malformed));
        assert_eq!(SignatureHeader::parse("t=1,v1"), Err(SignatureError::Malformed));
    }

    #[test]
    fn errors_read_as_sentences_for_the_receiver() {
        assert_eq!(SignatureError::Malformed.to_string(), "the signature header is malformed");
        assert_eq!(
            SignatureError::OutsideTolerance.to_string(),
            "the signature timestamp is outside the tolerance"
        );
        assert_eq!(SignatureError::Mismatch.to_string(), "no signature matches");
    }
}
