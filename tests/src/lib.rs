//! The integration-test harness: a real ProgImage server on a random loopback port, with
//! its own data directory, and verb-named helpers to talk to it over HTTP as a client
//! would.

use std::net::SocketAddr;
use std::path::PathBuf;

use progimage_api::{AppContext, Config};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A running server and a client for it. Dropping it stops the server.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    /// The key sent as `Authorization: Bearer`, when the app has keys.
    pub api_key: Option<String>,
    pub data_dir: tempfile::TempDir,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Settings a test may change from the defaults.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Extra `--flag value` arguments for the config.
    pub args: Vec<(String, String)>,
}

impl TestOptions {
    /// Adds one config flag (`("max-pixels", "1000")`).
    pub fn arg(mut self, name: &str, value: &str) -> TestOptions {
        self.args.push((name.to_string(), value.to_string()));
        self
    }
}

impl TestApp {
    /// An open-mode server with default limits.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(TestOptions::default()).await
    }

    /// A server with extra config flags, in a fresh data directory.
    pub async fn spawn_with(options: TestOptions) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        TestApp::spawn_in(data_dir, options).await
    }

    /// A server over an existing data directory (restarts).
    pub async fn spawn_in(data_dir: tempfile::TempDir, options: TestOptions) -> TestApp {
        let mut args = vec![
            "progimage-api".to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            data_dir.path().display().to_string(),
        ];
        for (name, value) in &options.args {
            args.push(format!("--{name}"));
            args.push(value.clone());
        }
        let config = <Config as clap::Parser>::parse_from(args);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let (context, background) =
            AppContext::build(config, shutdown.clone()).await.expect("build the app");
        let stop = shutdown.clone();
        let server = tokio::spawn(async move {
            progimage_api::serve(listener, context, async move { stop.cancelled().await })
                .await
                .expect("serve");
            let _ = background.await;
        });
        TestApp {
            address,
            client: reqwest::Client::new(),
            api_key: None,
            data_dir,
            shutdown,
            server: Some(server),
        }
    }

    /// Stops the server and waits for it, keeping the data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let directory = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.data_dir, directory)
    }

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// A request builder with the app's key, if any.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match &self.api_key {
            Some(key) => builder.bearer_auth(key),
            None => builder,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.request(reqwest::Method::GET, path).send().await.expect("GET")
    }

    /// `POST /v1/images` with a raw body.
    pub async fn upload_raw(&self, bytes: Vec<u8>, content_type: &str) -> Response {
        self.request(reqwest::Method::POST, "/v1/images")
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("upload")
    }

    /// Uploads a fixture with its format's content type and returns the Image JSON.
    pub async fn upload_fixture(&self, name: &str) -> Value {
        let content_type = content_type_of(name);
        let response = self.upload_raw(fixture(name), content_type).await;
        assert_eq!(response.status(), StatusCode::CREATED, "upload {name}");
        response.json().await.expect("image JSON")
    }

    /// Fetches `/v1/images/{id}.{ext}?{query}` and returns the response.
    pub async fn variant(&self, id: &str, ext: &str, query: &str) -> Response {
        let path = if query.is_empty() {
            format!("/v1/images/{id}.{ext}")
        } else {
            format!("/v1/images/{id}.{ext}?{query}")
        };
        self.get(&path).await
    }

    /// Fetches a variant that must succeed and decodes it.
    pub async fn variant_image(&self, id: &str, ext: &str, query: &str) -> image::DynamicImage {
        let response = self.variant(id, ext, query).await;
        let status = response.status();
        let body = response.bytes().await.expect("body");
        assert_eq!(status, StatusCode::OK, "{ext}?{query}: {}", String::from_utf8_lossy(&body));
        image::load_from_memory(&body).expect("decodable output")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The repository's `fixtures` directory.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("fixture {}: {error}", path.display()))
}

/// The content type of a fixture, from its extension.
pub fn content_type_of(name: &str) -> &'static str {
    let extension = name.rsplit('.').next().unwrap_or("");
    progimage_core::format::ImageFormat::from_name(extension)
        .map_or("application/octet-stream", |format| format.content_type())
}

/// Asserts a response is the problem document of `status` and `code`, with a
/// `request_id` equal to the `x-request-id` header, and returns its JSON.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "status of {text}");
    assert_eq!(content_type, "application/problem+json", "content type of {text}");
    let problem: Value = serde_json::from_str(&text).expect("problem JSON");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status, "{problem}");
    assert_eq!(problem["type"], format!("urn:progimage:problem:{code}"));
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(problem["detail"].as_str().is_some());
    assert!(!request_id.is_empty());
    assert_eq!(problem["request_id"], request_id.as_str());
    problem
}
