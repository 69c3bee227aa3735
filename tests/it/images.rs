//! Upload, download, metadata, listing and deletion of originals.

use progimage_tests::{TestApp, assert_problem, fixture};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn upload_raw_then_download_the_original_unchanged() {
    let app = TestApp::spawn().await;
    let bytes = fixture("images/wine.jpg");
    let response = app.upload_raw(bytes.clone(), "image/jpeg").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let image: Value = response.json().await.unwrap();
    let id = image["id"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 7);
    assert_eq!(location, format!("/v1/images/{id}"));
    assert_eq!(image["url"], location);
    assert_eq!(image["format"], "jpeg");
    assert_eq!(image["content_type"], "image/jpeg");
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(427), Some(640)));
    assert_eq!(image["bytes"], bytes.len());
    assert_eq!(image["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(image["filename"], Value::Null);
    assert_eq!(image["source_image_id"], Value::Null);
    assert_eq!(image["job_id"], Value::Null);
    assert!(image["created_at"].as_str().unwrap().ends_with('Z'));

    let response = app.get(&location).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["etag"], format!("\"{}\"", image["sha256"].as_str().unwrap()).as_str());
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);

    let metadata: Value = app.get(&format!("{location}/metadata")).await.json().await.unwrap();
    assert_eq!(metadata, image);
}

#[tokio::test]
async fn conditional_and_range_requests() {
    let app = TestApp::spawn().await;
    let bytes = fixture("images/wine.jpg");
    let image = app.upload_fixture("images/wine.jpg").await;
    let path = image["url"].as_str().unwrap();
    let etag = format!("\"{}\"", image["sha256"].as_str().unwrap());

    let not_modified =
        app.request(Method::GET, path).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(not_modified.headers()["etag"], etag.as_str());

    let partial = app.request(Method::GET, path).header("range", "bytes=0-9").send().await.unwrap();
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(partial.headers()["content-range"], format!("bytes 0-9/{}", bytes.len()).as_str());
    assert_eq!(partial.bytes().await.unwrap().to_vec(), bytes[..10].to_vec());

    let suffix = app.request(Method::GET, path).header("range", "bytes=-5").send().await.unwrap();
    assert_eq!(suffix.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(suffix.bytes().await.unwrap().to_vec(), bytes[bytes.len() - 5..].to_vec());

    let several =
        app.request(Method::GET, path).header("range", "bytes=0-1,4-5").send().await.unwrap();
    assert_eq!(several.status(), StatusCode::OK);
    assert_eq!(several.bytes().await.unwrap().len(), bytes.len());

    let stale = app
        .request(Method::GET, path)
        .header("range", "bytes=0-9")
        .header("if-range", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    let fresh = app
        .request(Method::GET, path)
        .header("range", "bytes=0-9")
        .header("if-range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), StatusCode::PARTIAL_CONTENT);

    let outside = app
        .request(Method::GET, path)
        .header("range", format!("bytes={}-", bytes.len()))
        .send()
        .await
        .unwrap();
    let content_range = outside.headers()["content-range"].to_str().unwrap().to_string();
    assert_eq!(content_range, format!("bytes */{}", bytes.len()));
    assert_problem(outside, 416, "range_not_satisfiable").await;

    let head = app.request(Method::HEAD, path).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-length"], bytes.len().to_string().as_str());
    assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn same_bytes_twice_are_two_images_and_listing_pages_newest_first() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string());
    }
    assert_ne!(ids[0], ids[1]);
    let page: Value = app.get("/v1/images?limit=2").await.json().await.unwrap();
    let listed: Vec<&str> =
        page["images"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(listed, vec![ids[2].as_str(), ids[1].as_str()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value =
        app.get(&format!("/v1/images?limit=2&cursor={cursor}")).await.json().await.unwrap();
    assert_eq!(rest["images"][0]["id"], ids[0].as_str());
    assert_eq!(rest["images"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    let all: Value = app.get("/v1/images").await.json().await.unwrap();
    assert_eq!(all["images"].as_array().unwrap().len(), 3);

    let bad =
        assert_problem(app.get("/v1/images?cursor=nonsense").await, 400, "invalid_parameter").await;
    assert_eq!(bad["param"], "cursor");
    let bad =
        assert_problem(app.get("/v1/images?limit=1001").await, 400, "invalid_parameter").await;
    assert_eq!(bad["param"], "limit");
    let bad = assert_problem(app.get("/v1/images?limit=0").await, 400, "invalid_parameter").await;
    assert_eq!(bad["param"], "limit");
}

#[tokio::test]
async fn delete_removes_the_original_and_every_variant() {
    let app = TestApp::spawn().await;
    let image = app.upload_fixture("images/sample.png").await;
    let id = image["id"].as_str().unwrap();
    assert_eq!(app.variant(id, "webp", "w=10").await.status(), StatusCode::OK);
    let deleted = app.request(Method::DELETE, &format!("/v1/images/{id}")).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&format!("/v1/images/{id}")).await, 404, "not_found").await;
    assert_problem(app.variant(id, "webp", "w=10").await, 404, "not_found").await;
    assert_problem(app.get(&format!("/v1/images/{id}/metadata")).await, 404, "not_found").await;
    let again = app.request(Method::DELETE, &format!("/v1/images/{id}")).send().await.unwrap();
    assert_problem(again, 404, "not_found").await;
    if let Some(storage) = app.storage_dir() {
        let variants = storage.join("variants").join(id);
        assert!(!variants.exists() || std::fs::read_dir(&variants).unwrap().next().is_none());
        assert!(!storage.join("originals").join(id).exists());
    }
}

#[tokio::test]
async fn filenames_come_from_the_query_or_the_disposition() {
    let app = TestApp::spawn().await;
    let named = app
        .request(Method::POST, "/v1/images?filename=holiday.JPG")
        .header("content-type", "image/jpeg")
        .header("content-disposition", "attachment; filename=\"ignored.jpg\"")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), StatusCode::CREATED);
    assert_eq!(named.json::<Value>().await.unwrap()["filename"], "holiday.JPG");

    let disposed = app
        .request(Method::POST, "/v1/images")
        .header("content-type", "application/octet-stream")
        .header("content-disposition", "attachment; filename=\"pic.png\"")
        .body(fixture("images/sample.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(disposed.status(), StatusCode::CREATED);
    assert_eq!(disposed.json::<Value>().await.unwrap()["filename"], "pic.png");

    // With octet-stream, the extension is the declared format.
    let lying = app
        .request(Method::POST, "/v1/images?filename=pic.png")
        .header("content-type", "application/octet-stream")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_problem(lying, 415, "media_type_mismatch").await;

    // Content-Type and extension disagree.
    let disagree = app
        .request(Method::POST, "/v1/images?filename=pic.png")
        .header("content-type", "image/jpeg")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_problem(disagree, 415, "media_type_mismatch").await;

    // An unknown extension is ignored.
    let unknown = app
        .request(Method::POST, "/v1/images?filename=notes.xyz")
        .header("content-type", "image/jpeg")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn multipart_uploads_report_each_part() {
    let app = TestApp::spawn().await;
    let part = |name: &str, content_type: Option<&str>| {
        let part = reqwest::multipart::Part::bytes(fixture(name))
            .file_name(name.rsplit('/').next().unwrap().to_string());
        match content_type {
            Some(content_type) => part.mime_str(content_type).unwrap(),
            None => part,
        }
    };
    let form = reqwest::multipart::Form::new()
        .part("file", part("images/wine.jpg", Some("image/jpeg")))
        .part("file", part("images/sample.png", None));
    let response = app.request(Method::POST, "/v1/images").multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["image"]["format"], "jpeg");
    assert_eq!(items[0]["image"]["filename"], "wine.jpg");
    assert_eq!(items[1]["image"]["format"], "png");
    assert_eq!(items[1]["error"], Value::Null);

    let form = reqwest::multipart::Form::new()
        .part("file", part("images/sample.gif", Some("image/gif")))
        .part("file", part("hostile/not-an-image.txt", None))
        .part("file", part("images/wine.jpg", Some("image/png")));
    let response = app.request(Method::POST, "/v1/images").multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::MULTI_STATUS);
    let body: Value = response.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[0]["image"]["format"], "gif");
    assert_eq!(items[1]["image"], Value::Null);
    assert_eq!(items[1]["error"]["code"], "invalid_image");
    assert_eq!(items[2]["error"]["code"], "media_type_mismatch");
    assert_eq!(items[2]["error"]["status"], 415);

    let form = reqwest::multipart::Form::new().text("note", "no file here");
    let response = app.request(Method::POST, "/v1/images").multipart(form).send().await.unwrap();
    let problem = assert_problem(response, 400, "invalid_parameter").await;
    assert_eq!(problem["param"], "file");
}

#[tokio::test]
async fn eager_variants_are_made_in_the_background() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::POST, "/v1/images?eager=webp,png")
        .header("content-type", "image/jpeg")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    // Wait for the background conversions without asking for them (a GET would make them).
    app.wait_for_variants(&id, 2).await;
    let response = app.variant(&id, "webp", "").await;
    let cache = response.headers()["x-progimage-cache"].to_str().unwrap().to_string();
    assert_eq!(cache, "hit", "the eager webp variant was stored before it was asked for");

    let refused = app
        .request(Method::POST, "/v1/images?eager=webp,heic")
        .header("content-type", "image/jpeg")
        .body(fixture("images/wine.jpg"))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(refused, 400, "invalid_parameter").await;
    assert_eq!(problem["param"], "eager");
    let listed: Value = app.get("/v1/images").await.json().await.unwrap();
    assert_eq!(
        listed["images"].as_array().unwrap().len(),
        1,
        "nothing stored for the refused upload"
    );
}

/// Sends one raw HTTP/1.1 request and returns the response head, lowercased.
async fn raw_head(app: &TestApp, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(app.address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    while !response.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the server closed before answering");
        response.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&response).to_ascii_lowercase()
}

#[tokio::test]
async fn a_refusal_before_the_body_is_read_closes_the_connection_and_says_so() {
    let app = TestApp::spawn().await;
    // Refused from its headers (a type that is no image): the body stays unread.
    let body = vec![b'x'; 64 * 1024];
    let mut request = format!(
        "POST /v1/images HTTP/1.1\r\nhost: test\r\ncontent-type: text/plain\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let head = raw_head(&app, &request).await;
    assert!(head.starts_with("http/1.1 415"), "{head}");
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    // A request without a body keeps its connection.
    let head = raw_head(&app, b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");
}
