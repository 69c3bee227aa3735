//! A job body, validated without touching the network: its items, each with its source
//! and its effective spec (the job's defaults applied key by key).

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::format::ImageFormat;
use crate::requests::{ItemFields, JobBody, JobFields};
use crate::spec::{OutputSettings, Pipeline, SpecError, Transform, from_json_body};

/// Most items one job may hold.
pub const MAX_ITEMS: usize = 10_000;

/// Most bytes of a job's metadata, as JSON.
const MAX_METADATA_BYTES: usize = 64 * 1024;

/// A validated submission, before it is stored.
#[derive(Debug, Clone)]
pub struct Submission {
    pub items: Vec<SubmittedItem>,
    pub webhook_url: Option<String>,
    pub metadata: Option<Value>,
}

/// One validated item: its source and its effective spec (job defaults applied).
#[derive(Debug, Clone)]
pub struct SubmittedItem {
    pub source: Source,
    /// `{"operations": [...], "format": ..., ...}` with only the keys given, the settings
    /// canonically spelt.
    pub spec: Map<String, Value>,
    pub output_format: Option<ImageFormat>,
}

/// Where an item's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Image(Uuid),
    Url(String),
}

fn invalid(param: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError::new(param, message)
}

/// Validates a job body (already known to be a JSON object) without touching the network.
/// The body's shape, its fields' types and every output setting are checked as it is read
/// ([`JobBody`]); what spans fields (an item's one source, the item count, the steps) is
/// checked here.
pub fn parse_submission(body: &Map<String, Value>) -> Result<Submission, SpecError> {
    let JobBody { fields, settings: job_settings } = from_json_body(body)?;
    let JobFields { items, operations: job_operations, webhook_url, metadata } = fields;
    let items = items.ok_or_else(|| invalid("items", "items must be a list"))?;
    if items.is_empty() {
        return Err(invalid("items", "items must not be empty"));
    }
    if items.len() > MAX_ITEMS {
        return Err(invalid("items", format!("a job holds at most {MAX_ITEMS} items")));
    }
    // Job-level defaults, validated once.
    if let Some(operations) = &job_operations {
        Pipeline::from_json(&operations.0, "operations")?;
    }
    let mut submitted = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let path = format!("items[{index}]");
        let ItemFields { image_id, url, operations } = item.fields;
        let source = match (image_id, url) {
            (Some(id), None) => Source::Image(
                Uuid::parse_str(&id)
                    .map_err(|_| invalid(format!("{path}.image_id"), "image_id must be a UUID"))?,
            ),
            (None, Some(url)) => Source::Url(url),
            _ => return Err(invalid(path, "an item needs exactly one of image_id or url")),
        };
        if let Some(operations) = &operations {
            Pipeline::from_json(&operations.0, &format!("{path}.operations"))?;
        }
        // The item's own value replaces the job's, setting by setting; lists are not merged.
        let settings = item.settings.or(&job_settings);
        let mut spec = Map::new();
        if let Some(operations) = operations.as_ref().or(job_operations.as_ref()) {
            spec.insert("operations".to_string(), operations.0.clone());
        }
        spec.extend(settings.to_json());
        submitted.push(SubmittedItem { source, spec, output_format: settings.output().format });
    }
    let metadata = metadata.map(Value::Object);
    if metadata.as_ref().is_some_and(|value| value.to_string().len() > MAX_METADATA_BYTES) {
        return Err(invalid("metadata", "metadata must be at most 64 KiB of JSON"));
    }
    Ok(Submission { items: submitted, webhook_url, metadata })
}

/// The transform an item's stored spec describes.
pub fn item_transform(spec: &str) -> Result<Transform, SpecError> {
    let spec: Map<String, Value> = serde_json::from_str(spec)
        .map_err(|error| invalid("spec", format!("unreadable item spec: {error}")))?;
    let pipeline = match spec.get("operations") {
        Some(operations) => Pipeline::from_json(operations, "operations")?,
        None => Pipeline::default(),
    };
    Ok(Transform { pipeline, output: OutputSettings::from_json(&spec, "")? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn items_take_the_job_defaults_key_by_key() {
        let id = Uuid::now_v7();
        let submission = parse_submission(&object(json!({
            "items": [
                {"image_id": id.to_string()},
                {"url": "https://example.com/a.png", "format": "png", "operations": []},
            ],
            "operations": [{"op": "grayscale"}],
            "format": "webp",
            "quality": 70,
        })))
        .unwrap();
        assert_eq!(submission.items[0].source, Source::Image(id));
        assert_eq!(submission.items[0].spec["format"], "webp");
        assert_eq!(submission.items[0].spec["operations"], json!([{"op": "grayscale"}]));
        assert_eq!(submission.items[1].spec["format"], "png");
        assert_eq!(submission.items[1].spec["operations"], json!([]));
        assert_eq!(submission.items[1].spec["quality"], 70);
        assert_eq!(submission.items[1].output_format, Some(ImageFormat::Png));
        let transform =
            item_transform(&Value::Object(submission.items[0].spec.clone()).to_string()).unwrap();
        assert_eq!(transform.output.format, Some(ImageFormat::Webp));
        assert_eq!(transform.output.quality, Some(70));
        assert_eq!(transform.pipeline.steps.len(), 1);
    }

    #[test]
    fn submission_errors_name_their_json_path() {
        let error = |body: Value| parse_submission(&object(body)).unwrap_err().param;
        assert_eq!(error(json!({"items": []})), "items");
        assert_eq!(error(json!({})), "items");
        assert_eq!(error(json!({"items": [{"image_id": "x"}]})), "items[0].image_id");
        assert_eq!(error(json!({"items": [{}]})), "items[0]");
        assert_eq!(error(json!({"items": [{"url": "a", "image_id": "b"}]})), "items[0]");
        assert_eq!(error(json!({"items": [{"url": "a", "extra": 1}]})), "items[0].extra");
        assert_eq!(
            error(
                json!({"items": [{"url": "a"}, {"url": "b", "operations": [{"op": "resize", "width": 1.5}]}]})
            ),
            "items[1].operations[0].width"
        );
        assert_eq!(error(json!({"items": [{"url": "a"}], "format": "heic"})), "format");
        assert_eq!(error(json!({"items": [{"url": "a", "format": "heic"}]})), "items[0].format");
        assert_eq!(error(json!({"items": [{"url": "a"}], "webhook_url": 3})), "webhook_url");
        assert_eq!(error(json!({"items": [{"url": "a"}], "colour": 3})), "colour");
        let too_many: Vec<Value> = (0..=MAX_ITEMS).map(|_| json!({"url": "a"})).collect();
        assert_eq!(error(json!({"items": too_many})), "items");
    }
}
