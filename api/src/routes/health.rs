//! Operations: liveness, readiness and metrics (never behind auth; the OpenAPI document,
//! also one of them, is served by `crate::openapi`).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::context::AppContext;

/// The routes of this resource.
pub fn router() -> Router<AppContext> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Alive.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object,
        example = json!({"status": "ok"})))
)]
async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database, the storage and the queue answer (the embedded queue lives in
/// the database, so its check pings the database; RabbitMQ's declares the exchange
/// passively on the live connection).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready.", body = Object, example = json!({"status": "ready",
            "checks": {"database": "ok", "storage": "ok", "queue": "ok"}})),
        (status = 503, description = "A dependency is down; `checks` says which.", body = Object,
            headers(("Retry-After" = u32, description = "Seconds.")),
            example = json!({"status": "unavailable",
                "checks": {"database": "ok", "storage": "unavailable", "queue": "ok"}})),
    )
)]
async fn readyz(State(context): State<AppContext>) -> Response {
    let (database, storage, queue) = tokio::join!(
        context.service.repository().ping(),
        context.service.storage().check(),
        context.queue.check(),
    );
    let describe = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = database.is_ok() && storage.is_ok() && queue.is_ok();
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness: database");
    }
    if let Err(error) = &storage {
        tracing::warn!(%error, "readiness: storage");
    }
    if let Err(error) = &queue {
        tracing::warn!(%error, "readiness: queue");
    }
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": {
            "database": describe(database.is_ok()),
            "storage": describe(storage.is_ok()),
            "queue": describe(queue.is_ok()),
        }
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut response = (status, Json(body)).into_response();
    if !ready {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format.", body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8"))
)]
async fn metrics(State(context): State<AppContext>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], context.metrics.render())
        .into_response()
}
