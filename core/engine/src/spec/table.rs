//! The operations table: every op with its keys (type, range, default, whether required,
//! the spellings the pipeline text also takes) and how the query and pipeline text write
//! it. The parsers of every form, the key checks and the OpenAPI document all read it; the
//! steps' own behaviour is in `step.rs` and `imaging`.

use super::kind::{Kind, Parsed};
use super::step::{Key, Op, Shape};
use super::{Axis, Fit, Gravity, MAX_SIDE};

/// An operation of the pipeline.
#[derive(Debug)]
pub struct OpDef {
    /// The step it makes.
    pub op: Op,
    /// Its name in every form; also its query parameter unless its keys are parameters.
    pub name: &'static str,
    /// What it does, for the documentation.
    pub description: &'static str,
    /// The keys it takes, in canonical order.
    pub keys: &'static [KeyDef],
    /// Keys of which at least one must be given (a resize needs a side).
    pub needs_one_of: &'static [Key],
    /// How the pipeline text writes its main value (`rotate:90`).
    pub main: Main,
    /// How the query form writes it.
    pub query: QueryForm,
}

/// A key of an op.
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    /// The slot its value fills.
    pub key: Key,
    /// Its JSON name, also its long name in the pipeline text.
    pub name: &'static str,
    /// Other names the pipeline text (and the query form) take for it: `w` for `width`.
    pub aliases: &'static [&'static str],
    /// Its type and range.
    pub kind: Kind,
    /// The value an absent key means, when there is one value it always means.
    pub default: Option<Parsed>,
    /// Whether the op needs it.
    pub required: bool,
    /// What it is, for the documentation.
    pub description: &'static str,
}

impl KeyDef {
    /// The shortest spelling: the first alias, else the name (`w`, `fit`). A query
    /// parameter and a part of a main value (`crop w`) are called this.
    pub fn short_name(&self) -> &'static str {
        self.aliases.first().copied().unwrap_or(self.name)
    }
}

/// How the pipeline text writes an op with a value but no `key=`.
#[derive(Debug, Clone, Copy)]
pub enum Main {
    /// Not at all: only `key=value` pairs, as `example` shows.
    Pairs { example: &'static str },
    /// The op takes no value (`grayscale`).
    Nothing,
    /// The value of one key (`rotate:90` is `degrees`).
    Key(Key),
    /// The values of these keys, comma-separated in this order (`crop:x,y,w,h`).
    List(&'static [Key]),
    /// A word of `shape`; `sized` followed by `:` and a value of `size` (`rounded:12`); or
    /// a value of `other` (an image id).
    Shape { shape: Key, sized: &'static str, size: Key, other: Key },
}

/// How the query form writes an op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryForm {
    /// Each key is its own parameter, called by its short name (`w`, `h`, `fit`); a step
    /// is made only when one of the keys it needs is given.
    Keys,
    /// One parameter named after the op holding its main value (`crop=0,0,9,9`).
    Main,
    /// One boolean parameter named after the op; `true` adds the step.
    Flag,
}

/// A box or crop side in px.
const SIDE: Kind = Kind::Integer { min: 1, max: MAX_SIDE };
/// A crop offset: any integer a u32 holds (the engine clamps the rectangle to the image).
const OFFSET: Kind = Kind::Integer { min: 0, max: u32::MAX };
/// A blur or sharpen sigma.
const SIGMA: Kind = Kind::Number { min: 0.0, max: 100.0 };
/// A brightness or contrast amount.
const AMOUNT: Kind = Kind::Number { min: -100.0, max: 100.0 };

const WIDTH: KeyDef = KeyDef {
    key: Key::Width,
    name: "width",
    aliases: &["w"],
    kind: SIDE,
    default: None,
    required: false,
    description: "Target box width in px.",
};

const HEIGHT: KeyDef = KeyDef {
    key: Key::Height,
    name: "height",
    aliases: &["h"],
    description: "Target box height in px.",
    ..WIDTH
};

const fn sigma(description: &'static str) -> KeyDef {
    KeyDef {
        key: Key::Sigma,
        name: "sigma",
        aliases: &[],
        kind: SIGMA,
        default: None,
        required: true,
        description,
    }
}

const fn amount(description: &'static str) -> KeyDef {
    KeyDef {
        key: Key::Amount,
        name: "amount",
        aliases: &[],
        kind: AMOUNT,
        default: None,
        required: true,
        description,
    }
}

/// Every op, in the documentation's order (the query form applies them in [`Op`]'s).
pub static OPS: &[OpDef] = &[
    OpDef {
        op: Op::Resize,
        name: "resize",
        description: "Scale into a box; at least one of `width`, `height`.",
        keys: &[
            WIDTH,
            HEIGHT,
            KeyDef {
                key: Key::Fit,
                name: "fit",
                aliases: &[],
                kind: Kind::Keyword { words: Fit::WORDS, aliases: &[] },
                default: Some(Parsed::Word(Fit::Contain.name())),
                required: false,
                description: "How the image meets a box of two sides: inside it (aspect kept), \
                    fill it then crop, or stretch. With one side given every fit keeps the \
                    aspect.",
            },
            KeyDef {
                key: Key::Gravity,
                name: "gravity",
                aliases: &[],
                kind: Kind::Keyword {
                    words: Gravity::WORDS,
                    aliases: &[("centre", Gravity::Center.name())],
                },
                default: Some(Parsed::Word(Gravity::Center.name())),
                required: false,
                description: "Which part `cover` keeps (`centre` is `center`).",
            },
            KeyDef {
                key: Key::Enlarge,
                name: "enlarge",
                aliases: &[],
                kind: Kind::Boolean,
                default: None,
                required: false,
                description: "Allow upscaling past the source; default false for rasters, \
                    true for SVG sources.",
            },
        ],
        needs_one_of: &[Key::Width, Key::Height],
        main: Main::Pairs { example: "resize:width=300" },
        query: QueryForm::Keys,
    },
    OpDef {
        op: Op::Crop,
        name: "crop",
        description: "Cut a rectangle (px, after auto-orient), clamped to the image; no \
            overlap → 400.",
        keys: &[
            KeyDef {
                key: Key::X,
                name: "x",
                aliases: &[],
                kind: OFFSET,
                default: None,
                required: true,
                description: "Left edge in px.",
            },
            KeyDef {
                key: Key::Y,
                name: "y",
                aliases: &[],
                kind: OFFSET,
                default: None,
                required: true,
                description: "Top edge in px.",
            },
            KeyDef { required: true, description: "Width in px.", ..WIDTH },
            KeyDef { required: true, description: "Height in px.", ..HEIGHT },
        ],
        needs_one_of: &[],
        main: Main::List(&[Key::X, Key::Y, Key::Width, Key::Height]),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Rotate,
        name: "rotate",
        description: "Rotate clockwise; 90/180/270 exact, other angles grow the canvas \
            (filled with `bg`, else transparent where the output has alpha, else white).",
        keys: &[KeyDef {
            key: Key::Degrees,
            name: "degrees",
            aliases: &[],
            kind: Kind::Finite { unit: "degrees" },
            default: None,
            required: true,
            description: "Any finite number of degrees, modulo 360; negative turns \
                counter-clockwise.",
        }],
        needs_one_of: &[],
        main: Main::Key(Key::Degrees),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Flip,
        name: "flip",
        description: "Mirror along an axis.",
        keys: &[KeyDef {
            key: Key::Axis,
            name: "axis",
            aliases: &[],
            kind: Kind::Keyword { words: Axis::WORDS, aliases: &[] },
            default: None,
            required: true,
            description: "`h` mirrors left-right, `v` top-bottom.",
        }],
        needs_one_of: &[],
        main: Main::Key(Key::Axis),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Grayscale,
        name: "grayscale",
        description: "Drop the colour.",
        keys: &[],
        needs_one_of: &[],
        main: Main::Nothing,
        query: QueryForm::Flag,
    },
    OpDef {
        op: Op::Blur,
        name: "blur",
        description: "Gaussian blur.",
        keys: &[sigma("Its sigma; 0 = no-op.")],
        needs_one_of: &[],
        main: Main::Key(Key::Sigma),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Sharpen,
        name: "sharpen",
        description: "Unsharp mask.",
        keys: &[sigma("Its sigma; 0 = no-op.")],
        needs_one_of: &[],
        main: Main::Key(Key::Sigma),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Brightness,
        name: "brightness",
        description: "Scale the brightness.",
        keys: &[amount("Factor = 1 + amount/100; 0 = no-op.")],
        needs_one_of: &[],
        main: Main::Key(Key::Amount),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Contrast,
        name: "contrast",
        description: "Scale the contrast.",
        keys: &[amount("Factor = 1 + amount/100; 0 = no-op.")],
        needs_one_of: &[],
        main: Main::Key(Key::Amount),
        query: QueryForm::Main,
    },
    OpDef {
        op: Op::Mask,
        name: "mask",
        description: "Alpha mask: `shape` (with `radius` for `rounded`), or `image_id` of one \
            of the caller's images whose luminance multiplies alpha; formats without alpha \
            flatten onto `bg`.",
        keys: &[
            KeyDef {
                key: Key::Shape,
                name: "shape",
                aliases: &[],
                kind: Kind::Keyword { words: Shape::WORDS, aliases: &[] },
                default: None,
                required: false,
                description: "A circle of diameter = the shorter side, centred; the inscribed \
                    ellipse; or rounded corners.",
            },
            KeyDef {
                key: Key::Radius,
                name: "radius",
                aliases: &[],
                kind: Kind::Integer { min: 0, max: MAX_SIDE },
                default: None,
                required: false,
                description: "Corner radius in output px (rounded only).",
            },
            KeyDef {
                key: Key::ImageId,
                name: "image_id",
                aliases: &[],
                kind: Kind::ImageId,
                default: None,
                required: false,
                description: "One of the caller's images, stretched to the output.",
            },
        ],
        needs_one_of: &[],
        main: Main::Shape {
            shape: Key::Shape,
            sized: Shape::Rounded.name(),
            size: Key::Radius,
            other: Key::ImageId,
        },
        query: QueryForm::Main,
    },
];

impl OpDef {
    /// The op called `name`.
    pub fn named(name: &str) -> Option<&'static OpDef> {
        OPS.iter().find(|def| def.name == name)
    }

    /// The row of `op`.
    pub fn of(op: Op) -> &'static OpDef {
        OPS.iter().find(|def| def.op == op).expect("every op has a row in OPS")
    }

    /// The key `key` of this op.
    pub fn key(&self, key: Key) -> Option<&'static KeyDef> {
        self.keys.iter().find(|def| def.key == key)
    }

    /// The key called `name`; `aliases` admits the short spellings (`w`, pipeline text).
    pub fn key_named(&self, name: &str, aliases: bool) -> Option<&'static KeyDef> {
        self.keys.iter().find(|def| def.name == name || (aliases && def.aliases.contains(&name)))
    }

    /// "resize has no key foo (its keys: width, height, ...)".
    pub(super) fn unknown_keys_message(&self, names: &[&str]) -> String {
        let keys: Vec<&str> = self.keys.iter().map(|key| key.name).collect();
        let takes = if keys.is_empty() {
            "it takes none".to_string()
        } else {
            format!("its keys: {}", keys.join(", "))
        };
        let plural = if names.len() == 1 { "" } else { "s" };
        format!("{} has no key{plural} {} ({takes})", self.name, names.join(", "))
    }

    /// "unknown op zoom (ops: resize, crop, ...)".
    pub(super) fn unknown_message(name: &str) -> String {
        let names: Vec<&str> = OPS.iter().map(|op| op.name).collect();
        format!("unknown op {name} (ops: {})", names.join(", "))
    }
}

impl Key {
    /// The JSON name, the same in every op that takes the key.
    pub fn name(self) -> &'static str {
        OPS.iter()
            .flat_map(|op| op.keys)
            .find(|def| def.key == self)
            .map(|def| def.name)
            .expect("every key belongs to an op in OPS")
    }
}
