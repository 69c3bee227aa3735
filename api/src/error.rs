//! One error type for every handler, rendered as an RFC 9457 problem document.
//!
//! The codes, statuses and titles come from `progimage_core::problem`, the table the job
//! items use too. A server-side cause rides in the problem to the response, which logs it
//! once (with the request's span) and never sends it to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use progimage_core::db::DbError;
use progimage_core::engine::EngineError;
use progimage_core::imaging::ImagingError;
use progimage_core::net::FetchError;
use progimage_core::problem::{ErrorCode, Problem};
use progimage_core::queue::QueueError;
use progimage_core::service::ServiceError;
use progimage_core::spec::SpecError;
use progimage_core::storage::StorageError;

use crate::request_id;

/// A problem to report to the client, with the headers that go with it.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Boxed: handlers return `Result<_, ApiError>` everywhere, so keep the error small.
    pub problem: Box<Problem>,
    headers: Vec<(header::HeaderName, String)>,
}

impl ApiError {
    /// A problem of `code` with the given detail.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        Problem::new(code, detail).into()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The parameter at fault, if any.
    pub fn param(&self) -> Option<&str> {
        self.problem.param.as_deref()
    }

    /// Names the parameter at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> ApiError {
        self.problem.param = Some(param.into());
        self
    }

    /// Adds a response header (`Allow`, `Retry-After`, `Content-Range`, ...).
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> ApiError {
        self.headers.push((name, value.into()));
        self
    }

    /// 400 `invalid_parameter` naming `param`.
    pub fn invalid_parameter(param: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidParameter, detail).with_param(param)
    }

    /// 400 `invalid_json`.
    pub fn invalid_json(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidJson, detail)
    }

    /// 404 `not_found`.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, detail)
    }

    /// 413 `payload_too_large`.
    pub fn payload_too_large(limit: u64) -> ApiError {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than the limit of {limit} bytes"),
        )
    }

    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::UnsupportedMediaType, detail)
    }

    /// 415 `media_type_mismatch`.
    pub fn media_type_mismatch(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::MediaTypeMismatch, detail)
    }

    /// 500 `internal`: the cause goes to the log when the response is sent, never to the
    /// client.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        progimage_core::problem::internal(cause).into()
    }

    /// The problem document with this request's id (also embedded in multipart results).
    pub fn to_problem(&self) -> Problem {
        let mut problem = (*self.problem).clone();
        problem.request_id = request_id::current();
        problem
    }
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> ApiError {
        let mut headers = Vec::new();
        match ErrorCode::from_name(&problem.code) {
            Some(ErrorCode::Unavailable) => headers.push((header::RETRY_AFTER, "5".to_string())),
            Some(ErrorCode::RateLimited) => headers.push((header::RETRY_AFTER, "1".to_string())),
            Some(ErrorCode::Unauthorized) => {
                headers.push((header::WWW_AUTHENTICATE, "Bearer".to_string()))
            }
            _ => {}
        }
        ApiError { problem: Box::new(problem), headers }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.problem.status >= 500 {
            self.problem.log("request failed");
        }
        let status = self.status();
        let json = serde_json::to_vec(&self.to_problem()).unwrap_or_default();
        let mut response = (status, json).into_response();
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

macro_rules! from_core_error {
    ($($error:ty),*) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> ApiError {
                Problem::from(&error).into()
            }
        }
    )*};
}

from_core_error!(
    SpecError,
    ImagingError,
    EngineError,
    StorageError,
    FetchError,
    ServiceError,
    DbError
);

impl From<QueueError> for ApiError {
    fn from(error: QueueError) -> ApiError {
        Problem::new(ErrorCode::Unavailable, "the queue is unavailable").with_cause(&error).into()
    }
}
