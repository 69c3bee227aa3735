//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the code.
//!
//! Each handler carries its `#[utoipa::path]`; this module gathers them and adds what has
//! no Rust type of its own: the request bodies the handlers parse by hand (the transform
//! and job JSON, the pipeline steps), the transformation query parameters, the reusable
//! image and problem responses, and the `bearerAuth` scheme on every `/v1` operation.
//!
//! `GET /v1/images/{id}` and `GET /v1/images/{id}.{ext}` are one axum route
//! (`/v1/images/{file}`); the document gives them as two path templates, the second with
//! both expressions in its last segment, as OpenAPI path templating allows.

use std::borrow::Cow;
use std::collections::BTreeMap;

use progimage_core::format::ImageFormat;
use progimage_core::problem::Problem;
use progimage_core::spec::{MAX_SIDE, step_params};
use progimage_core::views::{ImageView, ItemView, JobView, WebhookView};
use serde_json::json;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{
    Operation as PathOperation, Parameter, ParameterBuilder, ParameterIn, ParameterStyle,
};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, Discriminator, KnownFormat, ObjectBuilder,
    OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr, Required};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

use crate::routes::images::ImagePage;
use crate::routes::jobs::{JobAccepted, JobPage};
use crate::routes::webhooks::WebhookSecret;
use crate::routes::{health, images, jobs, transform, webhooks};

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
        health::openapi,
    ),
    components(
        schemas(
            ImageView, ImagePage, MultipartResult, MultipartItem, JobView, ItemView,
            WebhookView, JobAccepted, JobPage, WebhookSecret, Problem, UrlUpload,
            MultipartUpload, TransformRequest, JobSubmission, JobItemSource, Operation, Format,
            ImageBytes,
        ),
        responses(
            ImageBody, VariantBody, PartialBody, NotModified, TransformBody, BadRequest,
            Unauthorized, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
            RangeNotSatisfiable, Unprocessable, Internal, Unavailable,
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

/// The documentation of `GET|HEAD /v1/images/{id}.{ext}`, the variant side of the
/// `download` handler (whose own documentation is the original's, `/v1/images/{id}`).
pub struct VariantDownload;

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
        // An item names exactly one source, which the derived object cannot say.
        if let Some(RefOr::T(item)) = components.schemas.remove("JobItemSource") {
            let needs = |field: &str| ObjectBuilder::new().required(field).build();
            let one_source = OneOfBuilder::new().item(needs("image_id")).item(needs("url"));
            let schema = AllOfBuilder::new().item(item).item(one_source).build();
            components.schemas.insert("JobItemSource".to_string(), RefOr::T(schema.into()));
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
    for (status, name) in [("401", "Unauthorized"), ("500", "Internal"), ("503", "Unavailable")] {
        responses.entry(status.to_string()).or_insert_with(|| response_ref(name));
    }
}

fn response_ref(name: &str) -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(name))
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

// ---------------------------------------------------------------------------------------
// Schema helpers.

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn integer(minimum: u64, maximum: u64) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(minimum)).maximum(Some(maximum))
}

fn number(minimum: f64, maximum: f64) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Number).minimum(Some(minimum)).maximum(Some(maximum))
}

fn keyword(values: &[&str]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().copied()))
}

fn boolean() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Boolean)
}

fn uuid() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

fn binary() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
}

/// `RRGGBB` or `RRGGBBAA`, either case.
fn color() -> ObjectBuilder {
    string().pattern(Some("^([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$"))
}

/// Every format name and alias `format` and `{ext}` take (case-insensitive in a path).
fn format_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for format in ImageFormat::ALL {
        names.push(format.name());
        match format {
            ImageFormat::Jpeg => names.push("jpg"),
            ImageFormat::Tiff => names.push("tif"),
            _ => {}
        }
    }
    names
}

// ---------------------------------------------------------------------------------------
// Schemas of the request bodies and of the multipart answer.

/// Image bytes, in a request or response body.
pub struct ImageBytes;

impl PartialSchema for ImageBytes {
    fn schema() -> RefOr<Schema> {
        binary().into()
    }
}

impl ToSchema for ImageBytes {}

/// An output format name (`format` in a query or body): `jpeg` (alias `jpg`), `png`,
/// `webp`, `gif`, `avif`, `tiff` (alias `tif`), `bmp`, `svg`.
pub struct Format;

impl PartialSchema for Format {
    fn schema() -> RefOr<Schema> {
        keyword(&format_names())
            .description(Some("An image format; `jpg` and `tif` are aliases."))
            .into()
    }
}

impl ToSchema for Format {}

/// One step of the JSON pipeline form: `{"op": name, ...keys}`.
pub struct Operation;

/// A JSON op: its name, schema name, description, keys (with their schemas) and the keys
/// it requires.
type OpDoc = (
    &'static str,
    &'static str,
    &'static str,
    Vec<(&'static str, ObjectBuilder)>,
    &'static [&'static str],
);

/// Every JSON op, in API.md's order.
fn operations() -> Vec<OpDoc> {
    let side = || integer(1, u64::from(MAX_SIDE));
    let sigma = || number(0.0, 100.0).description(Some("0 = no-op"));
    let amount = || number(-100.0, 100.0).description(Some("factor = 1 + amount/100"));
    vec![
        (
            "resize",
            "ResizeOperation",
            "Scale into a box; at least one of `width`, `height`.",
            vec![
                ("width", side()),
                ("height", side()),
                ("fit", keyword(&["contain", "cover", "fill"]).default(Some(json!("contain")))),
                (
                    "gravity",
                    keyword(&["center", "centre", "north", "south", "east", "west", "smart"])
                        .default(Some(json!("center")))
                        .description(Some("Which part `cover` keeps.")),
                ),
                (
                    "enlarge",
                    boolean().description(Some(
                        "Allow upscaling; default false for rasters, true for SVG sources.",
                    )),
                ),
            ],
            &[],
        ),
        (
            "crop",
            "CropOperation",
            "Cut a rectangle (px, after auto-orient), clamped to the image.",
            vec![
                ("x", integer(0, u64::from(u32::MAX))),
                ("y", integer(0, u64::from(u32::MAX))),
                ("width", side()),
                ("height", side()),
            ],
            &["x", "y", "width", "height"],
        ),
        (
            "rotate",
            "RotateOperation",
            "Rotate clockwise by any finite number of degrees (modulo 360).",
            vec![("degrees", ObjectBuilder::new().schema_type(Type::Number))],
            &["degrees"],
        ),
        (
            "flip",
            "FlipOperation",
            "Mirror left-right (`h`) or top-bottom (`v`).",
            vec![("axis", keyword(&["h", "v"]))],
            &["axis"],
        ),
        ("grayscale", "GrayscaleOperation", "Drop the colour.", vec![], &[]),
        ("blur", "BlurOperation", "Gaussian blur.", vec![("sigma", sigma())], &["sigma"]),
        ("sharpen", "SharpenOperation", "Unsharp mask.", vec![("sigma", sigma())], &["sigma"]),
        (
            "brightness",
            "BrightnessOperation",
            "Scale the brightness.",
            vec![("amount", amount())],
            &["amount"],
        ),
        (
            "contrast",
            "ContrastOperation",
            "Scale the contrast.",
            vec![("amount", amount())],
            &["amount"],
        ),
        (
            "mask",
            "MaskOperation",
            "Alpha mask: `shape` (with `radius` for `rounded`), or `image_id` of one of the \
             caller's images whose luminance multiplies alpha.",
            vec![
                ("shape", keyword(&["circle", "ellipse", "rounded"])),
                (
                    "radius",
                    integer(0, u64::from(MAX_SIDE))
                        .description(Some("Corner radius in output px (rounded only).")),
                ),
                ("image_id", uuid()),
            ],
            &[],
        ),
    ]
}

impl PartialSchema for Operation {
    fn schema() -> RefOr<Schema> {
        let mut discriminator = Discriminator::new("op");
        let mut one_of = OneOfBuilder::new().description(Some(
            "A pipeline step. Unknown keys → 400 naming them; a null value counts as absent; \
             pixel values are integers.",
        ));
        for (op, name, _, _, _) in operations() {
            discriminator.mapping.insert(op.to_string(), format!("#/components/schemas/{name}"));
            one_of = one_of.item(Ref::from_schema_name(name));
        }
        one_of.discriminator(Some(discriminator)).into()
    }
}

impl ToSchema for Operation {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for (op, name, description, keys, required) in operations() {
            let mut object = ObjectBuilder::new()
                .description(Some(description))
                .property("op", keyword(&[op]))
                .required("op");
            for (key, schema) in keys {
                object = object.property(key, schema);
            }
            for key in required {
                object = object.required(*key);
            }
            schemas.push((name.to_string(), object.into()));
        }
    }
}

/// `POST /v1/images` with `application/json`: fetch an image from a URL.
#[derive(ToSchema)]
pub struct UrlUpload {
    /// An `http` or `https` URL the SSRF rules allow.
    pub url: String,
    /// Defaults to the URL's last segment.
    pub filename: Option<String>,
}

/// `POST /v1/images` with `multipart/form-data`: one or more `file` parts (at most 100).
#[derive(ToSchema)]
pub struct MultipartUpload {
    /// The images; a part without a Content-Type is typed by its bytes.
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1, max_items = 100)]
    pub file: Vec<Vec<u8>>,
}

/// The answer to a multipart upload, one item per `file` part in part order.
#[derive(ToSchema)]
pub struct MultipartResult {
    pub items: Vec<MultipartItem>,
}

/// One part's outcome: the stored image, or the problem that kept it out.
#[derive(ToSchema)]
pub struct MultipartItem {
    pub image: Option<ImageView>,
    pub error: Option<Problem>,
}

/// `POST /v1/transform` with `application/json`: exactly one of `url` or `image_id`.
#[derive(ToSchema)]
pub struct TransformRequest {
    /// A remote source the SSRF rules allow.
    pub url: Option<String>,
    /// One of the caller's images.
    pub image_id: Option<uuid::Uuid>,
    /// The steps, in order.
    pub operations: Option<Vec<Operation>>,
    /// Defaults to the source's format.
    pub format: Option<Format>,
    /// Quality for lossy encoders.
    #[schema(minimum = 1, maximum = 100)]
    pub quality: Option<u8>,
    /// Lossless where the format has it (WebP, AVIF).
    pub lossless: Option<bool>,
    /// Hex `RRGGBB` or `RRGGBBAA`: behind transparency for formats without alpha (default
    /// `ffffff`), and rotation fill.
    #[schema(pattern = "^([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")]
    pub background: Option<String>,
    /// `false` keeps EXIF/XMP (Orientation set to 1); default true.
    pub strip: Option<bool>,
    /// How a raster becomes SVG: `trace` (default) or `embed`.
    #[schema(value_type = Option<String>, pattern = "^(trace|embed)$")]
    pub svg: Option<String>,
}

/// `POST /v1/jobs`: the job-level settings are each item's defaults; an item's own value
/// replaces the job's (no merging).
#[derive(ToSchema)]
pub struct JobSubmission {
    /// The sources, 1 to 10,000.
    #[schema(min_items = 1, max_items = 10000)]
    pub items: Vec<JobItemSource>,
    pub operations: Option<Vec<Operation>>,
    /// With no `format` anywhere the output keeps the source's format.
    pub format: Option<Format>,
    #[schema(minimum = 1, maximum = 100)]
    pub quality: Option<u8>,
    pub lossless: Option<bool>,
    #[schema(pattern = "^([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")]
    pub background: Option<String>,
    pub strip: Option<bool>,
    #[schema(value_type = Option<String>, pattern = "^(trace|embed)$")]
    pub svg: Option<String>,
    /// Where the finished job is POSTed, signed (see `GET /v1/webhook-secret`).
    pub webhook_url: Option<String>,
    /// A JSON object of at most 64 KiB, returned with the job (`{}` when absent).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// One job item: exactly one of `image_id` or `url`, and optional own settings.
#[derive(ToSchema)]
pub struct JobItemSource {
    /// One of the caller's images (a missing one fails this item with `not_found`).
    pub image_id: Option<uuid::Uuid>,
    /// A remote source (an unreachable one fails this item with `fetch_failed`).
    pub url: Option<String>,
    pub operations: Option<Vec<Operation>>,
    pub format: Option<Format>,
    #[schema(minimum = 1, maximum = 100)]
    pub quality: Option<u8>,
    pub lossless: Option<bool>,
    #[schema(pattern = "^([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")]
    pub background: Option<String>,
    pub strip: Option<bool>,
    #[schema(value_type = Option<String>, pattern = "^(trace|embed)$")]
    pub svg: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Query parameters.

fn query(name: &str, schema: ObjectBuilder, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .description(Some(description))
        .build()
}

/// The query booleans: `true`, `false`, `1`, `0`.
fn query_boolean() -> ObjectBuilder {
    keyword(&["true", "false", "1", "0"])
}

/// The transformation parameters of `GET /v1/images/{id}.{ext}` and `POST /v1/transform`:
/// one form-exploded object parameter (each property is its own `key=value` pair), so the
/// schema can say what separate parameters cannot: `ops` replaces the step parameters, and
/// giving both is a 400. It is either form, each with the output settings.
pub struct TransformParams;

impl IntoParams for TransformParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let form = |keep: &dyn Fn(&str) -> bool, title: &str| {
            let mut object = ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some(title))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for (name, schema, description) in transform_fields() {
                if keep(name) {
                    object = object.property(name, schema.description(Some(description)));
                }
            }
            object
        };
        let schema = AnyOfBuilder::new()
            .item(form(&|name| name != "ops", "step parameters"))
            .item(form(&|name| !step_params().contains(&name), "ops"));
        vec![
            ParameterBuilder::new()
                .name("transformation")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .style(Some(ParameterStyle::Form))
                .explode(Some(true))
                .schema(Some(schema))
                .description(Some(
                    "The transformation, as separate query parameters: the step parameters or \
                     `ops` (not both), and the output settings.",
                ))
                .build(),
        ]
    }
}

/// Every transformation query parameter: name, schema, description.
fn transform_fields() -> Vec<(&'static str, ObjectBuilder, &'static str)> {
    let side = || integer(1, u64::from(MAX_SIDE));
    vec![
        ("w", side(), "Target box width in px."),
        ("h", side(), "Target box height in px."),
        (
            "fit",
            keyword(&["contain", "cover", "fill"]).default(Some(json!("contain"))),
            "How the image meets a box of two sides: inside it (aspect kept), fill it then \
                 crop, or stretch. With one side given every fit keeps the aspect.",
        ),
        (
            "gravity",
            keyword(&["center", "centre", "north", "south", "east", "west", "smart"])
                .default(Some(json!("center"))),
            "Which part `fit=cover` keeps.",
        ),
        (
            "enlarge",
            query_boolean(),
            "Allow upscaling past the source; default false, true for SVG sources.",
        ),
        (
            "crop",
            string().pattern(Some("^[0-9]+,[0-9]+,[0-9]+,[0-9]+$")),
            "`x,y,w,h`: cut a rectangle (px, after auto-orient), clamped to the image; no \
                 overlap → 400. `w` and `h` are 1..16384.",
        ),
        (
            "rotate",
            ObjectBuilder::new().schema_type(Type::Number),
            "Clockwise degrees, any finite number, modulo 360; 90/180/270 exact, other \
                 angles grow the canvas (filled with `bg`, else transparent where the output \
                 has alpha, else white).",
        ),
        ("flip", keyword(&["h", "v"]), "Mirror left-right (`h`) or top-bottom (`v`)."),
        ("grayscale", query_boolean(), "Drop the colour."),
        ("blur", number(0.0, 100.0), "Gaussian blur sigma (0 = no-op)."),
        ("sharpen", number(0.0, 100.0), "Unsharp-mask sigma (0 = no-op)."),
        ("brightness", number(-100.0, 100.0), "Brightness amount; factor = 1 + amount/100."),
        ("contrast", number(-100.0, 100.0), "Contrast amount; factor = 1 + amount/100."),
        (
            "mask",
            string().pattern(Some(
                "^(circle|ellipse|rounded:[0-9]+|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-\
                     [0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$",
            )),
            "Alpha mask: `circle`, `ellipse`, `rounded:<radius px>`, or the id of one of the \
                 caller's images whose luminance multiplies alpha.",
        ),
        ("q", integer(1, 100), "Quality for lossy encoders."),
        ("lossless", query_boolean(), "Lossless where the format has it (WebP, AVIF)."),
        (
            "bg",
            color(),
            "`RRGGBB` or `RRGGBBAA`: behind transparency for formats without alpha (default \
                 `ffffff`), and rotation fill.",
        ),
        ("strip", query_boolean(), "`false` keeps EXIF/XMP (Orientation set to 1)."),
        (
            "svg",
            keyword(&["trace", "embed"]).default(Some(json!("trace"))),
            "How a raster becomes SVG: traced paths, or the raster embedded losslessly.",
        ),
        (
            "ops",
            string(),
            "A pipeline replacing the step parameters (`w h fit gravity enlarge crop rotate \
                 flip grayscale blur sharpen brightness contrast mask`; giving both → 400): \
                 steps joined by `|`, each `name`, `name:key=value,…` with the JSON keys (`w`/`h` \
                 alias `width`/`height`) or `name:value` for the op's main parameter. Example: \
                 `rotate:90|resize:width=300,height=300,fit=cover|grayscale`.",
        ),
    ]
}

/// The parameters of `POST /v1/images`.
pub struct UploadParams;

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

/// The parameters of `GET /v1/images`.
pub struct ImageListParams;

impl IntoParams for ImageListParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![limit_param(), cursor_param()]
    }
}

/// The parameters of `GET /v1/jobs`.
pub struct JobListParams;

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

// ---------------------------------------------------------------------------------------
// Reusable responses.

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

macro_rules! reusable_response {
    ($(#[$doc:meta])* $name:ident => $build:expr) => {
        $(#[$doc])*
        pub struct $name;

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use progimage_core::spec::{Pipeline, Transform};
    use serde_json::Value;

    use super::*;

    fn document_json() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    /// Every operation of API.md with the statuses it documents.
    const OPERATIONS: &[(&str, &str, &[&str])] = &[
        ("/v1/images", "post", &["201", "207", "400", "401", "413", "415", "422", "503"]),
        ("/v1/images", "get", &["200", "400", "401"]),
        ("/v1/images/{id}", "get", &["200", "206", "304", "401", "404", "416"]),
        ("/v1/images/{id}", "head", &["200", "206", "304", "401", "404", "416"]),
        ("/v1/images/{id}", "delete", &["204", "401", "404"]),
        ("/v1/images/{id}.{ext}", "get", &["200", "206", "304", "400", "401", "404", "416", "422"]),
        (
            "/v1/images/{id}.{ext}",
            "head",
            &["200", "206", "304", "400", "401", "404", "416", "422"],
        ),
        ("/v1/images/{id}/metadata", "get", &["200", "401", "404"]),
        ("/v1/transform", "post", &["200", "400", "401", "404", "413", "415", "422", "503"]),
        ("/v1/jobs", "post", &["200", "202", "400", "401", "409"]),
        ("/v1/jobs", "get", &["200", "400", "401"]),
        ("/v1/jobs/{id}", "get", &["200", "401", "404"]),
        ("/v1/jobs/{id}", "delete", &["200", "401", "404"]),
        ("/v1/webhook-secret", "get", &["200", "401"]),
        ("/healthz", "get", &["200"]),
        ("/readyz", "get", &["200", "503"]),
        ("/metrics", "get", &["200"]),
        ("/openapi.json", "get", &["200"]),
    ];

    /// Follows a local `$ref` (`#/components/...`).
    fn resolve<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
        document.pointer(reference.strip_prefix('#')?)
    }

    /// A response with `$ref`s followed.
    fn response<'a>(document: &'a Value, operation: &'a Value, status: &str) -> &'a Value {
        let response = &operation["responses"][status];
        match response["$ref"].as_str() {
            Some(reference) => resolve(document, reference).unwrap(),
            None => response,
        }
    }

    #[test]
    fn every_documented_operation_with_its_statuses_and_auth() {
        let document = document_json();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["title"], "ProgImage");
        assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
        let mut operation_ids = BTreeSet::new();
        for (path, method, statuses) in OPERATIONS {
            let operation = &document["paths"][path][method];
            assert!(operation.is_object(), "{method} {path} is missing");
            assert!(operation_ids.insert(operation["operationId"].as_str().unwrap()));
            for status in *statuses {
                let answer = response(&document, operation, status);
                assert!(answer.is_object(), "{method} {path} lacks {status}");
                // Errors are problem documents (HEAD answers carry no body).
                let is_error = status.starts_with('4') || status.starts_with('5');
                if is_error && *method != "head" && *path != "/readyz" {
                    let problem = &answer["content"]["application/problem+json"];
                    assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
                }
                assert!(answer["headers"]["x-request-id"].is_object(), "{path} {status}");
            }
            let security = &operation["security"];
            if path.starts_with("/v1/") {
                assert_eq!(security[0][BEARER_AUTH], json!([]), "{method} {path}");
            } else {
                assert!(security.is_null(), "{method} {path} needs no key");
            }
        }
        let documented: usize = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(documented, OPERATIONS.len(), "an operation API.md does not list");
        assert_eq!(document["components"]["securitySchemes"][BEARER_AUTH]["scheme"], "bearer");
    }

    #[test]
    fn image_responses_carry_their_headers() {
        let document = document_json();
        let variant = &document["paths"]["/v1/images/{id}.{ext}"]["get"];
        let ok = response(&document, variant, "200");
        for name in ["ETag", "Cache-Control", "x-progimage-cache", "Content-Security-Policy"] {
            assert!(ok["headers"][name].is_object(), "{name}");
        }
        for format in ImageFormat::ALL {
            assert!(ok["content"][format.content_type()].is_object(), "{format}");
        }
        assert!(response(&document, variant, "206")["headers"]["Content-Range"].is_object());
        assert!(response(&document, variant, "416")["headers"]["Content-Range"].is_object());
        let head = &document["paths"]["/v1/images/{id}.{ext}"]["head"];
        assert!(head["responses"]["200"]["content"].is_null());
        assert!(head["responses"]["200"]["headers"]["ETag"].is_object());
    }

    /// Every `$ref` in `value`, with where it was found.
    fn references(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
        match value {
            Value::Object(object) => {
                for (key, value) in object {
                    if key == "$ref" {
                        found.push((at.to_string(), value.as_str().unwrap().to_string()));
                    } else if key == "mapping" {
                        for target in value.as_object().into_iter().flat_map(|map| map.values()) {
                            found.push((at.to_string(), target.as_str().unwrap().to_string()));
                        }
                    } else {
                        references(value, &format!("{at}/{key}"), found);
                    }
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    references(item, &format!("{at}/{index}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves() {
        let document = document_json();
        let mut found = Vec::new();
        references(&document, "", &mut found);
        assert!(found.len() > 50);
        for (at, reference) in found {
            assert!(resolve(&document, &reference).is_some(), "{reference} at {at}");
        }
    }

    /// The query parameters named in an operation's documentation.
    fn query_parameters(operation: &Value) -> Vec<(String, Value)> {
        operation["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|parameter| parameter["in"] == "query")
            .map(|parameter| {
                (parameter["name"].as_str().unwrap().to_string(), parameter["schema"].clone())
            })
            .collect()
    }

    #[test]
    fn transformation_parameters_are_the_parsers() {
        let document = document_json();
        let variant = &document["paths"]["/v1/images/{id}.{ext}"]["get"];
        let [(_, schema)] = query_parameters(variant).try_into().unwrap();
        let parameter =
            &variant["parameters"].as_array().unwrap().iter().find(|p| p["in"] == "query");
        let parameter = parameter.unwrap();
        assert_eq!((&parameter["style"], &parameter["explode"]), (&json!("form"), &json!(true)));
        let forms = schema["anyOf"].as_array().unwrap();
        let mut parameters = BTreeMap::new();
        for form in forms {
            assert_eq!(form["additionalProperties"], false);
            parameters.extend(form["properties"].as_object().unwrap().clone());
        }
        assert_eq!(parameters.len(), 20);
        for (name, schema) in &parameters {
            // A recognised parameter fails on its value, never as unknown.
            let error = Transform::from_query(&[(name.clone(), "\u{1}".into())]).unwrap_err();
            assert_eq!(&error.param, name);
            assert!(!error.message.starts_with("unknown parameter"), "{name}: {}", error.message);
            for value in schema["enum"].as_array().into_iter().flatten() {
                let pair = (name.clone(), value.as_str().unwrap().to_string());
                assert!(Transform::from_query(&[pair]).is_ok(), "{name}={value}");
            }
        }
        assert!(Transform::from_query(&[("zoom".into(), "2".into())]).is_err());
        // `ops` and the step parameters are never in one form, as the parser has it.
        let (steps, ops) = (&forms[0]["properties"], &forms[1]["properties"]);
        assert!(steps.get("ops").is_none() && ops["ops"].is_object());
        let valid = [
            ("w", "10"),
            ("h", "10"),
            ("fit", "cover"),
            ("gravity", "north"),
            ("enlarge", "true"),
            ("crop", "0,0,1,1"),
            ("rotate", "90"),
            ("flip", "h"),
            ("grayscale", "true"),
            ("blur", "1"),
            ("sharpen", "1"),
            ("brightness", "1"),
            ("contrast", "1"),
            ("mask", "circle"),
        ];
        assert_eq!(valid.map(|(name, _)| name).to_vec(), step_params());
        for (name, value) in valid {
            assert!(steps[name].is_object() && ops.get(name).is_none(), "{name}");
            let step = (name.to_string(), value.to_string());
            assert!(Transform::from_query(std::slice::from_ref(&step)).is_ok(), "{name}={value}");
            let both = [step, ("ops".to_string(), "grayscale".to_string())];
            assert!(Transform::from_query(&both).is_err(), "{name} beside ops");
        }
        for name in ops.as_object().unwrap().keys().filter(|name| *name != "ops") {
            assert!(steps[name].is_object(), "the output setting {name} is in both forms");
        }
    }

    #[test]
    fn operation_schemas_are_the_parsers() {
        let document = document_json();
        let schemas = &document["components"]["schemas"];
        let steps = schemas["Operation"]["oneOf"].as_array().unwrap();
        assert_eq!(steps.len(), 10);
        for step in steps {
            let schema = resolve(&document, step["$ref"].as_str().unwrap()).unwrap();
            let op = schema["properties"]["op"]["enum"][0].as_str().unwrap();
            let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
            for key in keys.iter().filter(|key| key.as_str() != "op") {
                let error =
                    Pipeline::from_json(&json!([{"op": op, *key: []}]), "operations").unwrap_err();
                assert!(!error.message.contains("has no key"), "{op}.{key}: {}", error.message);
            }
            let error =
                Pipeline::from_json(&json!([{"op": op, "zoom": 1}]), "operations").unwrap_err();
            assert!(error.message.contains("has no key"), "{op}: {}", error.message);
        }
    }

    #[test]
    fn formats_and_content_types_are_the_services() {
        let document = document_json();
        let names = document["components"]["schemas"]["Format"]["enum"].as_array().unwrap();
        for name in names {
            assert!(ImageFormat::from_name(name.as_str().unwrap()).is_some(), "{name}");
        }
        for format in ImageFormat::ALL {
            assert!(names.contains(&json!(format.name())), "{format}");
        }
        for path in ["/v1/images", "/v1/transform"] {
            let content =
                document["paths"][path]["post"]["requestBody"]["content"].as_object().unwrap();
            for content_type in content.keys().filter(|name| name.starts_with("image/")) {
                assert!(ImageFormat::from_content_type(content_type).is_some(), "{content_type}");
            }
            for format in ImageFormat::ALL {
                assert!(content.contains_key(format.content_type()), "{path} {format}");
            }
            assert!(content.contains_key("application/octet-stream"));
            assert!(content.contains_key("application/json"));
        }
        let upload = &document["paths"]["/v1/images"]["post"]["requestBody"]["content"];
        assert!(upload["multipart/form-data"].is_object());
    }

    #[test]
    fn constraints_the_derived_schemas_cannot_say() {
        let document = document_json();
        let item = &document["components"]["schemas"]["JobItemSource"];
        let one_of = item["allOf"][1]["oneOf"].as_array().unwrap();
        let required: Vec<&Value> = one_of.iter().map(|s| &s["required"][0]).collect();
        assert_eq!(required, [&json!("image_id"), &json!("url")]);
        assert!(item["allOf"][0]["properties"]["operations"].is_object());
        // Every cursor the service gives matches the documented pattern; an empty one does not.
        let parameters = query_parameters(&document["paths"]["/v1/images"]["get"]);
        let (_, cursor) = parameters.iter().find(|(name, _)| name == "cursor").unwrap();
        let pattern = cursor["pattern"].as_str().unwrap();
        assert_eq!(pattern, "^[A-Za-z0-9_-]{21}[AQgw]$");
        for _ in 0..64 {
            let text = crate::routes::images::encode_cursor(uuid::Uuid::new_v4());
            let (body, last) = text.split_at(21);
            assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!("AQgw".contains(last), "{text}");
        }
    }
}
