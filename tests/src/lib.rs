//! The integration-test harness: a real ProgImage server on a random loopback port, with
//! its own data directory, and verb-named helpers to talk to it over HTTP as a client
//! would.

use std::net::SocketAddr;
use std::path::PathBuf;

use progimage_api::{AppContext, Config};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub mod relay;
pub mod services;
pub use services::{Services, Source, services, services_blocking, skip};

/// Which set-up the suite runs against: `PROGIMAGE_TEST_BACKEND=distributed` runs every
/// test against Postgres, RabbitMQ and an S3-compatible store (with an in-process
/// `progimage-worker`); otherwise the embedded default (SQLite, files, in-process queue).
pub fn distributed() -> bool {
    std::env::var("PROGIMAGE_TEST_BACKEND").is_ok_and(|backend| backend == "distributed")
}

/// Where one test's state lives, so a restarted server finds it again.
#[derive(Debug)]
pub struct TestState {
    pub data_dir: tempfile::TempDir,
    /// Distributed only: the test's own database, storage prefix and queue prefix.
    pub database_url: Option<String>,
    pub storage_url: Option<String>,
    pub amqp_url: Option<String>,
    pub amqp_prefix: Option<String>,
}

impl TestState {
    /// Fresh state: a temp dir, and in the distributed set-up a new database, bucket
    /// prefix and queue prefix.
    pub async fn new() -> TestState {
        if distributed() {
            match services().await {
                Ok(services) => return TestState::new_distributed(services).await,
                Err(why) => skip_suite(&why),
            }
        }
        TestState {
            data_dir: tempfile::tempdir().expect("temp dir"),
            database_url: None,
            storage_url: None,
            amqp_url: None,
            amqp_prefix: None,
        }
    }

    /// Fresh distributed state whatever the suite's set-up: a new database in the services'
    /// Postgres, a prefix in their bucket (or a directory, without S3) and a queue prefix.
    pub async fn new_distributed(services: &Services) -> TestState {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let name = format!("progimage_t_{}", uuid::Uuid::now_v7().simple());
        let admin = services.postgres.clone();
        let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("the test Postgres (PROGIMAGE_TEST_POSTGRES) answers");
        sqlx::Executor::execute(
            &mut connection,
            sqlx::AssertSqlSafe(format!("create database {name}")),
        )
        .await
        .expect("create the test database");
        let (base, _) = admin.rsplit_once('/').expect("a database URL");
        let storage = match &services.s3 {
            Some(s3) => format!("s3://{}/{name}", s3.bucket),
            None => data_dir.path().join("objects").display().to_string(),
        };
        TestState {
            data_dir,
            database_url: Some(format!("{base}/{name}")),
            storage_url: Some(storage),
            amqp_url: Some(services.amqp.clone()),
            amqp_prefix: Some(name),
        }
    }
}

/// The distributed suite was asked for (`PROGIMAGE_TEST_BACKEND=distributed`) and its
/// services are nowhere: say so loudly and end the run, or fail under `CI`.
fn skip_suite(why: &str) -> ! {
    skip("the distributed integration suite", why);
    std::process::exit(0)
}

/// A running server and a client for it. Dropping it stops the server.
pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    /// The key sent as `Authorization: Bearer`, when the app has keys.
    pub api_key: Option<String>,
    pub state: TestState,
    /// The server's own repository, to wait on state no endpoint shows.
    repository: progimage_core::db::Repository,
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

    /// A server with extra config flags, on fresh state.
    pub async fn spawn_with(options: TestOptions) -> TestApp {
        TestApp::spawn_in(TestState::new().await, options).await
    }

    /// A server over existing state (restarts).
    pub async fn spawn_in(state: TestState, options: TestOptions) -> TestApp {
        // The server's logs go with the test's output (shown for failing tests).
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .try_init();
        let mut args = vec![
            "progimage-api".to_string(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            state.data_dir.path().display().to_string(),
        ];
        if let (Some(database), Some(storage), Some(amqp_url), Some(prefix)) =
            (&state.database_url, &state.storage_url, &state.amqp_url, &state.amqp_prefix)
        {
            for (flag, value) in [
                ("--database-url", database),
                ("--storage", storage),
                ("--amqp-url", amqp_url),
                ("--amqp-prefix", prefix),
            ] {
                args.push(flag.into());
                args.push(value.clone());
            }
        }
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
        let repository = context.service.repository().clone();
        let worker =
            match (&state.database_url, &state.storage_url, &state.amqp_url, &state.amqp_prefix) {
                (Some(database), Some(storage), Some(amqp_url), Some(prefix)) => {
                    let mut worker_args = vec![
                        "progimage-worker".to_string(),
                        "--database-url".into(),
                        database.clone(),
                        "--storage".into(),
                        storage.clone(),
                        "--amqp-url".into(),
                        amqp_url.clone(),
                        "--amqp-prefix".into(),
                        prefix.clone(),
                    ];
                    // Both roles take the shared settings (limits, keys, secrets): the
                    // same options reach both.
                    let shared = <progimage_core::config::SharedConfig as clap::Args>::augment_args(
                        clap::Command::new("shared"),
                    );
                    for (name, value) in &options.args {
                        if shared.get_arguments().any(|arg| arg.get_long() == Some(name)) {
                            worker_args.push(format!("--{name}"));
                            worker_args.push(value.clone());
                        }
                    }
                    let config =
                        <progimage_worker::Config as clap::Parser>::parse_from(worker_args);
                    Some(tokio::spawn(progimage_worker::run_until(config, shutdown.clone())))
                }
                _ => None,
            };
        let stop = shutdown.clone();
        let server = tokio::spawn(async move {
            progimage_api::serve(listener, context, async move { stop.cancelled().await })
                .await
                .expect("serve");
            let _ = background.await;
            if let Some(worker) = worker {
                worker.await.expect("worker task").expect("worker");
            }
        });
        TestApp {
            address,
            client: reqwest::Client::new(),
            api_key: None,
            state,
            repository,
            shutdown,
            server: Some(server),
        }
    }

    /// Waits until `count` variants of image `id` are stored (a variant's row is written
    /// after its object), failing after a minute: background work drained, not slept on.
    pub async fn wait_for_variants(&self, id: &str, count: u64) {
        let id = uuid::Uuid::parse_str(id).expect("an image id");
        let started = std::time::Instant::now();
        loop {
            let stored = self.repository.count_variants(id).await.expect("count variants");
            if stored >= count {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "{stored} of {count} variants of {id} stored after a minute"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The directory of stored objects, in the embedded set-up.
    pub fn storage_dir(&self) -> Option<PathBuf> {
        (!distributed()).then(|| self.state.data_dir.path().join("images"))
    }

    /// Stops the server and waits for it, keeping its state for a restart.
    pub async fn stop(mut self) -> TestState {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        let empty = TestState {
            data_dir: tempfile::tempdir().expect("temp dir"),
            database_url: None,
            storage_url: None,
            amqp_url: None,
            amqp_prefix: None,
        };
        std::mem::replace(&mut self.state, empty)
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

/// Whether this process's network namespace has no interface but loopback.
pub fn loopback_only() -> bool {
    std::fs::read_to_string("/proc/net/dev").is_ok_and(|table| {
        table
            .lines()
            .skip(2)
            .filter_map(|line| line.split(':').next())
            .all(|name| name.trim() == "lo")
    })
}

/// For the tests that hand the service private or public addresses (the SSRF cases): they
/// run only inside a loopback-only network namespace, so a regression in the URL guard can
/// never send a request anywhere but loopback. Inside one, returns `true` and the test goes
/// on. Otherwise it runs the calling test again in a fresh namespace (`unshare --net`, with
/// `--map-root-user` when not root), on the embedded set-up (the guard is the same code on
/// both), asserts that it passed there, and returns `false`: the caller returns.
pub fn in_loopback_namespace() -> bool {
    if loopback_only() {
        return true;
    }
    // libtest runs each test on a thread named after it.
    let test = std::thread::current().name().expect("a libtest thread").to_string();
    let exe = std::env::current_exe().expect("the test executable");
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|status| status.lines().any(|line| line.starts_with("Uid:\t0\t")));
    let mut command = std::process::Command::new("unshare");
    if !root {
        command.arg("--map-root-user");
    }
    command
        .args(["--net", "--", "sh", "-c", "ip link set lo up && exec \"$@\"", "sh"])
        .arg(exe)
        .args([test.as_str(), "--exact", "--test-threads=1"])
        .env("PROGIMAGE_TEST_BACKEND", "embedded");
    let output = command.output().expect("unshare (util-linux) runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{test} in a loopback-only namespace: {}\n{stdout}\n{stderr}",
        output.status
    );
    false
}
