//! API keys, tenants and the operations endpoints.

use hmac::{Hmac, KeyInit, Mac};
use progimage_tests::{TestApp, TestOptions, assert_problem, fixture};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::Sha256;

async fn keyed_app() -> TestApp {
    TestApp::spawn_with(
        TestOptions::default()
            .arg("api-keys", "acme:s3cr3t,globex:t0ps3cr3t,acme:second-key")
            .arg("webhook-secret", "master-secret"),
    )
    .await
}

#[tokio::test]
async fn keys_guard_v1_and_tenants_are_isolated() {
    let mut app = keyed_app().await;
    assert_problem(app.get("/v1/images").await, 401, "unauthorized").await;
    assert_problem(app.get("/v1/unknown-route").await, 401, "unauthorized").await;
    app.api_key = Some("wrong".into());
    assert_problem(app.get("/v1/images").await, 401, "unauthorized").await;
    for open in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert_eq!(app.get(open).await.status(), StatusCode::OK, "{open}");
    }

    app.api_key = Some("s3cr3t".into());
    let image = app.upload_fixture("images/sample.png").await;
    let id = image["id"].as_str().unwrap().to_string();
    let response = app.get(&format!("/v1/images/{id}")).await;
    assert_eq!(response.headers()["cache-control"], "private, max-age=31536000, immutable");
    // A tenant may have several keys.
    app.api_key = Some("second-key".into());
    assert_eq!(app.get(&format!("/v1/images/{id}")).await.status(), StatusCode::OK);

    // Another tenant's id is a 404, never a 403.
    app.api_key = Some("t0ps3cr3t".into());
    assert_problem(app.get(&format!("/v1/images/{id}")).await, 404, "not_found").await;
    assert_problem(app.variant(&id, "png", "").await, 404, "not_found").await;
    assert_problem(
        app.request(Method::DELETE, &format!("/v1/images/{id}")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    let listed: Value = app.get("/v1/images").await.json().await.unwrap();
    assert!(listed["images"].as_array().unwrap().is_empty());
    // Nor can it use the other tenant's image as a mask.
    let own = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    assert_problem(app.variant(&own, "png", &format!("mask={id}")).await, 404, "not_found").await;
}

#[tokio::test]
async fn each_tenant_has_its_own_webhook_secret() {
    let mut app = keyed_app().await;
    let expected = |tenant: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"master-secret").unwrap();
        mac.update(tenant.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    };
    app.api_key = Some("s3cr3t".into());
    let acme: Value = app.get("/v1/webhook-secret").await.json().await.unwrap();
    assert_eq!(acme["secret"], expected("acme"));
    app.api_key = Some("t0ps3cr3t".into());
    let globex: Value = app.get("/v1/webhook-secret").await.json().await.unwrap();
    assert_eq!(globex["secret"], expected("globex"));
}

#[tokio::test]
async fn open_mode_signs_with_a_generated_master_that_survives_restarts() {
    let app = TestApp::spawn().await;
    let first: Value = app.get("/v1/webhook-secret").await.json().await.unwrap();
    let secret = first["secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 32);
    let state = app.stop().await;
    let app = TestApp::spawn_in(state, TestOptions::default()).await;
    let second: Value = app.get("/v1/webhook-secret").await.json().await.unwrap();
    assert_eq!(second["secret"], secret.as_str());
}

#[tokio::test]
async fn operations_endpoints() {
    let app = TestApp::spawn().await;
    let health: Value = app.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["database"], "ok");
    assert_eq!(ready["checks"]["storage"], "ok");
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    app.variant(&id, "webp", "").await;
    let metrics = app.get("/metrics").await;
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("progimage_variants_total"), "{text}");
    let openapi: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    let _ = fixture("images/sample.png");
}
