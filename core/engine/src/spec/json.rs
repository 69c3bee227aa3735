//! The JSON form: a list of `{"op": name, ...keys}` steps. Errors name the exact JSON path
//! (`operations[1].width`).

use serde_json::{Map, Value, json};

use super::kind::{Raw, float, float32};
use super::step::{Fault, Fields, Key, Op, Shape};
use super::table::OpDef;
use super::{Mask, Pipeline, SpecError, Step};

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
            OpDef::named(name).ok_or_else(|| SpecError::new(at, OpDef::unknown_message(name)))?
        }
        _ => return Err(SpecError::new(at, "a step needs an op, a string such as \"resize\"")),
    };
    let present = object.iter().filter(|(name, value)| *name != "op" && !value.is_null());
    let unknown: Vec<&str> = present
        .clone()
        .filter(|(name, _)| op.key_named(name, false).is_none())
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
        if let Some(key) = op.key_named(name, false) {
            fields.set(key, name, Raw::Json(value)).map_err(fault)?;
        }
    }
    fields.into_step(op).map_err(fault)
}

fn step_to_json(step: &Step) -> Value {
    let mut object = Map::new();
    object.insert("op".to_string(), json!(Op::of(step).name()));
    let mut put = |key: Key, value: Value| object.insert(key.name().to_string(), value);
    match step {
        Step::Resize(resize) => {
            let resize = resize.normalized();
            if let Some(width) = resize.width {
                put(Key::Width, json!(width));
            }
            if let Some(height) = resize.height {
                put(Key::Height, json!(height));
            }
            if resize.fit != Default::default() {
                put(Key::Fit, json!(resize.fit.name()));
            }
            if resize.gravity != Default::default() {
                put(Key::Gravity, json!(resize.gravity.name()));
            }
            if let Some(enlarge) = resize.enlarge {
                put(Key::Enlarge, json!(enlarge));
            }
        }
        Step::Crop(crop) => {
            put(Key::X, json!(crop.x));
            put(Key::Y, json!(crop.y));
            put(Key::Width, json!(crop.width));
            put(Key::Height, json!(crop.height));
        }
        Step::Rotate(degrees) => {
            put(Key::Degrees, float(*degrees));
        }
        Step::Flip(axis) => {
            put(Key::Axis, json!(axis.name()));
        }
        Step::Grayscale => {}
        Step::Blur(sigma) | Step::Sharpen(sigma) => {
            put(Key::Sigma, float32(*sigma));
        }
        Step::Brightness(amount) | Step::Contrast(amount) => {
            put(Key::Amount, float32(*amount));
        }
        Step::Mask(Mask::Circle) => {
            put(Key::Shape, json!(Shape::Circle.name()));
        }
        Step::Mask(Mask::Ellipse) => {
            put(Key::Shape, json!(Shape::Ellipse.name()));
        }
        Step::Mask(Mask::Rounded { radius }) => {
            put(Key::Shape, json!(Shape::Rounded.name()));
            put(Key::Radius, json!(radius));
        }
        Step::Mask(Mask::Image(id)) => {
            put(Key::ImageId, json!(id.to_string()));
        }
    }
    Value::Object(object)
}
