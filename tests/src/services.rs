//! Where the distributed tests find Postgres, RabbitMQ and S3, in this order:
//!
//! 1. **Given**: `PROGIMAGE_TEST_POSTGRES` / `PROGIMAGE_TEST_AMQP` (and `AWS_ENDPOINT_URL`
//!    for S3) are set, as `scripts/services` prints them. They are used as they are.
//! 2. **Containers**: nothing is given and a Docker engine answers (`DOCKER_HOST`, else
//!    `/var/run/docker.sock`): Postgres, RabbitMQ and an S3 server (moto) are started with
//!    testcontainers, once per test process, and removed when it exits. They carry the
//!    label `progimage-tests`, so anything a crashed run left behind is easy to find.
//! 3. **Local**: nothing is given, no Docker, but Postgres and RabbitMQ answer on their
//!    standard loopback ports; objects then go to a directory instead of S3.
//! 4. Otherwise the distributed tests cannot run: [`skip`] says so loudly on stderr, and
//!    under `CI` it fails instead.

use std::sync::{Mutex, OnceLock, mpsc};
use std::time::Duration;

/// Where the services came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Given,
    Containers,
    Local,
}

/// An S3-compatible endpoint and the bucket the tests write under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3 {
    pub endpoint: String,
    pub bucket: String,
}

/// The services one test process uses.
#[derive(Debug, Clone)]
pub struct Services {
    pub source: Source,
    /// A Postgres URL whose user may `create database`; tests create theirs beside it.
    pub postgres: String,
    pub amqp: String,
    /// `None`: no S3 server, objects go to a directory every process shares.
    pub s3: Option<S3>,
}

impl Services {
    /// `host:port` of the RabbitMQ broker.
    pub fn amqp_address(&self) -> String {
        host_port(&self.amqp, 5672)
    }

    /// The variables a child process needs to reach the S3 server (the `AWS_*` ones).
    pub fn s3_env(&self) -> Vec<(String, String)> {
        let Some(s3) = &self.s3 else { return Vec::new() };
        let mut env = vec![("AWS_ENDPOINT_URL".to_string(), s3.endpoint.clone())];
        for (name, default) in [
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ] {
            env.push((name.into(), std::env::var(name).unwrap_or_else(|_| default.into())));
        }
        env
    }
}

/// What [`plan`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Use(Source, String, String, Option<S3>),
    StartContainers,
    Skip(String),
}

/// The defaults of a local install (this kind of machine runs both).
pub const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const LOCAL_AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Decides where the services come from, from the environment (`var`), whether a Docker
/// engine answers and whether local Postgres and RabbitMQ answer. Pure, so it is tested.
pub fn plan(
    var: &dyn Fn(&str) -> Option<String>,
    docker: bool,
    local: impl FnOnce() -> Result<(), String>,
) -> Plan {
    let given = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let bucket = given("PROGIMAGE_TEST_BUCKET").unwrap_or_else(|| "progimage-test".into());
    let s3 = given("AWS_ENDPOINT_URL").map(|endpoint| S3 { endpoint, bucket });
    let postgres = given("PROGIMAGE_TEST_POSTGRES");
    let amqp = given("PROGIMAGE_TEST_AMQP");
    if postgres.is_some() || amqp.is_some() {
        return Plan::Use(
            Source::Given,
            postgres.unwrap_or_else(|| LOCAL_POSTGRES.into()),
            amqp.unwrap_or_else(|| LOCAL_AMQP.into()),
            s3,
        );
    }
    if docker {
        return Plan::StartContainers;
    }
    match local() {
        Ok(()) => Plan::Use(Source::Local, LOCAL_POSTGRES.into(), LOCAL_AMQP.into(), s3),
        Err(why) => Plan::Skip(format!(
            "no services given (PROGIMAGE_TEST_POSTGRES, PROGIMAGE_TEST_AMQP), no Docker engine, \
             and {why}; `eval \"$(bash scripts/services)\"` provides them"
        )),
    }
}

/// `host:port` of a service URL (`scheme://user:password@host:port/path`).
pub fn host_port(url: &str, default_port: u16) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix("localhost") {
        Some(rest) => format!("127.0.0.1{rest}"),
        None => host.to_string(),
    };
    if host.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()) {
        host
    } else {
        format!("{host}:{default_port}")
    }
}

fn reachable(address: &str) -> bool {
    use std::net::ToSocketAddrs;
    address.to_socket_addrs().ok().and_then(|mut addresses| addresses.next()).is_some_and(
        |address| std::net::TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok(),
    )
}

/// Whether a Docker engine answers where `DOCKER_HOST` (or the default socket) says.
fn docker_reachable() -> bool {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("tcp://") => reachable(&host_port(&host, 2375)),
        Ok(host) if host.starts_with("unix://") => {
            std::os::unix::net::UnixStream::connect(&host["unix://".len()..]).is_ok()
        }
        Ok(_) => false,
        Err(_) => std::os::unix::net::UnixStream::connect("/var/run/docker.sock").is_ok(),
    }
}

fn local_services() -> Result<(), String> {
    for (name, url, port) in [("Postgres", LOCAL_POSTGRES, 5432), ("RabbitMQ", LOCAL_AMQP, 5672)] {
        let address = host_port(url, port);
        if !reachable(&address) {
            return Err(format!("{name} does not answer on {address}"));
        }
    }
    Ok(())
}

static SERVICES: OnceLock<Result<Services, String>> = OnceLock::new();

/// The services for this process, found or started on first use (blocking).
pub fn services_blocking() -> Result<&'static Services, String> {
    SERVICES
        .get_or_init(|| {
            let var = |name: &str| std::env::var(name).ok();
            match plan(&var, docker_reachable(), local_services) {
                Plan::Use(source, postgres, amqp, s3) => {
                    Ok(Services { source, postgres, amqp, s3 })
                }
                Plan::StartContainers => containers::start(),
                Plan::Skip(why) => Err(why),
            }
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The services for this process, found or started on first use.
pub async fn services() -> Result<&'static Services, String> {
    tokio::task::spawn_blocking(services_blocking).await.expect("the services lookup")
}

/// Says loudly (past the test harness's capture) that `test` did not run and why; under
/// `CI` a test that cannot run is a failure instead.
pub fn skip(test: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{test} cannot run under CI: {why}");
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {test}: {why} ***\n");
}

/// Containers for the services, on a thread of their own that outlives every test's
/// runtime; removed when the process exits.
///
/// The two `unsafe` calls are the test process's own set-up: registering an exit handler,
/// and publishing the S3 settings in the environment the in-process servers read, as the
/// binaries read theirs.
#[allow(unsafe_code)]
mod containers {
    use super::*;
    use testcontainers::core::{IntoContainerPort, WaitFor};
    use testcontainers::runners::AsyncRunner;
    use testcontainers::{ContainerAsync, GenericImage, ImageExt};

    /// Asks the container thread to remove its containers, and hears when it has.
    type Stop = (mpsc::Sender<()>, mpsc::Receiver<()>);

    static STOP: OnceLock<Mutex<Option<Stop>>> = OnceLock::new();

    extern "C" fn remove_at_exit() {
        let Some(stop) = STOP.get() else { return };
        let Some((stop, removed)) = stop.lock().ok().and_then(|mut stop| stop.take()) else {
            return;
        };
        if stop.send(()).is_ok() {
            let _ = removed.recv_timeout(Duration::from_secs(30));
        }
    }

    pub fn start() -> Result<Services, String> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (removed_tx, removed_rx) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("test-containers".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    match run().await {
                        Ok((services, containers)) => {
                            let _ = ready_tx.send(Ok(services));
                            // Wait (off the runtime) for the process to exit, then clean up.
                            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                            for container in containers {
                                let _ = container.rm().await;
                            }
                            let _ = removed_tx.send(());
                        }
                        Err(why) => {
                            let _ = ready_tx.send(Err(why));
                        }
                    }
                });
            })
            .map_err(|error| format!("start the container thread: {error}"))?;
        let services =
            ready_rx.recv().map_err(|_| "the container thread ended early".to_string())??;
        STOP.get_or_init(|| Mutex::new(Some((stop_tx, removed_rx))));
        // SAFETY: `atexit` only records the handler; it runs once, at a normal exit.
        unsafe { libc::atexit(remove_at_exit) };
        // The servers the tests start in this process read the S3 settings from these,
        // like the binaries do. Set once, before any test has a server to read them.
        for (name, value) in services.s3_env() {
            // SAFETY: set while every distributed test waits on `SERVICES` for them, before
            // any server thread reads the environment.
            unsafe { std::env::set_var(name, value) };
        }
        Ok(services)
    }

    async fn run() -> Result<(Services, Vec<ContainerAsync<GenericImage>>), String> {
        let postgres = start_container(
            "Postgres",
            GenericImage::new("postgres", "16-alpine")
                .with_exposed_port(5432.tcp())
                .with_wait_for(WaitFor::message_on_stderr("ready to accept connections")),
            &[("POSTGRES_HOST_AUTH_METHOD", "trust")],
        )
        .await?;
        let rabbitmq = start_container(
            "RabbitMQ",
            GenericImage::new("rabbitmq", "3.13-alpine")
                .with_exposed_port(5672.tcp())
                .with_wait_for(WaitFor::message_on_stdout("Server startup complete")),
            &[],
        )
        .await?;
        let moto = start_container(
            "moto (S3)",
            GenericImage::new("motoserver/moto", "5.2.3")
                .with_exposed_port(5000.tcp())
                .with_wait_for(WaitFor::message_on_stderr("Running on")),
            &[],
        )
        .await?;
        let postgres_at = address(&postgres, 5432).await?;
        let amqp_at = address(&rabbitmq, 5672).await?;
        let s3_at = address(&moto, 5000).await?;
        let services = Services {
            source: Source::Containers,
            postgres: format!("postgres://postgres@{postgres_at}/postgres"),
            amqp: format!("amqp://guest:guest@{amqp_at}/%2f"),
            s3: Some(S3 { endpoint: format!("http://{s3_at}"), bucket: "progimage-test".into() }),
        };
        // The first "ready" of the Postgres image is its set-up server: wait for the real one.
        wait_until_answers("Postgres", || async {
            <sqlx::PgConnection as sqlx::Connection>::connect(&services.postgres)
                .await
                .map(drop)
                .map_err(|error| error.to_string())
        })
        .await?;
        let bucket = format!("{}/progimage-test", services.s3.as_ref().unwrap().endpoint);
        wait_until_answers("moto (S3)", || async {
            let response = reqwest::Client::new()
                .put(&bucket)
                .send()
                .await
                .map_err(|error| error.to_string())?;
            response.error_for_status().map(drop).map_err(|error| error.to_string())
        })
        .await?;
        Ok((services, vec![postgres, rabbitmq, moto]))
    }

    /// Starts `image` labelled with this process, with `env` set.
    async fn start_container(
        what: &str,
        image: GenericImage,
        env: &[(&str, &str)],
    ) -> Result<ContainerAsync<GenericImage>, String> {
        let mut request = image.with_label("progimage-tests", std::process::id().to_string());
        for (name, value) in env {
            request = request.with_env_var(*name, *value);
        }
        request.start().await.map_err(|error| format!("start {what} in Docker: {error}"))
    }

    /// `host:port` where the host reaches `port` of `container`.
    async fn address(
        container: &ContainerAsync<GenericImage>,
        port: u16,
    ) -> Result<String, String> {
        let host = container.get_host().await.map_err(|error| error.to_string())?;
        let port = container.get_host_port_ipv4(port).await.map_err(|error| error.to_string())?;
        Ok(format!("{host}:{port}"))
    }

    async fn wait_until_answers<F, Fut>(what: &str, attempt: F) -> Result<(), String>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let mut last = String::new();
        for _ in 0..120 {
            match attempt().await {
                Ok(()) => return Ok(()),
                Err(error) => last = error,
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(format!("{what} in Docker never answered: {last}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    fn up() -> Result<(), String> {
        Ok(())
    }

    fn down() -> Result<(), String> {
        Err("Postgres does not answer on 127.0.0.1:5432".into())
    }

    #[test]
    fn given_urls_win_over_docker_and_local() {
        let var = env(&[
            ("PROGIMAGE_TEST_POSTGRES", "postgres://u@db:5433/x"),
            ("PROGIMAGE_TEST_AMQP", "amqp://mq:5673/%2f"),
            ("AWS_ENDPOINT_URL", "http://s3:9000"),
        ]);
        let s3 = Some(S3 { endpoint: "http://s3:9000".into(), bucket: "progimage-test".into() });
        assert_eq!(
            plan(&var, true, || panic!("not probed")),
            Plan::Use(
                Source::Given,
                "postgres://u@db:5433/x".into(),
                "amqp://mq:5673/%2f".into(),
                s3
            )
        );
    }

    #[test]
    fn one_given_url_fills_the_other_with_the_local_default() {
        let var = env(&[("PROGIMAGE_TEST_AMQP", "amqp://mq/%2f")]);
        assert_eq!(
            plan(&var, false, down),
            Plan::Use(Source::Given, LOCAL_POSTGRES.into(), "amqp://mq/%2f".into(), None)
        );
    }

    #[test]
    fn empty_values_count_as_not_given() {
        let var = env(&[("PROGIMAGE_TEST_POSTGRES", " "), ("PROGIMAGE_TEST_AMQP", "")]);
        assert_eq!(plan(&var, true, up), Plan::StartContainers);
    }

    #[test]
    fn docker_comes_before_the_local_services() {
        assert_eq!(plan(&env(&[]), true, || panic!("not probed")), Plan::StartContainers);
    }

    #[test]
    fn local_services_without_docker() {
        let var = env(&[("PROGIMAGE_TEST_BUCKET", "b")]);
        assert_eq!(
            plan(&var, false, up),
            Plan::Use(Source::Local, LOCAL_POSTGRES.into(), LOCAL_AMQP.into(), None)
        );
    }

    #[test]
    fn nothing_at_all_is_a_skip_that_says_why_and_how() {
        let Plan::Skip(why) = plan(&env(&[]), false, down) else { panic!("a skip") };
        assert!(why.contains("127.0.0.1:5432"), "{why}");
        assert!(why.contains("scripts/services"), "{why}");
    }

    #[test]
    fn host_port_of_service_urls() {
        assert_eq!(host_port("postgres://postgres@127.0.0.1:5432/postgres", 1), "127.0.0.1:5432");
        assert_eq!(host_port("amqp://guest:guest@localhost/%2f", 5672), "127.0.0.1:5672");
        assert_eq!(host_port("tcp://docker:2376", 2375), "docker:2376");
        assert_eq!(host_port("http://s3.local?x=1", 80), "s3.local:80");
        assert_eq!(host_port("postgres://u:p@db:6543", 5432), "db:6543");
    }
}
