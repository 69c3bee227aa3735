//! The reusable answers: image bodies with their headers, and the problem documents of
//! each error status listing the codes it carries.

use std::borrow::Cow;

use progimage_core::format::ImageFormat;
use progimage_core::problem::Problem;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{ToResponse, ToSchema};

use super::schema::{binary, integer, keyword, string};
use crate::routes::doc::{
    BadRequest, Conflict, ImageBody, InsufficientStorage, Internal, NotFound, NotModified,
    PartialBody, PayloadTooLarge, RangeNotSatisfiable, TransformBody, Unauthorized, Unavailable,
    Unprocessable, UnsupportedMediaType, VariantBody,
};

fn header(schema: ObjectBuilder, description: &str) -> Header {
    HeaderBuilder::new().schema(Some(schema)).description(Some(description)).build()
}

/// The headers of every stored image response (original or variant, 200/206/304).
fn image_headers(response: ResponseBuilder) -> ResponseBuilder {
    response
        .header("ETag", header(string(), "Strong: the quoted SHA-256 of the bytes."))
        .header(
            "Cache-Control",
            header(
                string(),
                "`public, max-age=31536000, immutable` in open mode, `private, …` when API \
                 keys are configured.",
            ),
        )
        .header("Accept-Ranges", header(keyword(&["bytes"]), "One byte range is honoured."))
        .header("X-Content-Type-Options", header(keyword(&["nosniff"]), "Always."))
        .header(
            "Content-Security-Policy",
            header(keyword(&["default-src 'none'; style-src 'unsafe-inline'; sandbox"]), "Always."),
        )
}

/// The image content types, each a binary body.
fn image_content(response: ResponseBuilder) -> ResponseBuilder {
    ImageFormat::ALL.into_iter().fold(response, |response, format| {
        response
            .content(format.content_type(), ContentBuilder::new().schema(Some(binary())).build())
    })
}

fn cache_header() -> Header {
    header(
        keyword(&["hit", "miss", "bypass"]),
        "`hit` served from the variant cache, `miss` made now and stored, `bypass` made \
         without storing (the image's variant cap was reached).",
    )
}

/// The answer a `routes::doc` name stands for.
macro_rules! reusable_response {
    ($(#[$doc:meta])* $name:ident => $build:expr) => {
        $(#[$doc])*
        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), $build.build().into())
            }
        }
    };
}

reusable_response! {
    /// 200 with an original's bytes, unchanged, in its own content type.
    ImageBody => image_content(image_headers(ResponseBuilder::new().description(
        "The original bytes, unchanged, with their content type.",
    )))
}

reusable_response! {
    /// 200 with a variant's bytes.
    VariantBody => image_content(image_headers(ResponseBuilder::new().description(
        "The encoded variant in the format `{ext}` names.",
    )))
    .header("x-progimage-cache", cache_header())
}

reusable_response! {
    /// 206 with one byte range of an image.
    PartialBody => image_content(image_headers(ResponseBuilder::new().description(
        "One byte range (a `Range` of several ranges answers 200 with the whole body; an \
         `If-Range` other than the current ETag answers 200 too).",
    )))
    .header("Content-Range", header(string(), "`bytes <first>-<last>/<length>`."))
    .header("x-progimage-cache", cache_header())
}

reusable_response! {
    /// 304 for a matching `If-None-Match`.
    NotModified => image_headers(ResponseBuilder::new().description(
        "`If-None-Match` matches the ETag; no body.",
    ))
}

reusable_response! {
    /// 200 with the bytes of a stateless transform.
    TransformBody => image_content(ResponseBuilder::new().description(
        "The transformed image; nothing is stored.",
    ))
    .header("Cache-Control", header(keyword(&["no-store"]), "Never cached."))
    .header("X-Content-Type-Options", header(keyword(&["nosniff"]), "Always."))
    .header(
        "Content-Security-Policy",
        header(keyword(&["default-src 'none'; style-src 'unsafe-inline'; sandbox"]), "Always."),
    )
}

/// A problem-document response listing the codes of its status.
fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/problem+json",
        ContentBuilder::new().schema(Some(Problem::schema_ref())).build(),
    )
}

/// `Retry-After` of the 503 answers.
fn retry_after() -> Header {
    header(integer(0, u64::from(u32::MAX)), "Seconds to wait before retrying.")
}

reusable_response! {
    /// 400.
    BadRequest => problem(
        "`invalid_parameter` (with `param`: a query parameter, a JSON path such as \
         `operations[1].width`, or a header), `invalid_json`, or `url_not_allowed` (a URL the \
         SSRF rules refuse).",
    )
}

reusable_response! {
    /// 401.
    Unauthorized => problem("`unauthorized`: a missing or unknown API key.")
}

reusable_response! {
    /// 404.
    NotFound => problem(
        "`not_found`: an unknown id, or another tenant's (never 403); `unsupported_format` for \
         an unknown `{ext}`.",
    )
}

reusable_response! {
    /// 409.
    Conflict => problem("`idempotency_conflict`: the same `Idempotency-Key` with another body.")
}

reusable_response! {
    /// 413.
    PayloadTooLarge => problem(
        "`payload_too_large`: over the byte limit (may be answered from `Content-Length`).",
    )
}

reusable_response! {
    /// 415.
    UnsupportedMediaType => problem(
        "`unsupported_media_type` (a Content-Type or image format not taken) or \
         `media_type_mismatch` (Content-Type, filename extension and bytes disagree).",
    )
}

reusable_response! {
    /// 416.
    RangeNotSatisfiable => problem("`range_not_satisfiable`: no byte of the range is in the body.")
        .header("Content-Range", header(string(), "`bytes */<length>`."))
}

reusable_response! {
    /// 422.
    Unprocessable => problem(
        "`invalid_image` (empty, unrecognisable or undecodable bytes), `image_too_large` \
         (over the pixel or side limits: input, any step or output) or `fetch_failed` (a \
         remote source unreachable, non-2xx, timed out or redirecting too often; \
         `upstream_status` when there was one).",
    )
}

reusable_response! {
    /// 500.
    Internal => problem("`internal`: a bug; details only in the logs, found by `request_id`.")
}

reusable_response! {
    /// 503.
    Unavailable => problem(
        "`unavailable`: overloaded (the image workers are busy), too slow, or a dependency \
         is down.",
    )
    .header("Retry-After", retry_after())
}

reusable_response! {
    /// 507.
    InsufficientStorage => problem(
        "`insufficient_storage`: the storage (or the database) has no room; nothing \
         half-written is kept. Variants are still served while it is full, not stored.",
    )
}

/// The `$ref` of a schema by its component name, for the response builders.
trait SchemaRef {
    fn schema_ref() -> RefOr<Schema>;
}

impl<T: ToSchema> SchemaRef for T {
    fn schema_ref() -> RefOr<Schema> {
        let name: Cow<'static, str> = T::name();
        RefOr::Ref(Ref::from_schema_name(name))
    }
}
