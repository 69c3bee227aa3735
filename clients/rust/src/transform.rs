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
use uuid::Uuid;

use crate::error::Error;
use crate::format::Format;

/// How an image meets a box of two given sides.
///
/// ```
/// use progimage_client::{Fit, Transform};
/// let transform = Transform::new().resize(300, 200).fit(Fit::Cover);
/// assert_eq!(transform.ops_text(), "resize:width=300,height=200,fit=cover");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// Inside the box, aspect kept (the default).
    #[default]
    Contain,
    /// Fills the box, aspect kept, the overflow cropped.
    Cover,
    /// Stretched to the box.
    Fill,
}

impl Fit {
    /// The name in every form: `contain`, `cover` or `fill`.
    ///
    /// ```
    /// assert_eq!(progimage_client::Fit::Fill.name(), "fill");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Fit::Contain => "contain",
            Fit::Cover => "cover",
            Fit::Fill => "fill",
        }
    }

    /// The fit called `name`.
    ///
    /// ```
    /// use progimage_client::Fit;
    /// assert_eq!(Fit::from_name("cover"), Some(Fit::Cover));
    /// ```
    pub fn from_name(name: &str) -> Option<Fit> {
        [Fit::Contain, Fit::Cover, Fit::Fill].into_iter().find(|fit| fit.name() == name)
    }
}

/// Which part of the image a `cover` resize keeps.
///
/// ```
/// use progimage_client::{Fit, Gravity, Transform};
/// let transform = Transform::new().resize(100, 100).fit(Fit::Cover).gravity(Gravity::North);
/// assert_eq!(transform.ops_text(), "resize:width=100,height=100,fit=cover,gravity=north");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gravity {
    /// The middle (the default).
    #[default]
    Center,
    /// The top edge.
    North,
    /// The bottom edge.
    South,
    /// The right edge.
    East,
    /// The left edge.
    West,
    /// The most detailed region.
    Smart,
}

impl Gravity {
    const ALL: [Gravity; 6] = [
        Gravity::Center,
        Gravity::North,
        Gravity::South,
        Gravity::East,
        Gravity::West,
        Gravity::Smart,
    ];

    /// The canonical name (`center`, never `centre`).
    ///
    /// ```
    /// assert_eq!(progimage_client::Gravity::Smart.name(), "smart");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Gravity::Center => "center",
            Gravity::North => "north",
            Gravity::South => "south",
            Gravity::East => "east",
            Gravity::West => "west",
            Gravity::Smart => "smart",
        }
    }

    /// The gravity called `name`; `centre` is taken for `center`, as the server does.
    ///
    /// ```
    /// use progimage_client::Gravity;
    /// assert_eq!(Gravity::from_name("centre"), Some(Gravity::Center));
    /// ```
    pub fn from_name(name: &str) -> Option<Gravity> {
        if name == "centre" {
            return Some(Gravity::Center);
        }
        Gravity::ALL.into_iter().find(|gravity| gravity.name() == name)
    }
}

/// The axis a flip mirrors along.
///
/// ```
/// use progimage_client::{Axis, Transform};
/// assert_eq!(Transform::new().flip(Axis::Vertical).ops_text(), "flip:v");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Mirror left-right (`h`).
    Horizontal,
    /// Mirror top-bottom (`v`).
    Vertical,
}

impl Axis {
    /// The name in every form: `h` or `v`.
    ///
    /// ```
    /// assert_eq!(progimage_client::Axis::Horizontal.name(), "h");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Axis::Horizontal => "h",
            Axis::Vertical => "v",
        }
    }
}

/// The alpha mask a mask step applies.
///
/// ```
/// use progimage_client::{Mask, Transform};
/// assert_eq!(Transform::new().mask(Mask::Rounded(12)).ops_text(), "mask:rounded:12");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mask {
    /// A circle of diameter = the shorter side, centred.
    Circle,
    /// The ellipse inscribed in the image.
    Ellipse,
    /// Rounded corners of this radius in output px (0 rounds nothing: no step).
    Rounded(u32),
    /// Another stored image of the caller's tenant; its luminance multiplies alpha.
    Image(Uuid),
}

/// How a raster becomes SVG.
///
/// ```
/// use progimage_client::{Format, SvgMode, Transform};
/// let transform = Transform::new().format(Format::Svg).svg(SvgMode::Embed);
/// assert_eq!(transform.output_query(), vec![("svg".to_string(), "embed".to_string())]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SvgMode {
    /// Traced colour paths (the default).
    #[default]
    Trace,
    /// The raster wrapped losslessly in an `<image>` element.
    Embed,
}

impl SvgMode {
    /// The name in every form: `trace` or `embed`.
    ///
    /// ```
    /// assert_eq!(progimage_client::SvgMode::Trace.name(), "trace");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SvgMode::Trace => "trace",
            SvgMode::Embed => "embed",
        }
    }
}

/// A resize to a box of which at least one side is given.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Resize {
    width: Option<u32>,
    height: Option<u32>,
    fit: Fit,
    gravity: Gravity,
    enlarge: Option<bool>,
}

impl Resize {
    /// The resize without the settings that cannot change its result, as the server
    /// normalises it: with one side given every fit keeps the aspect, and only `cover`
    /// crops.
    fn normalized(self) -> Resize {
        let fit =
            if self.width.is_some() && self.height.is_some() { self.fit } else { Fit::Contain };
        let gravity = if fit == Fit::Cover { self.gravity } else { Gravity::Center };
        Resize { fit, gravity, ..self }
    }
}

/// One step, as given to the builder.
#[derive(Debug, Clone, PartialEq)]
enum Step {
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
    fn op(&self) -> &'static str {
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
    fn normalized(&self) -> Option<Step> {
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
    fn query_rank(&self) -> usize {
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
    fn main_value(&self) -> Option<String> {
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
    fn to_json(&self) -> Value {
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

/// Output settings: not steps, they apply to the encode.
#[derive(Debug, Clone, PartialEq, Default)]
struct Output {
    format: Option<Format>,
    quality: Option<u8>,
    lossless: Option<bool>,
    background: Option<String>,
    strip: Option<bool>,
    svg: Option<SvgMode>,
}

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

/// Pipeline-text parsing, kept beside the printing so that the two stay one grammar.
mod parse {
    use super::{Axis, Fit, Gravity, Mask, Resize, Step};
    use uuid::Uuid;

    fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
        text.trim().parse().map_err(|_| format!("{name} must be a number, not {text:?}"))
    }

    fn boolean(name: &str, text: &str) -> Result<bool, String> {
        match text {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(format!("{name} must be true, false, 1 or 0")),
        }
    }

    fn axis(text: &str) -> Result<Axis, String> {
        match text {
            "h" => Ok(Axis::Horizontal),
            "v" => Ok(Axis::Vertical),
            _ => Err("axis must be h or v".to_string()),
        }
    }

    fn mask(text: &str) -> Result<Mask, String> {
        match text.split_once(':') {
            Some(("rounded", radius)) => Ok(Mask::Rounded(number("mask radius", radius)?)),
            _ => match text {
                "circle" => Ok(Mask::Circle),
                "ellipse" => Ok(Mask::Ellipse),
                _ => Uuid::try_parse(text).map(Mask::Image).map_err(|_| {
                    "mask must be circle, ellipse, rounded:<radius> or an image id".to_string()
                }),
            },
        }
    }

    /// One step of pipeline text: `name`, `name:value` or `name:key=value,...`.
    pub(super) fn step(text: &str) -> Result<Step, String> {
        if text.is_empty() {
            return Err("empty step".to_string());
        }
        let (name, argument) = match text.split_once(':') {
            Some((name, argument)) => (name.trim(), Some(argument.trim())),
            None => (text, None),
        };
        match argument {
            None if name == "grayscale" => Ok(Step::Grayscale),
            None => Err(format!("{name} needs a value")),
            Some(argument) if argument.contains('=') => keyed(name, argument),
            Some(argument) => main_value(name, argument),
        }
    }

    fn main_value(name: &str, text: &str) -> Result<Step, String> {
        Ok(match name {
            "crop" => {
                let parts: Vec<&str> = text.split(',').map(str::trim).collect();
                let [x, y, width, height] = parts[..] else {
                    return Err("crop must be x,y,w,h".to_string());
                };
                Step::Crop {
                    x: number("crop x", x)?,
                    y: number("crop y", y)?,
                    width: number("crop w", width)?,
                    height: number("crop h", height)?,
                }
            }
            "rotate" => Step::Rotate(number(name, text)?),
            "flip" => Step::Flip(axis(text)?),
            "blur" => Step::Blur(number(name, text)?),
            "sharpen" => Step::Sharpen(number(name, text)?),
            "brightness" => Step::Brightness(number(name, text)?),
            "contrast" => Step::Contrast(number(name, text)?),
            "mask" => Step::Mask(mask(text)?),
            "resize" => return Err("resize takes key=value pairs, e.g. resize:width=300".into()),
            "grayscale" => return Err("grayscale takes no value".to_string()),
            _ => return Err(unknown_op(name)),
        })
    }

    fn unknown_op(name: &str) -> String {
        format!(
            "unknown op {name} (ops: resize, crop, rotate, flip, grayscale, blur, sharpen, \
             brightness, contrast, mask)"
        )
    }

    fn keyed(name: &str, text: &str) -> Result<Step, String> {
        let mut pairs = Vec::new();
        for pair in text.split(',') {
            let (key, value) =
                pair.trim().split_once('=').ok_or_else(|| format!("{pair:?} is not key=value"))?;
            let key = match key.trim() {
                "w" => "width",
                "h" => "height",
                key => key,
            };
            pairs.push((key, value.trim()));
        }
        let allowed: &[&str] = match name {
            "resize" => &["width", "height", "fit", "gravity", "enlarge"],
            "crop" => &["x", "y", "width", "height"],
            "rotate" => &["degrees"],
            "flip" => &["axis"],
            "grayscale" => &[],
            "blur" | "sharpen" => &["sigma"],
            "brightness" | "contrast" => &["amount"],
            "mask" => &["shape", "radius", "image_id"],
            _ => return Err(unknown_op(name)),
        };
        for (index, (key, _)) in pairs.iter().enumerate() {
            if !allowed.contains(key) {
                return Err(format!("{name} has no key {key}"));
            }
            if pairs[..index].iter().any(|(seen, _)| seen == key) {
                return Err(format!("{key} is given twice"));
            }
        }
        let get = |key: &str| pairs.iter().find(|(seen, _)| *seen == key).map(|(_, v)| *v);
        let need = |key: &str| get(key).ok_or_else(|| format!("{name} needs {key}"));
        let optional_number = |key: &str| get(key).map(|text| number::<u32>(key, text)).transpose();
        Ok(match name {
            "resize" => {
                let resize = Resize {
                    width: optional_number("width")?,
                    height: optional_number("height")?,
                    fit: match get("fit") {
                        None => Fit::Contain,
                        Some(text) => {
                            Fit::from_name(text).ok_or("fit must be contain, cover or fill")?
                        }
                    },
                    gravity: match get("gravity") {
                        None => Gravity::Center,
                        Some(text) => Gravity::from_name(text)
                            .ok_or("gravity must be center, north, south, east, west or smart")?,
                    },
                    enlarge: get("enlarge").map(|text| boolean("enlarge", text)).transpose()?,
                };
                if resize.width.is_none() && resize.height.is_none() {
                    return Err("resize needs width or height".to_string());
                }
                Step::Resize(resize)
            }
            "crop" => Step::Crop {
                x: number("x", need("x")?)?,
                y: number("y", need("y")?)?,
                width: number("width", need("width")?)?,
                height: number("height", need("height")?)?,
            },
            "rotate" => Step::Rotate(number("degrees", need("degrees")?)?),
            "flip" => Step::Flip(axis(need("axis")?)?),
            "blur" => Step::Blur(number("sigma", need("sigma")?)?),
            "sharpen" => Step::Sharpen(number("sigma", need("sigma")?)?),
            "brightness" => Step::Brightness(number("amount", need("amount")?)?),
            "contrast" => Step::Contrast(number("amount", need("amount")?)?),
            "mask" => match (get("shape"), get("radius"), get("image_id")) {
                (Some("rounded"), Some(radius), None) => {
                    Step::Mask(Mask::Rounded(number("radius", radius)?))
                }
                (Some(shape @ ("circle" | "ellipse")), None, None) => Step::Mask(mask(shape)?),
                (None, None, Some(id)) => Step::Mask(
                    Uuid::try_parse(id).map(Mask::Image).map_err(|_| "image_id must be a UUID")?,
                ),
                _ => {
                    return Err(
                        "mask takes shape=circle|ellipse, shape=rounded,radius=N or image_id"
                            .to_string(),
                    );
                }
            },
            // Grayscale has no keys, so any pair was refused above.
            _ => Step::Grayscale,
        })
    }
}
