//! `POST /v1/transform`: stateless, nothing stored.

use progimage_tests::{TestApp, TestOptions, assert_problem, fixture};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn raw_bodies_are_transformed_and_not_stored() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, "/v1/transform?format=webp&w=100&grayscale=true")
        .header("content-type", "image/jpeg")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/webp");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let decoded = image::load_from_memory(&response.bytes().await.unwrap()).unwrap().to_rgba8();
    assert_eq!(decoded.dimensions(), (100, 150));
    assert!(decoded.pixels().all(|p| p[0].abs_diff(p[1]) <= 2 && p[1].abs_diff(p[2]) <= 2));
    // The format defaults to the source's.
    let response = app
        .request(Method::POST, "/v1/transform?rotate=90")
        .header("content-type", "image/png")
        .body(fixture("images/sample.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    let listed: Value = app.get("/v1/images").await.json().await.unwrap();
    assert!(listed["images"].as_array().unwrap().is_empty(), "nothing stored");
    // The upload checks apply.
    let mismatch = app
        .request(Method::POST, "/v1/transform?format=png")
        .header("content-type", "image/png")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_problem(mismatch, 415, "media_type_mismatch").await;
    let bad_format = app
        .request(Method::POST, "/v1/transform?format=heic")
        .header("content-type", "image/png")
        .body(fixture("images/sample.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(assert_problem(bad_format, 400, "invalid_parameter").await["param"], "format");
}

#[tokio::test]
async fn json_requests_name_a_stored_image_or_a_url() {
    // Hands the service private and public addresses: loopback-only namespace.
    if !progimage_tests::in_loopback_namespace() {
        return;
    }
    let app = TestApp::spawn_with(TestOptions::default()).await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    let response = app
        .request(Method::POST, "/v1/transform")
        .json(&json!({
            "image_id": id,
            "operations": [{"op": "rotate", "degrees": 90}, {"op": "resize", "width": 64, "height": 64, "fit": "cover"}],
            "format": "png"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let decoded = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 64));

    let post = |body: Value| app.request(Method::POST, "/v1/transform").json(&body).send();
    let problem = assert_problem(
        post(json!({"image_id": id, "operations": [{"op": "resize", "width": 1.5}]}))
            .await
            .unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem["param"], "operations[0].width");
    let problem = assert_problem(
        post(json!({"image_id": id, "operations": [{"op": "blur", "sigma": 1, "radius": 2}]}))
            .await
            .unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem["param"], "operations[0].radius");
    let problem = assert_problem(
        post(json!({"image_id": id, "colour": "red"})).await.unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem["param"], "colour");
    assert_problem(
        post(json!({"image_id": "not-a-uuid"})).await.unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    let problem = assert_problem(
        post(json!({"image_id": uuid::Uuid::now_v7()})).await.unwrap(),
        404,
        "not_found",
    )
    .await;
    assert_eq!(problem["param"], "image_id");
    assert_problem(
        post(json!({"image_id": id, "url": "https://example.com/a.png"})).await.unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    assert_problem(post(json!({"operations": []})).await.unwrap(), 400, "invalid_parameter").await;
    let problem = assert_problem(
        post(json!({"url": "http://10.0.0.1/a.png"})).await.unwrap(),
        400,
        "url_not_allowed",
    )
    .await;
    assert_eq!(problem["param"], "url");
    let problem = assert_problem(
        post(json!({"image_id": id, "format": "heic"})).await.unwrap(),
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(problem["param"], "format");
}
