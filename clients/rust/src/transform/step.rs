//! Steps and output settings as the builder keeps them, printed in the pipeline text and
//! JSON forms.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::format::Format;

use super::kinds::{Axis, Fit, Gravity, Mask, SvgMode};

/// A resize to a box of which at least one side is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Resize {
    pub(super) width: Option<u32>,
    pub(super) height: Option<u32>,
    pub(super) fit: Fit,
    pub(super) gravity: Gravity,
    pub(super) enlarge: Option<bool>,
}

impl Resize {
    /// The resize without the settings that cannot change its result, as the server
    /// normalises it: with one side given every fit keeps the aspect, and only `cover`
    /// crops.
    pub(super) fn normalized(self) -> Resize {
        let fit =
            if self.width.is_some() && self.height.is_some() { self.fit } else { Fit::Contain };
        let gravity = if fit == Fit::Cover { self.gravity } else { Gravity::Center };
        Resize { fit, gravity, ..self }
    }
}

/// One step, as given to the builder.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Resize(Resize),
    Crop { x: u32, y: u32, width: u32, height: u32 },
    Rotate(f64),
    Flip(Axis),
    Grayscale,
    Blur(f32),
    Sharpen(f32),
    Brightness(f32),
    Contrast(f32),
    Mask(Mask),
}

impl Step {
    /// The op name in the pipeline text and JSON forms.
    pub(super) fn op(&self) -> &'static str {
        match self {
            Step::Resize(_) => "resize",
            Step::Crop { .. } => "crop",
            Step::Rotate(_) => "rotate",
            Step::Flip(_) => "flip",
            Step::Grayscale => "grayscale",
            Step::Blur(_) => "blur",
            Step::Sharpen(_) => "sharpen",
            Step::Brightness(_) => "brightness",
            Step::Contrast(_) => "contrast",
            Step::Mask(_) => "mask",
        }
    }

    /// The step in the server's normal form, or `None` when it changes nothing.
    pub(super) fn normalized(&self) -> Option<Step> {
        match *self {
            Step::Resize(resize) => Some(Step::Resize(resize.normalized())),
            Step::Rotate(degrees) => {
                let turned = degrees.rem_euclid(360.0);
                // rem_euclid may round a tiny negative angle up to exactly 360; a NaN is
                // kept so that the server refuses it.
                (turned.is_nan() || (turned != 0.0 && turned < 360.0))
                    .then_some(Step::Rotate(turned))
            }
            Step::Blur(0.0)
            | Step::Sharpen(0.0)
            | Step::Brightness(0.0)
            | Step::Contrast(0.0)
            | Step::Mask(Mask::Rounded(0)) => None,
            ref step => Some(step.clone()),
        }
    }

    /// The position of the op in the query form's fixed order, and its parameter name
    /// there (resize has several).
    pub(super) fn query_rank(&self) -> usize {
        match self {
            Step::Crop { .. } => 0,
            Step::Resize(_) => 1,
            Step::Rotate(_) => 2,
            Step::Flip(_) => 3,
            Step::Grayscale => 4,
            Step::Blur(_) => 5,
            Step::Sharpen(_) => 6,
            Step::Brightness(_) => 7,
            Step::Contrast(_) => 8,
            Step::Mask(_) => 9,
        }
    }

    /// The main value where the op has one (`rotate:90`), as the query form writes it.
    pub(super) fn main_value(&self) -> Option<String> {
        Some(match self {
            Step::Resize(_) | Step::Grayscale => return None,
            Step::Crop { x, y, width, height } => format!("{x},{y},{width},{height}"),
            // Rust prints floats shortest-round-trip and without a trailing `.0`, as the
            // server does.
            Step::Rotate(degrees) => degrees.to_string(),
            Step::Flip(axis) => axis.name().to_string(),
            Step::Blur(value) | Step::Sharpen(value) => value.to_string(),
            Step::Brightness(value) | Step::Contrast(value) => value.to_string(),
            Step::Mask(Mask::Circle) => "circle".to_string(),
            Step::Mask(Mask::Ellipse) => "ellipse".to_string(),
            Step::Mask(Mask::Rounded(radius)) => format!("rounded:{radius}"),
            Step::Mask(Mask::Image(id)) => id.to_string(),
        })
    }

    /// The JSON form: `{"op": name, ...keys}`.
    pub(super) fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("op".to_string(), json!(self.op()));
        let mut put = |key: &str, value: Value| object.insert(key.to_string(), value);
        match self {
            Step::Resize(resize) => {
                if let Some(width) = resize.width {
                    put("width", json!(width));
                }
                if let Some(height) = resize.height {
                    put("height", json!(height));
                }
                if resize.fit != Fit::Contain {
                    put("fit", json!(resize.fit.name()));
                }
                if resize.gravity != Gravity::Center {
                    put("gravity", json!(resize.gravity.name()));
                }
                if let Some(enlarge) = resize.enlarge {
                    put("enlarge", json!(enlarge));
                }
            }
            Step::Crop { x, y, width, height } => {
                put("x", json!(x));
                put("y", json!(y));
                put("width", json!(width));
                put("height", json!(height));
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
            Step::Mask(Mask::Rounded(radius)) => {
                put("shape", json!("rounded"));
                put("radius", json!(radius));
            }
            Step::Mask(Mask::Image(id)) => {
                put("image_id", json!(id.to_string()));
            }
        }
        Value::Object(object)
    }
}

/// The canonical pipeline text of one (normalised) step.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.op();
        match self {
            Step::Resize(resize) => {
                let mut keys = Vec::new();
                if let Some(width) = resize.width {
                    keys.push(format!("width={width}"));
                }
                if let Some(height) = resize.height {
                    keys.push(format!("height={height}"));
                }
                if resize.fit != Fit::Contain {
                    keys.push(format!("fit={}", resize.fit.name()));
                }
                if resize.gravity != Gravity::Center {
                    keys.push(format!("gravity={}", resize.gravity.name()));
                }
                if let Some(enlarge) = resize.enlarge {
                    keys.push(format!("enlarge={enlarge}"));
                }
                write!(f, "{name}:{}", keys.join(","))
            }
            Step::Grayscale => f.write_str(name),
            step => write!(f, "{name}:{}", step.main_value().unwrap_or_default()),
        }
    }
}

/// A float as JSON: an integer when it is one (`90`, not `90.0`), as the server echoes it.
pub(super) fn float(value: f64) -> Value {
    // Beyond 2^53 an integral f64 no longer says exactly which integer it is.
    if value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0 {
        json!(value as i64)
    } else {
        json!(value)
    }
}

/// An f32 as JSON by way of its shortest decimal (`0.1`, not `0.10000000149011612`).
pub(super) fn float32(value: f32) -> Value {
    float(value.to_string().parse().unwrap_or(f64::from(value)))
}

/// Output settings: not steps, they apply to the encode.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Output {
    pub(super) format: Option<Format>,
    pub(super) quality: Option<u8>,
    pub(super) lossless: Option<bool>,
    pub(super) background: Option<String>,
    pub(super) strip: Option<bool>,
    pub(super) svg: Option<SvgMode>,
}
