//! Request parsing shared by the handlers: query pairs, JSON bodies and body limits.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// A path segment's text. A segment that does not decode (invalid UTF-8 after
/// percent-decoding) names no resource: 404 as a problem document, like any unknown path.
#[derive(Debug)]
pub struct PathText(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathText {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathText, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(text)) => Ok(PathText(text)),
            Err(_) => Err(ApiError::not_found("no such resource")),
        }
    }
}

/// The decoded query pairs; a repeated parameter is refused here, for every endpoint.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if pairs.iter().any(|(seen, _)| *seen == key) {
            return Err(ApiError::invalid_parameter(
                key.as_ref(),
                format!("the parameter {key} is given more than once"),
            ));
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

/// Takes the named parameters out of `pairs` (in `names` order), leaving the rest.
pub fn take_params<const N: usize>(
    pairs: &mut Vec<(String, String)>,
    names: [&str; N],
) -> [Option<String>; N] {
    names.map(|name| {
        let index = pairs.iter().position(|(key, _)| key == name)?;
        Some(pairs.remove(index).1)
    })
}

/// A listing's `limit`: 1 to 1000, default 50.
pub fn page_limit(limit: Option<&str>) -> Result<u32, ApiError> {
    match limit {
        None => Ok(50),
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=1000).contains(limit))
            .ok_or_else(|| ApiError::invalid_parameter("limit", "limit must be from 1 to 1000")),
    }
}

/// An id in a path, strictly in the canonical lowercase hyphenated form; anything else
/// (well-formed or not) is 404 with `detail`.
pub fn path_uuid(text: &str, detail: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(text)
        .ok()
        .filter(|id| id.hyphenated().to_string() == text)
        .ok_or_else(|| ApiError::not_found(detail))
}

/// Refuses any parameter left over.
pub fn no_other_params(pairs: &[(String, String)]) -> Result<(), ApiError> {
    match pairs.first() {
        Some((key, _)) => {
            Err(ApiError::invalid_parameter(key.as_str(), format!("unknown parameter {key}")))
        }
        None => Ok(()),
    }
}

/// Reads a whole body, refusing it past `limit` bytes: early from `Content-Length`, and
/// while streaming (a body without a length cannot slip past).
pub async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: u64,
) -> Result<bytes::Bytes, ApiError> {
    if let Err(error) = check_content_length(headers, limit) {
        return Err(drained(error, headers, limit, body).await);
    }
    let limited = http_body_util::Limited::new(body, limit as usize);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::payload_too_large(limit))
        }
        Err(error) => {
            Err(ApiError::invalid_parameter("body", format!("the body could not be read: {error}")))
        }
    }
}

/// 413 from `Content-Length` alone, before reading anything (see [`drained`]).
pub fn check_content_length(headers: &HeaderMap, limit: u64) -> Result<(), ApiError> {
    match declared_length(headers) {
        Some(length) if length > limit => Err(ApiError::payload_too_large(limit)),
        _ => Ok(()),
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// How far past the limit a refused body is still read before the answer, and for how long.
const DRAIN_BYTES: u64 = 64 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// `error`, after reading and dropping the body it refuses when its declared length is
/// within 64 MiB (`DRAIN_BYTES`) of the limit. A client that is still sending when the
/// answer goes out may see its connection reset and never read the answer; once the body is
/// read, the answer arrives like any other. Bodies declared larger are answered at once
/// (and the connection's lingering close still gives the client a chance).
pub async fn drained(error: ApiError, headers: &HeaderMap, limit: u64, mut body: Body) -> ApiError {
    if declared_length(headers).is_some_and(|length| length <= limit.saturating_add(DRAIN_BYTES)) {
        let drain = async { while let Some(Ok(_)) = body.frame().await {} };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    }
    error
}

/// Parses a JSON object body; anything else is 400 `invalid_json`.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(ApiError::invalid_json("the body must be a JSON object")),
        Err(error) => Err(ApiError::invalid_json(format!("the body is not valid JSON: {error}"))),
    }
}

/// The media type of a request, lowercased and without parameters; a missing header
/// reads as `application/octet-stream`.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

/// The `filename` parameter of a `Content-Disposition` header, if any.
pub fn disposition_filename(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    value.split(';').map(str::trim).find_map(|part| {
        let (name, value) = part.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("filename"))
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|name| !name.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_refuse_repeats_and_decode() {
        let pairs = query_pairs(Some("w=300&ops=resize%7Crotate:90&bg=ff00ff")).unwrap();
        assert_eq!(pairs[1], ("ops".into(), "resize|rotate:90".into()));
        let error = query_pairs(Some("w=1&w=2")).unwrap_err();
        assert_eq!(error.param(), Some("w"));
        let mut pairs = query_pairs(Some("limit=5&cursor=x&z=1")).unwrap();
        let [limit, cursor, missing] = take_params(&mut pairs, ["limit", "cursor", "nope"]);
        assert_eq!((limit.as_deref(), cursor.as_deref(), missing), (Some("5"), Some("x"), None));
        assert_eq!(no_other_params(&pairs).unwrap_err().param(), Some("z"));
    }

    #[test]
    fn filenames_from_disposition() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"cat.png\"".parse().unwrap(),
        );
        assert_eq!(disposition_filename(&headers).as_deref(), Some("cat.png"));
    }
}
