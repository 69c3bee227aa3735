//! The JSON form: a list of `{"op": name, ...keys}` steps, and the output settings that sit
//! beside it. Errors name the exact JSON path (`operations[1].width`).

use serde_json::{Map, Value, json};

use super::step::{Fault, Fields, Op};
use super::value::{self, Raw};
use super::{Mask, OutputSettings, Pipeline, SpecError, Step};

impl Pipeline {
    /// Parses the JSON list found at `path` (`operations`, `items[3].operations`). Keys are
    /// the JSON names only (no `w`/`h`); a `null` value counts as absent; pixel values must
    /// be JSON integers.
    pub fn from_json(value: &Value, path: &str) -> Result<Pipeline, SpecError> {
        let items = value
            .as_array()
            .ok_or_else(|| SpecError::new(path, format!("{path} must be a list of steps")))?;
        let mut steps = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(step) = parse_step(item, &format!("{path}[{index}]"))? {
                steps.push(step);
            }
        }
        Ok(Pipeline { steps })
    }

    /// The JSON form, for echoing back: the canonical steps, so that
    /// [`Pipeline::from_json`] gives this pipeline back.
    pub fn to_json(&self) -> Value {
        Value::Array(self.steps.iter().map(step_to_json).collect())
    }
}

/// The step at `at`; `None` when it changes nothing.
fn parse_step(item: &Value, at: &str) -> Result<Option<Step>, SpecError> {
    let object = item
        .as_object()
        .ok_or_else(|| SpecError::new(at, "a step must be an object with an op"))?;
    let op = match object.get("op") {
        Some(Value::String(name)) => {
            Op::from_name(name).ok_or_else(|| SpecError::new(at, Op::unknown_message(name)))?
        }
        _ => return Err(SpecError::new(at, "a step needs an op, a string such as \"resize\"")),
    };
    let present = object.iter().filter(|(name, value)| *name != "op" && !value.is_null());
    let unknown: Vec<&str> = present
        .clone()
        .filter(|(name, _)| op.key(name, false).is_none())
        .map(|(n, _)| n.as_str())
        .collect();
    if let Some(first) = unknown.first() {
        return Err(SpecError::new(format!("{at}.{first}"), op.unknown_keys_message(&unknown)));
    }
    let fault = |fault: Fault| match fault.key {
        Some(key) => SpecError::new(format!("{at}.{}", key.name()), fault.message),
        None => SpecError::new(at, fault.message),
    };
    let mut fields = Fields::default();
    for (name, value) in present {
        // Known by the check above.
        if let Some(key) = op.key(name, false) {
            fields.set(key, name, Raw::Json(value)).map_err(fault)?;
        }
    }
    fields.into_step(op).map_err(fault)
}

/// A float as JSON: an integer when it is one (`90`, not `90.0`).
fn float(value: f64) -> Value {
    // Beyond 2^53 an integral f64 no longer says exactly which integer it is.
    if value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// An f32 as JSON by way of its shortest decimal (`0.1`, not `0.10000000149011612`).
fn float32(value: f32) -> Value {
    float(value.to_string().parse().unwrap_or(f64::from(value)))
}

fn step_to_json(step: &Step) -> Value {
    let mut object = Map::new();
    object.insert("op".to_string(), json!(Op::of(step).name()));
    let mut put = |key: &str, value: Value| object.insert(key.to_string(), value);
    match step {
        Step::Resize(resize) => {
            let resize = resize.normalized();
            if let Some(width) = resize.width {
                put("width", json!(width));
            }
            if let Some(height) = resize.height {
                put("height", json!(height));
            }
            if resize.fit != Default::default() {
                put("fit", json!(resize.fit.name()));
            }
            if resize.gravity != Default::default() {
                put("gravity", json!(resize.gravity.name()));
            }
            if let Some(enlarge) = resize.enlarge {
                put("enlarge", json!(enlarge));
            }
        }
        Step::Crop(crop) => {
            put("x", json!(crop.x));
            put("y", json!(crop.y));
            put("width", json!(crop.width));
            put("height", json!(crop.height));
        }
        Step::Rotate(degrees) => {
            put("degrees", float(*degrees));
        }
        Step::Flip(axis) => {
            put("axis", json!(axis.name()));
        }
        Step::Grayscale => {}
        Step::Blur(sigma) | Step::Sharpen(sigma) => {
            put("sigma", float32(*sigma));
        }
        Step::Brightness(amount) | Step::Contrast(amount) => {
            put("amount", float32(*amount));
        }
        Step::Mask(Mask::Circle) => {
            put("shape", json!("circle"));
        }
        Step::Mask(Mask::Ellipse) => {
            put("shape", json!("ellipse"));
        }
        Step::Mask(Mask::Rounded { radius }) => {
            put("shape", json!("rounded"));
            put("radius", json!(radius));
        }
        Step::Mask(Mask::Image(id)) => {
            put("image_id", json!(id.to_string()));
        }
    }
    Value::Object(object)
}

impl OutputSettings {
    /// Reads `format`, `quality`, `lossless`, `background`, `strip` and `svg` from a JSON
    /// object (a request body or a job item), ignoring its other keys; a `null` value
    /// counts as absent. Errors name `<path_prefix>.<key>`, or the bare key when the prefix
    /// is empty.
    pub fn from_json(
        object: &Map<String, Value>,
        path_prefix: &str,
    ) -> Result<OutputSettings, SpecError> {
        let mut output = OutputSettings::default();
        for (key, value) in object {
            if value.is_null() {
                continue;
            }
            let raw = Raw::Json(value);
            let checked = match key.as_str() {
                "format" => value::format(key, raw).map(|format| output.format = Some(format)),
                "quality" => value::quality(key, raw).map(|quality| output.quality = Some(quality)),
                "lossless" => value::boolean(key, raw).map(|lossless| output.lossless = lossless),
                "background" => value::color(key, raw).map(|color| output.background = Some(color)),
                "strip" => value::boolean(key, raw).map(|strip| output.strip = strip),
                "svg" => value::svg_mode(key, raw).map(|svg| output.svg = svg),
                _ => Ok(()),
            };
            checked.map_err(|message| {
                let param = if path_prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{path_prefix}.{key}")
                };
                SpecError::new(param, message)
            })?;
        }
        Ok(output)
    }
}
