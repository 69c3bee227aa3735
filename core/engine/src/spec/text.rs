//! The pipeline text form (`rotate:90|resize:width=300,fit=cover|grayscale`) and the
//! canonical text every pipeline prints as.

use std::fmt;

use super::kind::Raw;
use super::step::{Fields, Key, Op, Shape};
use super::table::OpDef;
use super::{Mask, Pipeline, SpecError, Step};

impl Pipeline {
    /// Parses pipeline text: steps joined by `|`, each `name`, `name:value` (the op's main
    /// parameter) or `name:key=value,...`; blanks around the parts are ignored. Every error
    /// has param `ops`. Empty text is the empty pipeline.
    pub fn from_ops_text(text: &str) -> Result<Pipeline, SpecError> {
        let mut steps = Vec::new();
        if text.trim().is_empty() {
            return Ok(Pipeline { steps });
        }
        for (index, step_text) in text.split('|').enumerate() {
            let number = index + 1;
            if let Some(step) = parse_step(step_text.trim())
                .map_err(|message| SpecError::new("ops", format!("ops step {number}: {message}")))?
            {
                steps.push(step);
            }
        }
        Ok(Pipeline { steps })
    }

    /// The canonical text: the pipeline text with long key names in a fixed order, the main
    /// parameter where an op has one, numbers printed shortest, and nothing that is a
    /// default. Equivalent spellings give one string, and [`Pipeline::from_ops_text`] gives
    /// this pipeline back.
    pub fn canonical(&self) -> String {
        let steps: Vec<String> = self.steps.iter().map(Step::to_string).collect();
        steps.join("|")
    }
}

/// One step of pipeline text; `None` when it changes nothing.
fn parse_step(text: &str) -> Result<Option<Step>, String> {
    if text.is_empty() {
        return Err("empty step".to_string());
    }
    let (name, argument) = match text.split_once(':') {
        Some((name, argument)) => (name.trim(), Some(argument.trim())),
        None => (text, None),
    };
    let op = OpDef::named(name).ok_or_else(|| OpDef::unknown_message(name))?;
    let fields = match argument {
        None => Fields::default(),
        Some(argument) if argument.contains('=') => parse_keyed(op, argument)?,
        Some(argument) => Fields::from_main_value(op, argument, op.name).map_err(|f| f.message)?,
    };
    fields.into_step(op).map_err(|fault| fault.message)
}

/// `key=value,key=value` for `op`; keys by their JSON names or aliases (`w`).
fn parse_keyed(op: &OpDef, text: &str) -> Result<Fields, String> {
    let mut fields = Fields::default();
    for pair in text.split(',') {
        let pair = pair.trim();
        let (name, value) =
            pair.split_once('=').ok_or_else(|| format!("{pair:?} is not key=value"))?;
        let name = name.trim();
        let key = op.key_named(name, true).ok_or_else(|| op.unknown_keys_message(&[name]))?;
        fields.set(key, name, Raw::Text(value.trim())).map_err(|fault| fault.message)?;
    }
    Ok(fields)
}

/// The step's canonical pipeline text.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = Op::of(self).name();
        match self {
            Step::Resize(resize) => {
                let resize = resize.normalized();
                let mut keys = Vec::new();
                let mut put =
                    |key: Key, value: String| keys.push(format!("{}={value}", key.name()));
                if let Some(width) = resize.width {
                    put(Key::Width, width.to_string());
                }
                if let Some(height) = resize.height {
                    put(Key::Height, height.to_string());
                }
                if resize.fit != Default::default() {
                    put(Key::Fit, resize.fit.name().to_string());
                }
                if resize.gravity != Default::default() {
                    put(Key::Gravity, resize.gravity.name().to_string());
                }
                if let Some(enlarge) = resize.enlarge {
                    put(Key::Enlarge, enlarge.to_string());
                }
                write!(f, "{name}:{}", keys.join(","))
            }
            Step::Crop(crop) => {
                write!(f, "{name}:{},{},{},{}", crop.x, crop.y, crop.width, crop.height)
            }
            // Rust prints floats shortest-round-trip and without a trailing `.0`.
            Step::Rotate(degrees) => write!(f, "{name}:{degrees}"),
            Step::Flip(axis) => write!(f, "{name}:{}", axis.name()),
            Step::Grayscale => f.write_str(name),
            Step::Blur(sigma) | Step::Sharpen(sigma) => write!(f, "{name}:{sigma}"),
            Step::Brightness(amount) | Step::Contrast(amount) => write!(f, "{name}:{amount}"),
            Step::Mask(Mask::Circle) => write!(f, "{name}:{}", Shape::Circle.name()),
            Step::Mask(Mask::Ellipse) => write!(f, "{name}:{}", Shape::Ellipse.name()),
            Step::Mask(Mask::Rounded { radius }) => {
                write!(f, "{name}:{}:{radius}", Shape::Rounded.name())
            }
            Step::Mask(Mask::Image(id)) => write!(f, "{name}:{id}"),
        }
    }
}
