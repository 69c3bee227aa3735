//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the code.
//!
//! Each handler carries its `#[utoipa::path]`, naming what it shares with others through
//! `routes::doc`; this module lists the handlers and gives those names their meaning:
//! `grammar` makes the pipeline steps, the output settings and the transformation query
//! parameters from the engine's tables; `bodies` composes the request bodies from the
//! typed structs of `progimage_core::requests` and the settings; `params` and `responses`
//! hold the other shared parameters and the image and problem answers. The dependency runs
//! from here to the routes only.
//!
//! `GET /v1/images/{id}` and `GET /v1/images/{id}.{ext}` are one axum route
//! (`/v1/images/{file}`); the document gives them as two path templates, the second with
//! both expressions in its last segment, as OpenAPI path templating allows.

mod bodies;
mod grammar;
mod params;
mod responses;
mod schema;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use axum::routing::get;
use axum::{Json, Router};
use progimage_core::problem::Problem;
use progimage_core::requests::{Operations, UrlUpload};
use progimage_core::views::{ImageView, ItemView, JobView, WebhookView};
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation as PathOperation;
use utoipa::openapi::response::Response;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::context::AppContext;
use crate::routes::doc::{
    BadRequest, Conflict, Format, ImageBody, ImageBytes, InsufficientStorage, Internal,
    JobSubmission, MultipartUpload, NotFound, NotModified, PartialBody, PayloadTooLarge,
    RangeNotSatisfiable, TransformBody, TransformRequest, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType, VariantBody,
};
use crate::routes::images::{ImagePage, MultipartItem, MultipartResult, VariantDownload};
use crate::routes::jobs::{JobAccepted, JobPage};
use crate::routes::webhooks::WebhookSecret;
use crate::routes::{health, images, jobs, transform, webhooks};
use grammar::Operation;
use schema::string;

/// The security scheme of `/v1`: `Authorization: Bearer <key>`.
pub const BEARER_AUTH: &str = "bearerAuth";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ProgImage",
        version = env!("CARGO_PKG_VERSION"),
        description = "Programmatic image storage and processing: upload images, fetch them \
            in any supported format with transformations applied on the fly (variants are \
            made once and cached), transform without storing, and run bulk asynchronous \
            jobs with signed webhooks.\n\n\
            Errors are RFC 9457 problem documents (`application/problem+json`, schema \
            `Problem`) whose `code` is one of the contract's error codes. Every response \
            carries `x-request-id`. A method a path does not take answers 405 \
            `method_not_allowed` with `Allow`; an unknown path 404 `not_found`.\n\n\
            When API keys are configured every `/v1` operation needs \
            `Authorization: Bearer <key>` (401 `unauthorized` otherwise) and images and jobs \
            belong to the key's tenant; with no keys the service is open. The operations \
            endpoints (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`) never need a key."
    ),
    paths(
        images::upload,
        images::list,
        images::download,
        images::delete,
        images::metadata,
        transform::transform,
        jobs::create,
        jobs::list,
        jobs::show,
        jobs::cancel,
        webhooks::webhook_secret,
        health::healthz,
        health::readyz,
        health::metrics,
        openapi,
    ),
    components(
        schemas(
            ImageView, ImagePage, MultipartResult, MultipartItem, JobView, ItemView,
            WebhookView, JobAccepted, JobPage, WebhookSecret, Problem, UrlUpload,
            MultipartUpload, TransformRequest, JobSubmission, Operations, Operation, Format,
            ImageBytes,
        ),
        responses(
            ImageBody, VariantBody, PartialBody, NotModified, TransformBody, BadRequest,
            Unauthorized, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
            RangeNotSatisfiable, Unprocessable, Internal, Unavailable, InsufficientStorage,
        )
    ),
    modifiers(&V1Conventions),
    tags(
        (name = "images", description = "Stored images, their variants and metadata"),
        (name = "transform", description = "Stateless transformation"),
        (name = "jobs", description = "Bulk asynchronous work"),
        (name = "webhooks", description = "Webhook signing"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
    )
)]
struct ApiDoc;

/// The document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// The route of this document.
pub fn router() -> Router<AppContext> {
    Router::new().route("/openapi.json", get(openapi))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object))
)]
async fn openapi() -> Json<Document> {
    Json(document())
}

/// What the `/v1` layers add to every operation, and what HEAD changes.
struct V1Conventions;

impl Modify for V1Conventions {
    fn modify(&self, document: &mut Document) {
        // `paths(...)` takes one documented path per handler; `download` has two.
        let mut variant = <VariantDownload as utoipa::Path>::operation();
        variant.tags = Some(vec!["images".to_string()]);
        document.paths.add_path_operation(
            <VariantDownload as utoipa::Path>::path(),
            <VariantDownload as utoipa::Path>::methods(),
            variant,
        );
        let components = document.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            BEARER_AUTH.to_string(),
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `PROGIMAGE_API_KEYS`; not needed in open mode.",
                    ))
                    .build(),
            )
            .into(),
        );
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                response.headers.insert("x-request-id".to_string(), request_id_header().into());
            }
        }
        let shared = components.responses.clone();
        for (path, item) in document.paths.paths.iter_mut() {
            let is_v1 = path.starts_with("/v1/");
            if let Some(head) = item.head.as_mut() {
                head_operation(head, &shared);
            }
            let operations = [
                item.get.as_mut(),
                item.head.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                if is_v1 {
                    v1_operation(operation);
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response
                            .headers
                            .insert("x-request-id".to_string(), request_id_header().into());
                    }
                }
            }
        }
    }
}

/// The HEAD of a GET: its own operation id, and the same answers without a body.
fn head_operation(head: &mut PathOperation, shared: &BTreeMap<String, RefOr<Response>>) {
    head.operation_id = head.operation_id.as_ref().map(|id| format!("{id}_head"));
    for response in head.responses.responses.values_mut() {
        if let RefOr::Ref(reference) = response {
            let name = reference.ref_location.rsplit('/').next().unwrap_or_default();
            if let Some(RefOr::T(component)) = shared.get(name) {
                *response = RefOr::T(component.clone());
            }
        }
        if let RefOr::T(response) = response {
            response.content.clear();
        }
    }
}

/// Auth on a `/v1` operation, and the answers every one of them may give.
fn v1_operation(operation: &mut PathOperation) {
    operation.security = Some(vec![SecurityRequirement::new(BEARER_AUTH, Vec::<String>::new())]);
    let responses = &mut operation.responses.responses;
    let common = [
        ("401", "Unauthorized"),
        ("500", "Internal"),
        ("503", "Unavailable"),
        ("507", "InsufficientStorage"),
    ];
    for (status, name) in common {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    }
}

fn request_id_header() -> Header {
    HeaderBuilder::new()
        .schema(Some(string()))
        .description(Some(
            "The client's own `x-request-id` when it matches `[!-~]{1,128}`, else a generated \
             one; also the problem document's `request_id`.",
        ))
        .build()
}
