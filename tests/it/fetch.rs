//! Remote sources: fetched under the SSRF rules, streamed under the byte limit.

use std::net::SocketAddr;

use axum::http::{StatusCode as AxumStatus, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use progimage_tests::{TestApp, TestOptions, assert_problem, fixture};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A little origin server on loopback: images, redirects, errors and a stall.
async fn origin() -> SocketAddr {
    let router = axum::Router::new()
        .route(
            "/photos/sunny%20day.jpg",
            get(|| async { ([(header::CONTENT_TYPE, "image/jpeg")], fixture("images/wine.jpg")) }),
        )
        .route(
            "/mislabelled",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], fixture("images/sample.png")) }),
        )
        .route(
            "/hop/{n}",
            get(|axum::extract::Path(n): axum::extract::Path<u32>| async move {
                if n == 0 {
                    Redirect::temporary("/photos/sunny%20day.jpg").into_response()
                } else {
                    Redirect::temporary(&format!("/hop/{}", n - 1)).into_response()
                }
            }),
        )
        .route(
            "/to-metadata",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        )
        .route("/to-loopback", get(|| async { Redirect::temporary("http://127.0.0.2:9/x.png") }))
        .route("/missing", get(|| async { (AxumStatus::NOT_FOUND, "gone") }))
        .route("/huge", get(|| async { vec![0u8; 300_000] }))
        .route(
            "/stall",
            get(|| async {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

async fn upload_url(app: &TestApp, url: &str) -> reqwest::Response {
    app.request(Method::POST, "/v1/images").json(&json!({ "url": url })).send().await.unwrap()
}

#[tokio::test]
async fn fetches_allowed_urls_and_names_them() {
    // Hands the service private and public addresses: loopback-only namespace.
    if !progimage_tests::in_loopback_namespace() {
        return;
    }
    let origin = origin().await;
    let app = TestApp::spawn_with(
        TestOptions::default()
            .arg("allow-urls", "127.0.0.1")
            .arg("max-upload-bytes", "200000")
            .arg("fetch-timeout-s", "2"),
    )
    .await;
    let response = upload_url(&app, &format!("http://{origin}/photos/sunny%20day.jpg")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let image: Value = response.json().await.unwrap();
    assert_eq!(image["format"], "jpeg");
    assert_eq!(image["filename"], "sunny day.jpg");
    // The bytes decide the format, whatever the remote Content-Type.
    let response = upload_url(&app, &format!("http://{origin}/mislabelled")).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.json::<Value>().await.unwrap()["format"], "png");
    // Up to three redirects, each checked.
    assert_eq!(
        upload_url(&app, &format!("http://{origin}/hop/2")).await.status(),
        StatusCode::CREATED
    );
    let too_many = assert_problem(
        upload_url(&app, &format!("http://{origin}/hop/3")).await,
        422,
        "fetch_failed",
    )
    .await;
    assert!(too_many["detail"].as_str().unwrap().contains("redirect"));
    let refused = assert_problem(
        upload_url(&app, &format!("http://{origin}/to-metadata")).await,
        400,
        "url_not_allowed",
    )
    .await;
    assert_eq!(refused["param"], "url");
    assert_problem(
        upload_url(&app, &format!("http://{origin}/to-loopback")).await,
        400,
        "url_not_allowed",
    )
    .await;
    let missing = assert_problem(
        upload_url(&app, &format!("http://{origin}/missing")).await,
        422,
        "fetch_failed",
    )
    .await;
    assert_eq!(missing["upstream_status"], 404);
    assert_problem(
        upload_url(&app, &format!("http://{origin}/huge")).await,
        413,
        "payload_too_large",
    )
    .await;
    let started = std::time::Instant::now();
    assert_problem(upload_url(&app, &format!("http://{origin}/stall")).await, 422, "fetch_failed")
        .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_problem(upload_url(&app, "http://127.0.0.1:1/closed.png").await, 422, "fetch_failed")
        .await;
}

#[tokio::test]
async fn the_ssrf_rules_refuse_internal_addresses() {
    // Hands the service private and public addresses: loopback-only namespace.
    if !progimage_tests::in_loopback_namespace() {
        return;
    }
    let origin = origin().await;
    let app = TestApp::spawn().await;
    for url in [
        format!("http://{origin}/photos/sunny%20day.jpg"),
        "http://localhost/".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://2130706433/".to_string(),
        "http://0177.0.0.1/".to_string(),
        "http://0x7f.1/".to_string(),
        "http://[::1]/".to_string(),
        "http://[::ffff:10.0.0.1]/".to_string(),
        "http://10.1.2.3/".to_string(),
        "http://100.64.0.1/".to_string(),
        "http://user:pass@example.com/".to_string(),
        "ftp://example.com/a.png".to_string(),
        "file:///etc/passwd".to_string(),
    ] {
        let problem = assert_problem(upload_url(&app, &url).await, 400, "url_not_allowed").await;
        assert_eq!(problem["param"], "url", "{url}");
    }
    let not_a_url = assert_problem(
        app.request(Method::POST, "/v1/images").json(&json!({ "url": 42 })).send().await.unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(not_a_url["param"], "url");
    assert_problem(
        app.request(Method::POST, "/v1/images")
            .header("content-type", "application/json")
            .body("[1,")
            .send()
            .await
            .unwrap(),
        400,
        "invalid_json",
    )
    .await;
}
