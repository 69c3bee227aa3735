use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

const LIMIT: u64 = 1024;

/// A tiny HTTP/1.1 server on 127.0.0.1 whose answers depend on the path (see `reply`);
/// it counts connections and records each request's head and body.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (counted, recorded) = (Arc::clone(&connections), Arc::clone(&requests));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(socket, port, Arc::clone(&recorded)));
            }
        });
        Server { port, connections, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn answer(mut socket: TcpStream, port: u16, requests: Arc<Mutex<Vec<String>>>) {
    let mut request = Vec::new();
    let mut buffer = [0; 4096];
    let head_end = loop {
        if let Some(at) = request.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
    let body_length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned)
        })
        .map_or(0, |length| length.trim().parse::<usize>().unwrap());
    while request.len() < head_end + body_length {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    requests.lock().unwrap().push(String::from_utf8_lossy(&request).into_owned());
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    // The peer may have given up (a refused redirect, a body over the limit): write
    // errors are expected.
    match reply(&path, port) {
        Reply::Close(bytes) => {
            let _ = socket.write_all(&bytes).await;
            let _ = socket.shutdown().await;
        }
        Reply::Stall(bytes) => {
            let _ = socket.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
    }
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn with_length(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let length = body.len().to_string();
    let mut headers = headers.to_vec();
    headers.push(("Content-Length", &length));
    response(status, &headers, body)
}

enum Reply {
    /// Write these bytes and close the connection.
    Close(Vec<u8>),
    /// Write these bytes and keep the connection open without another byte.
    Stall(Vec<u8>),
}

/// The canned answers.
fn reply(path: &str, port: u16) -> Reply {
    let over_limit = vec![b'x'; LIMIT as usize * 64];
    Reply::Close(match path {
        "/image" => with_length("200 OK", &[("Content-Type", "image/png")], b"PNG bytes"),
        "/exact" => response("200 OK", &[], &vec![b'x'; LIMIT as usize]),
        "/declared-too-large" => {
            // Declares more than the limit but sends little: only an early refusal from
            // Content-Length gives TooLarge here, streaming would see a cut-off body.
            response("200 OK", &[("Content-Length", "100000000")], b"tiny")
        }
        "/streamed-too-large" => response("200 OK", &[], &over_limit),
        "/chunked-too-large" => {
            let mut body = Vec::new();
            for chunk in over_limit.chunks(100) {
                body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                body.extend_from_slice(chunk);
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"0\r\n\r\n");
            response("200 OK", &[("Transfer-Encoding", "chunked")], &body)
        }
        "/stall" => return Reply::Stall(Vec::new()),
        "/slow-body" => {
            // Headers at once, then a body that never ends: the deadline covers it too.
            return Reply::Stall(response("200 OK", &[("Content-Length", "100")], b"partial"));
        }
        "/no-location" => with_length("302 Found", &[], b""),
        "/hook" => with_length("204 No Content", &[], b""),
        _ => {
            if let Some(code) = path.strip_prefix("/status/") {
                with_length(&format!("{code} Whatever"), &[], b"nope")
            } else if let Some(count) = path.strip_prefix("/redirect/") {
                match count.parse::<u32>().unwrap() {
                    0 => with_length("200 OK", &[("Content-Type", "text/plain")], b"done"),
                    count => {
                        let next = format!("/redirect/{}", count - 1);
                        with_length("302 Found", &[("Location", &next)], b"")
                    }
                }
            } else if let Some(target) = path.strip_prefix("/to/") {
                let target = target.replace("PORT", &port.to_string());
                with_length("307 Temporary Redirect", &[("Location", &target)], b"")
            } else {
                with_length("404 Not Found", &[], b"")
            }
        }
    })
}

fn options() -> FetchOptions {
    FetchOptions { max_bytes: LIMIT, timeout: Duration::from_secs(1) }
}

fn client(policy: &str) -> HttpClient {
    HttpClient::new(policy.parse().unwrap(), options()).unwrap()
}

fn assert_not_allowed(result: Result<impl std::fmt::Debug, FetchError>) -> String {
    match result {
        Err(FetchError::NotAllowed(message)) => message,
        other => panic!("expected NotAllowed, got {other:?}"),
    }
}

fn assert_failed(result: Result<impl std::fmt::Debug, FetchError>) -> (String, Option<u16>) {
    match result {
        Err(FetchError::Failed { message, upstream_status }) => (message, upstream_status),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn fetches_a_body_with_its_content_type() {
    let server = Server::start().await;
    let fetched = client("127.0.0.1").fetch(&server.url("/image")).await.unwrap();
    assert_eq!(fetched.bytes, Bytes::from_static(b"PNG bytes"));
    assert_eq!(fetched.content_type.as_deref(), Some("image/png"));
    assert_eq!(fetched.final_url.as_str(), server.url("/image"));
    let request = server.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(request.contains("user-agent: progimage/"), "{request}");
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_passes() {
    let server = Server::start().await;
    let fetched = client("127.0.0.1").fetch(&server.url("/exact")).await.unwrap();
    assert_eq!(fetched.bytes.len() as u64, LIMIT);
    assert_eq!(fetched.content_type, None);
}

#[tokio::test]
async fn follows_three_redirects_and_refuses_a_fourth() {
    let server = Server::start().await;
    let client = client("127.0.0.1");
    let fetched = client.fetch(&server.url("/redirect/3")).await.unwrap();
    assert_eq!(fetched.bytes, Bytes::from_static(b"done"));
    assert_eq!(fetched.final_url.as_str(), server.url("/redirect/0"));
    assert_eq!(server.connections(), 4);

    let (message, upstream_status) = assert_failed(client.fetch(&server.url("/redirect/4")).await);
    assert!(message.contains("too many redirects"), "{message}");
    assert_eq!(upstream_status, None);
    // The fourth redirect is not requested.
    assert_eq!(server.connections(), 8);
}

#[tokio::test]
async fn redirects_to_refused_urls_are_not_followed() {
    let server = Server::start().await;
    let client = client("127.0.0.1");
    for target in [
        "http://127.0.0.2:PORT/image",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:PORT/image",
        "http://0x7f000002:PORT/image",
        "http://user:secret@127.0.0.1:PORT/image",
        "file:///etc/passwd",
    ] {
        let before = server.connections();
        let message = assert_not_allowed(client.fetch(&server.url(&format!("/to/{target}"))).await);
        assert!(message.starts_with("redirected to a URL that is not allowed"), "{message}");
        assert_eq!(server.connections(), before + 1, "{target} was requested");
    }
}

#[tokio::test]
async fn redirects_to_names_resolving_to_refused_addresses_are_not_followed() {
    let server = Server::start().await;
    let (guard, lookups) = Guard::fixed(
        "127.0.0.1",
        &[("metadata.test", &["169.254.169.254"]), ("ok.test", &["127.0.0.1"])],
    );
    let client = HttpClient::with_guard(guard, options()).unwrap();
    let message = assert_not_allowed(client.fetch(&server.url("/to/http://metadata.test/")).await);
    assert_eq!(
        message,
        "redirected to a URL that is not allowed: \
         the host metadata.test resolves to an address that is not publicly reachable"
    );
    assert!(!message.contains("169.254"), "{message}");
    let fetched = client.fetch(&server.url("/to/http://ok.test:PORT/image")).await.unwrap();
    assert_eq!(fetched.final_url.as_str(), format!("http://ok.test:{}/image", server.port));
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connects_to_the_checked_address_after_one_lookup() {
    let server = Server::start().await;
    let (guard, lookups) = Guard::fixed(
        "127.0.0.1",
        &[("images.test", &["127.0.0.1"]), ("rebind.test", &["127.0.0.1", "10.0.0.1"])],
    );
    let client = HttpClient::with_guard(guard, options()).unwrap();
    let url = format!("http://images.test:{}/image", server.port);
    client.check_url(&url).await.unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
    client.fetch(&url).await.unwrap();
    // The fetch looked the name up once more (its own connection), not twice.
    assert_eq!(lookups.load(Ordering::SeqCst), 2);
    // One bad address among good ones refuses the host, before any connection.
    let url = format!("http://rebind.test:{}/image", server.port);
    assert_not_allowed(client.fetch(&url).await);
    assert_not_allowed(client.check_url(&url).await);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn a_non_2xx_answer_fails_with_its_status() {
    let server = Server::start().await;
    let client = client("127.0.0.1");
    for (path, status) in [("/status/404", 404), ("/status/500", 500), ("/no-location", 302)] {
        let (message, upstream_status) = assert_failed(client.fetch(&server.url(path)).await);
        assert_eq!(upstream_status, Some(status), "{path}");
        assert!(message.contains(&status.to_string()), "{message}");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_too_large() {
    let server = Server::start().await;
    let client = client("127.0.0.1");
    for path in ["/declared-too-large", "/streamed-too-large", "/chunked-too-large"] {
        assert_eq!(client.fetch(&server.url(path)).await, Err(FetchError::TooLarge), "{path}");
    }
}

#[tokio::test]
async fn a_stalled_server_fails_within_the_timeout() {
    let server = Server::start().await;
    let client = client("127.0.0.1");
    for path in ["/stall", "/slow-body"] {
        let started = Instant::now();
        let (message, upstream_status) = assert_failed(client.fetch(&server.url(path)).await);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
            "{elapsed:?}"
        );
        assert!(message.contains("did not answer within 1s"), "{message}");
        assert_eq!(upstream_status, None);
    }
}

#[tokio::test]
async fn an_allowed_host_name_allows_what_it_resolves_to() {
    let server = Server::start().await;
    let client = client("localhost");
    let url = format!("http://LocalHost:{}/image", server.port);
    client.check_url(&url).await.unwrap();
    let fetched = client.fetch(&url).await.unwrap();
    assert_eq!(fetched.bytes, Bytes::from_static(b"PNG bytes"));
    assert_eq!(fetched.final_url.host_str(), Some("localhost"));
    // The name allows itself, not the address it resolves to.
    assert_not_allowed(client.fetch(&server.url("/image")).await);
}

#[tokio::test]
async fn local_addresses_are_refused_without_an_allow_list() {
    let server = Server::start().await;
    let client = client("");
    let by_name = format!("http://localhost:{}/image", server.port);
    for url in
        [server.url("/image"), by_name.clone(), format!("http://2130706433:{}/", server.port)]
    {
        assert_not_allowed(client.check_url(&url).await);
        assert_not_allowed(client.fetch(&url).await);
    }
    // The refusal of a name comes from the resolver reqwest connects with.
    let message = assert_not_allowed(client.fetch(&by_name).await);
    assert_eq!(message, "the host localhost resolves to an address that is not publicly reachable");
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn malformed_and_non_http_urls_are_refused() {
    let client = client("127.0.0.1");
    for url in ["", "not a url", "/relative/path", "http://", "http://[::1", "ftp://127.0.0.1/"] {
        assert_not_allowed(client.fetch(url).await);
        assert_not_allowed(client.check_url(url).await);
    }
}

#[tokio::test]
async fn check_url_reports_unresolvable_hosts_as_fetch_failures() {
    let (guard, _) = Guard::fixed("", &[]);
    let client = HttpClient::with_guard(guard, options()).unwrap();
    let (message, _) = assert_failed(client.check_url("https://nowhere.test/a.png").await);
    assert_eq!(message, "could not resolve the host nowhere.test");
}

#[tokio::test]
async fn post_json_sends_the_body_and_returns_the_status_without_following_redirects() {
    let server = Server::start().await;
    let client = client("127.0.0.1");
    let mut headers = HeaderMap::new();
    headers.insert("progimage-event", HeaderValue::from_static("job.finished"));
    let body = Bytes::from_static(br#"{"id":"job"}"#);
    let status = client
        .post_json(&server.url("/hook"), body.clone(), headers.clone(), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::NO_CONTENT);
    let request = server.requests.lock().unwrap()[0].clone();
    assert!(request.starts_with("POST /hook HTTP/1.1\r\n"), "{request}");
    let lowercase = request.to_ascii_lowercase();
    for header in
        ["progimage-event: job.finished", "content-type: application/json", "content-length: 12"]
    {
        assert!(lowercase.contains(header), "{header} missing from {request}");
    }
    assert!(request.ends_with(r#"{"id":"job"}"#), "{request}");

    let status = client
        .post_json(
            &server.url("/redirect/1"),
            body.clone(),
            headers.clone(),
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(server.connections(), 2);

    let refused = client
        .post_json(
            "http://169.254.169.254/hook",
            body.clone(),
            headers.clone(),
            Duration::from_secs(1),
        )
        .await;
    assert_not_allowed(refused);
    let (message, _) = assert_failed(
        client.post_json(&server.url("/stall"), body, headers, Duration::from_millis(300)).await,
    );
    assert!(message.contains("300ms"), "{message}");
}
