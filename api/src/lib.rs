//! ProgImage's HTTP API: thin axum handlers over `progimage_core`'s image service.
//!
//! `main.rs` parses the config, initialises tracing and calls [`run`]; tests call
//! [`AppContext::build`] and [`serve`] with a pre-bound listener.

pub mod auth;
pub mod conditional;
pub mod config;
pub mod context;
pub mod error;
pub mod extract;
pub mod listener;
pub mod openapi;
pub mod request_id;
pub mod routes;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

pub use crate::config::Config;
pub use crate::context::AppContext;
use crate::error::ApiError;
use progimage_core::problem::ErrorCode;

/// How long in-flight work may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

/// Every route, with auth on `/v1`, request ids, timeouts and problem-document fallbacks.
pub fn build_router(context: AppContext) -> Router {
    let v1 = Router::new()
        .merge(routes::images::router())
        .merge(routes::jobs::router())
        .merge(routes::transform::router())
        .merge(routes::webhooks::router())
        .route_layer(middleware::from_fn_with_state(context.clone(), auth::require_tenant))
        // Handlers bound every body themselves (uploads by the byte limit); this only lifts
        // axum's 2 MiB default, with room for multipart framing around a full-size file.
        .layer(DefaultBodyLimit::max(body_limit(&context)));
    let timeout = Duration::from_secs(context.config.request_timeout_s);
    Router::new()
        .merge(v1)
        .merge(routes::health::router())
        .merge(openapi::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(context.clone())
        .layer(middleware::from_fn_with_state(context, v1_auth_for_unknown_routes))
        .layer(middleware::from_fn(problem_for_timeouts))
        .layer(middleware::from_fn(close_after_refused_body))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(&"a handler panicked").into_response()
        }))
        .layer(middleware::from_fn(request_id::middleware))
}

/// The most bytes any `/v1` request body may have: the upload limit plus 1 MiB of framing.
fn body_limit(context: &AppContext) -> usize {
    let max_bytes = context.service.limits().max_bytes;
    usize::try_from(max_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20)
}

/// Unknown paths under `/v1` still need a key: 401 comes before 404.
async fn v1_auth_for_unknown_routes(
    axum::extract::State(context): axum::extract::State<AppContext>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/v1") {
        return auth::require_tenant(axum::extract::State(context), request, next).await;
    }
    next.run(request).await
}

/// A refusal may come before the request body was read (a bad type, key or parameter is
/// known from the headers); the server then cannot reuse the connection, so it says so
/// with `Connection: close` rather than leave a client to find a dead socket on its next
/// request. HTTP/1 only: HTTP/2 streams end on their own.
async fn close_after_refused_body(request: Request, next: Next) -> Response {
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length.trim() != "0");
    let http1 = request.version() < axum::http::Version::HTTP_2;
    let mut response = next.run(request).await;
    let refused = response.status().is_client_error() || response.status().is_server_error();
    if has_body && http1 && refused {
        response
            .headers_mut()
            .insert(header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    response
}

/// The timeout layer answers a bare 503; give it a problem document and `Retry-After`.
async fn problem_for_timeouts(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_bare_503 = response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::CONTENT_TYPE);
    if is_bare_503 {
        return ApiError::new(ErrorCode::Unavailable, "the request took too long").into_response();
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this method is not allowed on this resource")
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight requests finish
/// for up to [`SHUTDOWN_GRACE`], and returns.
pub async fn serve(
    listener: TcpListener,
    context: AppContext,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = build_router(context);
    let stopping = CancellationToken::new();
    let signal = stopping.clone();
    let server = axum::serve(listener::ProblemListener(listener), router).with_graceful_shutdown(
        async move {
            shutdown.await;
            signal.cancel();
        },
    );
    let server = tokio::spawn(async move { server.await });
    // Bound the drain: after the grace period, stop waiting for slow requests.
    let drained = async {
        stopping.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.unwrap_or_else(|error| Err(std::io::Error::other(error))),
        _ = drained => {
            tracing::warn!("shutdown grace period over; dropping unfinished requests");
            Ok(())
        }
    }
}

/// Runs the service as the binary does: build, serve until SIGTERM/SIGINT, drain.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let background_stop = CancellationToken::new();
    let (context, background) = AppContext::build(config, background_stop.clone()).await?;
    let repository = context.service.repository().clone();
    serve(listener, context, shutdown_signal()).await?;
    tracing::info!("stopping background work");
    background_stop.cancel();
    if tokio::time::timeout(Duration::from_secs(2), background).await.is_err() {
        tracing::warn!("background work still running; it resumes at the next start");
    }
    repository.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
