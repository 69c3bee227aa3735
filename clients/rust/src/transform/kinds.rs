//! The named values of steps: fits, gravities, axes, masks and SVG modes.

use uuid::Uuid;

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
