//! Bulk jobs on the embedded set-up: per-item results, idempotency, cancellation,
//! listing and signed webhooks.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus, header};
use axum::routing::{get, post};
use progimage_core::signature;
use progimage_tests::{TestApp, TestOptions, assert_problem, fixture};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Polls a job until it has finished.
async fn wait_for_job(app: &TestApp, id: &str) -> Value {
    for _ in 0..600 {
        let job: Value = app.get(&format!("/v1/jobs/{id}")).await.json().await.unwrap();
        if !job["finished_at"].is_null() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

async fn submit(app: &TestApp, body: Value) -> reqwest::Response {
    app.request(Method::POST, "/v1/jobs").json(&body).send().await.unwrap()
}

/// An origin serving one image, on loopback.
async fn origin() -> SocketAddr {
    let router = axum::Router::new().route(
        "/cat.png",
        get(|| async { ([(header::CONTENT_TYPE, "image/png")], fixture("images/sample.png")) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

#[tokio::test]
async fn a_job_processes_every_item_and_reports_each() {
    let origin = origin().await;
    let app = TestApp::spawn_with(TestOptions::default().arg("allow-urls", "127.0.0.1")).await;
    let photo = app.upload_fixture("images/wine.jpg").await;
    let photo_id = photo["id"].as_str().unwrap();
    let missing = uuid::Uuid::now_v7().to_string();
    let response = submit(
        &app,
        json!({
            "items": [
                {"image_id": photo_id},
                {"url": format!("http://{origin}/cat.png")},
                {"image_id": missing},
                {"image_id": photo_id, "operations": [{"op": "rotate", "degrees": 90}], "format": "png"},
            ],
            "operations": [{"op": "resize", "width": 100}],
            "format": "webp",
            "quality": 70,
            "metadata": {"batch": 7, "tags": ["a"]}
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["status"], "queued");
    assert_eq!(accepted["total"], 4);
    let id = accepted["id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/v1/jobs/{id}"));
    assert_eq!(accepted["url"], location);

    let job = wait_for_job(&app, &id).await;
    assert_eq!(job["status"], "completed_with_errors", "{job}");
    assert_eq!(
        (job["succeeded"].as_u64(), job["failed"].as_u64(), job["cancelled"].as_u64()),
        (Some(3), Some(1), Some(0))
    );
    assert_eq!(job["metadata"], json!({"batch": 7, "tags": ["a"]}));
    assert_eq!(job["webhook"], Value::Null);
    let items = job["items"].as_array().unwrap();
    assert_eq!(
        items.iter().map(|i| i["index"].as_u64().unwrap()).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );

    let first = &items[0]["image"];
    assert_eq!(items[0]["status"], "succeeded");
    assert_eq!(first["format"], "webp");
    assert_eq!((first["width"].as_u64(), first["height"].as_u64()), (Some(100), Some(150)));
    assert_eq!(first["source_image_id"], photo_id);
    assert_eq!(first["job_id"], id.as_str());
    assert_eq!(items[0]["error"], Value::Null);
    // Outputs are stored images like any other.
    let stored = app.get(first["url"].as_str().unwrap()).await;
    assert_eq!(stored.headers()["content-type"], "image/webp");
    let decoded = image::load_from_memory(&stored.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (100, 150));

    assert_eq!(items[1]["image"]["source_image_id"], Value::Null);
    assert_eq!(items[1]["image"]["format"], "webp");
    assert_eq!(items[1]["image"]["filename"], "cat.webp");

    assert_eq!(items[2]["status"], "failed");
    assert_eq!(items[2]["image"], Value::Null);
    assert_eq!(items[2]["error"]["code"], "not_found");
    assert_eq!(items[2]["error"]["status"], 404);
    assert_eq!(items[2]["error"]["param"], "items[2].image_id");

    // An item's own operations and format replace the job's.
    assert_eq!(items[3]["image"]["format"], "png");
    assert_eq!(
        (items[3]["image"]["width"].as_u64(), items[3]["image"]["height"].as_u64()),
        (Some(640), Some(427))
    );
}

#[tokio::test]
async fn end_statuses_and_listing() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    let ok: Value = submit(&app, json!({"items": [{"image_id": id}], "format": "jpeg"}))
        .await
        .json()
        .await
        .unwrap();
    let bad: Value = submit(&app, json!({"items": [{"image_id": uuid::Uuid::now_v7()}]}))
        .await
        .json()
        .await
        .unwrap();
    let ok = wait_for_job(&app, ok["id"].as_str().unwrap()).await;
    let bad = wait_for_job(&app, bad["id"].as_str().unwrap()).await;
    assert_eq!(ok["status"], "succeeded");
    assert_eq!(bad["status"], "failed");
    // With no format anywhere the output keeps the source's.
    let same: Value =
        submit(&app, json!({"items": [{"image_id": id}]})).await.json().await.unwrap();
    let same = wait_for_job(&app, same["id"].as_str().unwrap()).await;
    assert_eq!(same["items"][0]["image"]["format"], "png");

    let listed: Value = app.get("/v1/jobs?limit=2").await.json().await.unwrap();
    let jobs = listed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[0]["id"], same["id"]);
    assert!(jobs[0].get("items").is_none(), "listings carry no items");
    let cursor = listed["next_cursor"].as_str().unwrap();
    let rest: Value =
        app.get(&format!("/v1/jobs?limit=2&cursor={cursor}")).await.json().await.unwrap();
    assert_eq!(rest["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    let failed: Value = app.get("/v1/jobs?status=failed").await.json().await.unwrap();
    assert_eq!(failed["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(failed["jobs"][0]["id"], bad["id"]);
    assert_problem(app.get("/v1/jobs?status=done").await, 400, "invalid_parameter").await;
    assert_problem(app.get(&format!("/v1/jobs/{}", uuid::Uuid::now_v7())).await, 404, "not_found")
        .await;
    assert_problem(app.get("/v1/jobs/nope").await, 404, "not_found").await;
}

#[tokio::test]
async fn submissions_are_validated_before_anything_is_queued() {
    // Hands the service private and public addresses: loopback-only namespace.
    if !progimage_tests::in_loopback_namespace() {
        return;
    }
    let app = TestApp::spawn().await;
    for (body, param) in [
        (json!({"items": []}), "items"),
        (json!({"items": [{"image_id": "not-a-uuid"}]}), "items[0].image_id"),
        (
            json!({"items": [{"url": "https://example.com/a.png", "image_id": uuid::Uuid::now_v7()}]}),
            "items[0]",
        ),
        (json!({"items": [{"url": "http://127.0.0.1/a.png"}]}), "items[0].url"),
        (json!({"items": [{"url": "ftp://example.com/a.png"}]}), "items[0].url"),
        (
            json!({"items": [{"image_id": uuid::Uuid::now_v7()}], "operations": [{"op": "blur", "sigma": 500}]}),
            "operations[0].sigma",
        ),
        (
            json!({"items": [{"image_id": uuid::Uuid::now_v7(), "format": "heic"}]}),
            "items[0].format",
        ),
        (
            json!({"items": [{"image_id": uuid::Uuid::now_v7()}], "webhook_url": "http://169.254.169.254/hook"}),
            "webhook_url",
        ),
    ] {
        let response = submit(&app, body.clone()).await;
        let status = response.status().as_u16();
        let problem: Value = response.json().await.unwrap();
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["param"], param, "{body}: {problem}");
    }
    let response = app
        .request(Method::POST, "/v1/jobs")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "invalid_json").await;
    let listed: Value = app.get("/v1/jobs").await.json().await.unwrap();
    assert!(listed["jobs"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn idempotency_keys_return_the_same_job() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    let body = json!({"items": [{"image_id": id}], "format": "webp", "metadata": {"a": 1, "b": 2}});
    let send = |body: Value, key: &str| {
        app.request(Method::POST, "/v1/jobs").header("idempotency-key", key).json(&body).send()
    };
    let first = send(body.clone(), "key-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    // The same body in another key order is the same JSON document.
    let reordered: Value = serde_json::from_str(&format!(
        r#"{{"metadata": {{"b": 2, "a": 1}}, "format": "webp", "items": [{{"image_id": "{id}"}}]}}"#
    ))
    .unwrap();
    let again = send(reordered, "key-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert!(again["items"].is_array());
    let other = send(json!({"items": [{"image_id": id}], "format": "png"}), "key-1").await.unwrap();
    assert_problem(other, 409, "idempotency_conflict").await;
    // Concurrent duplicates make one job.
    let racing = futures::future::join_all((0..6).map(|_| send(body.clone(), "key-2"))).await;
    let ids: std::collections::HashSet<String> =
        futures::future::join_all(racing.into_iter().map(|r| async {
            r.unwrap().json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
        }))
        .await
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 1);
    let listed: Value = app.get("/v1/jobs").await.json().await.unwrap();
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cancelling_stops_queued_items_and_keeps_outputs() {
    let app = TestApp::spawn_with(TestOptions::default().arg("workers", "1")).await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    let items: Vec<Value> = (0..30).map(|_| json!({"image_id": id})).collect();
    let accepted: Value = submit(
        &app,
        json!({"items": items, "format": "avif", "operations": [{"op": "blur", "sigma": 8}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let job_id = accepted["id"].as_str().unwrap().to_string();
    // Cancel once the job is under way, so some items are done and the rest still queued.
    for _ in 0..600 {
        let job: Value = app.get(&format!("/v1/jobs/{job_id}")).await.json().await.unwrap();
        if job["succeeded"].as_u64().unwrap() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled =
        app.request(Method::DELETE, &format!("/v1/jobs/{job_id}")).send().await.unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert!(cancelled["cancelled"].as_u64().unwrap() > 0, "{cancelled}");
    let job = wait_for_job(&app, &job_id).await;
    assert_eq!(job["status"], "cancelled");
    let total = job["succeeded"].as_u64().unwrap()
        + job["failed"].as_u64().unwrap()
        + job["cancelled"].as_u64().unwrap();
    assert_eq!(total, 30);
    for item in job["items"].as_array().unwrap() {
        match item["status"].as_str().unwrap() {
            "succeeded" => assert!(item["image"]["id"].is_string()),
            "cancelled" => assert_eq!(item["image"], Value::Null),
            other => panic!("unexpected item status {other}"),
        }
    }
    // A finished job is returned unchanged.
    let again: Value = app
        .request(Method::DELETE, &format!("/v1/jobs/{job_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["finished_at"], job["finished_at"]);
    assert_eq!(again["cancelled"], job["cancelled"]);
}

/// One delivery a webhook receiver saw: its headers and body.
type Delivery = (HeaderMap, Vec<u8>);

/// What a webhook receiver saw.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Delivery>>>);

#[tokio::test]
async fn webhooks_are_signed_and_retried_until_delivered() {
    let received = Received::default();
    let router = {
        let received = received.clone();
        axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let received = received.clone();
                async move {
                    let mut seen = received.0.lock().unwrap();
                    seen.push((headers, body.to_vec()));
                    // The first attempt fails: the service must retry.
                    if seen.len() == 1 {
                        AxumStatus::INTERNAL_SERVER_ERROR
                    } else {
                        AxumStatus::NO_CONTENT
                    }
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let mut app = TestApp::spawn_with(
        TestOptions::default().arg("allow-urls", "127.0.0.1").arg("api-keys", "acme:k1,globex:k2"),
    )
    .await;
    app.api_key = Some("k1".into());
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    let webhook_url = format!("http://{receiver}/hook");
    let accepted: Value =
        submit(&app, json!({"items": [{"image_id": id}], "webhook_url": webhook_url}))
            .await
            .json()
            .await
            .unwrap();
    let job_id = accepted["id"].as_str().unwrap().to_string();
    let mut job = wait_for_job(&app, &job_id).await;
    for _ in 0..100 {
        if job["webhook"]["delivered_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        job = app.get(&format!("/v1/jobs/{job_id}")).await.json().await.unwrap();
    }
    assert_eq!(job["webhook"]["url"], webhook_url.as_str());
    assert_eq!(job["webhook"]["attempts"], 2, "{job}");
    assert_eq!(job["webhook"]["last_status"], 204);
    assert!(job["webhook"]["delivered_at"].is_string());

    let secret: Value = app.get("/v1/webhook-secret").await.json().await.unwrap();
    let secret = secret["secret"].as_str().unwrap();
    let seen = received.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for (attempt, (headers, body)) in seen.iter().enumerate() {
        assert_eq!(headers["progimage-event"], "job.finished");
        assert_eq!(headers["progimage-delivery"], format!("{job_id}:{}", attempt + 1).as_str());
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["content-length"], body.len().to_string().as_str());
        let header = headers["progimage-signature"].to_str().unwrap();
        let now = chrono_now();
        signature::verify(secret, header, body, now, 300).expect("signed with the tenant's secret");
        // Another tenant's secret does not verify it.
        app.api_key = Some("k2".into());
        let other: Value = app.get("/v1/webhook-secret").await.json().await.unwrap();
        assert!(
            signature::verify(other["secret"].as_str().unwrap(), header, body, now, 300).is_err()
        );
        app.api_key = Some("k1".into());
        let delivered: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(delivered["id"], job_id.as_str());
        assert_eq!(delivered["status"], "succeeded");
        assert!(delivered["items"].is_array());
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test]
async fn jobs_belong_to_their_tenant() {
    let mut app =
        TestApp::spawn_with(TestOptions::default().arg("api-keys", "acme:k1,globex:k2")).await;
    app.api_key = Some("k1".into());
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    let accepted: Value =
        submit(&app, json!({"items": [{"image_id": id}]})).await.json().await.unwrap();
    let job_id = accepted["id"].as_str().unwrap().to_string();
    wait_for_job(&app, &job_id).await;
    app.api_key = Some("k2".into());
    assert_problem(app.get(&format!("/v1/jobs/{job_id}")).await, 404, "not_found").await;
    assert_problem(
        app.request(Method::DELETE, &format!("/v1/jobs/{job_id}")).send().await.unwrap(),
        404,
        "not_found",
    )
    .await;
    // Another tenant's image id fails that item, not the submission.
    let accepted: Value =
        submit(&app, json!({"items": [{"image_id": id}]})).await.json().await.unwrap();
    let job = wait_for_job(&app, accepted["id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed");
    assert_eq!(job["items"][0]["error"]["code"], "not_found");
    let _ = fixture("images/sample.png");
}
