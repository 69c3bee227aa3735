//! Steps as named ops with keyed values: the part the three forms share.
//!
//! A form gathers a step's values into [`Fields`] (each value checked as it is set), then
//! [`Fields::into_step`] checks what the op needs and builds the normalised [`Step`].

use uuid::Uuid;

use super::value::{self, Raw, Shape};
use super::{Axis, Crop, Fit, Gravity, Mask, Resize, Step};

/// An op name. Declared in the query form's fixed order, which `Ord` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Op {
    Crop,
    Resize,
    Rotate,
    Flip,
    Grayscale,
    Blur,
    Sharpen,
    Brightness,
    Contrast,
    Mask,
}

impl Op {
    /// Every op, in the documentation's order.
    const ALL: [Op; 10] = [
        Op::Resize,
        Op::Crop,
        Op::Rotate,
        Op::Flip,
        Op::Grayscale,
        Op::Blur,
        Op::Sharpen,
        Op::Brightness,
        Op::Contrast,
        Op::Mask,
    ];

    /// The op called `name`.
    pub(super) fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The name in the pipeline text and JSON forms; also the query parameter of every op
    /// but resize.
    pub(super) fn name(self) -> &'static str {
        match self {
            Op::Resize => "resize",
            Op::Crop => "crop",
            Op::Rotate => "rotate",
            Op::Flip => "flip",
            Op::Grayscale => "grayscale",
            Op::Blur => "blur",
            Op::Sharpen => "sharpen",
            Op::Brightness => "brightness",
            Op::Contrast => "contrast",
            Op::Mask => "mask",
        }
    }

    /// The op a step is.
    pub(super) fn of(step: &Step) -> Op {
        match step {
            Step::Resize(_) => Op::Resize,
            Step::Crop(_) => Op::Crop,
            Step::Rotate(_) => Op::Rotate,
            Step::Flip(_) => Op::Flip,
            Step::Grayscale => Op::Grayscale,
            Step::Blur(_) => Op::Blur,
            Step::Sharpen(_) => Op::Sharpen,
            Step::Brightness(_) => Op::Brightness,
            Step::Contrast(_) => Op::Contrast,
            Step::Mask(_) => Op::Mask,
        }
    }

    /// The keys the op takes.
    pub(super) fn keys(self) -> &'static [Key] {
        match self {
            Op::Resize => &[Key::Width, Key::Height, Key::Fit, Key::Gravity, Key::Enlarge],
            Op::Crop => &[Key::X, Key::Y, Key::Width, Key::Height],
            Op::Rotate => &[Key::Degrees],
            Op::Flip => &[Key::Axis],
            Op::Grayscale => &[],
            Op::Blur | Op::Sharpen => &[Key::Sigma],
            Op::Brightness | Op::Contrast => &[Key::Amount],
            Op::Mask => &[Key::Shape, Key::Radius, Key::ImageId],
        }
    }

    /// The key called `name` if this op takes it; `aliases` admits `w`/`h` (pipeline text).
    pub(super) fn key(self, name: &str, aliases: bool) -> Option<Key> {
        let key = match name {
            "w" if aliases => Key::Width,
            "h" if aliases => Key::Height,
            _ => *Key::ALL.iter().find(|key| key.name() == name)?,
        };
        self.keys().contains(&key).then_some(key)
    }

    /// "resize has no key foo (its keys: width, height, ...)".
    pub(super) fn unknown_keys_message(self, names: &[&str]) -> String {
        let keys: Vec<&str> = self.keys().iter().map(|key| key.name()).collect();
        let takes = if keys.is_empty() {
            "it takes none".to_string()
        } else {
            format!("its keys: {}", keys.join(", "))
        };
        let plural = if names.len() == 1 { "" } else { "s" };
        format!("{} has no key{plural} {} ({takes})", self.name(), names.join(", "))
    }

    /// "unknown op zoom (ops: resize, crop, ...)".
    pub(super) fn unknown_message(name: &str) -> String {
        let names: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
        format!("unknown op {name} (ops: {})", names.join(", "))
    }
}

/// A key of an op, by its JSON name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Key {
    Width,
    Height,
    Fit,
    Gravity,
    Enlarge,
    X,
    Y,
    Degrees,
    Sigma,
    Amount,
    Axis,
    Shape,
    Radius,
    ImageId,
}

impl Key {
    const ALL: [Key; 14] = [
        Key::Width,
        Key::Height,
        Key::Fit,
        Key::Gravity,
        Key::Enlarge,
        Key::X,
        Key::Y,
        Key::Degrees,
        Key::Sigma,
        Key::Amount,
        Key::Axis,
        Key::Shape,
        Key::Radius,
        Key::ImageId,
    ];

    /// The JSON name, also the long name in the pipeline text.
    pub(super) fn name(self) -> &'static str {
        match self {
            Key::Width => "width",
            Key::Height => "height",
            Key::Fit => "fit",
            Key::Gravity => "gravity",
            Key::Enlarge => "enlarge",
            Key::X => "x",
            Key::Y => "y",
            Key::Degrees => "degrees",
            Key::Sigma => "sigma",
            Key::Amount => "amount",
            Key::Axis => "axis",
            Key::Shape => "shape",
            Key::Radius => "radius",
            Key::ImageId => "image_id",
        }
    }
}

/// What is wrong with a step: the key at fault (`None`: the step as a whole) and why.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fault {
    pub(super) key: Option<Key>,
    pub(super) message: String,
}

impl Fault {
    fn new(key: Option<Key>, message: impl Into<String>) -> Fault {
        Fault { key, message: message.into() }
    }
}

/// The values given for one step, each checked when set.
#[derive(Debug, Default)]
pub(super) struct Fields {
    width: Option<u32>,
    height: Option<u32>,
    fit: Option<Fit>,
    gravity: Option<Gravity>,
    enlarge: Option<bool>,
    x: Option<u32>,
    y: Option<u32>,
    degrees: Option<f64>,
    sigma: Option<f32>,
    amount: Option<f32>,
    axis: Option<Axis>,
    shape: Option<Shape>,
    radius: Option<u32>,
    image_id: Option<Uuid>,
}

/// Stores a checked value in an empty slot; a second value for one key is a fault.
fn store<T>(slot: &mut Option<T>, key: Key, parsed: Result<T, String>) -> Result<(), Fault> {
    if slot.is_some() {
        return Err(Fault::new(Some(key), format!("{} is given twice", key.name())));
    }
    *slot = Some(parsed.map_err(|message| Fault::new(Some(key), message))?);
    Ok(())
}

impl Fields {
    /// Checks and stores the value of `key`, calling it `name` in a message.
    pub(super) fn set(&mut self, key: Key, name: &str, raw: Raw) -> Result<(), Fault> {
        match key {
            Key::Width => store(&mut self.width, key, value::side(name, raw)),
            Key::Height => store(&mut self.height, key, value::side(name, raw)),
            Key::Fit => store(&mut self.fit, key, value::fit(name, raw)),
            Key::Gravity => store(&mut self.gravity, key, value::gravity(name, raw)),
            Key::Enlarge => store(&mut self.enlarge, key, value::boolean(name, raw)),
            Key::X => store(&mut self.x, key, value::offset(name, raw)),
            Key::Y => store(&mut self.y, key, value::offset(name, raw)),
            Key::Degrees => store(&mut self.degrees, key, value::degrees(name, raw)),
            Key::Sigma => store(&mut self.sigma, key, value::sigma(name, raw)),
            Key::Amount => store(&mut self.amount, key, value::amount(name, raw)),
            Key::Axis => store(&mut self.axis, key, value::axis(name, raw)),
            Key::Shape => store(&mut self.shape, key, value::shape(name, raw)),
            Key::Radius => store(&mut self.radius, key, value::radius(name, raw)),
            Key::ImageId => store(&mut self.image_id, key, value::image_id(name, raw)),
        }
    }

    /// The values of a step written with its main parameter (`rotate:90`, `crop:0,0,9,9`,
    /// `mask:rounded:12`; the query's `rotate=90` alike), calling it `name` in a message.
    pub(super) fn from_main_value(op: Op, text: &str, name: &str) -> Result<Fields, Fault> {
        let mut fields = Fields::default();
        match op {
            Op::Resize => {
                return Err(Fault::new(
                    None,
                    "resize takes key=value pairs, e.g. resize:width=300",
                ));
            }
            Op::Grayscale => return Err(Fault::new(None, "grayscale takes no value")),
            Op::Crop => {
                let parts: Vec<&str> = text.split(',').map(str::trim).collect();
                let [x, y, width, height] = parts[..] else {
                    return Err(Fault::new(None, format!("{name} must be x,y,w,h")));
                };
                fields.set(Key::X, &format!("{name} x"), Raw::Text(x))?;
                fields.set(Key::Y, &format!("{name} y"), Raw::Text(y))?;
                fields.set(Key::Width, &format!("{name} w"), Raw::Text(width))?;
                fields.set(Key::Height, &format!("{name} h"), Raw::Text(height))?;
            }
            Op::Rotate => fields.set(Key::Degrees, name, Raw::Text(text))?,
            Op::Flip => fields.set(Key::Axis, name, Raw::Text(text))?,
            Op::Blur | Op::Sharpen => fields.set(Key::Sigma, name, Raw::Text(text))?,
            Op::Brightness | Op::Contrast => fields.set(Key::Amount, name, Raw::Text(text))?,
            Op::Mask => match text.split_once(':') {
                Some(("rounded", radius)) => {
                    fields.shape = Some(Shape::Rounded);
                    fields.set(Key::Radius, &format!("{name} radius"), Raw::Text(radius))?;
                }
                _ => match (
                    value::shape(name, Raw::Text(text)),
                    value::parse_image_id(Raw::Text(text)),
                ) {
                    (Ok(shape), _) => fields.shape = Some(shape),
                    (_, Some(id)) => fields.image_id = Some(id),
                    _ => {
                        return Err(Fault::new(
                            None,
                            format!(
                                "{name} must be circle, ellipse, rounded:<radius> or an image id"
                            ),
                        ));
                    }
                },
            },
        }
        Ok(fields)
    }

    /// Whether a resize has a side to work with (the query form skips it otherwise).
    pub(super) fn has_side(&self) -> bool {
        self.width.is_some() || self.height.is_some()
    }

    /// The step the values make for `op`, or `None` when it would change nothing.
    pub(super) fn into_step(self, op: Op) -> Result<Option<Step>, Fault> {
        let needs =
            |key: Key, what: &str| Fault::new(Some(key), format!("{} needs {what}", op.name()));
        Ok(match op {
            Op::Resize => {
                if !self.has_side() {
                    return Err(Fault::new(None, "resize needs width or height"));
                }
                Some(Step::Resize(Resize::new(
                    self.width,
                    self.height,
                    self.fit.unwrap_or_default(),
                    self.gravity.unwrap_or_default(),
                    self.enlarge,
                )))
            }
            Op::Crop => {
                let crop_needs = |key| needs(key, "x, y, width and height");
                Some(Step::Crop(Crop {
                    x: self.x.ok_or_else(|| crop_needs(Key::X))?,
                    y: self.y.ok_or_else(|| crop_needs(Key::Y))?,
                    width: self.width.ok_or_else(|| crop_needs(Key::Width))?,
                    height: self.height.ok_or_else(|| crop_needs(Key::Height))?,
                }))
            }
            Op::Rotate => {
                let degrees = self.degrees.ok_or_else(|| needs(Key::Degrees, "degrees"))?;
                let turned = degrees.rem_euclid(360.0);
                // rem_euclid may round a tiny negative angle up to exactly 360.
                (turned != 0.0 && turned < 360.0).then_some(Step::Rotate(turned))
            }
            Op::Flip => Some(Step::Flip(self.axis.ok_or_else(|| needs(Key::Axis, "an axis"))?)),
            Op::Grayscale => Some(Step::Grayscale),
            Op::Blur | Op::Sharpen => {
                let sigma = self.sigma.ok_or_else(|| needs(Key::Sigma, "sigma"))?;
                (sigma != 0.0).then_some(if op == Op::Blur {
                    Step::Blur(sigma)
                } else {
                    Step::Sharpen(sigma)
                })
            }
            Op::Brightness | Op::Contrast => {
                let amount = self.amount.ok_or_else(|| needs(Key::Amount, "amount"))?;
                (amount != 0.0).then_some(if op == Op::Brightness {
                    Step::Brightness(amount)
                } else {
                    Step::Contrast(amount)
                })
            }
            Op::Mask => self.into_mask()?.map(Step::Mask),
        })
    }

    /// A mask from a shape (with its radius when rounded) or an image id; a zero radius
    /// rounds nothing, so that step vanishes.
    fn into_mask(self) -> Result<Option<Mask>, Fault> {
        if self.radius.is_some() && self.shape != Some(Shape::Rounded) {
            return Err(Fault::new(Some(Key::Radius), "radius goes only with shape rounded"));
        }
        Ok(match (self.shape, self.image_id) {
            (Some(_), Some(_)) => {
                return Err(Fault::new(
                    Some(Key::ImageId),
                    "mask takes a shape or an image_id, not both",
                ));
            }
            (None, None) => return Err(Fault::new(None, "mask needs a shape or an image_id")),
            (None, Some(id)) => Some(Mask::Image(id)),
            (Some(Shape::Circle), None) => Some(Mask::Circle),
            (Some(Shape::Ellipse), None) => Some(Mask::Ellipse),
            (Some(Shape::Rounded), None) => match self.radius {
                None => return Err(Fault::new(Some(Key::Radius), "a rounded mask needs a radius")),
                Some(0) => None,
                Some(radius) => Some(Mask::Rounded { radius }),
            },
        })
    }
}
