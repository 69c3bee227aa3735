//! Every error code of the contract, as a problem document, and the request id.

use progimage_tests::{TestApp, TestOptions, assert_problem, fixture};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn upload_checks_in_order() {
    let app = TestApp::spawn_with(TestOptions::default().arg("max-upload-bytes", "100000")).await;
    // 1. a content type we do not take
    assert_problem(
        app.upload_raw(fixture("images/wine.jpg"), "text/plain").await,
        415,
        "unsupported_media_type",
    )
    .await;
    // 3. empty, unrecognisable, unsupported, mismatched
    assert_problem(app.upload_raw(Vec::new(), "image/png").await, 422, "invalid_image").await;
    assert_problem(
        app.upload_raw(fixture("hostile/not-an-image.txt"), "application/octet-stream").await,
        422,
        "invalid_image",
    )
    .await;
    assert_problem(
        app.upload_raw(fixture("hostile/photoshop.psd"), "application/octet-stream").await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        app.upload_raw(fixture("images/wine.jpg"), "image/png").await,
        415,
        "media_type_mismatch",
    )
    .await;
    // 4. over the byte limit: from Content-Length, and while streaming without one
    let big = vec![0u8; 100_001];
    assert_problem(app.upload_raw(big.clone(), "image/png").await, 413, "payload_too_large").await;
    let chunks = futures::stream::iter(
        big.chunks(10_000).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let streamed = app
        .request(Method::POST, "/v1/images")
        .header("content-type", "image/png")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_problem(streamed, 413, "payload_too_large").await;
    // 4. the pixel limit, judged from the header: a decompression bomb costs nothing
    let started = std::time::Instant::now();
    let bomb = assert_problem(
        app.upload_raw(fixture("hostile/bomb-60000x60000.png"), "image/png").await,
        422,
        "image_too_large",
    )
    .await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "bomb refused from its header");
    assert!(bomb["detail"].as_str().unwrap().contains("60000"));
    // 5. bytes that do not fully decode
    assert_problem(
        app.upload_raw(fixture("hostile/truncated.jpg"), "image/jpeg").await,
        422,
        "invalid_image",
    )
    .await;
    assert_problem(
        app.upload_raw(fixture("hostile/truncated.png"), "image/png").await,
        422,
        "invalid_image",
    )
    .await;
    assert_problem(
        app.upload_raw(fixture("hostile/corrupted.png"), "image/png").await,
        422,
        "invalid_image",
    )
    .await;
    let listed: serde_json::Value = app.get("/v1/images").await.json().await.unwrap();
    assert!(listed["images"].as_array().unwrap().is_empty(), "nothing refused was stored");
}

#[tokio::test]
async fn pixel_limit_is_configurable() {
    let app = TestApp::spawn_with(TestOptions::default().arg("max-pixels", "10000")).await;
    assert_problem(
        app.upload_raw(fixture("images/wine.jpg"), "image/jpeg").await,
        422,
        "image_too_large",
    )
    .await;
    let small = app.upload_fixture("images/sample.png").await;
    let id = small["id"].as_str().unwrap();
    // Outputs obey the limit too.
    assert_problem(app.variant(id, "png", "w=200&enlarge=true").await, 422, "image_too_large")
        .await;
}

#[tokio::test]
async fn routing_errors_are_problems() {
    let app = TestApp::spawn().await;
    assert_problem(app.get("/nowhere").await, 404, "not_found").await;
    assert_problem(app.get("/v1/nothing-here").await, 404, "not_found").await;
    let response = app.request(Method::PUT, "/v1/images").send().await.unwrap();
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_string());
    assert_problem(response, 405, "method_not_allowed").await;
    let allow = allow.expect("Allow header");
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let response = app
        .request(Method::POST, "/v1/transform?format=png")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "invalid_json").await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "client-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "client-id-42");
    let response = app
        .request(Method::GET, "/v1/images/nope")
        .header("x-request-id", "has space")
        .send()
        .await
        .unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(generated, "has space");
    let problem = assert_problem(response, 404, "not_found").await;
    assert_eq!(problem["request_id"], generated.as_str());
    let long = "x".repeat(129);
    let response =
        app.request(Method::GET, "/healthz").header("x-request-id", &long).send().await.unwrap();
    assert_ne!(response.headers()["x-request-id"], long.as_str());
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after() {
    let app =
        TestApp::spawn_with(TestOptions::default().arg("workers", "1").arg("queue-depth", "0"))
            .await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    let queries: Vec<String> = (0..6).map(|i| format!("w={}", 300 + i)).collect();
    let requests = queries.iter().map(|query| app.variant(&id, "avif", query));
    let responses = futures::future::join_all(requests).await;
    let mut busy = 0;
    for response in responses {
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().contains_key("retry-after"));
            assert_problem(response, 503, "unavailable").await;
            busy += 1;
        } else {
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    assert!(busy > 0, "some requests found the workers busy");
}
