//! Transformations: the validated pipeline of steps and the output settings.
//!
//! Parsed at the edge from the query form (`w=300&fit=cover`, `ops=resize:w=300|rotate:90`)
//! or the JSON form (`[{"op": "resize", "width": 300}]`) into one type with one canonical
//! text form, which (with the output format) keys the variant cache.
//!
//! Parsing normalises as it goes, so equivalent spellings give equal values: no-op steps
//! (`rotate=360`, `blur=0`, `grayscale=false`) vanish, angles are reduced modulo 360 and a
//! resize forgets the `fit` and `gravity` that cannot change its result.
//!
//! Every op and every output setting is a row of a table, [`OPS`] and [`SETTINGS`], with
//! its names, kinds, ranges, defaults and descriptions; the three forms, the key checks
//! and the OpenAPI document all read the rows, so each is written once.

/// An enum of keywords: its variants with their spellings, written once. Gives `WORDS`
/// (the spellings, in declaration order, as the tables list them), `name` and `from_name`.
macro_rules! words {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $word:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant ),*
        }

        impl $name {
            /// Every spelling, in declaration order.
            pub const WORDS: &'static [&'static str] = &[$($word),*];

            /// The name used in every form.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $word ),*
                }
            }

            /// The variant spelled exactly `word`.
            pub fn from_name(word: &str) -> Option<$name> {
                match word {
                    $( $word => Some($name::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

mod body;
mod json;
mod kind;
mod query;
mod settings;
mod step;
mod table;
mod text;

pub use body::{WithSettings, from_json_body, not_null};
pub use kind::{Kind, Parsed};
pub use query::{QueryParam, query_param, step_params};
pub use settings::{OutputSettings, SETTINGS, SettingDef, Settings};
pub use step::{Key, Op, Shape};
pub use table::{KeyDef, Main, OPS, OpDef, QueryForm};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest side a `w`/`h` or crop may name.
pub const MAX_SIDE: u32 = 16384;

/// An ordered list of steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    /// The steps, applied first to last.
    pub steps: Vec<Step>,
}

impl Pipeline {
    /// The ids of the stored images the mask steps refer to, each once, in step order.
    pub fn mask_image_ids(&self) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for step in &self.steps {
            if let Step::Mask(Mask::Image(id)) = step
                && !ids.contains(id)
            {
                ids.push(*id);
            }
        }
        ids
    }
}

/// One transformation step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Scale into (or onto) a box.
    Resize(Resize),
    /// Cut a rectangle out.
    Crop(Crop),
    /// Clockwise degrees, normalised to `[0, 360)`.
    Rotate(f64),
    /// Mirror along one axis.
    Flip(Axis),
    /// Drop the colour, keep the luminance.
    Grayscale,
    /// Gaussian blur sigma, `(0, 100]`.
    Blur(f32),
    /// Unsharp-mask sigma, `(0, 100]`.
    Sharpen(f32),
    /// Amount `-100..=100`; factor = 1 + amount/100.
    Brightness(f32),
    /// Amount `-100..=100`; factor = 1 + amount/100.
    Contrast(f32),
    /// Multiply the alpha by a shape or another image's luminance.
    Mask(Mask),
}

/// A resize to a box of which at least one side is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// Target width in px; `None` derives it from the height and the aspect ratio.
    pub width: Option<u32>,
    /// Target height in px; `None` derives it from the width and the aspect ratio.
    pub height: Option<u32>,
    /// How the image meets a box of two given sides.
    pub fit: Fit,
    /// Which part a `cover` keeps.
    pub gravity: Gravity,
    /// `None` means the source's default: false for rasters, true for SVG sources.
    pub enlarge: Option<bool>,
}

impl Resize {
    /// A resize in normal form: see [`Resize::normalized`].
    pub fn new(
        width: Option<u32>,
        height: Option<u32>,
        fit: Fit,
        gravity: Gravity,
        enlarge: Option<bool>,
    ) -> Resize {
        Resize { width, height, fit, gravity, enlarge }.normalized()
    }

    /// The same resize without the settings that cannot change its result: with one side
    /// given every fit keeps the aspect (so `fit` is `contain`), and only `cover` crops (so
    /// `gravity` is `center` otherwise).
    pub fn normalized(self) -> Resize {
        let fit =
            if self.width.is_some() && self.height.is_some() { self.fit } else { Fit::Contain };
        let gravity = if fit == Fit::Cover { self.gravity } else { Gravity::Center };
        Resize { fit, gravity, ..self }
    }
}

words! {
    /// How an image meets a box of two given sides.
    #[derive(Default)]
    pub enum Fit {
        /// Inside the box, aspect kept.
        #[default]
        Contain = "contain",
        /// Fills the box, aspect kept, the overflow cropped.
        Cover = "cover",
        /// Stretched to the box.
        Fill = "fill",
    }
}

words! {
    /// Which part of the image a `cover` resize keeps; the canonical name is `center`, the
    /// table takes `centre` as an alias.
    #[derive(Default)]
    pub enum Gravity {
        /// The middle.
        #[default]
        Center = "center",
        /// The top edge.
        North = "north",
        /// The bottom edge.
        South = "south",
        /// The right edge.
        East = "east",
        /// The left edge.
        West = "west",
        /// The most detailed region.
        Smart = "smart",
    }
}

/// A rectangle to cut, in px after auto-orient; the engine clamps it to the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width, at least 1.
    pub width: u32,
    /// Height, at least 1.
    pub height: u32,
}

words! {
    /// The axis a flip mirrors along.
    pub enum Axis {
        /// Mirror left-right.
        Horizontal = "h",
        /// Mirror top-bottom.
        Vertical = "v",
    }
}

/// The alpha mask a mask step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// A circle of diameter = the shorter side, centred.
    Circle,
    /// The ellipse inscribed in the image.
    Ellipse,
    /// Rounded corners.
    Rounded {
        /// Corner radius in output px, at least 1 (0 would change nothing).
        radius: u32,
    },
    /// Another stored image of the caller's tenant; its luminance multiplies alpha.
    Image(Uuid),
}

/// An RGBA colour, straight (not premultiplied) alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    /// Opaque white, the background of formats without alpha unless `bg` says otherwise.
    pub const WHITE: Rgba = Rgba([255, 255, 255, 255]);

    /// Lowercase hex: `RRGGBB` when opaque, else `RRGGBBAA`.
    pub fn to_hex(self) -> String {
        let [r, g, b, a] = self.0;
        if a == 255 {
            format!("{r:02x}{g:02x}{b:02x}")
        } else {
            format!("{r:02x}{g:02x}{b:02x}{a:02x}")
        }
    }
}

words! {
    /// How a raster becomes SVG.
    #[derive(Default)]
    pub enum SvgMode {
        /// Traced colour paths.
        #[default]
        Trace = "trace",
        /// The raster wrapped losslessly in an `<image>` element.
        Embed = "embed",
    }
}

/// A pipeline and its output settings: everything needed to make one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    /// The steps.
    pub pipeline: Pipeline,
    /// The encode settings.
    pub output: OutputSettings,
}

/// A parameter that failed validation: `param` names the query parameter (`w`, `ops`)
/// or the JSON path (`operations[1].width`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SpecError {
    /// The query parameter or JSON path at fault.
    pub param: String,
    /// What is wrong, for a human.
    pub message: String,
}

impl SpecError {
    /// An error about `param`.
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError { param: param.into(), message: message.into() }
    }
}

#[cfg(test)]
mod table_tests;
#[cfg(test)]
mod tests;
