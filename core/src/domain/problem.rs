//! The error codes of the contract and the problem documents (RFC 9457) that carry them.
//!
//! The HTTP API answers with these; job items record them as their `error`, so both
//! speak the same table.
//!
//! Converting an error into a problem decides two things from the error itself: what the
//! client is told, and whether trying again may help ([`Recovery`]). Each layer converts
//! its own errors (`From<&StorageError>` beside `StorageError`, and so on), so this module
//! depends on nothing above it. A conversion logs nothing: a
//! server-side cause travels in [`Problem::cause`] to the boundary that answers or records
//! the problem (the HTTP error response, a job item's failure), which logs it once.

use serde::{Deserialize, Serialize};

use crate::imaging::ImagingError;
use crate::spec::SpecError;

/// Declares the error codes once: the enum, its wire name, HTTP status and title.
macro_rules! error_codes {
    ($($variant:ident => ($name:literal, $status:literal, $title:literal),)*) => {
        /// An error code of the contract. A code is named by its variant, so a misspelt
        /// one does not compile (it used to fall through to a 500).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order of the contract's table.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in problem documents (`invalid_parameter`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }

            /// The HTTP status the code answers with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }

            /// The problem document's `title`.
            pub fn title(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $title,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidParameter => ("invalid_parameter", 400, "Invalid parameter"),
    InvalidJson => ("invalid_json", 400, "Invalid JSON body"),
    MalformedRequest => ("malformed_request", 400, "Malformed request"),
    UrlNotAllowed => ("url_not_allowed", 400, "URL not allowed"),
    Unauthorized => ("unauthorized", 401, "Unauthorized"),
    NotFound => ("not_found", 404, "Not found"),
    UnsupportedFormat => ("unsupported_format", 404, "Unsupported format"),
    MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed"),
    IdempotencyConflict => ("idempotency_conflict", 409, "Idempotency conflict"),
    PayloadTooLarge => ("payload_too_large", 413, "Payload too large"),
    UriTooLong => ("uri_too_long", 414, "URI too long"),
    UnsupportedMediaType => ("unsupported_media_type", 415, "Unsupported media type"),
    MediaTypeMismatch => ("media_type_mismatch", 415, "Media type mismatch"),
    RangeNotSatisfiable => ("range_not_satisfiable", 416, "Range not satisfiable"),
    InvalidImage => ("invalid_image", 422, "Invalid image"),
    ImageTooLarge => ("image_too_large", 422, "Image too large"),
    FetchFailed => ("fetch_failed", 422, "Fetch failed"),
    RateLimited => ("rate_limited", 429, "Rate limited"),
    HeadersTooLarge => ("headers_too_large", 431, "Request header fields too large"),
    Internal => ("internal", 500, "Internal error"),
    Unavailable => ("unavailable", 503, "Service unavailable"),
    InsufficientStorage => ("insufficient_storage", 507, "Insufficient storage"),
}

impl ErrorCode {
    /// The code of a problem document's `code`, if it is one of the table's.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|code| code.as_str() == name)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Whether work that failed may succeed if tried again, decided by the failure's cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// Bad input, or a fault that will repeat: the same work fails the same way.
    #[default]
    Fatal,
    /// A dependency is down or overloaded (database, storage, the worker pool).
    Transient,
    /// The work itself ran past its deadline or crashed: worth one more try, not many.
    WorkFailure,
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
    /// Whether trying again may help; not part of the document.
    #[serde(skip)]
    pub recovery: Recovery,
    /// The server-side cause, for the log line of whoever reports the problem; never sent.
    #[serde(skip)]
    pub cause: Option<String>,
}

impl Problem {
    /// A problem of `code` (its status and title from the table).
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:progimage:problem:{code}"),
            title: code.title().to_string(),
            status: code.status(),
            detail: detail.into(),
            code: code.as_str().to_string(),
            request_id: String::new(),
            param: None,
            upstream_status: None,
            recovery: Recovery::Fatal,
            cause: None,
        }
    }

    /// Says whether trying again may help.
    pub(crate) fn with_recovery(mut self, recovery: Recovery) -> Problem {
        self.recovery = recovery;
        self
    }

    /// Keeps a server-side cause for the log.
    pub fn with_cause(mut self, cause: &dyn std::fmt::Display) -> Problem {
        self.cause = Some(cause.to_string());
        self
    }

    /// Whether trying again later may help.
    pub(crate) fn is_retryable(&self) -> bool {
        self.recovery != Recovery::Fatal
    }

    /// Logs the problem once, where it is answered or recorded: server-side ones (5xx) as
    /// errors with their cause, the client's own as information.
    pub fn log(&self, what: &str) {
        if self.status >= 500 {
            let cause = self.cause.as_deref().unwrap_or(&self.detail);
            tracing::error!(code = %self.code, %cause, "{what}");
        } else {
            tracing::info!(code = %self.code, detail = %self.detail, "{what}");
        }
    }

    /// Whether the problem carries `code`.
    pub(crate) fn code_is(&self, code: ErrorCode) -> bool {
        self.code == code.as_str()
    }

    /// Names the parameter at fault.
    pub(crate) fn with_param(mut self, param: impl Into<String>) -> Problem {
        self.param = Some(param.into());
        self
    }
}

impl From<&SpecError> for Problem {
    fn from(error: &SpecError) -> Problem {
        Problem::new(ErrorCode::InvalidParameter, &error.message).with_param(&error.param)
    }
}

impl From<&ImagingError> for Problem {
    fn from(error: &ImagingError) -> Problem {
        match error {
            ImagingError::Invalid(detail) => Problem::new(ErrorCode::InvalidImage, detail),
            ImagingError::TooLarge(detail) => Problem::new(ErrorCode::ImageTooLarge, detail),
            ImagingError::Unsupported(detail) => {
                Problem::new(ErrorCode::UnsupportedMediaType, detail)
            }
            ImagingError::MaskNotFound(id) => {
                Problem::new(ErrorCode::NotFound, format!("no such mask image {id}"))
                    .with_param("mask")
            }
            ImagingError::Step { param, message } => {
                Problem::new(ErrorCode::InvalidParameter, message).with_param(param)
            }
            // Server-side: the detail is for the logs, not the client.
            ImagingError::Internal(detail) => {
                Problem::new(ErrorCode::Internal, "the image could not be processed; try again")
                    .with_cause(detail)
                    .with_recovery(Recovery::WorkFailure)
            }
        }
    }
}

/// A full store or database: nothing half-written is kept, and space must be freed.
pub(crate) fn insufficient_storage(cause: &dyn std::fmt::Display) -> Problem {
    Problem::new(ErrorCode::InsufficientStorage, "the storage has no room; nothing was kept")
        .with_cause(cause)
        .with_recovery(Recovery::Transient)
}

/// A 500 whose cause goes to the log only.
pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
    Problem::new(
        ErrorCode::Internal,
        "an internal error occurred; the request id identifies it in the logs",
    )
    .with_cause(cause)
}
