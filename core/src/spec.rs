//! Transformations: the validated pipeline of steps and the output settings.
//!
//! Parsed at the edge from the query form (`w=300&fit=cover`, `ops=resize:w=300|rotate:90`)
//! or the JSON form (`[{"op": "resize", "width": 300}]`) into one type with one canonical
//! text form, which (with the output format) keys the variant cache.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::format::ImageFormat;

/// Largest side a `w`/`h` or crop may name.
pub const MAX_SIDE: u32 = 16384;

/// An ordered list of steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    pub steps: Vec<Step>,
}

/// One transformation step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Resize(Resize),
    Crop(Crop),
    /// Clockwise degrees, normalised to `[0, 360)`.
    Rotate(f64),
    Flip(Axis),
    Grayscale,
    /// Gaussian blur sigma, `(0, 100]`.
    Blur(f32),
    /// Unsharp-mask sigma, `(0, 100]`.
    Sharpen(f32),
    /// Amount `-100..=100`; factor = 1 + amount/100.
    Brightness(f32),
    /// Amount `-100..=100`; factor = 1 + amount/100.
    Contrast(f32),
    Mask(Mask),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fit: Fit,
    pub gravity: Gravity,
    /// `None` means the source's default: false for rasters, true for SVG sources.
    pub enlarge: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    #[default]
    Contain,
    Cover,
    Fill,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gravity {
    #[default]
    Center,
    North,
    South,
    East,
    West,
    Smart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Mirror left-right.
    Horizontal,
    /// Mirror top-bottom.
    Vertical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    Circle,
    Ellipse,
    Rounded {
        radius: u32,
    },
    /// Another stored image of the caller's tenant; its luminance multiplies alpha.
    Image(Uuid),
}

/// An RGBA colour, straight (not premultiplied) alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    pub const WHITE: Rgba = Rgba([255, 255, 255, 255]);
}

/// How a raster becomes SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SvgMode {
    #[default]
    Trace,
    Embed,
}

/// Output settings: not steps, they apply to the encode.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    /// `None` keeps the source's format.
    pub format: Option<ImageFormat>,
    /// 1..=100, for lossy encoders.
    pub quality: Option<u8>,
    pub lossless: bool,
    /// Behind transparency for formats without alpha (default white), and rotation fill.
    pub background: Option<Rgba>,
    /// `false` keeps EXIF/XMP (Orientation reset to 1).
    pub strip: bool,
    pub svg: SvgMode,
}

impl Default for OutputSettings {
    fn default() -> OutputSettings {
        OutputSettings {
            format: None,
            quality: None,
            lossless: false,
            background: None,
            strip: true,
            svg: SvgMode::Trace,
        }
    }
}

/// A pipeline and its output settings: everything needed to make one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Transform {
    pub pipeline: Pipeline,
    pub output: OutputSettings,
}

/// A parameter that failed validation: `param` names the query parameter (`w`, `ops`)
/// or the JSON path (`operations[1].width`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SpecError {
    pub param: String,
    pub message: String,
}

impl SpecError {
    pub fn new(param: impl Into<String>, message: impl Into<String>) -> SpecError {
        SpecError { param: param.into(), message: message.into() }
    }
}
