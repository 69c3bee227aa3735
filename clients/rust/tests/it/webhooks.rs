//! Webhook signatures: known vectors, and a real delivery verified with the tenant's secret.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use progimage_client::{
    JobRequest, UploadOptions, WebhookError, sign_webhook, verify_webhook, verify_webhook_at,
};

use crate::harness::{Server, png};

const TOLERANCE: Duration = Duration::from_secs(300);

/// The deliveries a receiver got: headers and raw body.
type Deliveries = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

// Expected values computed independently with Python:
// hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
const VECTORS: [(&str, i64, &[u8], &str); 4] = [
    (
        "whsec_test",
        1_700_000_000,
        br#"{"id":"job"}"#,
        "efaabbdc3f13d4ef4c66646bc55b20549c774be986532e72dfc433e26946a21d",
    ),
    ("", 0, b"", "b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"),
    ("k", -5, b"x", "bb37629728762e2c6ee7834ab2032390a78036f097a83c7e352a333cc28f5c2a"),
    (
        "cl\u{e9}",
        1,
        "\u{fc}n\u{ef}".as_bytes(),
        "80e64049d7373bd8df5bb184da83471484389240a6a1fa8afcf7ce3b3f394f5b",
    ),
];

#[test]
fn signatures_match_known_vectors() {
    for (secret, timestamp, body, mac) in VECTORS {
        let header = format!("t={timestamp},v1={mac}");
        assert_eq!(sign_webhook(secret, timestamp, body), header);
        assert_eq!(verify_webhook_at(body, &header, secret, TOLERANCE, timestamp), Ok(()));
    }
}

#[test]
fn verification_refuses_what_it_must() {
    let (secret, t, body, mac) = VECTORS[0];
    let at = |header: &str, now: i64| verify_webhook_at(body, header, secret, TOLERANCE, now);
    let good = format!("t={t},v1={mac}");
    // Tolerance holds either side of now, inclusive.
    assert_eq!(at(&good, t + 300), Ok(()));
    assert_eq!(at(&good, t - 300), Ok(()));
    assert_eq!(at(&good, t + 301), Err(WebhookError::OutsideTolerance));
    // Another body, secret or timestamp does not match.
    assert_eq!(verify_webhook_at(b"{}", &good, secret, TOLERANCE, t), Err(WebhookError::Mismatch));
    assert_eq!(verify_webhook_at(body, &good, "other", TOLERANCE, t), Err(WebhookError::Mismatch));
    assert_eq!(at(&format!("t={},v1={mac}", t + 1), t), Err(WebhookError::Mismatch));
    // Truncated or non-hex signatures never match.
    assert_eq!(at(&format!("t={t},v1={}", &mac[..62]), t), Err(WebhookError::Mismatch));
    assert_eq!(at(&format!("t={t},v1=zz"), t), Err(WebhookError::Mismatch));
    // One matching value among several is enough (secret rotation); unknown schemes skipped.
    assert_eq!(at(&format!("t={t},v1=00,v2=abc,v1={mac}"), t), Ok(()));
    for malformed in
        ["", "v1=abc", &format!("t={t}"), "t=x,v1=ab", &format!("t={t},t={t},v1={mac}")]
    {
        assert_eq!(at(malformed, t), Err(WebhookError::Malformed), "{malformed:?}");
    }
}

#[tokio::test]
async fn a_delivered_webhook_verifies_with_the_tenant_secret() {
    let received = Deliveries::default();
    let seen = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push((headers, body.to_vec()));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let server =
        Server::start_with(&[("allow-urls", "127.0.0.1"), ("api-keys", "acme:k1,globex:k2")]).await;
    let acme = server.client().with_api_key("k1");
    let image = acme.upload_bytes(png(8, 8), &UploadOptions::new()).await.unwrap();
    let request = JobRequest::new().image(image.id).webhook_url(format!("http://{receiver}/hook"));
    let submitted = acme.jobs().create(&request, None).await.unwrap();
    acme.jobs().wait(submitted.id(), Duration::from_secs(60)).await.unwrap();

    let mut delivery = None;
    for _ in 0..200 {
        if let Some(first) = received.lock().unwrap().first() {
            delivery = Some(first.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (headers, body) = delivery.expect("the webhook arrives");
    let header = headers["progimage-signature"].to_str().unwrap();
    let secret = acme.webhook_secret().await.unwrap();
    assert_eq!(verify_webhook(&body, header, &secret, TOLERANCE), Ok(()));
    let other = server.client().with_api_key("k2").webhook_secret().await.unwrap();
    assert_eq!(verify_webhook(&body, header, &other, TOLERANCE), Err(WebhookError::Mismatch));
    let job: progimage_client::Job = serde_json::from_slice(&body).unwrap();
    assert_eq!(job.id, submitted.id());
    assert_eq!(job.items.len(), 1);
}
