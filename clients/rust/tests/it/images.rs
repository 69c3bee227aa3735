//! Uploads, metadata, listing, downloads, URLs, deletion and stateless transforms.

use futures::TryStreamExt;
use progimage_client::{CacheStatus, Fit, Format, Transform, UploadFile, UploadOptions};
use sha2::{Digest, Sha256};

use crate::harness::{Server, dimensions, png};

#[tokio::test]
async fn uploads_from_bytes_a_path_a_reader_and_a_url() {
    let server = Server::start_with(&[("allow-urls", "127.0.0.1")]).await;
    let client = server.client();
    let bytes = png(64, 48);

    let from_bytes =
        client.upload_bytes(bytes.clone(), &UploadOptions::new().filename("a.png")).await.unwrap();
    assert_eq!(from_bytes.format, Format::Png);
    assert_eq!((from_bytes.width, from_bytes.height), (64, 48));
    assert_eq!(from_bytes.bytes, bytes.len() as u64);
    assert_eq!(from_bytes.sha256, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(from_bytes.filename.as_deref(), Some("a.png"));
    assert_eq!(from_bytes.url, format!("/v1/images/{}", from_bytes.id));

    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("from-disk.png");
    std::fs::write(&path, &bytes).unwrap();
    let from_path = client.upload_path(&path, &UploadOptions::new()).await.unwrap();
    assert_eq!(from_path.filename.as_deref(), Some("from-disk.png"));
    assert_eq!(from_path.sha256, from_bytes.sha256);
    // Each upload is its own instance.
    assert_ne!(from_path.id, from_bytes.id);

    let file = tokio::fs::File::open(&path).await.unwrap();
    let from_reader =
        client.upload_reader(file, &UploadOptions::new().format(Format::Png)).await.unwrap();
    assert_eq!(from_reader.bytes, bytes.len() as u64);
    assert_eq!(from_reader.filename, None);

    let source = client.image_url(from_bytes.id, &Transform::new()).unwrap();
    let from_url = client.upload_url(source.as_str(), &UploadOptions::new()).await.unwrap();
    assert_eq!(from_url.sha256, from_bytes.sha256);
    // The filename defaults to the URL's last segment.
    assert_eq!(from_url.filename, Some(from_bytes.id.to_string()));

    let eager = client
        .upload_bytes(bytes.clone(), &UploadOptions::new().eager([Format::Webp, Format::Avif]))
        .await
        .unwrap();
    assert_eq!(client.image(eager.id).await.unwrap(), eager);
}

#[tokio::test]
async fn a_multipart_upload_reports_each_file() {
    let server = Server::start().await;
    let client = server.client();
    let files = vec![
        UploadFile::new("good.png", png(10, 10)),
        UploadFile::new("bad.png", b"not an image at all".to_vec()),
        UploadFile { format: Some(Format::Png), ..UploadFile::new("typed", png(5, 7)) },
    ];
    let outcomes = client.upload_many(files, &[]).await.unwrap();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].as_ref().unwrap().filename.as_deref(), Some("good.png"));
    assert_eq!(outcomes[1].as_ref().unwrap_err().code, "invalid_image");
    assert_eq!(outcomes[2].as_ref().unwrap().height, 7);
}

#[tokio::test]
async fn downloads_originals_and_transformed_variants() {
    let server = Server::start().await;
    let client = server.client();
    let bytes = png(64, 48);
    let image = client.upload_bytes(bytes.clone(), &UploadOptions::new()).await.unwrap();

    let original = client.download_original(image.id).await.unwrap();
    assert_eq!(original.bytes.as_ref(), bytes.as_slice());
    assert_eq!(original.format(), Some(Format::Png));
    assert_eq!(original.cache, None);
    // An empty transform is the original too.
    assert_eq!(client.download(image.id, &Transform::new()).await.unwrap().bytes, original.bytes);

    let thumbnail =
        Transform::new().resize(32, 32).fit(Fit::Cover).format(Format::Webp).quality(80);
    let first = client.download(image.id, &thumbnail).await.unwrap();
    assert_eq!(first.content_type, "image/webp");
    assert_eq!(first.cache, Some(CacheStatus::Miss));
    assert!(first.etag.is_some());
    assert_eq!(dimensions(&first.bytes), (32, 32));
    let second = client.download(image.id, &thumbnail).await.unwrap();
    assert_eq!(second.cache, Some(CacheStatus::Hit));
    assert_eq!(second.bytes, first.bytes);

    // Without a format the variant keeps the original's.
    let narrow = client.download(image.id, &Transform::new().width(20).rotate(90.0)).await.unwrap();
    assert_eq!(narrow.format(), Some(Format::Png));
    assert_eq!(dimensions(&narrow.bytes), (15, 20));

    // A built URL serves the same variant.
    let url = client.image_url(image.id, &thumbnail).unwrap();
    let fetched = reqwest::get(url).await.unwrap();
    assert_eq!(fetched.headers()["x-progimage-cache"], "hit");
    assert_eq!(fetched.bytes().await.unwrap(), first.bytes);
    assert!(client.image_url(image.id, &Transform::new().width(5)).is_err());
}

#[tokio::test]
async fn lists_every_image_across_pages_and_deletes() {
    let server = Server::start().await;
    let client = server.client();
    let mut ids = Vec::new();
    for side in 1..=5 {
        ids.push(client.upload_bytes(png(side, side), &UploadOptions::new()).await.unwrap().id);
    }
    let first_page = client.images_page(Some(2), None).await.unwrap();
    assert_eq!(first_page.images.len(), 2);
    assert!(first_page.next_cursor.is_some());

    let listed: Vec<_> =
        client.list_images(2).map_ok(|image| image.id).try_collect().await.unwrap();
    let newest_first: Vec<_> = ids.iter().rev().copied().collect();
    assert_eq!(listed, newest_first);

    client.delete_image(ids[0]).await.unwrap();
    assert!(client.image(ids[0]).await.unwrap_err().is_not_found());
    assert!(client.download_original(ids[0]).await.unwrap_err().is_not_found());
    assert!(client.delete_image(ids[0]).await.unwrap_err().is_not_found());
    let remaining: Vec<_> = client.list_images(50).try_collect().await.unwrap();
    assert_eq!(remaining.len(), 4);
}

#[tokio::test]
async fn transforms_without_storing() {
    let server = Server::start_with(&[("allow-urls", "127.0.0.1")]).await;
    let client = server.client();
    let bytes = png(64, 48);
    let transform = Transform::new().width(32).grayscale().format(Format::Jpeg);

    let from_bytes = client.transform_bytes(bytes.clone(), &transform).await.unwrap();
    assert_eq!(from_bytes.content_type, "image/jpeg");
    assert_eq!(dimensions(&from_bytes.bytes), (32, 24));

    let image = client.upload_bytes(bytes, &UploadOptions::new()).await.unwrap();
    let from_id = client.transform_image(image.id, &transform).await.unwrap();
    assert_eq!(from_id.bytes, from_bytes.bytes);
    let source = client.image_url(image.id, &Transform::new()).unwrap();
    let from_url = client.transform_url(source.as_str(), &transform).await.unwrap();
    assert_eq!(from_url.bytes, from_bytes.bytes);

    // Nothing new was stored.
    let stored: Vec<_> = client.list_images(10).try_collect().await.unwrap();
    assert_eq!(stored.len(), 1);
}
