//! `/v1/images`: upload, list, fetch originals and variants, metadata, delete.

use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use progimage_core::db::ImageRecord;
use progimage_core::format::ImageFormat;
use progimage_core::problem::{ErrorCode, Problem};
use progimage_core::queue::{Family, Message};
use progimage_core::requests::UrlUpload;
use progimage_core::service::{ServiceError, Upload};
use progimage_core::spec::{Transform, from_json_body};
use progimage_core::views::ImageView;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Tenant;
use crate::conditional::{self, Representation};
use crate::context::AppContext;
use crate::error::ApiError;
use crate::extract::{
    PathText, check_content_length, disposition_filename, drained, json_object, media_type,
    no_other_params, page_limit, path_uuid, query_pairs, read_body, take_params,
};
use crate::routes::doc;

/// Most parts one multipart upload may carry.
const MAX_PARTS: usize = 100;

/// The routes of this resource.
pub fn router() -> Router<AppContext> {
    Router::new()
        .route("/v1/images", get(list).post(upload))
        .route("/v1/images/{file}", get(download).delete(delete))
        .route("/v1/images/{id}/metadata", get(metadata))
}

/// A page of images.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImagePage {
    pub images: Vec<ImageView>,
    pub next_cursor: Option<String>,
}

/// The answer to a multipart upload, one item per `file` part in part order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MultipartResult {
    pub items: Vec<MultipartItem>,
}

/// One part's outcome: the stored image, or the problem that kept it out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MultipartItem {
    pub image: Option<ImageView>,
    pub error: Option<Problem>,
}

/// The documentation of `GET|HEAD /v1/images/{id}.{ext}`, the variant side of the
/// `download` handler (whose own documentation is the original's, `/v1/images/{id}`).
pub struct VariantDownload;

/// Parses a path id strictly: the canonical lowercase hyphenated form, or 404.
pub fn path_id(text: &str) -> Result<Uuid, ApiError> {
    path_uuid(text, "no such image")
}

/// Parses an id in a query value or a body: malformed → 400 naming `param`.
pub fn body_id(text: &str, param: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text)
        .map_err(|_| ApiError::invalid_parameter(param, format!("{param} must be a UUID")))
}

/// The format a filename's extension names, if any.
fn filename_format(filename: Option<&str>) -> Option<ImageFormat> {
    let (_, extension) = filename?.rsplit_once('.')?;
    ImageFormat::from_name(extension)
}

/// What the Content-Type and filename declare: the format (if any), per upload step 1-2.
fn declared_format(
    media_type: &str,
    filename: Option<&str>,
) -> Result<Option<ImageFormat>, ApiError> {
    let from_name = filename_format(filename);
    if media_type == "application/octet-stream" {
        return Ok(from_name);
    }
    let Some(declared) = ImageFormat::from_content_type(media_type) else {
        return Err(ApiError::unsupported_media_type(format!(
            "{media_type} is not an image type this service takes"
        )));
    };
    match from_name {
        Some(named) if named != declared => Err(ApiError::media_type_mismatch(format!(
            "the Content-Type says {declared} but the filename says {named}"
        ))),
        _ => Ok(Some(declared)),
    }
}

fn created(image: &ImageRecord) -> Response {
    let mut response = (StatusCode::CREATED, Json(ImageView::from(image))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/images/{}", image.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST /v1/images`: a raw body, multipart parts, or JSON `{"url"}`.
#[utoipa::path(
    post,
    path = "/v1/images",
    tag = "images",
    operation_id = "upload_image",
    summary = "Store one image (raw body or URL) or many (multipart)",
    description = "Checked in order: the Content-Type (415), a filename extension against it \
        (415 `media_type_mismatch`), the bytes (422 `invalid_image`, 415), the byte and pixel \
        limits (413, 422 `image_too_large`), a full decode (422). The same bytes uploaded \
        twice give two ids.",
    params(doc::UploadParams),
    request_body(
        description = "The image bytes with their Content-Type (or `application/octet-stream`), \
            one or more `file` parts, or a URL to fetch.",
        content(
            (doc::ImageBytes = "image/jpeg"), (doc::ImageBytes = "image/jpg"), (doc::ImageBytes = "image/png"),
            (doc::ImageBytes = "image/webp"), (doc::ImageBytes = "image/gif"), (doc::ImageBytes = "image/avif"),
            (doc::ImageBytes = "image/tiff"), (doc::ImageBytes = "image/bmp"), (doc::ImageBytes = "image/x-ms-bmp"),
            (doc::ImageBytes = "image/svg+xml"), (doc::ImageBytes = "application/octet-stream"),
            (doc::MultipartUpload = "multipart/form-data"),
            (UrlUpload = "application/json"),
        )
    ),
    responses(
        (status = 201, description = "Stored: the Image (raw body, URL), or every part's \
            outcome (multipart, all stored).",
            headers(("Location" = String, description = "`/v1/images/{id}` (raw body, URL)")),
            content((ImageView = "application/json"))),
        (status = 207, description = "Multipart: some parts failed; each item holds its image \
            or its problem.", body = MultipartResult),
        (status = 400, response = doc::BadRequest),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 415, response = doc::UnsupportedMediaType),
        (status = 422, response = doc::Unprocessable),
    )
)]
async fn upload(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let mut pairs = query_pairs(query.as_deref())?;
    let [filename_param, eager] = take_params(&mut pairs, ["filename", "eager"]);
    no_other_params(&pairs)?;
    let eager_formats = match eager.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|name| {
                ImageFormat::from_name(name.trim()).ok_or_else(|| {
                    ApiError::invalid_parameter("eager", format!("unknown format {name:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let limit = context.service.limits().max_bytes;
    let headers = request.headers().clone();
    let media_type = media_type(&headers);

    let image = match media_type.as_str() {
        "multipart/form-data" => {
            if let Err(error) = check_content_length(&headers, limit) {
                return Err(drained(error, &headers, limit, request.into_body()).await);
            }
            let multipart = axum::extract::Multipart::from_request(request, &())
                .await
                .map_err(|rejection| ApiError::invalid_parameter("file", rejection.body_text()))?;
            return upload_multipart(&context, &tenant, multipart, limit, &eager_formats).await;
        }
        "application/json" => {
            let body = read_body(&headers, request.into_body(), 64 * 1024).await?;
            let UrlUpload { url, filename } = from_json_body(&json_object(&body)?)?;
            let url =
                url.ok_or_else(|| ApiError::invalid_parameter("url", "url must be a string"))?;
            let fetched = context.http.fetch(&url).await.map_err(|error| {
                let mut error = ApiError::from(error);
                if error.param().is_none() && error.status() == StatusCode::BAD_REQUEST {
                    error = error.with_param("url");
                }
                error
            })?;
            let filename = filename_param.or(filename).or_else(|| last_segment(&fetched.final_url));
            context
                .service
                .ingest(&tenant, fetched.bytes, Upload { filename, ..Upload::default() })
                .await?
        }
        _ => {
            let filename = filename_param.or_else(|| disposition_filename(&headers));
            let declared = declared_format(&media_type, filename.as_deref())?;
            let bytes = read_body(&headers, request.into_body(), limit).await?;
            context
                .service
                .ingest(&tenant, bytes, Upload { declared, filename, ..Upload::default() })
                .await?
        }
    };
    queue_eager(&context, &tenant, &image, &eager_formats).await?;
    Ok(created(&image))
}

async fn queue_eager(
    context: &AppContext,
    tenant: &str,
    image: &ImageRecord,
    formats: &[ImageFormat],
) -> Result<(), ApiError> {
    let (image_id, source_format) = (image.id, image.format);
    for &format in formats {
        let message = Message::Variant {
            tenant: tenant.to_string(),
            image_id,
            format,
            family: Family::of(Some(source_format), Some(format)),
        };
        context.queue.publish(&message).await?;
    }
    Ok(())
}

/// The last path segment of a URL, percent-decoded, as a default filename.
fn last_segment(url: &url::Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    let decoded = percent_decode(segment);
    (!decoded.is_empty()).then_some(decoded)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// A multipart read error: over the body limit is 413, anything else a bad `file`.
fn multipart_error(error: &axum::extract::multipart::MultipartError, limit: u64) -> ApiError {
    if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large(limit)
    } else {
        ApiError::invalid_parameter("file", error.body_text())
    }
}

async fn upload_multipart(
    context: &AppContext,
    tenant: &str,
    mut multipart: axum::extract::Multipart,
    limit: u64,
    eager_formats: &[ImageFormat],
) -> Result<Response, ApiError> {
    let mut items = Vec::new();
    let mut total: u64 = 0;
    let mut any_failed = false;
    while let Some(mut field) =
        multipart.next_field().await.map_err(|error| multipart_error(&error, limit))?
    {
        if field.name() != Some("file") {
            continue;
        }
        if items.len() == MAX_PARTS {
            return Err(ApiError::invalid_parameter(
                "file",
                format!("at most {MAX_PARTS} file parts per request"),
            ));
        }
        let filename = field.file_name().map(str::to_owned);
        let content_type = field
            .content_type()
            .map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let mut bytes = Vec::new();
        while let Some(chunk) =
            field.chunk().await.map_err(|error| multipart_error(&error, limit))?
        {
            total += chunk.len() as u64;
            if total > limit {
                return Err(ApiError::payload_too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        // A part without a Content-Type is typed by its bytes.
        let outcome = match content_type.as_deref() {
            None => Ok(filename_format(filename.as_deref())),
            Some(media_type) => declared_format(media_type, filename.as_deref()),
        };
        let outcome = match outcome {
            Ok(declared) => context
                .service
                .ingest(tenant, bytes.into(), Upload { declared, filename, ..Upload::default() })
                .await
                .map_err(ApiError::from),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(image) => {
                queue_eager(context, tenant, &image, eager_formats).await?;
                items.push(MultipartItem { image: Some(ImageView::from(&image)), error: None });
            }
            Err(error) if error.status().is_server_error() => return Err(error),
            Err(error) => {
                any_failed = true;
                items.push(MultipartItem { image: None, error: Some(error.to_problem()) });
            }
        }
    }
    if items.is_empty() {
        return Err(ApiError::invalid_parameter("file", "the form has no file part"));
    }
    let status = if any_failed { StatusCode::MULTI_STATUS } else { StatusCode::CREATED };
    Ok((status, Json(MultipartResult { items })).into_response())
}

/// `GET /v1/images?limit=&cursor=`.
#[utoipa::path(
    get,
    path = "/v1/images",
    tag = "images",
    operation_id = "list_images",
    summary = "List images, newest first",
    params(doc::ImageListParams),
    responses(
        (status = 200, description = "A page; `next_cursor` is null on the last.", body = ImagePage),
        (status = 400, response = doc::BadRequest),
    )
)]
async fn list(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    RawQuery(query): RawQuery,
) -> Result<Json<ImagePage>, ApiError> {
    let mut pairs = query_pairs(query.as_deref())?;
    let [limit, cursor] = take_params(&mut pairs, ["limit", "cursor"]);
    no_other_params(&pairs)?;
    let limit = page_limit(limit.as_deref())?;
    let before = cursor.as_deref().map(decode_cursor).transpose()?;
    let mut images = context.service.repository().list_images(&tenant, limit + 1, before).await?;
    let next_cursor = if images.len() > limit as usize {
        images.truncate(limit as usize);
        images.last().map(|image| encode_cursor(image.id))
    } else {
        None
    };
    Ok(Json(ImagePage { images: images.iter().map(ImageView::from).collect(), next_cursor }))
}

/// Cursors are opaque to clients: the last id of the page, base64url.
pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

/// Decodes a cursor; anything else is 400.
pub fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(bytes.as_slice()).ok())
        .ok_or_else(|| {
            ApiError::invalid_parameter("cursor", "the cursor is not one this service gave")
        })
}

/// `GET|HEAD /v1/images/{id}` (the original) and `/v1/images/{id}.{ext}` (a variant).
#[utoipa::path(
    method(get, head),
    path = "/v1/images/{id}",
    tag = "images",
    operation_id = "get_image",
    summary = "The original bytes",
    description = "Strong `ETag`; `If-None-Match` → 304; one byte range → 206 (several → 200 \
        with the whole body), `If-Range` honoured, unsatisfiable → 416. Takes no query \
        parameters.",
    params(("id" = Uuid, Path, description = "The image id (lowercase, hyphenated).")),
    responses(
        (status = 200, response = doc::ImageBody),
        (status = 206, response = doc::PartialBody),
        (status = 304, response = doc::NotModified),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
        (status = 416, response = doc::RangeNotSatisfiable),
    )
)]
#[utoipa::path(
    method(get, head),
    path = "/v1/images/{id}.{ext}",
    impl_for = VariantDownload,
    tag = "images",
    operation_id = "get_image_variant",
    summary = "The image encoded as `{ext}` after the transformations of the query",
    description = "One axum route with `/v1/images/{id}`: the last segment is `{id}.{ext}`. \
        A variant is made once (concurrent requests share it), stored and served from the \
        variant cache (`x-progimage-cache`); HEAD makes it too. Conditional and range \
        requests as for the original. Unknown or repeated query parameters → 400.",
    params(
        ("id" = Uuid, Path, description = "The image id (lowercase, hyphenated)."),
        ("ext" = doc::Format, Path,
            description = "The output format, case-insensitive; unknown → 404 \
                `unsupported_format`."),
        doc::TransformQuery,
    ),
    responses(
        (status = 200, response = doc::VariantBody),
        (status = 206, response = doc::PartialBody),
        (status = 304, response = doc::NotModified),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
        (status = 416, response = doc::RangeNotSatisfiable),
        (status = 422, response = doc::Unprocessable),
    )
)]
async fn download(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    PathText(file): PathText,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id_text, extension) = match file.split_once('.') {
        Some((id, extension)) => (id, Some(extension)),
        None => (file.as_str(), None),
    };
    let id = path_id(id_text)?;
    let image = context.service.image(&tenant, id).await?;
    let cache_control = context.image_cache_control();
    let pairs = query_pairs(query.as_deref())?;
    let Some(extension) = extension else {
        no_other_params(&pairs)?;
        let bytes = context.service.original(&image).await?;
        return Ok(conditional::respond(
            &headers,
            Representation {
                body: bytes,
                content_type: image.format.content_type(),
                digest: &image.sha256,
                cache_control,
            },
        ));
    };
    let format = ImageFormat::from_name(extension).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnsupportedFormat,
            format!("{extension:?} is not a format this service offers"),
        )
    })?;
    let transform = Transform::from_query(&pairs)?;
    let variant = context
        .service
        .variant(&image, &transform, format)
        .await
        .map_err(|error| ops_param(error, &pairs))?;
    metrics::counter!("progimage_variants_total", "cache" => variant.cache.as_str()).increment(1);
    let mut response = conditional::respond(
        &headers,
        Representation {
            body: variant.bytes,
            content_type: format.content_type(),
            digest: &variant.sha256,
            cache_control,
        },
    );
    response
        .headers_mut()
        .insert("x-progimage-cache", HeaderValue::from_static(variant.cache.as_str()));
    Ok(response)
}

/// A step error names its query parameter (`crop`); when the steps came as `ops`, that
/// is the parameter at fault.
pub fn ops_param(error: ServiceError, pairs: &[(String, String)]) -> ApiError {
    let mut error = ApiError::from(error);
    if error.status() == StatusCode::BAD_REQUEST && pairs.iter().any(|(key, _)| key == "ops") {
        error = error.with_param("ops");
    }
    error
}

/// `GET /v1/images/{id}/metadata`.
#[utoipa::path(
    get,
    path = "/v1/images/{id}/metadata",
    tag = "images",
    operation_id = "get_image_metadata",
    summary = "The Image",
    params(("id" = Uuid, Path, description = "The image id (lowercase, hyphenated).")),
    responses(
        (status = 200, description = "The Image.", body = ImageView),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
    )
)]
async fn metadata(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    PathText(id): PathText,
    RawQuery(query): RawQuery,
) -> Result<Json<ImageView>, ApiError> {
    no_other_params(&query_pairs(query.as_deref())?)?;
    let image = context.service.image(&tenant, path_id(&id)?).await?;
    Ok(Json(ImageView::from(&image)))
}

/// `DELETE /v1/images/{id}`.
#[utoipa::path(
    delete,
    path = "/v1/images/{id}",
    tag = "images",
    operation_id = "delete_image",
    summary = "Delete the original and every variant",
    params(("id" = Uuid, Path, description = "The image id (lowercase, hyphenated).")),
    responses(
        (status = 204, description = "Gone (clients and shared caches may still hold copies)."),
        (status = 404, response = doc::NotFound),
    )
)]
async fn delete(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    PathText(id): PathText,
) -> Result<StatusCode, ApiError> {
    context.service.delete(&tenant, path_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
