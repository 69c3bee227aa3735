//! Hostile inputs against the real binary: each class is answered with the right problem in
//! bounded time and memory, the process never aborts, and other requests are served
//! meanwhile. Inputs are `fixtures/hostile/*` or made here (mutations, bombs).

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Server, free_port, http_client, start, start_with};
use serde_json::Value;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../fixtures/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn upload(client: &reqwest::Client, server: &Server, bytes: Vec<u8>) -> (u16, Value) {
    let response = client
        .post(format!("{}/v1/images", server.base))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A deterministic stream of positions (xorshift), so a failure names the same mutation.
fn positions(seed: u64, len: usize, count: usize) -> Vec<usize> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % len as u64) as usize
        })
        .collect()
}

#[tokio::test]
async fn corrupt_avifs_never_abort_the_service() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = start(data_dir.path(), free_port()).await;
    let client = http_client();
    let source = fixture("images/pattern.avif");
    // One bit flipped per copy, across the whole file: container and AV1 payload alike.
    for (n, at) in positions(0x5eed_a41f, source.len(), 96).into_iter().enumerate() {
        let mut mutated = source.clone();
        mutated[at] ^= 1 << (n % 8);
        let (status, body) = upload(&client, &server, mutated).await;
        assert!(
            matches!(status, 201 | 415 | 422),
            "mutation {n} (byte {at}) answered {status}: {body}"
        );
        if status == 422 {
            assert!(matches!(body["code"].as_str(), Some("invalid_image" | "image_too_large")));
        }
        assert!(server.alive(), "the process died on mutation {n} (byte {at})");
    }
    let health = client.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn deep_and_expanding_svgs_are_refused_without_harm() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = start(data_dir.path(), free_port()).await;
    let client = http_client();
    for name in ["deep-nesting.svg", "deep-groups.svg", "use-expansion.svg", "entities.svg"] {
        let started = Instant::now();
        let (status, body) = upload(&client, &server, fixture(&format!("hostile/{name}"))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("image_too_large")),
            "{name}: {body}"
        );
        assert!(started.elapsed() < Duration::from_secs(10), "{name} took {:?}", started.elapsed());
        assert!(server.alive(), "{name} killed the process");
    }
    assert!(server.peak_rss() < 300 << 20, "peak RSS {} MiB", server.peak_rss() >> 20);
    // The documents were parsed in sandbox children, which stay in the pool: their peaks
    // are bounded too (the bounds refuse before anything expands).
    let children = server.children_peak_rss();
    assert!(children > 0, "no sandbox child did the parsing");
    assert!(children < 300 << 20, "a sandbox child peaked at {} MiB", children >> 20);
}

#[tokio::test]
async fn svg_filter_bombs_are_refused_in_bounded_time_while_others_are_served() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = start_with(data_dir.path(), free_port(), &[("PROGIMAGE_WORKERS", "2")]).await;
    let client = http_client();
    for name in ["morphology.svg", "turbulence.svg"] {
        // The upload only parses; the render is refused from the filter's estimated cost.
        let (status, image) = upload(&client, &server, fixture(&format!("hostile/{name}"))).await;
        assert_eq!(status, 201, "{name}: {image}");
        let url = format!("{}/v1/images/{}.png", server.base, image["id"].as_str().unwrap());
        let started = Instant::now();
        let bomb = tokio::spawn({
            let client = client.clone();
            async move { client.get(url).send().await.unwrap() }
        });
        // Meanwhile an ordinary conversion is served.
        let (status, photo) = upload(&client, &server, fixture("images/sample.png")).await;
        assert_eq!(status, 201);
        let ordinary = client
            .get(format!("{}/v1/images/{}.jpg?w=32", server.base, photo["id"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(ordinary.status(), 200);
        let response = bomb.await.unwrap();
        assert_eq!(response.status(), 422, "{name}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "image_too_large", "{name}: {body}");
        assert!(started.elapsed() < Duration::from_secs(15), "{name}: {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn an_over_budget_render_is_stopped_at_its_time_limit_and_sigterm_is_prompt() {
    let data_dir = tempfile::tempdir().unwrap();
    // A one-second render budget: a blur over a large canvas costs more than that in a
    // debug or release build alike, but under the filter-cost estimate's bound.
    let mut server =
        start_with(data_dir.path(), free_port(), &[("PROGIMAGE_MAX_RENDER_S", "1")]).await;
    let client = http_client();
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"9000\" height=\"9000\">\
        <filter id=\"f\"><feGaussianBlur stdDeviation=\"40\"/><feGaussianBlur stdDeviation=\"40\"/>\
        <feGaussianBlur stdDeviation=\"40\"/></filter>\
        <rect width=\"9000\" height=\"9000\" fill=\"red\" filter=\"url(#f)\"/></svg>";
    let (status, image) = upload(&client, &server, svg.as_bytes().to_vec()).await;
    assert_eq!(status, 201, "{image}");
    let started = Instant::now();
    let response = client
        .get(format!("{}/v1/images/{}.png", server.base, image["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "image_too_large", "{body}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    // As a job item it fails the same way, once: it is never retried into a loop.
    let started = Instant::now();
    let submitted: Value = client
        .post(format!("{}/v1/jobs", server.base))
        .json(&serde_json::json!({"items": [{"image_id": image["id"]}], "format": "png"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_url = format!("{}/v1/jobs/{}", server.base, submitted["id"].as_str().unwrap());
    let job = loop {
        let job: Value = client.get(&job_url).send().await.unwrap().json().await.unwrap();
        if job["finished_at"].is_string() {
            break job;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "job still running: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["items"][0]["error"]["code"], "image_too_large", "{job}");

    // A render in flight does not hold up SIGTERM.
    let url = format!("{}/v1/images/{}.webp", server.base, image["id"].as_str().unwrap());
    let _in_flight = tokio::spawn({
        let client = client.clone();
        async move { client.get(url).send().await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = Instant::now();
    let pid = server.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    while server.alive() {
        assert!(stopping.elapsed() < Duration::from_secs(10), "still running after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A 1×1 PNG whose `iCCP` chunk inflates to `inflated` bytes of zeros.
fn png_with_icc_bomb(inflated: usize) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let zlib = |data: &[u8], repeat: usize| {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        for _ in 0..repeat {
            encoder.write_all(data).unwrap();
        }
        encoder.finish().unwrap()
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    let mut iccp = b"bomb\0\0".to_vec();
    iccp.extend(zlib(&vec![0; 1 << 20], inflated >> 20));
    chunk(&mut png, b"iCCP", &iccp);
    chunk(&mut png, b"IDAT", &zlib(&[0, 200, 30, 30], 1));
    chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn a_png_metadata_bomb_is_refused_before_it_inflates() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = start(data_dir.path(), free_port()).await;
    let client = http_client();
    let bomb = png_with_icc_bomb(1 << 30);
    assert!(bomb.len() < 2 << 20, "the bomb is small: {} bytes", bomb.len());
    let (status, body) = upload(&client, &server, bomb).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("image_too_large")), "{body}");
    assert!(server.peak_rss() < 300 << 20, "peak RSS {} MiB", server.peak_rss() >> 20);
    // A modest profile chunk is still fine.
    let (status, body) = upload(&client, &server, png_with_icc_bomb(1 << 20)).await;
    assert_eq!(status, 201, "{body}");
}

/// `wine.jpg` padded to about `len` bytes with APP15 segments after its SOI: still a sound
/// JPEG, as large as a test needs.
fn padded_jpeg(len: usize) -> Vec<u8> {
    let mut jpeg = fixture("images/wine.jpg");
    let mut segments = Vec::new();
    while jpeg.len() + segments.len() < len {
        segments.extend_from_slice(&[0xFF, 0xEF, 0xEA, 0x62]);
        segments.resize(segments.len() + 0xEA60, 0);
    }
    jpeg.splice(2..2, segments);
    jpeg
}

#[tokio::test]
async fn multipart_uploads_take_the_byte_limit_not_2_mib() {
    let data_dir = tempfile::tempdir().unwrap();
    let limit = (3 << 20).to_string();
    let server =
        start_with(data_dir.path(), free_port(), &[("PROGIMAGE_MAX_UPLOAD_BYTES", &limit)]).await;
    let client = http_client();
    let post = |bytes: Vec<u8>| {
        let part = reqwest::multipart::Part::bytes(bytes).mime_str("image/jpeg").unwrap();
        let form = reqwest::multipart::Form::new().part("file", part.file_name("photo.jpg"));
        client.post(format!("{}/v1/images", server.base)).multipart(form).send()
    };
    // 2.5 MiB: over axum's default body limit, under ours.
    let response = post(padded_jpeg(5 << 19)).await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    // Over ours: 413 as a problem, answered from the Content-Length while the client is
    // still sending; the connection closes lingeringly, so the client reads the answer
    // instead of a reset (repeated: a reset is a race).
    for _ in 0..5 {
        let response = post(padded_jpeg(7 << 19)).await.unwrap();
        assert_eq!(response.status(), 413);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "payload_too_large", "{body}");
    }
}

#[tokio::test]
async fn accepted_jpegs_stay_processable() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = start(data_dir.path(), free_port()).await;
    let client = http_client();
    let source = fixture("images/wine.jpg");
    // Damage only the entropy-coded data (after the headers), where decoders differ.
    let scan_start = source.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap() + 64;
    let mut accepted = 0;
    for (n, at) in positions(0x0123_4567, source.len() - scan_start - 2, 40).into_iter().enumerate()
    {
        let mut mutated = source.clone();
        mutated[scan_start + at] ^= 0x5a;
        let (status, image) = upload(&client, &server, mutated).await;
        if status != 201 {
            continue;
        }
        accepted += 1;
        for query in ["w=200", "w=100", "w=50"] {
            let response = client
                .get(format!(
                    "{}/v1/images/{}.jpg?{query}",
                    server.base,
                    image["id"].as_str().unwrap()
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "mutation {n}: accepted, but ?{query} failed");
        }
    }
    assert!(accepted > 0, "no mutation was accepted: the test proves nothing");
    assert!(server.alive());
}

#[tokio::test]
async fn small_hostile_cases_get_problem_documents() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = start(data_dir.path(), free_port()).await;
    let client = http_client();
    // A path that does not decode as UTF-8 names nothing: 404 as a problem.
    let response = client.get(format!("{}/v1/images/%ff%fe", server.base)).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    // A root after 4 KiB of prolog is still an SVG.
    let (status, body) = upload(&client, &server, fixture("hostile/late-root.svg")).await;
    assert_eq!(status, 201, "{body}");
    // A BMP header over 65535 px a side is too large, not malformed.
    let (status, body) = upload(&client, &server, fixture("hostile/bmp-wide.bmp")).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("image_too_large")), "{body}");
}

/// Sends `request` on a fresh connection and reads the answer until the server closes it.
async fn raw_exchange(server: &Server, request: &[u8]) -> (String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // The server may answer (and close) before it has read everything: ignore write errors.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .ok();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full answer");
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON body: {text}"));
    (head.to_string(), body)
}

#[tokio::test]
async fn requests_refused_before_routing_get_problem_documents() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = start(data_dir.path(), free_port()).await;
    let long_target = format!("GET /v1/images/{} HTTP/1.1\r\nhost: x\r\n\r\n", "a".repeat(70_000));
    let many_fields: String = (0..150).map(|i| format!("x-field-{i}: {i}\r\n")).collect();
    let huge_field = format!("x-big: {}\r\n", "b".repeat(600_000));
    let cases = [
        (long_target.into_bytes(), 414, "uri_too_long"),
        (
            format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{many_fields}\r\n").into_bytes(),
            431,
            "headers_too_large",
        ),
        (
            format!("GET /healthz HTTP/1.1\r\nhost: x\r\n{huge_field}\r\n").into_bytes(),
            431,
            "headers_too_large",
        ),
        (b"GET /healthz HTTP/1.1\r\nbad header\r\n\r\n".to_vec(), 400, "malformed_request"),
    ];
    for (request, status, code) in cases {
        let (head, body) = raw_exchange(&server, &request).await;
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
        assert!(head.contains("content-type: application/problem+json"), "{head}");
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["status"], status);
        let id = body["request_id"].as_str().unwrap();
        assert!(head.contains(&format!("x-request-id: {id}")), "{head}");
    }
    // Ordinary requests on ordinary connections are untouched.
    let response = http_client().get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(server.alive());
}
