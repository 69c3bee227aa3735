//! One error type for every handler, rendered as an RFC 9457 problem document.
//!
//! Client errors carry a stable `code` from the table in `API.md`; server errors are
//! logged once here, at the boundary, and answered with an opaque 500 or 503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use progimage_core::db::DbError;
use progimage_core::engine::EngineError;
use progimage_core::imaging::ImagingError;
use progimage_core::net::FetchError;
use progimage_core::service::ServiceError;
use progimage_core::spec::SpecError;
use progimage_core::storage::StorageError;
use serde::Serialize;

use crate::request_id;

/// A problem to report to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub param: Option<String>,
    pub upstream_status: Option<u16>,
    headers: Vec<(header::HeaderName, String)>,
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'static str,
    status: u16,
    detail: &'a str,
    code: &'static str,
    request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_status: Option<u16>,
}

/// The title of each code: a short, fixed summary (the detail says what happened).
fn title(code: &str) -> &'static str {
    match code {
        "invalid_parameter" => "Invalid parameter",
        "invalid_json" => "Invalid JSON body",
        "url_not_allowed" => "URL not allowed",
        "unauthorized" => "Unauthorized",
        "not_found" => "Not found",
        "unsupported_format" => "Unsupported format",
        "method_not_allowed" => "Method not allowed",
        "idempotency_conflict" => "Idempotency conflict",
        "payload_too_large" => "Payload too large",
        "unsupported_media_type" => "Unsupported media type",
        "media_type_mismatch" => "Media type mismatch",
        "range_not_satisfiable" => "Range not satisfiable",
        "invalid_image" => "Invalid image",
        "image_too_large" => "Image too large",
        "fetch_failed" => "Fetch failed",
        "rate_limited" => "Rate limited",
        "unavailable" => "Service unavailable",
        _ => "Internal error",
    }
}

impl ApiError {
    /// A problem with the given status, code and detail.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            detail: detail.into(),
            param: None,
            upstream_status: None,
            headers: Vec::new(),
        }
    }

    /// Names the parameter at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    /// Adds a response header (`Allow`, `Retry-After`, `Content-Range`, ...).
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    /// 400 `invalid_parameter` naming `param`.
    pub fn invalid_parameter(param: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", detail).with_param(param)
    }

    /// 400 `invalid_json`.
    pub fn invalid_json(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 413 `payload_too_large`.
    pub fn payload_too_large(limit: u64) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than the limit of {limit} bytes"),
        )
    }

    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", detail)
    }

    /// 415 `media_type_mismatch`.
    pub fn media_type_mismatch(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "media_type_mismatch", detail)
    }

    /// 503 `unavailable` with `Retry-After`.
    pub fn unavailable(detail: impl Into<String>, retry_after_s: u32) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
            .with_header(header::RETRY_AFTER, retry_after_s.to_string())
    }

    /// 500 `internal`: logs the cause once and tells the client nothing about it.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; the request id identifies it in the logs",
        )
    }
}

impl ApiError {
    /// The problem document as JSON (also embedded in multipart and job item results).
    pub fn to_problem(&self) -> serde_json::Value {
        serde_json::to_value(self.body()).unwrap_or_default()
    }

    fn body(&self) -> ProblemBody<'_> {
        ProblemBody {
            kind: format!("urn:progimage:problem:{}", self.code),
            title: title(self.code),
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            request_id: request_id::current(),
            param: self.param.as_deref(),
            upstream_status: self.upstream_status,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let json = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

impl From<SpecError> for ApiError {
    fn from(error: SpecError) -> ApiError {
        ApiError::invalid_parameter(error.param, error.message)
    }
}

impl From<ImagingError> for ApiError {
    fn from(error: ImagingError) -> ApiError {
        match error {
            ImagingError::Invalid(detail) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_image", detail)
            }
            ImagingError::TooLarge(detail) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "image_too_large", detail)
            }
            ImagingError::Unsupported(detail) => ApiError::unsupported_media_type(detail),
            ImagingError::MaskNotFound(id) => {
                ApiError::not_found(format!("no such mask image {id}")).with_param("mask")
            }
            ImagingError::Step { param, message } => ApiError::invalid_parameter(param, message),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> ApiError {
        match error {
            EngineError::Busy => {
                ApiError::unavailable("the image workers are busy; retry shortly", 1)
            }
            EngineError::Timeout(limit) => ApiError::unavailable(
                format!("processing took longer than {} s", limit.as_secs()),
                5,
            ),
            EngineError::Panicked(_) => ApiError::internal(&error),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> ApiError {
        tracing::error!(%error, "storage error");
        ApiError::unavailable("storage is unavailable", 5)
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> ApiError {
        match error {
            DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
                tracing::error!(%error, "database unavailable");
                ApiError::unavailable("the database is unavailable", 5)
            }
            error => ApiError::internal(&error),
        }
    }
}

impl From<FetchError> for ApiError {
    fn from(error: FetchError) -> ApiError {
        match error {
            FetchError::NotAllowed(detail) => {
                ApiError::new(StatusCode::BAD_REQUEST, "url_not_allowed", detail)
            }
            FetchError::TooLarge { limit } => ApiError::payload_too_large(limit),
            FetchError::Failed { message, upstream_status } => {
                let mut error =
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "fetch_failed", message);
                error.upstream_status = upstream_status;
                error
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        match error {
            ServiceError::NotFound { param, message } => {
                let error = ApiError::not_found(message);
                match param {
                    Some(param) => error.with_param(param),
                    None => error,
                }
            }
            ServiceError::MediaTypeMismatch(detail) => ApiError::media_type_mismatch(detail),
            ServiceError::Imaging(error) => error.into(),
            ServiceError::Engine(error) => error.into(),
            ServiceError::Storage(error) => error.into(),
            ServiceError::Db(error) => error.into(),
        }
    }
}
