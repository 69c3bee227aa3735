//! Names for what the handlers' OpenAPI annotations share: request bodies, query
//! parameters and answers. Each is only a name here; `crate::openapi` gives it its schema,
//! parameters or response (the transformation ones made from the engine's tables), so the
//! dependency runs from the document to the routes and never back.

/// Image bytes, in a request or response body.
pub struct ImageBytes;

/// An image format name or alias (`format` in a query, `{ext}` in a path).
pub struct Format;

/// `POST /v1/transform` with `application/json`.
pub struct TransformRequest;

/// `POST /v1/jobs`.
pub struct JobSubmission;

/// `POST /v1/images` with `multipart/form-data`.
pub struct MultipartUpload;

/// The transformation query parameters: the step parameters or `ops`, and the output
/// settings.
pub struct TransformQuery;

/// The query parameters of `POST /v1/images`.
pub struct UploadParams;

/// The query parameters of `GET /v1/images`.
pub struct ImageListParams;

/// The query parameters of `GET /v1/jobs`.
pub struct JobListParams;

/// 200 with an original's bytes.
pub struct ImageBody;

/// 200 with a variant's bytes.
pub struct VariantBody;

/// 206 with one byte range of an image.
pub struct PartialBody;

/// 304 for a matching `If-None-Match`.
pub struct NotModified;

/// 200 with the bytes of a stateless transform.
pub struct TransformBody;

/// 400.
pub struct BadRequest;

/// 401.
pub struct Unauthorized;

/// 404.
pub struct NotFound;

/// 409.
pub struct Conflict;

/// 413.
pub struct PayloadTooLarge;

/// 415.
pub struct UnsupportedMediaType;

/// 416.
pub struct RangeNotSatisfiable;

/// 422.
pub struct Unprocessable;

/// 500.
pub struct Internal;

/// 503.
pub struct Unavailable;

/// 507 `insufficient_storage`.
pub struct InsufficientStorage;
