//! Reading an answer's body within the byte limit.

use bytes::BytesMut;
use reqwest::header::CONTENT_TYPE;
use url::Url;

use super::request_error;
use crate::net::{FetchError, Fetched};

/// The most reserved for a body before its bytes arrive.
const INITIAL_BODY_CAPACITY: u64 = 1024 * 1024;

/// Reads the body, refusing early from `Content-Length` and holding at most the limit
/// (plus the chunk in hand) while streaming.
pub(super) async fn read_body(
    mut response: reqwest::Response,
    final_url: Url,
    max_bytes: u64,
) -> Result<Fetched, FetchError> {
    let declared = response.content_length();
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(FetchError::TooLarge);
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Reserve what the server declares, up to a cap: a declared length costs the server
    // nothing, so it must not make the service hold the whole limit while it waits.
    let reserved = declared.unwrap_or(0).min(INITIAL_BODY_CAPACITY);
    let mut body = BytesMut::with_capacity(reserved as usize);
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if (body.len() + chunk.len()) as u64 > max_bytes {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { bytes: body.freeze(), content_type, final_url })
}
