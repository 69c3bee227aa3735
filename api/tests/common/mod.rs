//! The real `progimage-api` binary, started as an operator runs it, for the process-level
//! tests: a random loopback port, its own data directory, and `/proc` readings of its memory.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Whether the process is still running (it did not abort).
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The process's peak resident memory so far, in bytes (`VmHWM`).
    pub fn peak_rss(&self) -> u64 {
        peak_rss_of(self.child.id()).expect("the server's /proc entry")
    }

    /// The highest peak resident memory among the server's live child processes (its image
    /// sandboxes, which keep running between tasks), in bytes; 0 with none.
    pub fn children_peak_rss(&self) -> u64 {
        let pid = self.child.id();
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the server's tasks");
        tasks
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("children")).ok())
            .flat_map(|children| {
                children.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<u32>>()
            })
            .filter_map(peak_rss_of)
            .max()
            .unwrap_or(0)
    }
}

/// `VmHWM` of a process, in bytes.
fn peak_rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())?;
    Some(kib * 1024)
}

/// reqwest is built without a bundled TLS provider (the service installs one at start).
pub fn http_client() -> reqwest::Client {
    progimage_core::net::install_crypto_provider();
    reqwest::Client::new()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the binary on `data_dir` and `port` with `env` on top, and waits until healthy.
pub async fn start_with(data_dir: &std::path::Path, port: u16, env: &[(&str, &str)]) -> Server {
    start_logging(data_dir, port, env, Stdio::null()).await
}

/// Like [`start_with`], with the server's log (its standard output) going to `log`.
pub async fn start_logging(
    data_dir: &std::path::Path,
    port: u16,
    env: &[(&str, &str)],
    log: Stdio,
) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_progimage-api"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PROGIMAGE_DATA_DIR", data_dir)
        .env("PROGIMAGE_LISTEN", format!("127.0.0.1:{port}"))
        .env("PROGIMAGE_WORKERS", "1")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(log)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start progimage-api");
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let client = http_client();
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("{}/healthz", server.base)).send().await
            && response.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("progimage-api did not become healthy");
}

pub async fn start(data_dir: &std::path::Path, port: u16) -> Server {
    start_with(data_dir, port, &[]).await
}
