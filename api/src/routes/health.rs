//! Operations: liveness, readiness, metrics and the OpenAPI document (never behind auth).

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
        .route("/openapi.json", get(openapi))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database and the storage answer (the embedded queue lives in the
/// database, so its check is the database's).
async fn readyz(State(context): State<AppContext>) -> Response {
    let database = context.service.repository().ping().await;
    let storage = context.service.storage().check().await;
    let describe = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = database.is_ok() && storage.is_ok();
    if let Err(error) = &database {
        tracing::warn!(%error, "readiness: database");
    }
    if let Err(error) = &storage {
        tracing::warn!(%error, "readiness: storage");
    }
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": {
            "database": describe(database.is_ok()),
            "storage": describe(storage.is_ok()),
            "queue": describe(database.is_ok()),
        }
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let mut response = (status, Json(body)).into_response();
    if !ready {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

async fn metrics(State(context): State<AppContext>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], context.metrics.render())
        .into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}
