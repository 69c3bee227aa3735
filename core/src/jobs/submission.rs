//! A job body, validated without touching the network: its items, each with its source
//! and its effective spec (the job's defaults applied key by key).

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::format::ImageFormat;
use crate::spec::{OutputSettings, Pipeline, SpecError, Transform};

/// Most items one job may hold.
pub const MAX_ITEMS: usize = 10_000;

/// The keys of a job-level or item-level output setting.
const SETTING_KEYS: [&str; 6] = ["format", "quality", "lossless", "background", "strip", "svg"];

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
    /// `{"operations": [...], "format": ..., ...}` with only the keys given.
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
pub fn parse_submission(body: &Map<String, Value>) -> Result<Submission, SpecError> {
    const JOB_KEYS: [&str; 10] = [
        "items",
        "operations",
        "format",
        "quality",
        "lossless",
        "background",
        "strip",
        "svg",
        "webhook_url",
        "metadata",
    ];
    if let Some(key) = body.keys().find(|key| !JOB_KEYS.contains(&key.as_str())) {
        return Err(invalid(key.as_str(), format!("unknown field {key}")));
    }
    // Job-level defaults, validated once.
    if let Some(operations) = body.get("operations").filter(|value| !value.is_null()) {
        Pipeline::from_json(operations, "operations")?;
    }
    OutputSettings::from_json(body, "")?;
    let items = match body.get("items") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_ITEMS => items,
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(invalid("items", "items must not be empty"));
        }
        Some(Value::Array(_)) => {
            return Err(invalid("items", format!("a job holds at most {MAX_ITEMS} items")));
        }
        _ => return Err(invalid("items", "items must be a list")),
    };
    let mut submitted = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("items[{index}]");
        let Value::Object(item) = item else {
            return Err(invalid(path, "an item must be an object"));
        };
        const ITEM_KEYS: [&str; 9] = [
            "image_id",
            "url",
            "operations",
            "format",
            "quality",
            "lossless",
            "background",
            "strip",
            "svg",
        ];
        if let Some(key) = item.keys().find(|key| !ITEM_KEYS.contains(&key.as_str())) {
            return Err(invalid(format!("{path}.{key}"), format!("unknown field {path}.{key}")));
        }
        let source = match (item.get("image_id"), item.get("url")) {
            (Some(Value::String(id)), None) => Source::Image(
                Uuid::parse_str(id)
                    .map_err(|_| invalid(format!("{path}.image_id"), "image_id must be a UUID"))?,
            ),
            (None, Some(Value::String(url))) => Source::Url(url.clone()),
            (Some(_), None) => {
                return Err(invalid(format!("{path}.image_id"), "image_id must be a string"));
            }
            (None, Some(_)) => return Err(invalid(format!("{path}.url"), "url must be a string")),
            _ => {
                return Err(invalid(path, "an item needs exactly one of image_id or url"));
            }
        };
        if let Some(operations) = item.get("operations").filter(|value| !value.is_null()) {
            Pipeline::from_json(operations, &format!("{path}.operations"))?;
        }
        OutputSettings::from_json(item, &path)?;
        // The item's own value replaces the job's, key by key; lists are not merged.
        let mut spec = Map::new();
        for key in std::iter::once("operations").chain(SETTING_KEYS) {
            if let Some(value) = item.get(key).or_else(|| body.get(key)).filter(|v| !v.is_null()) {
                spec.insert(key.to_string(), value.clone());
            }
        }
        let output_format =
            spec.get("format").and_then(Value::as_str).and_then(ImageFormat::from_name);
        submitted.push(SubmittedItem { source, spec, output_format });
    }
    let webhook_url = match body.get("webhook_url") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => Some(url.clone()),
        Some(_) => return Err(invalid("webhook_url", "webhook_url must be a string")),
    };
    let metadata = match body.get("metadata") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Object(_)) => Some(value.clone()),
        Some(_) => return Err(invalid("metadata", "metadata must be a JSON object")),
    };
    if metadata.as_ref().is_some_and(|value| value.to_string().len() > 64 * 1024) {
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
