//! Jobs: create, wait, items, idempotency, cancel, list.

use std::time::Duration;

use futures::TryStreamExt;
use progimage_client::{
    Format, ItemStatus, JobItemRequest, JobRequest, JobStatus, Transform, UploadOptions,
};
use uuid::Uuid;

use crate::harness::{Server, dimensions, png};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_job_makes_one_output_per_item_and_reports_failures() {
    let server = Server::start().await;
    let client = server.client();
    let image = client.upload_bytes(png(64, 48), &UploadOptions::new()).await.unwrap();
    let missing = Uuid::now_v7();
    let request = JobRequest::new()
        .image(image.id)
        .image(missing)
        .item(
            JobItemRequest::image(image.id)
                .transform(Transform::new().rotate(90.0).format(Format::Png)),
        )
        .transform(Transform::new().width(32).format(Format::Webp))
        .metadata(serde_json::json!({"batch": "b1"}));

    let submitted = client.jobs().create(&request, None).await.unwrap();
    assert!(!submitted.is_existing());
    assert_eq!(submitted.total(), 3);

    let mut polls = 0;
    let job = client
        .jobs()
        .wait_with_progress(submitted.id(), WAIT, |job| {
            polls += 1;
            assert!(job.done() <= job.total);
        })
        .await
        .unwrap();
    assert!(polls >= 1);
    assert_eq!(job.status, JobStatus::CompletedWithErrors);
    assert!(job.finished_at.is_some());
    assert_eq!((job.total, job.succeeded, job.failed, job.cancelled), (3, 2, 1, 0));
    assert_eq!(job.metadata["batch"], "b1");
    assert_eq!(job.items.len(), 3);

    let resized = job.items[0].image.as_ref().expect("first output");
    assert_eq!(job.items[0].status, ItemStatus::Succeeded);
    assert_eq!(resized.format, Format::Webp);
    assert_eq!((resized.width, resized.height), (32, 24));
    assert_eq!(resized.source_image_id, Some(image.id));
    assert_eq!(resized.job_id, Some(job.id));
    let bytes = client.download_original(resized.id).await.unwrap().bytes;
    assert_eq!(dimensions(&bytes), (32, 24));

    assert_eq!(job.items[1].status, ItemStatus::Failed);
    assert_eq!(job.items[1].error.as_ref().unwrap().code, "not_found");

    // The item's own transformation replaced the job's.
    let rotated = job.items[2].image.as_ref().expect("third output");
    assert_eq!((rotated.format, rotated.width, rotated.height), (Format::Png, 48, 64));

    assert_eq!(client.jobs().get(job.id).await.unwrap(), job);
}

#[tokio::test]
async fn an_idempotency_key_gives_back_the_same_job() {
    let server = Server::start().await;
    let client = server.client();
    let image = client.upload_bytes(png(8, 8), &UploadOptions::new()).await.unwrap();
    let request = JobRequest::new().image(image.id).transform(Transform::new().grayscale());

    let first = client.jobs().create(&request, Some("key-1")).await.unwrap();
    let again = client.jobs().create(&request, Some("key-1")).await.unwrap();
    assert!(again.is_existing());
    assert_eq!(again.id(), first.id());

    let other = request.clone().transform(Transform::new().blur(2.0));
    let conflict = client.jobs().create(&other, Some("key-1")).await.unwrap_err();
    assert_eq!(conflict.code(), Some("idempotency_conflict"));
    assert_eq!(conflict.status(), Some(409));

    let fresh = client.jobs().create(&request, Some("key-2")).await.unwrap();
    assert_ne!(fresh.id(), first.id());
    assert!(!fresh.is_existing());
}

#[tokio::test]
async fn cancelling_stops_queued_items() {
    // One worker thread and slow items, so most are still queued when the cancel lands.
    let server = Server::start_with(&[("workers", "1")]).await;
    let client = server.client();
    let image = client.upload_bytes(png(600, 600), &UploadOptions::new()).await.unwrap();
    let mut request = JobRequest::new().transform(Transform::new().blur(20.0).format(Format::Png));
    for _ in 0..60 {
        request = request.image(image.id);
    }
    let submitted = client.jobs().create(&request, None).await.unwrap();
    // Let the worker start: cancelling while the job's first items are being claimed can
    // meet a busy SQLite database (a server-side 500 `internal`, tracked separately).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancelled = client.jobs().cancel(submitted.id()).await.unwrap();
    assert!(matches!(cancelled.status, JobStatus::Cancelled | JobStatus::Running));
    assert!(cancelled.cancelled > 0, "{cancelled:?}");

    let job = client.jobs().wait(submitted.id(), WAIT).await.unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert_eq!(job.succeeded + job.failed + job.cancelled, 60);
    assert!(job.items.iter().any(|item| item.status == ItemStatus::Cancelled));
    // A finished job comes back unchanged.
    let again = client.jobs().cancel(job.id).await.unwrap();
    assert_eq!(again.finished_at, job.finished_at);
}

#[tokio::test]
async fn waiting_gives_up_at_the_timeout() {
    let server = Server::start_with(&[("workers", "1")]).await;
    let client = server.client();
    let image = client.upload_bytes(png(600, 600), &UploadOptions::new()).await.unwrap();
    let mut request = JobRequest::new().transform(Transform::new().blur(20.0).format(Format::Png));
    for _ in 0..40 {
        request = request.image(image.id);
    }
    let submitted = client.jobs().create(&request, None).await.unwrap();
    let error = client.jobs().wait(submitted.id(), Duration::from_millis(150)).await.unwrap_err();
    assert!(matches!(error, progimage_client::Error::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn lists_jobs_across_pages_and_by_status() {
    let server = Server::start().await;
    let client = server.client();
    let image = client.upload_bytes(png(8, 8), &UploadOptions::new()).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let submitted =
            client.jobs().create(&JobRequest::new().image(image.id), None).await.unwrap();
        client.jobs().wait(submitted.id(), WAIT).await.unwrap();
        ids.push(submitted.id());
    }
    let listed: Vec<_> =
        client.jobs().list(None, 2).map_ok(|job| job.id).try_collect().await.unwrap();
    assert_eq!(listed, ids.iter().rev().copied().collect::<Vec<_>>());

    let page = client.jobs().page(Some(JobStatus::Succeeded), Some(1), None).await.unwrap();
    assert_eq!(page.jobs.len(), 1);
    assert!(page.jobs[0].items.is_empty(), "listings carry no items");
    assert!(page.next_cursor.is_some());
    let failed: Vec<_> =
        client.jobs().list(Some(JobStatus::Failed), 10).try_collect().await.unwrap();
    assert!(failed.is_empty());
}
