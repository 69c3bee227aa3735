//! Steps as named ops with keyed values: the part the three forms share.
//!
//! A form gathers a step's values into [`Fields`] (each value checked by its key's kind in
//! [`OPS`](super::OPS) as it is set), then [`Fields::into_step`] checks what the table says
//! the op needs and builds the normalised [`Step`].

use uuid::Uuid;

use super::kind::{Kind, Parsed, Raw, and_list, or_list};
use super::table::{KeyDef, Main, OpDef};
use super::{Axis, Crop, Fit, Gravity, Mask, Resize, Step};

/// The step an op makes. Declared in the query form's fixed order, which `Ord` follows;
/// names and keys are in [`OPS`](super::OPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
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
    /// The name in every form.
    pub fn name(self) -> &'static str {
        OpDef::of(self).name
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
}

/// The slot a key's value fills; its name and kind are in each op's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
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
    /// How many keys there are.
    const COUNT: usize = Key::ImageId as usize + 1;
}

words! {
    /// A mask shape without its radius.
    pub enum Shape {
        Circle = "circle",
        Ellipse = "ellipse",
        Rounded = "rounded",
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
    values: [Option<Parsed>; Key::COUNT],
}

impl Fields {
    /// Checks the value of `def` and stores it, calling it `name` in a message; a second
    /// value for one key is a fault.
    pub(super) fn set(&mut self, def: &KeyDef, name: &str, raw: Raw) -> Result<(), Fault> {
        let key = def.key;
        let slot = &mut self.values[key as usize];
        if slot.is_some() {
            return Err(Fault::new(Some(key), format!("{} is given twice", def.name)));
        }
        *slot = Some(def.kind.parse(name, raw).map_err(|message| Fault::new(Some(key), message))?);
        Ok(())
    }

    fn get(&self, key: Key) -> Option<Parsed> {
        self.values[key as usize]
    }

    fn has(&self, key: Key) -> bool {
        self.get(key).is_some()
    }

    /// The values of a step written with its main value (`rotate:90`, `crop:0,0,9,9`,
    /// `mask:rounded:12`; the query's `rotate=90` alike), calling it `name` in a message.
    pub(super) fn from_main_value(op: &OpDef, text: &str, name: &str) -> Result<Fields, Fault> {
        let mut fields = Fields::default();
        let key = |key| op.key(key).expect("a main value names keys of its op");
        match op.main {
            Main::Pairs { example } => {
                let message = format!("{} takes key=value pairs, e.g. {example}", op.name);
                return Err(Fault::new(None, message));
            }
            Main::Nothing => return Err(Fault::new(None, format!("{} takes no value", op.name))),
            Main::Key(main) => fields.set(key(main), name, Raw::Text(text))?,
            Main::List(keys) => {
                let parts: Vec<&str> = text.split(',').map(str::trim).collect();
                if parts.len() != keys.len() {
                    let names: Vec<&str> = keys.iter().map(|k| key(*k).short_name()).collect();
                    return Err(Fault::new(None, format!("{name} must be {}", names.join(","))));
                }
                for (part, main) in parts.into_iter().zip(keys) {
                    let def = key(*main);
                    fields.set(def, &format!("{name} {}", def.short_name()), Raw::Text(part))?;
                }
            }
            Main::Shape { shape, sized, size, other } => match text.split_once(':') {
                Some((word, value)) if word == sized => {
                    fields.set(key(shape), name, Raw::Text(word))?;
                    let size = key(size);
                    fields.set(size, &format!("{name} {}", size.name), Raw::Text(value))?;
                }
                _ => {
                    let (shape, other) = (key(shape), key(other));
                    if fields.set(shape, name, Raw::Text(text)).is_err()
                        && fields.set(other, name, Raw::Text(text)).is_err()
                    {
                        let mut choices: Vec<String> = match shape.kind {
                            Kind::Keyword { words, .. } => words
                                .iter()
                                .map(|word| {
                                    if *word == sized {
                                        format!("{word}:<{}>", key(size).name)
                                    } else {
                                        word.to_string()
                                    }
                                })
                                .collect(),
                            kind => vec![kind.noun(true)],
                        };
                        choices.push(other.kind.noun(true));
                        let message = format!("{name} must be {}", or_list(&choices));
                        return Err(Fault::new(None, message));
                    }
                }
            },
        }
        Ok(fields)
    }

    /// Whether a value is given for one of the keys without which the op makes no step
    /// (the query form skips a resize without a side).
    pub(super) fn has_what_it_needs(&self, op: &OpDef) -> bool {
        op.needs_one_of.is_empty() || op.needs_one_of.iter().any(|key| self.has(*key))
    }

    /// The step the values make for `op`, or `None` when it would change nothing. The
    /// table's rules come first: every required key, then one of `needs_one_of`.
    pub(super) fn into_step(self, op: &OpDef) -> Result<Option<Step>, Fault> {
        let required: Vec<&KeyDef> = op.keys.iter().filter(|key| key.required).collect();
        if let Some(missing) = required.iter().find(|key| !self.has(key.key)) {
            let names: Vec<&str> = required.iter().map(|key| key.name).collect();
            let message = format!("{} needs {}", op.name, and_list(&names));
            return Err(Fault::new(Some(missing.key), message));
        }
        if !self.has_what_it_needs(op) {
            let names: Vec<&str> = op.needs_one_of.iter().map(|key| key.name()).collect();
            return Err(Fault::new(None, format!("{} needs {}", op.name, or_list(&names))));
        }
        let integer = |key| self.get(key).and_then(Parsed::integer);
        let number = |key| self.get(key).and_then(Parsed::number).unwrap_or(0.0);
        let word = |key| self.get(key).and_then(Parsed::word);
        Ok(match op.op {
            Op::Resize => Some(Step::Resize(Resize::new(
                integer(Key::Width),
                integer(Key::Height),
                word(Key::Fit).and_then(Fit::from_name).unwrap_or_default(),
                word(Key::Gravity).and_then(Gravity::from_name).unwrap_or_default(),
                self.get(Key::Enlarge).and_then(Parsed::boolean),
            ))),
            Op::Crop => Some(Step::Crop(Crop {
                x: integer(Key::X).unwrap_or(0),
                y: integer(Key::Y).unwrap_or(0),
                width: integer(Key::Width).unwrap_or(1),
                height: integer(Key::Height).unwrap_or(1),
            })),
            Op::Rotate => {
                let degrees = self.get(Key::Degrees).and_then(Parsed::finite).unwrap_or(0.0);
                let turned = degrees.rem_euclid(360.0);
                // rem_euclid may round a tiny negative angle up to exactly 360.
                (turned != 0.0 && turned < 360.0).then_some(Step::Rotate(turned))
            }
            Op::Flip => word(Key::Axis).and_then(Axis::from_name).map(Step::Flip),
            Op::Grayscale => Some(Step::Grayscale),
            // A zero sigma or amount changes nothing, so that step vanishes.
            Op::Blur => non_zero(number(Key::Sigma)).map(Step::Blur),
            Op::Sharpen => non_zero(number(Key::Sigma)).map(Step::Sharpen),
            Op::Brightness => non_zero(number(Key::Amount)).map(Step::Brightness),
            Op::Contrast => non_zero(number(Key::Amount)).map(Step::Contrast),
            Op::Mask => self.into_mask()?.map(Step::Mask),
        })
    }

    /// A mask from a shape (with its radius when rounded) or an image id; a zero radius
    /// rounds nothing, so that step vanishes.
    fn into_mask(self) -> Result<Option<Mask>, Fault> {
        let shape = self.get(Key::Shape).and_then(Parsed::word).and_then(Shape::from_name);
        let radius = self.get(Key::Radius).and_then(Parsed::integer);
        let image_id: Option<Uuid> = self.get(Key::ImageId).and_then(Parsed::image_id);
        if radius.is_some() && shape != Some(Shape::Rounded) {
            return Err(Fault::new(Some(Key::Radius), "radius goes only with shape rounded"));
        }
        Ok(match (shape, image_id) {
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
            (Some(Shape::Rounded), None) => match radius {
                None => return Err(Fault::new(Some(Key::Radius), "a rounded mask needs a radius")),
                Some(0) => None,
                Some(radius) => Some(Mask::Rounded { radius }),
            },
        })
    }
}

fn non_zero(value: f32) -> Option<f32> {
    (value != 0.0).then_some(value)
}
