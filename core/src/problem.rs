//! The error codes of the contract and the problem documents (RFC 9457) that carry them.
//!
//! The HTTP API answers with these; job items record them as their `error`, so both
//! speak the same table.

use serde::{Deserialize, Serialize};

use crate::db::DbError;
use crate::engine::EngineError;
use crate::imaging::ImagingError;
use crate::net::FetchError;
use crate::service::ServiceError;
use crate::spec::SpecError;
use crate::storage::StorageError;

/// The HTTP status and title of an error code.
pub fn status_and_title(code: &str) -> (u16, &'static str) {
    match code {
        "invalid_parameter" => (400, "Invalid parameter"),
        "invalid_json" => (400, "Invalid JSON body"),
        "malformed_request" => (400, "Malformed request"),
        "url_not_allowed" => (400, "URL not allowed"),
        "unauthorized" => (401, "Unauthorized"),
        "not_found" => (404, "Not found"),
        "unsupported_format" => (404, "Unsupported format"),
        "method_not_allowed" => (405, "Method not allowed"),
        "idempotency_conflict" => (409, "Idempotency conflict"),
        "payload_too_large" => (413, "Payload too large"),
        "uri_too_long" => (414, "URI too long"),
        "unsupported_media_type" => (415, "Unsupported media type"),
        "media_type_mismatch" => (415, "Media type mismatch"),
        "range_not_satisfiable" => (416, "Range not satisfiable"),
        "invalid_image" => (422, "Invalid image"),
        "image_too_large" => (422, "Image too large"),
        "fetch_failed" => (422, "Fetch failed"),
        "rate_limited" => (429, "Rate limited"),
        "headers_too_large" => (431, "Request header fields too large"),
        "unavailable" => (503, "Service unavailable"),
        _ => (500, "Internal error"),
    }
}

/// A problem document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub param: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub upstream_status: Option<u16>,
}

impl Problem {
    /// A problem of `code` (its status and title from the table).
    pub fn new(code: &str, detail: impl Into<String>) -> Problem {
        let (status, title) = status_and_title(code);
        Problem {
            kind: format!("urn:progimage:problem:{code}"),
            title: title.to_string(),
            status,
            detail: detail.into(),
            code: code.to_string(),
            request_id: String::new(),
            param: None,
            upstream_status: None,
        }
    }

    /// Names the parameter at fault.
    pub fn with_param(mut self, param: impl Into<String>) -> Problem {
        self.param = Some(param.into());
        self
    }

    /// Whether the image work itself failed: it ran past its deadline or crashed (not a
    /// busy pool or a dependency down).
    pub fn is_work_failure(&self) -> bool {
        self.code == "internal"
            || (self.code == "unavailable" && self.detail.starts_with(TIMEOUT_DETAIL))
    }

    /// Whether the same request may succeed later (overload, a dependency down).
    pub fn is_transient(&self) -> bool {
        self.status >= 500
    }
}

impl From<&SpecError> for Problem {
    fn from(error: &SpecError) -> Problem {
        Problem::new("invalid_parameter", &error.message).with_param(&error.param)
    }
}

impl From<&ImagingError> for Problem {
    fn from(error: &ImagingError) -> Problem {
        match error {
            ImagingError::Invalid(detail) => Problem::new("invalid_image", detail),
            ImagingError::TooLarge(detail) => Problem::new("image_too_large", detail),
            ImagingError::Unsupported(detail) => Problem::new("unsupported_media_type", detail),
            ImagingError::MaskNotFound(id) => {
                Problem::new("not_found", format!("no such mask image {id}")).with_param("mask")
            }
            ImagingError::Step { param, message } => {
                Problem::new("invalid_parameter", message).with_param(param)
            }
            // Server-side: the detail is for the logs, not the client.
            ImagingError::Internal(detail) => {
                tracing::error!(error = %detail, "the image engine failed");
                Problem::new("internal", "the image could not be processed; try again")
            }
        }
    }
}

impl From<&FetchError> for Problem {
    fn from(error: &FetchError) -> Problem {
        let mut problem = Problem::new(error.code(), error.to_string());
        if let FetchError::Failed { upstream_status, .. } = error {
            problem.upstream_status = *upstream_status;
        }
        problem
    }
}

/// How a timed-out computation's problem detail starts.
const TIMEOUT_DETAIL: &str = "processing took longer than";

impl From<&EngineError> for Problem {
    fn from(error: &EngineError) -> Problem {
        match error {
            EngineError::Busy => {
                Problem::new("unavailable", "the image workers are busy; retry shortly")
            }
            EngineError::Timeout(limit) => {
                Problem::new("unavailable", format!("{TIMEOUT_DETAIL} {} s", limit.as_secs()))
            }
            EngineError::Panicked(_) => internal(error),
        }
    }
}

impl From<&ServiceError> for Problem {
    fn from(error: &ServiceError) -> Problem {
        match error {
            ServiceError::NotFound { param, message } => {
                let problem = Problem::new("not_found", message);
                match param {
                    Some(param) => problem.with_param(param),
                    None => problem,
                }
            }
            ServiceError::MediaTypeMismatch(detail) => Problem::new("media_type_mismatch", detail),
            ServiceError::Imaging(error) => error.into(),
            ServiceError::Engine(error) => error.into(),
            ServiceError::Fetch(error) => error.into(),
            ServiceError::Storage(error) => {
                tracing::error!(%error, "storage error");
                Problem::new("unavailable", "storage is unavailable")
            }
            ServiceError::Db(DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_))) => {
                tracing::error!(%error, "database unavailable");
                Problem::new("unavailable", "the database is unavailable")
            }
            ServiceError::Db(error) => internal(error),
        }
    }
}

impl From<&StorageError> for Problem {
    fn from(error: &StorageError) -> Problem {
        tracing::error!(%error, "storage error");
        Problem::new("unavailable", "storage is unavailable")
    }
}

/// A 500 whose cause goes to the log only.
pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
    tracing::error!(error = %cause, "internal error");
    Problem::new("internal", "an internal error occurred; the request id identifies it in the logs")
}
