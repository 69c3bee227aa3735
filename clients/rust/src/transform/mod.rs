//! Transformations: a builder for the steps and output settings of API.md "Transformations",
//! printing the server's canonical pipeline text (`ops=`) and its JSON op form.
//!
//! The builder normalises as the server does, so that what it prints is the server's own
//! canonical spelling: steps that change nothing (`rotate(360.0)`, `blur(0.0)`) vanish,
//! angles are reduced modulo 360, and a resize drops the `fit` and `gravity` that cannot
//! change its result. Values are not range-checked here; the server answers 400
//! `invalid_parameter` naming the one at fault.

use std::fmt;

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::format::Format;

mod kinds;
mod parse;
mod step;

pub use kinds::{Axis, Fit, Gravity, Mask, SvgMode};
use step::{Output, Resize, Step};

/// Steps and output settings: one variant of an image, or one stateless transform.
///
/// Steps apply in the order they are added. `fit`, `gravity` and `enlarge` change the most
/// recent resize step and, like the query form's `fit` without `w`/`h`, do nothing when
/// there is none.
///
/// ```
/// use progimage_client::{Fit, Format, Transform};
/// let transform = Transform::new()
///     .resize(300, 300)
///     .fit(Fit::Cover)
///     .rotate(90.0)
///     .grayscale()
///     .format(Format::Webp)
///     .quality(80);
/// assert_eq!(transform.ops_text(), "resize:width=300,height=300,fit=cover|rotate:90|grayscale");
/// assert_eq!(transform.output_format(), Some(Format::Webp));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transform {
    steps: Vec<Step>,
    output: Output,
}

impl Transform {
    /// No steps, default output settings: the original.
    ///
    /// ```
    /// assert!(progimage_client::Transform::new().is_empty());
    /// ```
    pub fn new() -> Transform {
        Transform::default()
    }

    /// Parses pipeline text (`rotate:90|resize:w=300,fit=cover|grayscale`) into steps, as
    /// the server reads `ops=`. Structure and value types are checked here; ranges (a
    /// width of 0, a sigma of 500) are left to the server, which names the value at fault.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let transform = Transform::from_ops_text("rotate:-90 | resize:w=300,h=200,fit=contain")?;
    /// assert_eq!(transform.ops_text(), "rotate:270|resize:width=300,height=200");
    /// assert!(Transform::from_ops_text("zoom:2").is_err());
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn from_ops_text(text: &str) -> Result<Transform, Error> {
        Transform::new().ops(text)
    }

    /// Appends the steps of pipeline text (see [`Transform::from_ops_text`]).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let transform = Transform::new().resize(64, 64).ops("blur:2|flip:h")?;
    /// assert_eq!(transform.ops_text(), "resize:width=64,height=64|blur:2|flip:h");
    /// # Ok::<(), progimage_client::Error>(())
    /// ```
    pub fn ops(mut self, text: &str) -> Result<Transform, Error> {
        if text.trim().is_empty() {
            return Ok(self);
        }
        for (index, step_text) in text.split('|').enumerate() {
            let step = parse::step(step_text.trim()).map_err(|message| {
                Error::InvalidInput(format!("ops step {}: {message}", index + 1))
            })?;
            self.steps.push(step);
        }
        Ok(self)
    }

    /// Resizes into a `width` × `height` box (aspect kept unless [`Fit::Fill`]).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().resize(300, 200).ops_text(), "resize:width=300,height=200");
    /// ```
    pub fn resize(self, width: u32, height: u32) -> Transform {
        self.push_resize(Some(width), Some(height))
    }

    /// Resizes to this width, the height following the aspect ratio.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().width(300).ops_text(), "resize:width=300");
    /// ```
    pub fn width(self, width: u32) -> Transform {
        self.push_resize(Some(width), None)
    }

    /// Resizes to this height, the width following the aspect ratio.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().height(200).ops_text(), "resize:height=200");
    /// ```
    pub fn height(self, height: u32) -> Transform {
        self.push_resize(None, Some(height))
    }

    fn push_resize(mut self, width: Option<u32>, height: Option<u32>) -> Transform {
        self.steps.push(Step::Resize(Resize {
            width,
            height,
            fit: Fit::Contain,
            gravity: Gravity::Center,
            enlarge: None,
        }));
        self
    }

    /// Changes the most recent resize step.
    fn with_last_resize(mut self, change: impl FnOnce(&mut Resize)) -> Transform {
        if let Some(Step::Resize(resize)) =
            self.steps.iter_mut().rev().find(|step| matches!(step, Step::Resize(_)))
        {
            change(resize);
        }
        self
    }

    /// Sets how the most recent resize meets its box.
    ///
    /// ```
    /// use progimage_client::{Fit, Transform};
    /// let transform = Transform::new().resize(10, 20).fit(Fit::Fill);
    /// assert_eq!(transform.ops_text(), "resize:width=10,height=20,fit=fill");
    /// ```
    pub fn fit(self, fit: Fit) -> Transform {
        self.with_last_resize(|resize| resize.fit = fit)
    }

    /// Sets which part the most recent (`cover`) resize keeps.
    ///
    /// ```
    /// use progimage_client::{Fit, Gravity, Transform};
    /// let transform = Transform::new().resize(10, 10).fit(Fit::Cover).gravity(Gravity::Smart);
    /// assert_eq!(transform.ops_text(), "resize:width=10,height=10,fit=cover,gravity=smart");
    /// ```
    pub fn gravity(self, gravity: Gravity) -> Transform {
        self.with_last_resize(|resize| resize.gravity = gravity)
    }

    /// Lets the most recent resize scale up (`true`) or caps it at the source's size.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let transform = Transform::new().width(4000).enlarge(true);
    /// assert_eq!(transform.ops_text(), "resize:width=4000,enlarge=true");
    /// ```
    pub fn enlarge(self, enlarge: bool) -> Transform {
        self.with_last_resize(|resize| resize.enlarge = Some(enlarge))
    }

    /// Cuts a rectangle out (px, after auto-orient; the server clamps it to the image).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().crop(0, 10, 100, 50).ops_text(), "crop:0,10,100,50");
    /// ```
    pub fn crop(mut self, x: u32, y: u32, width: u32, height: u32) -> Transform {
        self.steps.push(Step::Crop { x, y, width, height });
        self
    }

    /// Rotates clockwise by any number of degrees (negative: counter-clockwise).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().rotate(-90.0).ops_text(), "rotate:270");
    /// assert_eq!(Transform::new().rotate(720.0).ops_text(), "");
    /// ```
    pub fn rotate(mut self, degrees: f64) -> Transform {
        self.steps.push(Step::Rotate(degrees));
        self
    }

    /// Mirrors along an axis.
    ///
    /// ```
    /// use progimage_client::{Axis, Transform};
    /// assert_eq!(Transform::new().flip(Axis::Horizontal).ops_text(), "flip:h");
    /// ```
    pub fn flip(mut self, axis: Axis) -> Transform {
        self.steps.push(Step::Flip(axis));
        self
    }

    /// Drops the colour, keeping the luminance.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().grayscale().ops_text(), "grayscale");
    /// ```
    pub fn grayscale(mut self) -> Transform {
        self.steps.push(Step::Grayscale);
        self
    }

    /// Gaussian blur, sigma 0..100 (0 is no step).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().blur(1.5).ops_text(), "blur:1.5");
    /// ```
    pub fn blur(mut self, sigma: f32) -> Transform {
        self.steps.push(Step::Blur(sigma));
        self
    }

    /// Unsharp mask, sigma 0..100 (0 is no step).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().sharpen(2.0).ops_text(), "sharpen:2");
    /// ```
    pub fn sharpen(mut self, sigma: f32) -> Transform {
        self.steps.push(Step::Sharpen(sigma));
        self
    }

    /// Brightness, amount -100..100 (factor 1 + amount/100; 0 is no step).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().brightness(-20.0).ops_text(), "brightness:-20");
    /// ```
    pub fn brightness(mut self, amount: f32) -> Transform {
        self.steps.push(Step::Brightness(amount));
        self
    }

    /// Contrast, amount -100..100 (factor 1 + amount/100; 0 is no step).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert_eq!(Transform::new().contrast(25.0).ops_text(), "contrast:25");
    /// ```
    pub fn contrast(mut self, amount: f32) -> Transform {
        self.steps.push(Step::Contrast(amount));
        self
    }

    /// Applies an alpha mask.
    ///
    /// ```
    /// use progimage_client::{Mask, Transform};
    /// assert_eq!(Transform::new().mask(Mask::Circle).ops_text(), "mask:circle");
    /// ```
    pub fn mask(mut self, mask: Mask) -> Transform {
        self.steps.push(Step::Mask(mask));
        self
    }

    /// The output format (`None` keeps the source's).
    ///
    /// ```
    /// use progimage_client::{Format, Transform};
    /// assert_eq!(Transform::new().format(Format::Png).output_format(), Some(Format::Png));
    /// ```
    pub fn format(mut self, format: Format) -> Transform {
        self.output.format = Some(format);
        self
    }

    /// Quality 1..100 for lossy encoders.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let query = Transform::new().quality(80).output_query();
    /// assert_eq!(query, vec![("q".to_string(), "80".to_string())]);
    /// ```
    pub fn quality(mut self, quality: u8) -> Transform {
        self.output.quality = Some(quality);
        self
    }

    /// Lossless encoding where the format has it (WebP, AVIF).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let query = Transform::new().lossless(true).output_query();
    /// assert_eq!(query, vec![("lossless".to_string(), "true".to_string())]);
    /// ```
    pub fn lossless(mut self, lossless: bool) -> Transform {
        self.output.lossless = Some(lossless);
        self
    }

    /// The colour behind transparency and in rotation corners: hex `RRGGBB` or `RRGGBBAA`.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let query = Transform::new().background("ff000080").output_query();
    /// assert_eq!(query, vec![("bg".to_string(), "ff000080".to_string())]);
    /// ```
    pub fn background(mut self, hex: impl Into<String>) -> Transform {
        self.output.background = Some(hex.into());
        self
    }

    /// `false` keeps EXIF/XMP (with Orientation set to 1); the server strips by default.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let query = Transform::new().strip(false).output_query();
    /// assert_eq!(query, vec![("strip".to_string(), "false".to_string())]);
    /// ```
    pub fn strip(mut self, strip: bool) -> Transform {
        self.output.strip = Some(strip);
        self
    }

    /// How a raster becomes SVG.
    ///
    /// ```
    /// use progimage_client::{SvgMode, Transform};
    /// let query = Transform::new().svg(SvgMode::Embed).output_query();
    /// assert_eq!(query, vec![("svg".to_string(), "embed".to_string())]);
    /// ```
    pub fn svg(mut self, mode: SvgMode) -> Transform {
        self.output.svg = Some(mode);
        self
    }

    /// The output format, if one was set.
    ///
    /// ```
    /// assert_eq!(progimage_client::Transform::new().output_format(), None);
    /// ```
    pub fn output_format(&self) -> Option<Format> {
        self.output.format
    }

    /// Whether there is nothing to do: no step that changes the image and no output setting.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert!(Transform::new().rotate(360.0).is_empty());
    /// assert!(!Transform::new().quality(50).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.normalized_steps().is_empty() && self.output == Output::default()
    }

    /// Whether there is any step that changes the image.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// assert!(Transform::new().width(10).has_steps());
    /// assert!(!Transform::new().blur(0.0).has_steps());
    /// ```
    pub fn has_steps(&self) -> bool {
        !self.normalized_steps().is_empty()
    }

    fn normalized_steps(&self) -> Vec<Step> {
        self.steps.iter().filter_map(Step::normalized).collect()
    }

    /// The server's canonical pipeline text, the value of `ops=`; empty without steps.
    ///
    /// ```
    /// use progimage_client::{Fit, Transform};
    /// // A fit that cannot matter (one side given) is dropped, as the server drops it.
    /// let transform = Transform::new().rotate(450.0).width(300).fit(Fit::Cover);
    /// assert_eq!(transform.ops_text(), "rotate:90|resize:width=300");
    /// ```
    pub fn ops_text(&self) -> String {
        let steps: Vec<String> = self.normalized_steps().iter().map(Step::to_string).collect();
        steps.join("|")
    }

    /// The JSON op form: a list of `{"op": name, ...keys}` steps.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let operations = Transform::new().width(300).rotate(90.0).operations_json();
    /// assert_eq!(
    ///     operations,
    ///     serde_json::json!([{"op": "resize", "width": 300}, {"op": "rotate", "degrees": 90}])
    /// );
    /// ```
    pub fn operations_json(&self) -> Value {
        Value::Array(self.normalized_steps().iter().map(Step::to_json).collect())
    }

    /// The output settings as query parameters (`q`, `lossless`, `bg`, `strip`, `svg`);
    /// the format is not among them (it is a path extension or a `format=` parameter).
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let query = Transform::new().quality(70).strip(false).output_query();
    /// assert_eq!(query.len(), 2);
    /// ```
    pub fn output_query(&self) -> Vec<(String, String)> {
        let output = &self.output;
        let mut pairs = Vec::new();
        if let Some(quality) = output.quality {
            pairs.push(("q".to_string(), quality.to_string()));
        }
        if let Some(lossless) = output.lossless {
            pairs.push(("lossless".to_string(), lossless.to_string()));
        }
        if let Some(background) = &output.background {
            pairs.push(("bg".to_string(), background.clone()));
        }
        if let Some(strip) = output.strip {
            pairs.push(("strip".to_string(), strip.to_string()));
        }
        if let Some(svg) = output.svg {
            pairs.push(("svg".to_string(), svg.name().to_string()));
        }
        pairs
    }

    /// The query a variant URL carries: `ops=<canonical text>` (when there are steps) and
    /// the output settings.
    ///
    /// ```
    /// use progimage_client::Transform;
    /// let query = Transform::new().width(300).quality(80).query();
    /// assert_eq!(query[0], ("ops".to_string(), "resize:width=300".to_string()));
    /// assert_eq!(query[1], ("q".to_string(), "80".to_string()));
    /// ```
    pub fn query(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let ops = self.ops_text();
        if !ops.is_empty() {
            pairs.push(("ops".to_string(), ops));
        }
        pairs.extend(self.output_query());
        pairs
    }

    /// The same steps as single query parameters (`w=300&h=300&fit=cover&rotate=90`), or
    /// `None` when they cannot be written so: the query form applies its steps in one fixed
    /// order (crop, resize, rotate, flip, grayscale, blur, sharpen, brightness, contrast,
    /// mask) and each at most once. Output settings follow, as in [`Transform::query`].
    ///
    /// ```
    /// use progimage_client::{Fit, Transform};
    /// let params = Transform::new().resize(300, 300).fit(Fit::Cover).rotate(90.0).step_query();
    /// let text: Vec<String> = params.unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect();
    /// assert_eq!(text.join("&"), "w=300&h=300&fit=cover&rotate=90");
    /// // Rotating before resizing is not the query form's order.
    /// assert!(Transform::new().rotate(90.0).width(300).step_query().is_none());
    /// ```
    pub fn step_query(&self) -> Option<Vec<(String, String)>> {
        let steps = self.normalized_steps();
        let in_order = steps.windows(2).all(|pair| pair[0].query_rank() < pair[1].query_rank());
        if !in_order {
            return None;
        }
        let mut pairs = Vec::new();
        for step in &steps {
            match step {
                Step::Resize(resize) => {
                    if let Some(width) = resize.width {
                        pairs.push(("w".to_string(), width.to_string()));
                    }
                    if let Some(height) = resize.height {
                        pairs.push(("h".to_string(), height.to_string()));
                    }
                    if resize.fit != Fit::Contain {
                        pairs.push(("fit".to_string(), resize.fit.name().to_string()));
                    }
                    if resize.gravity != Gravity::Center {
                        pairs.push(("gravity".to_string(), resize.gravity.name().to_string()));
                    }
                    if let Some(enlarge) = resize.enlarge {
                        pairs.push(("enlarge".to_string(), enlarge.to_string()));
                    }
                }
                Step::Grayscale => pairs.push(("grayscale".to_string(), "true".to_string())),
                step => pairs.push((step.op().to_string(), step.main_value().unwrap_or_default())),
            }
        }
        pairs.extend(self.output_query());
        Some(pairs)
    }

    /// The JSON fields of a `/v1/transform` body or a job (or job item): `operations` and
    /// the output settings under their JSON names (`format`, `quality`, `lossless`,
    /// `background`, `strip`, `svg`). `operations` is left out when there are no steps.
    ///
    /// ```
    /// use progimage_client::{Format, Transform};
    /// let fields = Transform::new().grayscale().format(Format::Png).json_fields();
    /// assert_eq!(fields["format"], "png");
    /// assert_eq!(fields["operations"], serde_json::json!([{"op": "grayscale"}]));
    /// ```
    pub fn json_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        if self.has_steps() {
            fields.insert("operations".to_string(), self.operations_json());
        }
        let output = &self.output;
        if let Some(format) = output.format {
            fields.insert("format".to_string(), json!(format.name()));
        }
        if let Some(quality) = output.quality {
            fields.insert("quality".to_string(), json!(quality));
        }
        if let Some(lossless) = output.lossless {
            fields.insert("lossless".to_string(), json!(lossless));
        }
        if let Some(background) = &output.background {
            fields.insert("background".to_string(), json!(background));
        }
        if let Some(strip) = output.strip {
            fields.insert("strip".to_string(), json!(strip));
        }
        if let Some(svg) = output.svg {
            fields.insert("svg".to_string(), json!(svg.name()));
        }
        fields
    }
}

/// The canonical pipeline text ([`Transform::ops_text`]).
///
/// ```
/// use progimage_client::Transform;
/// assert_eq!(Transform::new().grayscale().to_string(), "grayscale");
/// ```
impl fmt::Display for Transform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ops_text())
    }
}
