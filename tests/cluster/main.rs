//! The distributed set-up as an operator runs it: one API process and two worker processes
//! on loopback, over Postgres, RabbitMQ and S3 (or a shared directory when no S3 endpoint
//! is given). A worker killed with SIGKILL mid-job and a RabbitMQ restarted mid-job lose
//! nothing, and no item is done twice; `/readyz` reports the broker's outage. A database
//! failing for more deliveries than the retry policy allows strands no item: the item
//! succeeds once the database is back, or is recorded `failed` on its last attempt, and
//! the job ends with its webhook. Postgres and the S3 server going away mid-job (every
//! connection dropped and new ones refused, through a relay the test cuts) lose nothing:
//! uploads meanwhile answer 503, readiness says which dependency is down, every item ends
//! exactly once and every upload acknowledged before is still served.
//!
//! The services come from `progimage_tests::services`, as for the distributed suite: the
//! given ones (`scripts/services` prints them), else containers when Docker answers, else
//! the local Postgres and RabbitMQ. Without any the tests say so on stderr and skip, except
//! under `CI`, where that is a failure. The restart test drives the local broker with
//! `rabbitmqctl stop_app` / `start_app`, so it runs only when RabbitMQ is on loopback and
//! `rabbitmqctl` can reach it.
//!
//! The processes are this test binary itself, started again with `PROGIMAGE_CLUSTER_ROLE`
//! set to `api` or `worker`: it then runs exactly what `progimage-api`'s and
//! `progimage-worker`'s `main` run (parse the environment, log, serve until a signal).
//! That keeps the test free of a second build of the binaries with other features.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use progimage_tests::relay::Relay;
use progimage_tests::services::host_port;
use progimage_tests::{Services, TestState, services, skip};
use serde_json::{Value, json};

/// Items per job: enough that a kill or a broker restart lands mid-job.
const ITEMS: usize = 40;

/// How long a job may take to end once nothing stands in its way.
const PATIENCE: Duration = Duration::from_secs(240);

/// The role a re-executed copy of this binary plays.
const ROLE: &str = "PROGIMAGE_CLUSTER_ROLE";

fn main() -> std::process::ExitCode {
    match std::env::var(ROLE).as_deref() {
        Ok("api") => serve_api(),
        Ok("worker") => serve_worker(),
        _ => run_tests(),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Standard error: the harness keeps each process's stderr as its log.
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// What `progimage-api`'s `main` does.
fn serve_api() -> std::process::ExitCode {
    let config = <progimage_api::Config as clap::Parser>::parse_from(["progimage-api"]);
    serve(progimage_api::run(config))
}

/// What `progimage-worker`'s `main` does.
fn serve_worker() -> std::process::ExitCode {
    let config = <progimage_worker::Config as clap::Parser>::parse_from(["progimage-worker"]);
    serve(progimage_worker::run(config))
}

/// Logs, then runs a process's main future to its end.
fn serve(run: impl std::future::Future<Output = anyhow::Result<()>>) -> std::process::ExitCode {
    init_tracing();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    match runtime.block_on(run) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

type TestFn = fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

/// A small runner in place of libtest's (this binary also serves as the processes): runs
/// the tests named on the command line (all without), one at a time, and fails if any did.
fn run_tests() -> std::process::ExitCode {
    let tests: [(&str, TestFn); 5] = [
        ("a_database_outage_mid_job_loses_nothing", || {
            Box::pin(outage_mid_job_loses_nothing(Dependency::Database))
        }),
        ("a_storage_outage_mid_job_loses_nothing", || {
            Box::pin(outage_mid_job_loses_nothing(Dependency::Storage))
        }),
        ("a_failing_database_never_strands_an_item", || {
            Box::pin(a_failing_database_never_strands_an_item())
        }),
        ("a_worker_killed_mid_job_loses_nothing_and_repeats_nothing", || {
            Box::pin(a_worker_killed_mid_job_loses_nothing_and_repeats_nothing())
        }),
        ("a_rabbitmq_restart_mid_job_loses_nothing", || {
            Box::pin(a_rabbitmq_restart_mid_job_loses_nothing())
        }),
    ];
    let filters: Vec<String> =
        std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    let mut failed = Vec::new();
    for (name, test) in tests {
        if !filters.is_empty() && !filters.iter().any(|filter| name.contains(filter.as_str())) {
            continue;
        }
        println!("test {name} ...");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(test());
        }));
        drop(runtime);
        match outcome {
            Ok(()) => println!("test {name} ... ok"),
            Err(_) => {
                println!("test {name} ... FAILED");
                failed.push(name);
            }
        }
    }
    if failed.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        println!("failed: {failed:?}");
        std::process::ExitCode::FAILURE
    }
}

/// A child process, killed when dropped; its stderr goes to a file the test can read.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One api process and its workers over one test's database, storage and queue prefix.
struct Cluster {
    state: TestState,
    env: Vec<(String, String)>,
    base: String,
    client: reqwest::Client,
    api: Option<Process>,
    workers: Vec<Process>,
    spawned: usize,
}

impl Cluster {
    /// Starts the api and `workers` worker processes of one thread each, all with
    /// `extra_env` besides the services' settings.
    async fn start(
        services: &'static Services,
        workers: usize,
        extra_env: &[(&str, &str)],
    ) -> Cluster {
        Cluster::start_through(services, workers, extra_env, None).await
    }

    /// Like [`Cluster::start`], with the processes reaching `dependency` through `relay`.
    async fn start_through(
        services: &'static Services,
        workers: usize,
        extra_env: &[(&str, &str)],
        relay: Option<(Dependency, &Relay)>,
    ) -> Cluster {
        progimage_core::net::install_crypto_provider();
        // Its storage is the services' S3, else a directory every process shares.
        let state = TestState::new_distributed(services).await;
        let mut env = vec![
            ("DATABASE_URL".to_string(), state.database_url.clone().expect("a database")),
            ("AMQP_URL".into(), services.amqp.clone()),
            ("PROGIMAGE_AMQP_PREFIX".into(), state.amqp_prefix.clone().expect("a prefix")),
            ("PROGIMAGE_STORAGE".into(), state.storage_url.clone().expect("a storage")),
            ("PROGIMAGE_WORKERS".into(), "1".into()),
            ("RUST_LOG".into(), "info,progimage_core=debug".into()),
        ];
        env.extend(services.s3_env());
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        if let Some((dependency, relay)) = relay {
            let name = dependency.variable();
            for (key, value) in env.iter_mut().filter(|(key, _)| key == name) {
                *value = relay.url(value);
                println!("  {key} through the relay: {value}");
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut api_env = env.clone();
        api_env.push(("PROGIMAGE_LISTEN".into(), format!("127.0.0.1:{port}")));
        api_env.push(("PROGIMAGE_DATA_DIR".into(), state.data_dir.path().display().to_string()));
        let api = spawn("api", &api_env, &state.data_dir.path().join("api.log"));
        let mut cluster = Cluster {
            env,
            state,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            api: Some(api),
            workers: Vec::new(),
            spawned: 0,
        };
        for _ in 0..workers {
            cluster.spawn_worker();
        }
        cluster.wait_ready().await;
        cluster
    }

    fn spawn_worker(&mut self) {
        let log = self.state.data_dir.path().join(format!("worker-{}.log", self.spawned));
        self.spawned += 1;
        self.workers.push(spawn("worker", &self.env, &log));
    }

    /// Waits until `/readyz` answers `status` and returns its body.
    async fn wait_readiness(&self, status: u16) -> Value {
        let started = Instant::now();
        loop {
            if let Ok(response) = self.client.get(format!("{}/readyz", self.base)).send().await
                && response.status() == status
            {
                return response.json().await.unwrap();
            }
            assert!(started.elapsed() < PATIENCE, "/readyz never answered {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(response) = self.client.get(format!("{}/readyz", self.base)).send().await
                && response.status().is_success()
            {
                return;
            }
            if let Some(exit) = self.api.as_mut().and_then(|api| api.child.try_wait().unwrap()) {
                panic!("progimage-api exited ({exit}):\n{}", self.api.as_ref().unwrap().log());
            }
            assert!(started.elapsed() < Duration::from_secs(60), "progimage-api is not ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn upload(&self, fixture: &str) -> String {
        let bytes = std::fs::read(fixture_path(fixture)).expect("fixture");
        let response = self
            .client
            .post(format!("{}/v1/images", self.base))
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "upload");
        let image: Value = response.json().await.unwrap();
        image["id"].as_str().unwrap().to_string()
    }

    /// Submits a job of `items` conversions of `image_id` heavy enough to take a while.
    async fn submit(&self, image_id: &str, items: usize) -> String {
        let items: Vec<Value> = (0..items).map(|_| json!({ "image_id": image_id })).collect();
        self.submit_body(json!({
            "items": items,
            "operations": [{"op": "blur", "sigma": 4}, {"op": "rotate", "degrees": 90}],
            "format": "webp",
        }))
        .await
    }

    async fn submit_body(&self, body: Value) -> String {
        let response =
            self.client.post(format!("{}/v1/jobs", self.base)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 202, "submit: {}", response.text().await.unwrap());
        let job: Value = response.json().await.unwrap();
        job["id"].as_str().unwrap().to_string()
    }

    /// The job as the API reports it, or `None` while the API cannot read it (its
    /// database is the one away).
    async fn job_while_down(&self, id: &str) -> Option<Value> {
        let response = self.client.get(format!("{}/v1/jobs/{id}", self.base)).send().await.unwrap();
        if response.status() == 200 { response.json().await.ok() } else { None }
    }

    async fn job(&self, id: &str) -> Value {
        let response = self.client.get(format!("{}/v1/jobs/{id}", self.base)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn wait_for_progress(&self, id: &str, succeeded: u64) -> Value {
        let started = Instant::now();
        loop {
            let job = self.job(id).await;
            if job["succeeded"].as_u64().unwrap() >= succeeded {
                return job;
            }
            assert!(started.elapsed() < PATIENCE, "no progress: {job}\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn wait_for_end(&self, id: &str) -> Value {
        let started = Instant::now();
        loop {
            let job = self.job(id).await;
            if !job["finished_at"].is_null() {
                return job;
            }
            assert!(started.elapsed() < PATIENCE, "the job did not end: {job}\n{}", self.logs());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Checks an ended job: every item succeeded, and made exactly one stored image.
    async fn assert_done_once(&self, job: &Value, items: usize) {
        assert_eq!(job["status"], "succeeded", "{job}\n{}", self.logs());
        assert_eq!(job["succeeded"], items, "{job}");
        let job_id = job["id"].as_str().unwrap();
        let outputs: HashSet<String> = job["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                assert_eq!(item["status"], "succeeded", "{item}");
                item["image"]["id"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(outputs.len(), items, "one output image per item");
        let listed: Value = self
            .client
            .get(format!("{}/v1/images?limit=1000", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let stored: Vec<String> = listed["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|image| image["job_id"] == job_id)
            .map(|image| image["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(stored.len(), items, "no item stored a second image");
        assert_eq!(stored.into_iter().collect::<HashSet<_>>(), outputs);
        // Each output is really there, in the storage every process shares.
        for id in outputs.iter().take(3) {
            let response =
                self.client.get(format!("{}/v1/images/{id}", self.base)).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let bytes = response.bytes().await.unwrap();
            let decoded = image::load_from_memory(&bytes).expect("a decodable output");
            assert!(decoded.width() > 0);
        }
    }

    fn logs(&self) -> String {
        let mut logs = String::new();
        for (name, process) in self
            .api
            .iter()
            .map(|api| ("api", api))
            .chain(self.workers.iter().map(|w| ("worker", w)))
        {
            let log = process.log();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            logs += &format!("--- {name} (last lines)\n");
            for line in tail.into_iter().rev() {
                logs += line;
                logs.push('\n');
            }
        }
        logs
    }
}

/// Starts this binary again in `role` (`api` or `worker`).
fn spawn(role: &str, env: &[(String, String)], log: &Path) -> Process {
    let file = std::fs::File::create(log).expect("log file");
    let child = Command::new(std::env::current_exe().expect("this binary"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(ROLE, role)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|error| panic!("start the {role} process: {error}"));
    Process { child, log: log.to_path_buf() }
}

async fn a_worker_killed_mid_job_loses_nothing_and_repeats_nothing() {
    let services = match services().await {
        Ok(services) => services,
        Err(why) => return skip("a_worker_killed_mid_job_loses_nothing_and_repeats_nothing", &why),
    };
    let mut cluster = Cluster::start(services, 2, &[]).await;
    let image = cluster.upload("wine.jpg").await;
    let job_id = cluster.submit(&image, ITEMS).await;
    // Wait until the first worker has finished an item and so holds the next one
    // unacknowledged, then kill it without notice.
    let started = Instant::now();
    while !cluster.workers[0].log().contains("item succeeded") {
        assert!(
            started.elapsed() < PATIENCE,
            "the first worker never finished an item:\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    cluster.wait_for_progress(&job_id, 4).await;
    let mut victim = cluster.workers.remove(0);
    victim.kill_9();
    let at_kill = cluster.job(&job_id).await;
    assert!(at_kill["finished_at"].is_null(), "the kill came mid-job: {at_kill}");
    let job = cluster.wait_for_end(&job_id).await;
    cluster.assert_done_once(&job, ITEMS).await;
}

/// Restarts the local RabbitMQ application; started again when dropped, whatever happens.
struct BrokerOutage;

impl BrokerOutage {
    fn begin() -> BrokerOutage {
        rabbitmqctl("stop_app");
        BrokerOutage
    }
}

impl Drop for BrokerOutage {
    fn drop(&mut self) {
        rabbitmqctl("start_app");
        let _ = Command::new("rabbitmqctl").args(["await_startup", "--timeout", "60"]).status();
    }
}

fn rabbitmqctl(command: &str) {
    let status = Command::new("rabbitmqctl")
        .arg(command)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|error| panic!("rabbitmqctl {command}: {error}"));
    assert!(status.success(), "rabbitmqctl {command} failed");
}

/// Why this test cannot restart the broker, if it cannot.
fn broker_not_restartable(services: &Services) -> Option<String> {
    if services.source == progimage_tests::Source::Containers {
        return Some(
            "RabbitMQ runs in a container here, not under this machine's rabbitmqctl".into(),
        );
    }
    let amqp = services.amqp_address();
    if !amqp.starts_with("127.0.0.1:") {
        return Some(format!("RabbitMQ at {amqp} is not on this machine"));
    }
    match Command::new("rabbitmqctl")
        .arg("status")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => None,
        Ok(_) => Some("rabbitmqctl cannot reach the local node".into()),
        Err(error) => Some(format!("no rabbitmqctl: {error}")),
    }
}

async fn a_rabbitmq_restart_mid_job_loses_nothing() {
    let test = "a_rabbitmq_restart_mid_job_loses_nothing";
    let services = match services().await {
        Ok(services) => services,
        Err(why) => return skip(test, &why),
    };
    if let Some(why) = broker_not_restartable(services) {
        return skip(test, &why);
    }
    // A short sweep, so that items submitted while the broker is down are published soon
    // after it is back.
    let cluster = Cluster::start(services, 2, &[("PROGIMAGE_SWEEP_EVERY_S", "2")]).await;
    let image = cluster.upload("wine.jpg").await;
    let running = cluster.submit(&image, ITEMS).await;
    cluster.wait_for_progress(&running, 3).await;
    let during = {
        let _outage = BrokerOutage::begin();
        let at_stop = cluster.job(&running).await;
        assert!(at_stop["finished_at"].is_null(), "the restart came mid-job: {at_stop}");
        // Readiness tells a load balancer the truth: the queue is down, the rest is fine.
        let readiness = cluster.wait_readiness(503).await;
        assert_eq!(readiness["checks"]["queue"], "unavailable", "{readiness}");
        assert_eq!(readiness["checks"]["database"], "ok", "{readiness}");
        // The API still takes jobs: committed to the database, published once it can be.
        let during = cluster.submit(&image, 10).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        during
    };
    let readiness = cluster.wait_readiness(200).await;
    assert_eq!(readiness["checks"]["queue"], "ok", "{readiness}");
    let job = cluster.wait_for_end(&running).await;
    cluster.assert_done_once(&job, ITEMS).await;
    let job = cluster.wait_for_end(&during).await;
    cluster.assert_done_once(&job, 10).await;
}

/// Webhook requests as received: the signature header and the body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook receiver on loopback: keeps every request's signature header and body.
struct Receiver {
    url: String,
    received: Received,
    _server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start() -> Receiver {
        let received = Received::default();
        let kept = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let signature = headers
                        .get("progimage-signature")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    kept.lock().unwrap().push((signature, body.to_vec()));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, received, _server: server }
    }

    /// Waits for the webhook of job `id`, checks its signature and returns its body.
    async fn webhook_of(&self, id: &str, secret: &str) -> Value {
        let started = Instant::now();
        loop {
            let found = self.received.lock().unwrap().iter().find_map(|(signature, body)| {
                let parsed: Value = serde_json::from_slice(body).ok()?;
                (parsed["id"] == id).then(|| (signature.clone(), body.clone(), parsed))
            });
            if let Some((signature, body, parsed)) = found {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                progimage_core::signature::verify(secret, &signature, &body, now, 300)
                    .expect("a webhook signed with the configured secret");
                return parsed;
            }
            assert!(started.elapsed() < PATIENCE, "no webhook for job {id}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs `sql` on the test's own database (statements separated by `;;`).
async fn execute(database_url: &str, sql: &str) {
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(database_url)
        .await
        .expect("the test database");
    for statement in sql.split(";;").map(str::trim).filter(|statement| !statement.is_empty()) {
        sqlx::Executor::execute(&mut connection, sqlx::AssertSqlSafe(statement.to_string()))
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
}

/// Deliveries one message gets in this test, and the retry delays between them.
const ATTEMPTS: u32 = 3;

async fn a_failing_database_never_strands_an_item() {
    let test = "a_failing_database_never_strands_an_item";
    let services = match services().await {
        Ok(services) => services,
        Err(why) => return skip(test, &why),
    };
    let receiver = Receiver::start().await;
    let secret = "cluster-webhook-secret";
    let attempts = ATTEMPTS.to_string();
    let cluster = Cluster::start(
        services,
        1,
        &[
            ("PROGIMAGE_MAX_ATTEMPTS", attempts.as_str()),
            ("PROGIMAGE_RETRY_DELAYS_MS", "100,200"),
            ("PROGIMAGE_ALLOW_URLS", "127.0.0.1"),
            ("PROGIMAGE_WEBHOOK_SECRET", secret),
        ],
    )
    .await;
    let database = cluster.state.database_url.clone().expect("a database");
    let image = cluster.upload("wine.jpg").await;

    // 1. Claiming the item fails on more deliveries than the policy allows, as when the
    //    database refuses connections for a while. The sequence counts outside the failed
    //    transactions, so the outage ends after ATTEMPTS + 1 claims.
    execute(
        &database,
        &format!(
            "create sequence failed_claims;;
             create function fail_claims() returns trigger language plpgsql as $$
             begin
               if old.status = 'queued' and new.status = 'running' then
                 if nextval('failed_claims') <= {} then
                   raise exception 'injected outage' using errcode = '57P03';
                 end if;
               end if;
               return new;
             end $$;;
             create trigger fail_claims before update on job_items
               for each row execute function fail_claims()",
            ATTEMPTS + 1
        ),
    )
    .await;
    let body = |format: &str| {
        json!({
            "items": [{ "image_id": image }],
            "format": format,
            "webhook_url": receiver.url,
        })
    };
    let stranded = cluster.submit_body(body("png")).await;
    let job = cluster.wait_for_end(&stranded).await;
    assert_eq!(job["status"], "succeeded", "{job}\n{}", cluster.logs());
    let webhook = receiver.webhook_of(&stranded, secret).await;
    assert_eq!(webhook["status"], "succeeded", "{webhook}");
    let worker_log = cluster.workers[0].log();
    assert!(
        worker_log.contains("failed past its attempts without an outcome"),
        "the last attempt parked the message again:\n{}",
        cluster.logs()
    );
    assert!(!worker_log.contains("dead-lettering"), "nothing was dead-lettered");

    // 2. Storing the output fails on every delivery: the last attempt records the item
    //    failed with the database's problem, and the job ends with its webhook.
    execute(
        &database,
        "create function fail_outputs() returns trigger language plpgsql as $$
         begin
           if new.job_id is not null then
             raise exception 'injected outage' using errcode = '57P03';
           end if;
           return new;
         end $$;;
         create trigger fail_outputs before insert on images
           for each row execute function fail_outputs()",
    )
    .await;
    let failing = cluster.submit_body(body("webp")).await;
    let job = cluster.wait_for_end(&failing).await;
    assert_eq!(job["status"], "failed", "{job}\n{}", cluster.logs());
    let item = &job["items"][0];
    assert_eq!(item["status"], "failed", "{item}");
    assert_eq!(item["error"]["code"], "unavailable", "{item}");
    let mut connection =
        <sqlx::PgConnection as sqlx::Connection>::connect(&database).await.unwrap();
    let claims: i64 = sqlx::query_scalar("select attempts from job_items where job_id = $1")
        .bind(&failing)
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(claims, i64::from(ATTEMPTS), "every attempt was used, and no more");
    let webhook = receiver.webhook_of(&failing, secret).await;
    assert_eq!(webhook["status"], "failed", "{webhook}");
    assert_eq!(webhook["items"][0]["error"]["code"], "unavailable", "{webhook}");
}

/// A dependency a test takes away.
#[derive(Clone, Copy, Debug)]
enum Dependency {
    Database,
    Storage,
}

impl Dependency {
    /// The variable that tells the processes where it is.
    fn variable(self) -> &'static str {
        match self {
            Dependency::Database => "DATABASE_URL",
            Dependency::Storage => "AWS_ENDPOINT_URL",
        }
    }

    /// Its name in `/readyz`'s checks.
    fn check(self) -> &'static str {
        match self {
            Dependency::Database => "database",
            Dependency::Storage => "storage",
        }
    }

    /// Where it really is (`host:port`), or why the test cannot take it away.
    fn address(self, services: &Services) -> Result<String, String> {
        match self {
            Dependency::Database => Ok(host_port(&services.postgres, 5432)),
            Dependency::Storage => match &services.s3 {
                Some(s3) => Ok(host_port(&s3.endpoint, 80)),
                None => Err("no S3 server: objects go to a shared directory".into()),
            },
        }
    }
}

/// How long a dependency stays away: longer than a request's wait for a connection and
/// than several retry delays, so work really fails meanwhile.
const OUTAGE: Duration = Duration::from_secs(8);

async fn outage_mid_job_loses_nothing(dependency: Dependency) {
    let test = format!("a_{}_outage_mid_job_loses_nothing", dependency.check());
    let services = match services().await {
        Ok(services) => services,
        Err(why) => return skip(&test, &why),
    };
    let target = match dependency.address(services) {
        Ok(target) => target,
        Err(why) => return skip(&test, &why),
    };
    let relay = Relay::start(&target).await;
    // Retries that outlast the outage, so every item succeeds in the end.
    let env = [("PROGIMAGE_MAX_ATTEMPTS", "30"), ("PROGIMAGE_RETRY_DELAYS_MS", "200,500,1000")];
    let cluster = Cluster::start_through(services, 2, &env, Some((dependency, &relay))).await;
    let kept = cluster.upload("photo.jpg").await;
    let kept_bytes = std::fs::read(fixture_path("photo.jpg")).unwrap();
    let image = cluster.upload("wine.jpg").await;
    let job_id = cluster.submit(&image, ITEMS / 2).await;
    cluster.wait_for_progress(&job_id, 2).await;

    relay.cut();
    let outage_began = Instant::now();
    let at_cut = cluster.job_while_down(&job_id).await;
    // Uploads meanwhile are refused with a problem document, never taken and lost.
    let refused = cluster
        .client
        .post(format!("{}/v1/images", cluster.base))
        .header("content-type", "image/jpeg")
        .body(kept_bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503, "an upload during the outage");
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "unavailable", "{problem}");
    let readiness = cluster.wait_readiness(503).await;
    assert_eq!(readiness["checks"][dependency.check()], "unavailable", "{readiness}");
    if let Some(elapsed) = OUTAGE.checked_sub(outage_began.elapsed()) {
        tokio::time::sleep(elapsed).await;
    }
    relay.restore();

    cluster.wait_readiness(200).await;
    let job = cluster.wait_for_end(&job_id).await;
    if let Some(at_cut) = at_cut {
        assert!(at_cut["finished_at"].is_null(), "the outage came mid-job: {at_cut}");
    }
    cluster.assert_done_once(&job, ITEMS / 2).await;
    // What was acknowledged before the outage is still there, byte for byte.
    let served =
        cluster.client.get(format!("{}/v1/images/{kept}", cluster.base)).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap(), kept_bytes);
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/images").join(name)
}
