//! `GET /v1/webhook-secret`: the caller's tenant's webhook signing secret.

use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;

use crate::auth::Tenant;
use crate::context::AppContext;

/// The routes of this resource.
pub fn router() -> Router<AppContext> {
    Router::new().route("/v1/webhook-secret", get(webhook_secret))
}

/// The signing secret of webhooks sent to this tenant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookSecret {
    pub secret: String,
}

/// Open mode signs with the master secret; with API keys each tenant has its own, derived
/// from the master, so no tenant can forge another's webhooks.
#[utoipa::path(
    get,
    path = "/v1/webhook-secret",
    tag = "webhooks",
    operation_id = "get_webhook_secret",
    summary = "The caller's tenant's webhook signing secret",
    description = "Webhooks carry `ProgImage-Signature: t=<unix seconds>,v1=<hex \
        HMAC-SHA256(secret, \"<t>.<raw body>\")>`.",
    responses((status = 200, description = "The secret.", body = WebhookSecret))
)]
async fn webhook_secret(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
) -> Json<WebhookSecret> {
    Json(WebhookSecret { secret: context.jobs.webhook_secret(&tenant) })
}
