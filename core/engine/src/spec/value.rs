//! Single values, shared by the query, pipeline-text and JSON forms so that each is judged
//! by one rule with one message wherever it is written.
//!
//! Every parser takes the `name` to speak of in its message: the query parameter (`w`), the
//! key as written in the pipeline text (`w` or `width`) or the JSON key (`width`).

use serde_json::Value;
use uuid::Uuid;

use super::{Axis, Fit, Gravity, MAX_SIDE, Rgba, SvgMode};
use crate::format::ImageFormat;

/// A value as it arrived: text (a query value or pipeline text) or a JSON value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Raw<'a> {
    Text(&'a str),
    Json(&'a Value),
}

impl<'a> Raw<'a> {
    /// A non-negative integer: plain ASCII digits in text (no sign, no point), a JSON
    /// integer in JSON (never `300.0` or `"300"`).
    fn unsigned(self) -> Option<u64> {
        match self {
            Raw::Text(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
                // Too many digits for u64 is simply out of any range we take.
                Some(text.parse().unwrap_or(u64::MAX))
            }
            Raw::Text(_) => None,
            Raw::Json(value) => value.as_u64(),
        }
    }

    /// An integer within `min..=max`.
    fn integer_in(self, min: u32, max: u32) -> Option<u32> {
        self.unsigned()
            .filter(|n| (u64::from(min)..=u64::from(max)).contains(n))
            .and_then(|n| u32::try_from(n).ok())
    }

    /// A finite number, as f64 (angles keep double precision).
    fn finite_f64(self) -> Option<f64> {
        match self {
            Raw::Text(text) => text.parse::<f64>().ok(),
            Raw::Json(value) => value.as_f64(),
        }
        .filter(|n| n.is_finite())
    }

    /// A number within `min..=max`, as f32. Text is parsed straight to f32 so that the
    /// shortest printing of a value parses back to exactly that value.
    fn f32_in(self, min: f32, max: f32) -> Option<f32> {
        match self {
            Raw::Text(text) => text.parse::<f32>().ok(),
            Raw::Json(value) => value.as_f64().map(|n| n as f32),
        }
        .filter(|n| (min..=max).contains(n))
    }

    /// A string: the text itself, or a JSON string.
    fn string(self) -> Option<&'a str> {
        match self {
            Raw::Text(text) => Some(text),
            Raw::Json(value) => value.as_str(),
        }
    }

    /// One of the listed words, matched exactly.
    fn keyword<T: Copy>(self, words: &[(&str, T)]) -> Option<T> {
        let text = self.string()?;
        words.iter().find(|(word, _)| *word == text).map(|(_, value)| *value)
    }
}

/// A box or crop side: an integer from 1 to [`MAX_SIDE`].
pub(super) fn side(name: &str, raw: Raw) -> Result<u32, String> {
    raw.integer_in(1, MAX_SIDE)
        .ok_or_else(|| format!("{name} must be an integer from 1 to {MAX_SIDE}"))
}

/// A crop offset: any integer a u32 holds (the engine clamps the rectangle to the image).
pub(super) fn offset(name: &str, raw: Raw) -> Result<u32, String> {
    raw.integer_in(0, u32::MAX)
        .ok_or_else(|| format!("{name} must be an integer from 0 to {}", u32::MAX))
}

/// A corner radius: an integer from 0 to [`MAX_SIDE`].
pub(super) fn radius(name: &str, raw: Raw) -> Result<u32, String> {
    raw.integer_in(0, MAX_SIDE)
        .ok_or_else(|| format!("{name} must be an integer from 0 to {MAX_SIDE}"))
}

/// An angle: any finite number of degrees (normalised by the step, not here).
pub(super) fn degrees(name: &str, raw: Raw) -> Result<f64, String> {
    raw.finite_f64().ok_or_else(|| format!("{name} must be a finite number of degrees"))
}

/// A blur or sharpen sigma: a number from 0 to 100.
pub(super) fn sigma(name: &str, raw: Raw) -> Result<f32, String> {
    raw.f32_in(0.0, 100.0).ok_or_else(|| format!("{name} must be a number from 0 to 100"))
}

/// A brightness or contrast amount: a number from -100 to 100.
pub(super) fn amount(name: &str, raw: Raw) -> Result<f32, String> {
    raw.f32_in(-100.0, 100.0).ok_or_else(|| format!("{name} must be a number from -100 to 100"))
}

/// `true`, `false`, `1` or `0` in text; a JSON boolean in JSON.
pub(super) fn boolean(name: &str, raw: Raw) -> Result<bool, String> {
    match raw {
        Raw::Text(_) => raw
            .keyword(&[("true", true), ("false", false), ("1", true), ("0", false)])
            .ok_or_else(|| format!("{name} must be true, false, 1 or 0")),
        Raw::Json(value) => value.as_bool().ok_or_else(|| format!("{name} must be true or false")),
    }
}

/// `contain`, `cover` or `fill`.
pub(super) fn fit(name: &str, raw: Raw) -> Result<Fit, String> {
    raw.keyword(&[("contain", Fit::Contain), ("cover", Fit::Cover), ("fill", Fit::Fill)])
        .ok_or_else(|| format!("{name} must be contain, cover or fill"))
}

/// A gravity; `centre` is accepted for `center`.
pub(super) fn gravity(name: &str, raw: Raw) -> Result<Gravity, String> {
    raw.keyword(&[
        ("center", Gravity::Center),
        ("centre", Gravity::Center),
        ("north", Gravity::North),
        ("south", Gravity::South),
        ("east", Gravity::East),
        ("west", Gravity::West),
        ("smart", Gravity::Smart),
    ])
    .ok_or_else(|| format!("{name} must be center, north, south, east, west or smart"))
}

/// `h` or `v`.
pub(super) fn axis(name: &str, raw: Raw) -> Result<Axis, String> {
    raw.keyword(&[("h", Axis::Horizontal), ("v", Axis::Vertical)])
        .ok_or_else(|| format!("{name} must be h or v"))
}

/// A mask shape without its radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Circle,
    Ellipse,
    Rounded,
}

/// `circle`, `ellipse` or `rounded`.
pub(super) fn shape(name: &str, raw: Raw) -> Result<Shape, String> {
    raw.keyword(&[
        ("circle", Shape::Circle),
        ("ellipse", Shape::Ellipse),
        ("rounded", Shape::Rounded),
    ])
    .ok_or_else(|| format!("{name} must be circle, ellipse or rounded"))
}

/// An image id: a hyphenated UUID (either case; other UUID spellings are refused).
pub(super) fn image_id(name: &str, raw: Raw) -> Result<Uuid, String> {
    parse_image_id(raw).ok_or_else(|| format!("{name} must be an image id (a UUID)"))
}

/// The id in `raw`, if it is one.
pub(super) fn parse_image_id(raw: Raw) -> Option<Uuid> {
    raw.string().filter(|text| text.len() == 36).and_then(|text| Uuid::try_parse(text).ok())
}

/// An encoder quality: an integer from 1 to 100.
pub(super) fn quality(name: &str, raw: Raw) -> Result<u8, String> {
    raw.integer_in(1, 100)
        .and_then(|n| u8::try_from(n).ok())
        .ok_or_else(|| format!("{name} must be an integer from 1 to 100"))
}

/// A colour, hex `RRGGBB` or `RRGGBBAA`, either case.
pub(super) fn color(name: &str, raw: Raw) -> Result<Rgba, String> {
    raw.string()
        .filter(|text| matches!(text.len(), 6 | 8) && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|text| hex::decode(text).ok())
        .map(|bytes| Rgba([bytes[0], bytes[1], bytes[2], bytes.get(3).copied().unwrap_or(255)]))
        .ok_or_else(|| format!("{name} must be a hex color, RRGGBB or RRGGBBAA"))
}

/// `trace` or `embed`.
pub(super) fn svg_mode(name: &str, raw: Raw) -> Result<SvgMode, String> {
    raw.keyword(&[("trace", SvgMode::Trace), ("embed", SvgMode::Embed)])
        .ok_or_else(|| format!("{name} must be trace or embed"))
}

/// An output format name or alias.
pub(super) fn format(name: &str, raw: Raw) -> Result<ImageFormat, String> {
    raw.string().and_then(ImageFormat::from_name).ok_or_else(|| {
        let names: Vec<&str> = ImageFormat::ALL.iter().map(|format| format.name()).collect();
        format!("{name} must be one of {}", names.join(", "))
    })
}
