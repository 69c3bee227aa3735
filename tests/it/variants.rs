//! Variants: made once, stored, served from storage, shared by equivalent spellings.

use progimage_tests::{TestApp, TestOptions, assert_problem};
use reqwest::{Method, StatusCode};

fn cache(response: &reqwest::Response) -> String {
    response.headers()["x-progimage-cache"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_variant_is_made_once_then_served_from_storage() {
    let app = TestApp::spawn().await;
    let image = app.upload_fixture("images/wine.jpg").await;
    let id = image["id"].as_str().unwrap();

    let first = app.variant(id, "png", "").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(cache(&first), "miss");
    assert_eq!(first.headers()["content-type"], "image/png");
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let first_bytes = first.bytes().await.unwrap();
    let decoded = image::load_from_memory(&first_bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (427, 640));

    let second = app.variant(id, "png", "").await;
    assert_eq!(cache(&second), "hit");
    assert_eq!(second.headers()["etag"], etag.as_str());
    assert_eq!(second.bytes().await.unwrap(), first_bytes);

    let path = format!("/v1/images/{id}.png");
    let not_modified =
        app.request(Method::GET, &path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    let ranged = app.request(Method::GET, &path).header("range", "bytes=0-7").send().await.unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");

    // The extension is case-insensitive and has aliases; the same format even when it is
    // the original's is an encoded output, not the original.
    let upper = app.variant(id, "JPG", "").await;
    assert_eq!(upper.status(), StatusCode::OK);
    assert_eq!(upper.headers()["content-type"], "image/jpeg");
    assert_eq!(cache(&upper), "miss");
    assert_eq!(cache(&app.variant(id, "jpeg", "").await), "hit");
}

#[tokio::test]
async fn head_makes_a_missing_variant() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    let head =
        app.request(Method::HEAD, &format!("/v1/images/{id}.webp?w=50")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(cache(&head), "miss");
    assert_eq!(cache(&app.variant(&id, "webp", "w=50").await), "hit");
}

#[tokio::test]
async fn equivalent_spellings_share_one_variant() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    assert_eq!(cache(&app.variant(&id, "webp", "w=100").await), "miss");
    for query in [
        "ops=resize:width=100",
        "ops=resize:w=100,fit=contain",
        "w=100&fit=cover",
        "w=100&rotate=360",
        "w=100&blur=0",
    ] {
        assert_eq!(cache(&app.variant(&id, "webp", query).await), "hit", "{query}");
    }
    assert_eq!(cache(&app.variant(&id, "webp", "w=100&q=50").await), "miss");
}

#[tokio::test]
async fn concurrent_requests_make_a_variant_once() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    let requests = (0..8).map(|_| app.variant(&id, "avif", "w=200"));
    let responses = futures::future::join_all(requests).await;
    let mut statuses: Vec<String> = responses.iter().map(cache).collect();
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| *s == "miss").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "hit").count(), 7, "{statuses:?}");
}

#[tokio::test]
async fn past_the_cap_variants_bypass_storage() {
    let app = TestApp::spawn_with(TestOptions::default().arg("max-variants-per-image", "1")).await;
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    assert_eq!(cache(&app.variant(&id, "webp", "").await), "miss");
    assert_eq!(cache(&app.variant(&id, "jpeg", "").await), "bypass");
    assert_eq!(cache(&app.variant(&id, "jpeg", "").await), "bypass");
    assert_eq!(cache(&app.variant(&id, "webp", "").await), "hit");
}

#[tokio::test]
async fn bad_paths_and_queries() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    assert_problem(app.variant(&id, "heic", "").await, 404, "unsupported_format").await;
    assert_problem(app.variant(&id, "", "").await, 404, "unsupported_format").await;
    let unknown =
        assert_problem(app.variant(&id, "png", "width=10").await, 400, "invalid_parameter").await;
    assert_eq!(unknown["param"], "width");
    let repeated =
        assert_problem(app.variant(&id, "png", "w=10&w=20").await, 400, "invalid_parameter").await;
    assert_eq!(repeated["param"], "w");
    let both = assert_problem(
        app.variant(&id, "png", "w=10&ops=grayscale").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(both["param"], "ops");
    let original_query =
        assert_problem(app.get(&format!("/v1/images/{id}?w=10")).await, 400, "invalid_parameter")
            .await;
    assert_eq!(original_query["param"], "w");
    // Anything that is not a known id, well-formed or not.
    for path in [
        "/v1/images/not-an-id".to_string(),
        "/v1/images/not-an-id.png".to_string(),
        format!("/v1/images/{}.png", uuid::Uuid::now_v7()),
        format!("/v1/images/{}", id.to_uppercase()),
        format!("/v1/images/{}/metadata", uuid::Uuid::now_v7()),
    ] {
        assert_problem(app.get(&path).await, 404, "not_found").await;
    }
    let missing_mask = uuid::Uuid::now_v7();
    let problem = assert_problem(
        app.variant(&id, "png", &format!("mask={missing_mask}")).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(problem["param"], "mask");
    let malformed_mask =
        assert_problem(app.variant(&id, "png", "mask=abc").await, 400, "invalid_parameter").await;
    assert_eq!(malformed_mask["param"], "mask");
}
