//! Webhook signatures: `ProgImage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`.
//!
//! The signed message is `"<t>.<raw body>"`, so a receiver verifies the exact bytes it got
//! and a replayed delivery is recognised by its old timestamp. Each tenant signs with its own
//! secret derived from the master one, so no tenant can forge another's webhooks.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a `ProgImage-Signature` header was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is not `t=<integer>` followed by at least one `v1=<hex>`.
    #[error("the signature header is malformed")]
    Malformed,
    /// The timestamp is further from now than the tolerance (a replay or a skewed clock).
    #[error("the signature timestamp is outside the tolerance")]
    OutsideTolerance,
    /// No `v1` value matches the body and secret.
    #[error("no signature matches")]
    Mismatch,
}

/// The `ProgImage-Signature` header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let code = signed_payload_mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(code))
}

/// Checks a `ProgImage-Signature` header against `body`, accepting it when any of its `v1`
/// values matches and its timestamp is within `tolerance_s` seconds of `now` (either side).
///
/// Several `v1` values let a sender sign with an old and a new secret while rotating.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(SignatureError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => candidates.push(value),
            // Other schemes (a future v2) are ignored so receivers keep working across upgrades.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(timestamp) > tolerance_s.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance);
    }
    let mac = signed_payload_mac(secret, timestamp, body);
    let matches = candidates.iter().any(|candidate| {
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
}
