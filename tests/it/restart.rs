//! The embedded set-up keeps everything across restarts.

use progimage_tests::{TestApp, TestOptions};
use reqwest::StatusCode;

#[tokio::test]
async fn images_and_variants_survive_a_restart() {
    let app = TestApp::spawn().await;
    let image = app.upload_fixture("images/wine.jpg").await;
    let id = image["id"].as_str().unwrap().to_string();
    let variant = app.variant(&id, "webp", "w=64").await.bytes().await.unwrap();
    let state = app.stop().await;

    let app = TestApp::spawn_in(state, TestOptions::default()).await;
    let metadata: serde_json::Value =
        app.get(&format!("/v1/images/{id}/metadata")).await.json().await.unwrap();
    assert_eq!(metadata, image);
    let again = app.variant(&id, "webp", "w=64").await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["x-progimage-cache"], "hit");
    assert_eq!(again.bytes().await.unwrap(), variant);
}
