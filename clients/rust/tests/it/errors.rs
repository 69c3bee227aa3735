//! Problem documents mapped onto typed errors, and auth.

use progimage_client::{Client, Error, Format, Transform, UploadOptions};
use uuid::Uuid;

use crate::harness::{Server, png};

#[tokio::test]
async fn problem_documents_become_typed_errors() {
    let server = Server::start().await;
    let client = server.client();

    let missing = client.image(Uuid::now_v7()).await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(missing.status(), Some(404));
    let problem = missing.problem().expect("a problem document");
    assert_eq!(problem.kind, "urn:progimage:problem:not_found");
    assert!(!problem.title.is_empty());
    assert!(missing.request_id().is_some_and(|id| !id.is_empty()));
    assert!(!missing.is_retryable());
    assert!(missing.to_string().contains("not_found"));

    let image = client.upload_bytes(png(16, 16), &UploadOptions::new()).await.unwrap();
    let bad_width = client
        .download(image.id, &Transform::new().width(0).format(Format::Png))
        .await
        .unwrap_err();
    assert_eq!(bad_width.code(), Some("invalid_parameter"));
    assert!(bad_width.is_invalid_request());
    assert_eq!(bad_width.param(), Some("ops"));

    let bad_json =
        client.transform_image(image.id, &Transform::new().blur(500.0)).await.unwrap_err();
    assert_eq!(bad_json.param(), Some("operations[0].sigma"));

    let garbage =
        client.upload_bytes(b"definitely not pixels".to_vec(), &UploadOptions::new()).await;
    assert_eq!(garbage.unwrap_err().code(), Some("invalid_image"));
    let mismatch = client
        .upload_bytes(png(4, 4), &UploadOptions::new().format(Format::Jpeg))
        .await
        .unwrap_err();
    assert_eq!((mismatch.code(), mismatch.status()), (Some("media_type_mismatch"), Some(415)));

    let refused = client
        .upload_url("http://169.254.169.254/latest", &UploadOptions::new())
        .await
        .unwrap_err();
    assert_eq!((refused.code(), refused.param()), (Some("url_not_allowed"), Some("url")));

    let cursor = client.images_page(None, Some("not-a-cursor")).await.unwrap_err();
    assert_eq!((cursor.code(), cursor.param()), (Some("invalid_parameter"), Some("cursor")));
    let job = client.jobs().get(Uuid::now_v7()).await.unwrap_err();
    assert!(job.is_not_found());
}

#[tokio::test]
async fn local_and_network_failures_are_their_own_kinds() {
    assert!(matches!(Client::new("not a url"), Err(Error::InvalidInput(_))));
    assert!(matches!(Client::new("ftp://example.com"), Err(Error::InvalidInput(_))));
    assert!(matches!(Transform::from_ops_text("zoom:2"), Err(Error::InvalidInput(_))));
    assert!(matches!(Transform::from_ops_text("resize:width=abc"), Err(Error::InvalidInput(_))));

    // A port nothing listens on: bind one, then free it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(format!("http://{address}")).unwrap();
    let error = client.image(Uuid::now_v7()).await.unwrap_err();
    assert!(matches!(error, Error::Http(_)), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(error.code(), None);

    let path = std::path::Path::new("/nonexistent/progimage/x.png");
    let error = client.upload_path(path, &UploadOptions::new()).await.unwrap_err();
    assert!(matches!(error, Error::Io(_)), "{error:?}");
}

#[tokio::test]
async fn api_keys_select_the_tenant() {
    let server = Server::start_with(&[("api-keys", "acme:k1,globex:k2")]).await;
    let anonymous = server.client();
    let acme = server.client().with_api_key("k1");
    let globex = server.client().with_api_key("k2");

    let unauthorized = anonymous.images_page(None, None).await.unwrap_err();
    assert!(unauthorized.is_unauthorized());
    assert_eq!(unauthorized.status(), Some(401));
    let wrong = server.client().with_api_key("nope").webhook_secret().await.unwrap_err();
    assert!(wrong.is_unauthorized());

    let image = acme.upload_bytes(png(8, 8), &UploadOptions::new()).await.unwrap();
    assert_eq!(acme.image(image.id).await.unwrap().id, image.id);
    // Another tenant's image is not found, never forbidden.
    assert!(globex.image(image.id).await.unwrap_err().is_not_found());
    assert!(globex.images_page(None, None).await.unwrap().images.is_empty());

    let acme_secret = acme.webhook_secret().await.unwrap();
    let globex_secret = globex.webhook_secret().await.unwrap();
    assert_eq!(acme_secret.len(), 64);
    assert_ne!(acme_secret, globex_secret);
}
