//! The outbound HTTP client: fetches `url` sources and posts webhooks, connecting only to
//! addresses the guard has checked.
//!
//! Host names are resolved by a custom reqwest resolver that checks every address before
//! reqwest sees it, so the address that was judged is the address that is connected to:
//! there is no second lookup for DNS rebinding to slip through. Literal addresses, which
//! reqwest never hands to a resolver, are checked before each request. Redirects are followed
//! here rather than by reqwest so each hop is checked and counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use reqwest::{StatusCode, redirect};
use url::Url;

use super::guard::{Guard, Lookup};
use super::{FetchError, UrlPolicy, install_crypto_provider};
use crate::limits::Limits;

/// Redirects followed by one fetch; one more is a failure.
const MAX_REDIRECTS: usize = 3;

/// The most reserved for a body before its bytes arrive.
const INITIAL_BODY_CAPACITY: u64 = 1024 * 1024;

const USER_AGENT: &str = concat!("ProgImage/", env!("CARGO_PKG_VERSION"));

/// Bounds on one fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchOptions {
    /// Largest body accepted (`PROGIMAGE_MAX_UPLOAD_BYTES`).
    pub max_bytes: u64,
    /// Time for the whole fetch, redirects and body included (`PROGIMAGE_FETCH_TIMEOUT_S`).
    pub timeout: Duration,
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions { max_bytes: Limits::default().max_bytes, timeout: Duration::from_secs(10) }
    }
}

/// A fetched body and what the server said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The whole body, at most the byte limit.
    pub bytes: Bytes,
    /// The `Content-Type` header, when present and readable.
    pub content_type: Option<String>,
    /// The URL the body came from, after redirects.
    pub final_url: Url,
}

/// The HTTP client could not be set up (the TLS configuration failed to load).
#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client")]
pub struct ClientBuildError(#[from] reqwest::Error);

/// The outbound HTTP client; cheap to clone, so build it once at start-up and share it.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    guard: Arc<Guard>,
    options: FetchOptions,
}

/// Resolves with the guard: reqwest only ever sees addresses that passed.
struct GuardedResolver(Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.0);
        Box::pin(async move {
            let addresses = guard.resolve(name.as_str()).await?;
            // Port 0 is replaced by the URL's port.
            let addrs: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

impl HttpClient {
    /// A client that applies `policy` to every URL and address it is given.
    pub fn new(policy: UrlPolicy, options: FetchOptions) -> Result<HttpClient, ClientBuildError> {
        HttpClient::with_guard(Guard { policy, lookup: Lookup::System }, options)
    }

    fn with_guard(guard: Guard, options: FetchOptions) -> Result<HttpClient, ClientBuildError> {
        install_crypto_provider();
        let guard = Arc::new(guard);
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver(Arc::clone(&guard)))
            .redirect(redirect::Policy::none())
            // A proxy would resolve host names itself, out of the guard's sight.
            .no_proxy()
            .user_agent(USER_AGENT)
            .build()?;
        Ok(HttpClient { client, guard, options })
    }

    /// The bounds this client fetches within.
    pub fn options(&self) -> FetchOptions {
        self.options
    }

    /// Checks a URL at submission time without fetching it: scheme, credentials, a literal
    /// address, or every address the host resolves to.
    ///
    /// A host that does not resolve is `Failed`, not `NotAllowed`: whether a source can be
    /// fetched is found out later, per item.
    pub async fn check_url(&self, url: &str) -> Result<(), FetchError> {
        let url = parse_url(url)?;
        if let Some(host) = self.guard.policy.check_url_syntax(&url)? {
            let timeout = self.options.timeout;
            tokio::time::timeout(timeout, self.guard.resolve(host))
                .await
                .map_err(|_| timed_out(timeout))??;
        }
        Ok(())
    }

    /// Checks a URL's scheme, credentials and literal address, without resolving its host
    /// (for the second and later URLs of a host already checked with [`Self::check_url`]).
    pub fn check_url_syntax(&self, url: &str) -> Result<(), FetchError> {
        let url = parse_url(url)?;
        self.guard.policy.check_url_syntax(&url)?;
        Ok(())
    }

    /// GETs `url`, following at most three redirects, each checked like the first URL, and
    /// returns the body if the final answer is 2xx and the body within the byte limit, all
    /// within the timeout.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, FetchError> {
        let url = parse_url(url)?;
        self.guard.policy.check_url_syntax(&url)?;
        let timeout = self.options.timeout;
        tokio::time::timeout(timeout, self.fetch_following_redirects(url))
            .await
            .unwrap_or_else(|_| Err(timed_out(timeout)))
    }

    async fn fetch_following_redirects(&self, mut url: Url) -> Result<Fetched, FetchError> {
        let mut redirects = 0;
        loop {
            let sent = self.client.get(url.clone()).send().await.map_err(request_error);
            let response = if redirects == 0 { sent? } else { sent.map_err(redirect_refusal)? };
            let status = response.status();
            let location = response.headers().get(LOCATION).filter(|_| is_redirect(status));
            let Some(location) = location else {
                if !status.is_success() {
                    return Err(FetchError::Failed {
                        message: format!("the remote server answered {status}"),
                        upstream_status: Some(status.as_u16()),
                    });
                }
                return self.read_body(response, url).await;
            };
            if redirects == MAX_REDIRECTS {
                return Err(FetchError::Failed {
                    message: format!("too many redirects (at most {MAX_REDIRECTS} are followed)"),
                    upstream_status: None,
                });
            }
            url = redirect_target(&url, location)?;
            // Checked like the first URL; a host name is checked when it is resolved.
            self.guard.policy.check_url_syntax(&url).map_err(redirect_refusal)?;
            redirects += 1;
        }
    }

    /// Reads the body, refusing early from `Content-Length` and holding at most the limit
    /// (plus the chunk in hand) while streaming.
    async fn read_body(
        &self,
        mut response: reqwest::Response,
        final_url: Url,
    ) -> Result<Fetched, FetchError> {
        let max_bytes = self.options.max_bytes;
        let declared = response.content_length();
        if declared.is_some_and(|length| length > max_bytes) {
            return Err(FetchError::TooLarge);
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        // Reserve what the server declares, up to a cap: a declared length costs the server
        // nothing, so it must not make the service hold the whole limit while it waits.
        let reserved = declared.unwrap_or(0).min(INITIAL_BODY_CAPACITY);
        let mut body = BytesMut::with_capacity(reserved as usize);
        while let Some(chunk) = response.chunk().await.map_err(request_error)? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched { bytes: body.freeze(), content_type, final_url })
    }

    /// POSTs a JSON body (with `Content-Length`) and returns the answer's status, without
    /// following redirects (a 3xx is returned like any other status) and without reading the
    /// answer's body; for webhooks, where `NotAllowed` means "do not retry".
    pub async fn post_json(
        &self,
        url: &str,
        body: Bytes,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<StatusCode, FetchError> {
        let url = parse_url(url)?;
        self.guard.policy.check_url_syntax(&url)?;
        let request = self
            .client
            .post(url)
            .headers(headers)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
        tokio::time::timeout(timeout, async {
            let response = request.send().await.map_err(request_error)?;
            Ok(response.status())
        })
        .await
        .unwrap_or_else(|_| Err(timed_out(timeout)))
    }
}

fn parse_url(text: &str) -> Result<Url, FetchError> {
    Url::parse(text)
        .map_err(|_| FetchError::NotAllowed("the URL is not a valid absolute URL".into()))
}

/// The statuses whose `Location` a GET follows.
fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The next URL of a redirect chain: `Location` resolved against the current URL.
fn redirect_target(from: &Url, location: &HeaderValue) -> Result<Url, FetchError> {
    let invalid = || FetchError::Failed {
        message: "the remote server sent an invalid redirect".into(),
        upstream_status: None,
    };
    let location = location.to_str().map_err(|_| invalid())?;
    from.join(location).map_err(|_| invalid())
}

/// A refusal met after a redirect names the redirect, so the client can tell the URL it gave
/// was fine.
fn redirect_refusal(error: FetchError) -> FetchError {
    match error {
        FetchError::NotAllowed(reason) => {
            FetchError::NotAllowed(format!("redirected to a URL that is not allowed: {reason}"))
        }
        other => other,
    }
}

fn timed_out(timeout: Duration) -> FetchError {
    FetchError::Failed {
        message: format!("the remote server did not answer within {timeout:?}"),
        upstream_status: None,
    }
}

/// The client-facing error for a failed request: the guard's own refusal when the resolver
/// raised one, else a short description without reqwest's internals (those go to the log).
fn request_error(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = source {
        if let Some(refusal) = current.downcast_ref::<FetchError>() {
            return refusal.clone();
        }
        source = current.source();
    }
    tracing::debug!(error = ?error, "outbound request failed");
    let host = error.url().and_then(Url::host_str).unwrap_or("the remote server");
    let message = if error.is_timeout() {
        format!("{host} did not answer in time")
    } else if error.is_connect() {
        format!("could not connect to {host}")
    } else if error.is_body() || error.is_decode() {
        format!("the response from {host} was cut off or malformed")
    } else {
        format!("the request to {host} failed")
    };
    FetchError::Failed { message, upstream_status: None }
}

#[cfg(test)]
mod tests {
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

        let (message, upstream_status) =
            assert_failed(client.fetch(&server.url("/redirect/4")).await);
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
            let message =
                assert_not_allowed(client.fetch(&server.url(&format!("/to/{target}"))).await);
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
        let message =
            assert_not_allowed(client.fetch(&server.url("/to/http://metadata.test/")).await);
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
        assert_eq!(
            message,
            "the host localhost resolves to an address that is not publicly reachable"
        );
        assert_eq!(server.connections(), 0);
    }

    #[tokio::test]
    async fn malformed_and_non_http_urls_are_refused() {
        let client = client("127.0.0.1");
        for url in ["", "not a url", "/relative/path", "http://", "http://[::1", "ftp://127.0.0.1/"]
        {
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
        for header in [
            "progimage-event: job.finished",
            "content-type: application/json",
            "content-length: 12",
        ] {
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
            client
                .post_json(&server.url("/stall"), body, headers, Duration::from_millis(300))
                .await,
        );
        assert!(message.contains("300ms"), "{message}");
    }
}
