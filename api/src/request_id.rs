//! `x-request-id`: the client's own when it is printable ASCII of 1..=128 characters,
//! otherwise a fresh one; on every response, in every problem document and in the logs.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

/// The header name.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled (empty outside a request).
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Whether a client-sent id is acceptable: `[!-~]{1,128}`.
pub fn is_valid(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| (b'!'..=b'~').contains(&b))
}

/// Middleware: picks the id, runs the request inside its scope and span, and sets the
/// response header.
pub async fn middleware(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_valid(id))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().simple().to_string());
    let span = tracing::info_span!(
        "request",
        request.id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), tracing::Instrument::instrument(next.run(request), span.clone()))
        .await;
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(status, duration_ms = started.elapsed().as_millis() as u64, "request done")
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn accepts_printable_ascii_up_to_128() {
        assert!(is_valid("abc-123_!~"));
        assert!(is_valid(&"a".repeat(128)));
        assert!(!is_valid(&"a".repeat(129)));
        assert!(!is_valid(""));
        assert!(!is_valid("has space"));
        assert!(!is_valid("naïve"));
    }
}
