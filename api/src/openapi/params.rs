//! The query parameters of the listings and the upload.

use serde_json::json;
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::ObjectBuilder;

use super::schema::{integer, keyword, string};
use crate::routes::doc::{ImageListParams, JobListParams, UploadParams};

fn query(name: &str, schema: ObjectBuilder, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

impl IntoParams for UploadParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            query(
                "filename",
                string(),
                "The stored filename; wins over `Content-Disposition`. An extension naming a \
                 format must agree with the Content-Type (with octet-stream it declares the \
                 format).",
            ),
            query(
                "eager",
                string().pattern(Some("^[A-Za-z]+(,[A-Za-z]+)*$")).examples([json!("webp,avif")]),
                "Comma-separated formats whose plain `{id}.{fmt}` variants are converted in the \
                 background; an unknown format → 400 before anything is stored.",
            ),
        ]
    }
}

fn limit_param() -> Parameter {
    query("limit", integer(1, 1000).default(Some(json!(50))), "Page size.")
}

fn cursor_param() -> Parameter {
    // A cursor is a UUID in unpadded base64url: 22 characters, the last carrying 2 bits.
    query(
        "cursor",
        string().pattern(Some("^[A-Za-z0-9_-]{21}[AQgw]$")),
        "The previous page's `next_cursor`; a bad cursor → 400.",
    )
}

impl IntoParams for ImageListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![limit_param(), cursor_param()]
    }
}

impl IntoParams for JobListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let statuses =
            ["queued", "running", "succeeded", "failed", "completed_with_errors", "cancelled"];
        vec![
            query("status", keyword(&statuses), "Only jobs in this status."),
            limit_param(),
            cursor_param(),
        ]
    }
}
