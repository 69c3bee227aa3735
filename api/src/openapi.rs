//! The OpenAPI document served at `/openapi.json`, generated from the code.

use utoipa::OpenApi;

use crate::routes::images::ImagePage;
use crate::routes::webhooks::WebhookSecret;
use progimage_core::views::ImageView;

#[derive(OpenApi)]
#[openapi(
    info(title = "ProgImage", description = "Programmatic image storage and processing."),
    components(schemas(ImageView, ImagePage, WebhookSecret))
)]
struct ApiDoc;

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
