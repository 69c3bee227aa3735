//! `/v1/jobs`: bulk asynchronous work.

use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use progimage_core::db::jobs::JobStatus;
use progimage_core::jobs::{SubmitError, Submitted};
use progimage_core::net::FetchError;
use progimage_core::problem::{ErrorCode, Problem};
use progimage_core::views::JobView;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Tenant;
use crate::context::AppContext;
use crate::error::ApiError;
use crate::extract::{
    PathText, json_object, no_other_params, page_limit, path_uuid, query_pairs, read_body,
    take_params,
};
use crate::request_id;
use crate::routes::doc;
use crate::routes::images::{decode_cursor, encode_cursor};

/// Largest job body accepted (10,000 items with their operations fit well within it).
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// The routes of this resource.
pub fn router() -> Router<AppContext> {
    Router::new()
        .route("/v1/jobs", get(list).post(create))
        .route("/v1/jobs/{id}", get(show).delete(cancel))
}

/// The answer to a new job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobAccepted {
    pub id: Uuid,
    /// Always `queued`.
    pub status: &'static str,
    pub url: String,
    pub total: u32,
}

/// A page of jobs (without their items).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobView>,
    pub next_cursor: Option<String>,
}

fn job_id(text: &str) -> Result<Uuid, ApiError> {
    path_uuid(text, "no such job")
}

/// `POST /v1/jobs`.
#[utoipa::path(
    post,
    path = "/v1/jobs",
    tag = "jobs",
    operation_id = "create_job",
    summary = "Submit a bulk job",
    description = "Checked at submission (400, no job): `items` non-empty and at most 10,000, \
        each with exactly one of `image_id` or `url`; ops, formats and settings valid; URLs \
        checked against the SSRF rules. Whether a source exists or can be fetched is found \
        out per item.",
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1 to 255 visible ASCII characters; per tenant, kept at least 24 h. \
            The same key and body → 200 with the job; another body → 409.")),
    request_body(content = doc::JobSubmission, content_type = "application/json"),
    responses(
        (status = 202, description = "Queued.", body = JobAccepted,
            headers(("Location" = String, description = "`/v1/jobs/{id}`"))),
        (status = 200, description = "A repeated `Idempotency-Key` with the same body: the \
            job as it is now.", body = JobView),
        (status = 400, response = doc::BadRequest),
        (status = 409, response = doc::Conflict),
        (status = 413, response = doc::PayloadTooLarge),
    )
)]
async fn create(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    no_other_params(&query_pairs(query.as_deref())?)?;
    let headers = request.headers().clone();
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .filter(|key| (1..=255).contains(&key.len()))
                .ok_or_else(|| {
                    ApiError::invalid_parameter(
                        "Idempotency-Key",
                        "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    )
                })?
                .to_string(),
        ),
    };
    let body = read_body(&headers, request.into_body(), MAX_BODY_BYTES).await?;
    let body = json_object(&body)?;
    let submitted = context
        .jobs
        .submit(&tenant, &body, idempotency_key.as_deref(), &request_id::current())
        .await
        .map_err(|error| match error {
            SubmitError::Spec(error) => ApiError::from(error),
            SubmitError::Url { param, error } => {
                let problem = match error {
                    FetchError::Failed { message, .. } => {
                        Problem::new(ErrorCode::UrlNotAllowed, message)
                    }
                    error => Problem::from(&error),
                };
                ApiError::from(problem).with_param(param)
            }
            SubmitError::Db(error) => ApiError::from(error),
        })?;
    match submitted {
        Submitted::Created(job) => {
            let url = format!("/v1/jobs/{}", job.id);
            let mut response = (
                StatusCode::ACCEPTED,
                Json(JobAccepted {
                    id: job.id,
                    status: "queued",
                    url: url.clone(),
                    total: job.total,
                }),
            )
                .into_response();
            if let Ok(location) = HeaderValue::from_str(&url) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Submitted::Existing(job) => {
            let view = context
                .jobs
                .view(&tenant, job.id)
                .await?
                .ok_or_else(|| ApiError::not_found("no such job"))?;
            Ok((StatusCode::OK, Json(view)).into_response())
        }
        Submitted::Conflict => Err(ApiError::new(
            ErrorCode::IdempotencyConflict,
            "this Idempotency-Key was used with another body",
        )),
    }
}

/// `GET /v1/jobs/{id}`.
#[utoipa::path(
    get,
    path = "/v1/jobs/{id}",
    tag = "jobs",
    operation_id = "get_job",
    summary = "A job with its items",
    params(("id" = Uuid, Path, description = "The job id (lowercase, hyphenated).")),
    responses(
        (status = 200, description = "The Job.", body = JobView),
        (status = 400, response = doc::BadRequest),
        (status = 404, response = doc::NotFound),
    )
)]
async fn show(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    PathText(id): PathText,
    RawQuery(query): RawQuery,
) -> Result<Json<JobView>, ApiError> {
    no_other_params(&query_pairs(query.as_deref())?)?;
    let view = context.jobs.view(&tenant, job_id(&id)?).await?;
    view.map(Json).ok_or_else(|| ApiError::not_found("no such job"))
}

/// `DELETE /v1/jobs/{id}`: queued items are cancelled at once, running ones finish.
#[utoipa::path(
    delete,
    path = "/v1/jobs/{id}",
    tag = "jobs",
    operation_id = "cancel_job",
    summary = "Cancel a job",
    description = "Queued items become cancelled at once, running ones finish, outputs are \
        kept; the job ends `cancelled` when its running items are done. A finished job is \
        returned unchanged.",
    params(("id" = Uuid, Path, description = "The job id (lowercase, hyphenated).")),
    responses(
        (status = 200, description = "The Job.", body = JobView),
        (status = 404, response = doc::NotFound),
    )
)]
async fn cancel(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    PathText(id): PathText,
) -> Result<Json<JobView>, ApiError> {
    let view = context.jobs.cancel(&tenant, job_id(&id)?).await?;
    view.map(Json).ok_or_else(|| ApiError::not_found("no such job"))
}

/// `GET /v1/jobs?status=&limit=&cursor=`.
#[utoipa::path(
    get,
    path = "/v1/jobs",
    tag = "jobs",
    operation_id = "list_jobs",
    summary = "List jobs (without their items), newest first",
    params(doc::JobListParams),
    responses(
        (status = 200, description = "A page; `next_cursor` is null on the last.", body = JobPage),
        (status = 400, response = doc::BadRequest),
    )
)]
async fn list(
    State(context): State<AppContext>,
    Extension(Tenant(tenant)): Extension<Tenant>,
    RawQuery(query): RawQuery,
) -> Result<Json<JobPage>, ApiError> {
    let mut pairs = query_pairs(query.as_deref())?;
    let [status, limit, cursor] = take_params(&mut pairs, ["status", "limit", "cursor"]);
    no_other_params(&pairs)?;
    let status = status
        .map(|name| {
            JobStatus::from_name(&name).ok_or_else(|| {
                ApiError::invalid_parameter("status", format!("unknown job status {name:?}"))
            })
        })
        .transpose()?;
    let limit = page_limit(limit.as_deref())?;
    let before = cursor.as_deref().map(decode_cursor).transpose()?;
    let mut jobs = context.jobs.list(&tenant, status, limit + 1, before).await?;
    let next_cursor = if jobs.len() > limit as usize {
        jobs.truncate(limit as usize);
        jobs.last().map(|job| encode_cursor(job.id))
    } else {
        None
    };
    Ok(Json(JobPage { jobs: jobs.iter().map(JobView::summary).collect(), next_cursor }))
}
