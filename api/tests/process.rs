//! The real `progimage-api` binary as an operator runs it: killed with SIGKILL mid-job and
//! started again, nothing is lost or done twice; stopped with SIGTERM, it exits in time.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::{free_port, http_client, start, start_logging};

async fn job(client: &reqwest::Client, base: &str, id: &str) -> Value {
    client.get(format!("{base}/v1/jobs/{id}")).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_job_survives_kill_9_and_every_item_is_done_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let client = http_client();
    let mut server = start(data_dir.path(), port).await;
    let photo =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/images/wine.jpg")).unwrap();
    let image: Value = client
        .post(format!("{}/v1/images", server.base))
        .header("content-type", "image/jpeg")
        .body(photo)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items: Vec<Value> = (0..30).map(|_| json!({"image_id": image["id"]})).collect();
    let accepted: Value = client
        .post(format!("{}/v1/jobs", server.base))
        .json(
            &json!({"items": items, "format": "avif", "operations": [{"op": "blur", "sigma": 6}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job_id = accepted["id"].as_str().unwrap().to_string();
    // Mid-job: some items done, others not.
    let started = Instant::now();
    loop {
        let state = job(&client, &server.base, &job_id).await;
        if state["succeeded"].as_u64().unwrap() >= 2 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no progress: {state}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap(); // SIGKILL: no chance to clean up.
    server.child.wait().unwrap();
    let before = {
        drop(server);
        let restarted = start(data_dir.path(), port).await;
        let state = job(&client, &restarted.base, &job_id).await;
        assert!(state["finished_at"].is_null(), "the kill came mid-job: {state}");
        restarted
    };
    let server = before;
    let finished = loop {
        let state = job(&client, &server.base, &job_id).await;
        if !state["finished_at"].is_null() {
            break state;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "the job did not resume: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert_eq!(finished["succeeded"], 30);
    // Every item made exactly one image: no item ran to completion twice.
    let listed: Value = client
        .get(format!("{}/v1/images?limit=1000", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outputs: Vec<&Value> = listed["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|image| image["job_id"] == job_id.as_str())
        .collect();
    assert_eq!(outputs.len(), 30);
    let item_images: std::collections::HashSet<&str> = finished["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["image"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(item_images.len(), 30);
}

#[tokio::test]
async fn sigterm_stops_the_server_within_ten_seconds() {
    let data_dir = tempfile::tempdir().unwrap();
    // A data directory that does not exist yet, as on a fresh machine: the server makes it.
    let fresh = data_dir.path().join("fresh").join("data");
    let mut server = start(&fresh, free_port()).await;
    assert!(fresh.join("progimage.sqlite").exists(), "the database lives in the new directory");
    let started = Instant::now();
    let status =
        Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "clean exit: {exit:?}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running after 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every secret the service is given or hands out stays out of its log (at `debug`, the
/// most verbose level), out of `--help`, and out of error answers.
#[tokio::test]
async fn secrets_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (key, webhook_secret, wrong_key) =
        ("k3y-abcdef-123456", "whsec-7890-zyxw", "wr0ng-k3y-5555");
    let keys = format!("acme:{key}");
    let env = [
        ("PROGIMAGE_API_KEYS", keys.as_str()),
        ("PROGIMAGE_WEBHOOK_SECRET", webhook_secret),
        ("RUST_LOG", "debug"),
    ];
    let port = free_port();
    let mut server = start_logging(dir.path(), port, &env, log.into()).await;
    let client = http_client();
    let base = server.base.clone();
    let bearer = |token: &str| format!("Bearer {token}");

    let refused = client
        .get(format!("{base}/v1/images"))
        .header("authorization", bearer(wrong_key))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(!refused.text().await.unwrap().contains(wrong_key));
    let upload = client
        .post(format!("{base}/v1/images"))
        .header("authorization", bearer(key))
        .header("content-type", "image/png")
        .body(
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/images/logo.png"))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let secret: Value = client
        .get(format!("{base}/v1/webhook-secret"))
        .header("authorization", bearer(key))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tenant_secret = secret["secret"].as_str().expect("the tenant's webhook secret").to_string();
    // A job whose webhook is refused by the SSRF rules, and one that is accepted.
    let job = |webhook: &str| json!({"items": [{"url": "http://127.0.0.1:9/a.png"}], "webhook_url": webhook});
    for webhook in ["http://127.0.0.1:9/hook", "https://example.invalid/hook"] {
        let _ = client
            .post(format!("{base}/v1/jobs"))
            .header("authorization", bearer(key))
            .json(&job(webhook))
            .send()
            .await
            .unwrap();
    }
    // The --help of a configured binary shows no values of secret variables.
    let help = Command::new(env!("CARGO_BIN_EXE_progimage-api"))
        .arg("--help")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(help.contains("PROGIMAGE_API_KEYS"), "{help}");

    Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    server.child.wait().unwrap();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.contains("webhook"), "the run logged its work:\n{logged}");
    for secret in [key, webhook_secret, wrong_key, tenant_secret.as_str()] {
        assert!(!logged.contains(secret), "the log holds a secret ({secret}):\n{logged}");
        assert!(!help.contains(secret), "--help shows a secret ({secret})");
    }
}
