//! What the API takes as JSON: each request body's own fields, typed and refusing unknown
//! keys, with the output settings of the grammar's table beside them where the body has
//! them ([`WithSettings`]). Read with [`from_json_body`](crate::spec::from_json_body),
//! whose errors name their JSON path. The shapes of answers are in `views`.

use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::openapi::schema::{ArrayBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::spec::{WithSettings, not_null};

/// A pipeline in the JSON form (the `Operations` schema), kept as given: the step parser
/// checks it at its path (`items[3].operations`), naming the key at fault and every unknown
/// key of a step, which the steps' order-free keys would not let a derived `Deserialize`
/// do.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Operations(pub Value);

impl PartialSchema for Operations {
    /// A list of the `Operation` schema, which the API's document makes from the table;
    /// `null` counts as absent.
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
            .items(Ref::from_schema_name("Operation"))
            .into()
    }
}

impl ToSchema for Operations {}

/// `POST /v1/jobs`: the job's own fields. Its output settings and `operations` are each
/// item's defaults; an item's own value replaces the job's (no merging).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = JobSubmission)]
pub struct JobFields {
    /// The sources, 1 to 10,000.
    #[schema(min_items = 1, max_items = 10000, value_type = Vec<ItemFields>)]
    pub items: Option<Vec<ItemBody>>,
    /// Each item's steps unless it has its own.
    #[schema(nullable = false)]
    pub operations: Option<Operations>,
    /// Where the finished job is POSTed, signed (see `GET /v1/webhook-secret`).
    pub webhook_url: Option<String>,
    /// A JSON object of at most 64 KiB, returned with the job (`{}` when absent).
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A job body.
pub type JobBody = WithSettings<JobFields>;

/// One job item: exactly one of `image_id` or `url`, and optionally its own steps and
/// settings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = JobItemSource)]
pub struct ItemFields {
    /// One of the caller's images (a missing one fails this item with `not_found`).
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = Option<uuid::Uuid>, nullable = false)]
    pub image_id: Option<String>,
    /// A remote source (an unreachable one fails this item with `fetch_failed`).
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub url: Option<String>,
    /// This item's steps, replacing the job's.
    #[schema(nullable = false)]
    pub operations: Option<Operations>,
}

/// A job item.
pub type ItemBody = WithSettings<ItemFields>;

/// `POST /v1/transform` with `application/json`: exactly one of `url` or `image_id`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TransformRequest)]
pub struct TransformFields {
    /// A remote source the SSRF rules allow.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub url: Option<String>,
    /// One of the caller's images.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = Option<uuid::Uuid>, nullable = false)]
    pub image_id: Option<String>,
    /// The steps, in order.
    #[schema(nullable = false)]
    pub operations: Option<Operations>,
}

/// A transform body.
pub type TransformBody = WithSettings<TransformFields>;

/// `POST /v1/images` with `application/json`: fetch an image from a URL.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlUpload {
    /// An `http` or `https` URL the SSRF rules allow.
    #[serde(default, deserialize_with = "not_null")]
    #[schema(value_type = String, required = true)]
    pub url: Option<String>,
    /// Defaults to the URL's last segment.
    pub filename: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::spec::{SpecError, from_json_body};

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(value: Value) -> SpecError {
        from_json_body::<T>(&object(value)).unwrap_err()
    }

    #[test]
    fn settings_sit_beside_the_fields_and_unknown_keys_are_refused() {
        let body: TransformBody =
            from_json_body(&object(json!({"url": "https://a.example/x.png", "quality": 80})))
                .unwrap();
        assert_eq!(body.fields.url.as_deref(), Some("https://a.example/x.png"));
        assert_eq!(body.settings.output().quality, Some(80));
        let error = refused::<TransformBody>(json!({"url": "x", "colour": "red"}));
        assert_eq!(
            (error.param.as_str(), error.message.as_str()),
            ("colour", "unknown field colour")
        );
        let error = refused::<TransformBody>(json!({"url": "x", "quality": 0}));
        assert_eq!(
            (error.param.as_str(), error.message.as_str()),
            ("quality", "quality must be an integer from 1 to 100")
        );
    }

    #[test]
    fn errors_deep_in_a_job_name_their_path() {
        let items = json!([{"url": "a"}, {"url": "b", "svg": "vector"}]);
        assert_eq!(refused::<JobBody>(json!({"items": items})).param, "items[1].svg");
        let items = json!([{"url": "a"}, {"url": "b", "extra": 1}]);
        assert_eq!(refused::<JobBody>(json!({"items": items})).param, "items[1].extra");
        assert_eq!(refused::<JobBody>(json!({"items": [{"url": null}]})).param, "items[0].url");
        assert_eq!(refused::<JobBody>(json!({"items": 3})).param, "items");
        assert_eq!(refused::<JobBody>(json!({"items": [3]})).param, "items[0]");
        assert_eq!(refused::<JobBody>(json!({"metadata": []})).param, "metadata");
        // A null setting or optional field counts as absent.
        let body: JobBody =
            from_json_body(&object(json!({"format": null, "webhook_url": null}))).unwrap();
        assert!(body.fields.webhook_url.is_none() && body.settings.get("format").is_none());
    }

    #[test]
    fn url_uploads_take_only_their_fields() {
        assert_eq!(refused::<UrlUpload>(json!({"url": "x", "name": "a"})).param, "name");
        assert_eq!(refused::<UrlUpload>(json!({"url": 3})).param, "url");
    }
}
