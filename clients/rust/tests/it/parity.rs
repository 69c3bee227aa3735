//! The builder and the server's parser agree: for every operation, the builder's canonical
//! text, the equivalent single query parameters and the JSON op form make the same bytes,
//! and share one cached variant.

use progimage_client::{Axis, Fit, Format, Gravity, Mask, Transform, UploadOptions};
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Server, png};

/// `POST /v1/transform` with a raw PNG body and a query; the status and the bytes.
async fn transform_query(
    http: &reqwest::Client,
    server: &Server,
    query: &[(String, String)],
    body: &[u8],
) -> (StatusCode, Vec<u8>) {
    let mut url =
        reqwest::Url::parse(&format!("{}/v1/transform?format=png", server.url())).unwrap();
    url.query_pairs_mut().extend_pairs(query);
    let response = http
        .post(url)
        .header("content-type", "image/png")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn builder_text_params_and_json_agree_with_the_server_for_every_op() {
    let server = Server::start().await;
    let client = server.client();
    let http = reqwest::Client::new();
    let source = png(64, 48);
    let image = client.upload_bytes(source.clone(), &UploadOptions::new()).await.unwrap();
    let mask = client.upload_bytes(png(16, 16), &UploadOptions::new()).await.unwrap();

    let cases = [
        Transform::new().resize(40, 40),
        Transform::new().resize(40, 20).fit(Fit::Cover).gravity(Gravity::North),
        Transform::new().resize(40, 20).fit(Fit::Cover).gravity(Gravity::Smart),
        Transform::new().resize(40, 20).fit(Fit::Fill),
        Transform::new().width(100).enlarge(true),
        Transform::new().height(30).enlarge(false),
        Transform::new().crop(4, 6, 40, 30),
        Transform::new().rotate(90.0),
        Transform::new().rotate(-30.5),
        Transform::new().flip(Axis::Horizontal),
        Transform::new().flip(Axis::Vertical),
        Transform::new().grayscale(),
        Transform::new().blur(1.5),
        Transform::new().sharpen(0.7),
        Transform::new().brightness(-20.0),
        Transform::new().contrast(33.3),
        Transform::new().mask(Mask::Circle),
        Transform::new().mask(Mask::Ellipse),
        Transform::new().mask(Mask::Rounded(8)),
        Transform::new().mask(Mask::Image(mask.id)),
    ];
    for transform in cases {
        let text = transform.ops_text();
        assert!(!text.is_empty());
        // The builder reads its own text back to the same canonical text.
        assert_eq!(Transform::from_ops_text(&text).unwrap().ops_text(), text);

        let ops = vec![("ops".to_string(), text.clone())];
        let (status, by_text) = transform_query(&http, &server, &ops, &source).await;
        assert_eq!(status, StatusCode::OK, "{text}: {}", String::from_utf8_lossy(&by_text));

        let params = transform.step_query().expect("one op is always in the query order");
        let (status, by_params) = transform_query(&http, &server, &params, &source).await;
        assert_eq!(status, StatusCode::OK, "{params:?}: {}", String::from_utf8_lossy(&by_params));
        assert!(by_text == by_params, "{text}: ops= and {params:?} differ");

        let body = json!({
            "image_id": image.id,
            "operations": transform.operations_json(),
            "format": "png",
        });
        let response =
            http.post(format!("{}/v1/transform", server.url())).json(&body).send().await.unwrap();
        let status = response.status();
        let by_json = response.bytes().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}: {}", String::from_utf8_lossy(&by_json));
        assert!(by_text == by_json.as_ref(), "{text}: ops= and JSON {body} differ");

        // The variant made from the single parameters is the one the canonical text names.
        let mut variant =
            reqwest::Url::parse(&format!("{}/v1/images/{}.png", server.url(), image.id)).unwrap();
        variant.query_pairs_mut().extend_pairs(&params);
        let plain = http.get(variant).send().await.unwrap();
        assert_eq!(plain.status(), StatusCode::OK, "{params:?}");
        assert_eq!(plain.headers()["x-progimage-cache"], "miss", "{params:?}");
        let canonical = client.image_url(image.id, &transform.clone().format(Format::Png)).unwrap();
        let again = http.get(canonical).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::OK, "{text}");
        assert_eq!(again.headers()["x-progimage-cache"], "hit", "{text}");
        assert!(again.bytes().await.unwrap() == by_text, "{text}: the variant differs");
    }
}

#[tokio::test]
async fn a_whole_pipeline_and_output_settings_agree_with_the_server() {
    let server = Server::start().await;
    let client = server.client();
    let image = client.upload_bytes(png(64, 48), &UploadOptions::new()).await.unwrap();
    // Steps out of the query order, written by text, then settings beside them.
    let transform = Transform::from_ops_text(
        "rotate:-90 | resize:w=30,h=30,fit=cover,gravity=centre|grayscale|rotate:360",
    )
    .unwrap()
    .format(Format::Webp)
    .lossless(true)
    .background("ff000080")
    .strip(true);
    assert_eq!(transform.ops_text(), "rotate:270|resize:width=30,height=30,fit=cover|grayscale");
    assert!(transform.step_query().is_none());
    let stored = client.download(image.id, &transform).await.unwrap();
    let stateless = client.transform_image(image.id, &transform).await.unwrap();
    assert_eq!(stored.bytes, stateless.bytes);
    assert_eq!(stored.content_type, "image/webp");
    // Output settings that cannot matter (quality beside lossless) name the same variant.
    let same = client.download(image.id, &transform.clone().quality(10)).await.unwrap();
    assert_eq!(same.cache, Some(progimage_client::CacheStatus::Hit));
}
