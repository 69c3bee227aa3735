//! `POST /v1/transform`: transform without storing anything.

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use progimage_core::format::ImageFormat;
use progimage_core::imaging::Encoded;
use progimage_core::requests::{TransformBody, TransformFields};
use progimage_core::spec::{Pipeline, Transform, from_json_body};

use crate::auth::Tenant;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::extract::{
    json_object, media_type, no_other_params, query_pairs, read_body, take_params,
};
use crate::routes::doc;
use crate::routes::images::{body_id, ops_param};

/// The routes of this resource.
pub fn router() -> Router<AppContext> {
    Router::new().route("/v1/transform", post(transform))
}

/// `POST /v1/transform`: a raw image body with the transformations in the query, or JSON.
#[utoipa::path(
    post,
    path = "/v1/transform",
    tag = "transform",
    operation_id = "transform_image",
    summary = "Transform an image without storing anything",
    description = "A raw image body (the upload checks apply) with `format` and the \
        transformations in the query, or a JSON body carrying everything (no query \
        parameters then). `format` defaults to the source's.",
    params(
        ("format" = Option<doc::Format>, Query,
            description = "The output format (raw body only); unknown → 400."),
        doc::TransformQuery,
    ),
    request_body(
        description = "The image bytes with their Content-Type, or the JSON form.",
        content(
            (doc::ImageBytes = "image/jpeg"), (doc::ImageBytes = "image/jpg"),
            (doc::ImageBytes = "image/png"), (doc::ImageBytes = "image/webp"),
            (doc::ImageBytes = "image/gif"), (doc::ImageBytes = "image/avif"),
            (doc::ImageBytes = "image/tiff"), (doc::ImageBytes = "image/bmp"),
            (doc::ImageBytes = "image/x-ms-bmp"),
            (doc::ImageBytes = "image/svg+xml"),
            (doc::ImageBytes = "application/octet-stream"),
            (doc::TransformRequest = "application/json"),
        )
    ),
    responses(
        (status = 200, response = doc::TransformBody),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::Unprocessable),
    )
)]
async fn transform(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let media_type = media_type(&headers);
    let limit = context.service.limits().max_bytes;
    let encoded = if media_type == "application/json" {
        let body = read_body(&headers, request.into_body(), 1024 * 1024).await?;
        let object = json_object(&body)?;
        // The JSON form carries everything in the body.
        no_other_params(&query_pairs(query.as_deref())?)?;
        let TransformBody { fields, settings } = from_json_body(&object)?;
        let TransformFields { url, image_id, operations } = fields;
        let pipeline = match operations {
            None => Pipeline::default(),
            Some(operations) => Pipeline::from_json(&operations.0, "operations")?,
        };
        let transform = Transform { pipeline, output: settings.output() };
        match (url, image_id) {
            (Some(url), None) => {
                let fetched = context.http.fetch(&url).await.map_err(|error| {
                    let error = ApiError::from(error);
                    if error.status() == StatusCode::BAD_REQUEST {
                        error.with_param("url")
                    } else {
                        error
                    }
                })?;
                context.service.transform_bytes(&tenant, fetched.bytes, None, &transform).await?
            }
            (None, Some(id)) => {
                let id = body_id(&id, "image_id")?;
                let image = context
                    .service
                    .image(&tenant, id)
                    .await
                    .map_err(|error| ApiError::from(error).with_param("image_id"))?;
                context.service.transform_stored(&image, &transform).await?
            }
            (Some(_), Some(_)) | (None, None) => {
                return Err(ApiError::invalid_parameter(
                    "url",
                    "give exactly one of url or image_id",
                ));
            }
        }
    } else {
        let mut pairs = query_pairs(query.as_deref())?;
        let [format] = take_params(&mut pairs, ["format"]);
        let format = format
            .map(|name| {
                ImageFormat::from_name(&name).ok_or_else(|| {
                    ApiError::invalid_parameter("format", format!("unknown format {name:?}"))
                })
            })
            .transpose()?;
        let mut transform = Transform::from_query(&pairs)?;
        transform.output.format = format;
        let declared = if media_type == "application/octet-stream" {
            None
        } else {
            Some(ImageFormat::from_content_type(&media_type).ok_or_else(|| {
                ApiError::unsupported_media_type(format!(
                    "{media_type} is not an image type this service takes"
                ))
            })?)
        };
        let bytes = read_body(&headers, request.into_body(), limit).await?;
        context
            .service
            .transform_bytes(&tenant, bytes, declared, &transform)
            .await
            .map_err(|error| ops_param(error, &pairs))?
    };
    Ok(encoded_response(encoded))
}

fn encoded_response(encoded: Encoded) -> Response {
    let mut response = (StatusCode::OK, encoded.bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(encoded.format.content_type()));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    response
}
