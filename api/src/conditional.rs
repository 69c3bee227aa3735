//! Serving stored bytes the way caches and download managers expect: a strong `ETag`,
//! `If-None-Match` → 304, one byte range → 206 (several → the whole body), `If-Range`,
//! unsatisfiable → 416 with `Content-Range: bytes */<len>`.

use std::ops::Range;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::error::ApiError;
use progimage_core::problem::ErrorCode;

/// What a `Range` header asks of a body of a given length.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeRequest {
    /// No range, an unparsable one, or several: answer with the whole body.
    Whole,
    /// One satisfiable range (end exclusive).
    Partial(Range<u64>),
    /// Syntactically fine, but nothing of it lies within the body.
    Unsatisfiable,
}

/// Interprets a `Range` header value for a body of `length` bytes.
pub fn parse_range(value: &str, length: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Whole;
    };
    let ranges: Vec<&str> = spec.split(',').map(str::trim).collect();
    if ranges.len() != 1 {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = ranges[0].split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |text: &str| -> Option<u64> {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if length == 0 => RangeRequest::Unsatisfiable,
            Some(suffix) => RangeRequest::Partial(length.saturating_sub(suffix)..length),
            None => RangeRequest::Whole,
        },
        (start, "") => match number(start) {
            Some(start) if start < length => RangeRequest::Partial(start..length),
            Some(_) => RangeRequest::Unsatisfiable,
            None => RangeRequest::Whole,
        },
        (start, end) => match (number(start), number(end)) {
            (Some(start), Some(end)) if start > end => RangeRequest::Whole,
            (Some(start), Some(_)) if start >= length => RangeRequest::Unsatisfiable,
            (Some(start), Some(end)) => RangeRequest::Partial(start..end.min(length - 1) + 1),
            _ => RangeRequest::Whole,
        },
    }
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, `*` matches all).
pub fn none_match(value: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    value.split(',').any(|tag| tag.trim() == "*" || bare(tag) == bare(etag))
}

/// How one stored body is described to clients.
pub struct Representation<'a> {
    pub body: Bytes,
    pub content_type: &'a str,
    /// The bare hex digest; quoted into the `ETag`.
    pub digest: &'a str,
    pub cache_control: &'a str,
}

/// Builds the response for a GET or HEAD of `representation` given the request headers.
pub fn respond(request: &HeaderMap, representation: Representation<'_>) -> Response {
    let etag = format!("\"{}\"", representation.digest);
    let length = representation.body.len() as u64;
    let mut headers = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::ETAG, &etag);
    set(header::CACHE_CONTROL, representation.cache_control);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; sandbox");
    set(header::ACCEPT_RANGES, "bytes");

    let header_text = |name: header::HeaderName| request.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = header_text(header::IF_NONE_MATCH)
        && none_match(value, &etag)
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    set(header::CONTENT_TYPE, representation.content_type);
    // If-Range holds our strong ETag or a date; only an exact ETag keeps the range.
    let range_applies = header_text(header::IF_RANGE).is_none_or(|value| value.trim() == etag);
    let range = match header_text(header::RANGE) {
        Some(value) if range_applies => parse_range(value, length),
        _ => RangeRequest::Whole,
    };
    match range {
        RangeRequest::Whole => {
            (StatusCode::OK, headers, Body::from(representation.body)).into_response()
        }
        RangeRequest::Partial(range) => {
            set(
                header::CONTENT_RANGE,
                &format!("bytes {}-{}/{length}", range.start, range.end - 1),
            );
            let part = representation.body.slice(range.start as usize..range.end as usize);
            (StatusCode::PARTIAL_CONTENT, headers, Body::from(part)).into_response()
        }
        RangeRequest::Unsatisfiable => ApiError::new(
            ErrorCode::RangeNotSatisfiable,
            format!("the range lies outside the {length} bytes of the body"),
        )
        .with_header(header::CONTENT_RANGE, format!("bytes */{length}"))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-4", 10), Partial(0..5));
        assert_eq!(parse_range("bytes=5-", 10), Partial(5..10));
        assert_eq!(parse_range("bytes=-3", 10), Partial(7..10));
        assert_eq!(parse_range("bytes=-30", 10), Partial(0..10));
        assert_eq!(parse_range("bytes=8-100", 10), Partial(8..10));
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,4-5", 10), Whole);
        assert_eq!(parse_range("bytes=5-2", 10), Whole);
        assert_eq!(parse_range("items=0-1", 10), Whole);
        assert_eq!(parse_range("bytes=a-b", 10), Whole);
    }

    #[test]
    fn etag_matching() {
        assert!(none_match("\"abc\"", "\"abc\""));
        assert!(none_match("W/\"abc\", \"def\"", "\"abc\""));
        assert!(none_match("*", "\"abc\""));
        assert!(!none_match("\"abd\"", "\"abc\""));
    }
}
