//! Single values: the kinds a table row's value may be, each with its range, and the one
//! rule (and message) it is judged by wherever it is written.
//!
//! Every parser takes the `name` to speak of in its message: the query parameter (`w`), the
//! key as written in the pipeline text (`w` or `width`) or the JSON key (`width`).

use serde_json::{Value, json};
use uuid::Uuid;

use super::Rgba;
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

    /// `true`, `false`, `1` or `0` in text; a JSON boolean in JSON.
    fn boolean(self) -> Option<bool> {
        match self {
            Raw::Text("true" | "1") => Some(true),
            Raw::Text("false" | "0") => Some(false),
            Raw::Text(_) => None,
            Raw::Json(value) => value.as_bool(),
        }
    }

    /// A string: the text itself, or a JSON string.
    fn string(self) -> Option<&'a str> {
        match self {
            Raw::Text(text) => Some(text),
            Raw::Json(value) => value.as_str(),
        }
    }

    /// Hex `RRGGBB` or `RRGGBBAA`, either case.
    fn color(self) -> Option<Rgba> {
        self.string()
            .filter(|text| {
                matches!(text.len(), 6 | 8) && text.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .and_then(|text| hex::decode(text).ok())
            .map(|bytes| Rgba([bytes[0], bytes[1], bytes[2], bytes.get(3).copied().unwrap_or(255)]))
    }

    /// A hyphenated UUID (either case; other UUID spellings are refused).
    fn image_id(self) -> Option<Uuid> {
        self.string().filter(|text| text.len() == 36).and_then(|text| Uuid::try_parse(text).ok())
    }
}

/// What a value may be: its type and range. Every form checks a value by its kind, so a
/// range written here is the range the query, the pipeline text, JSON and the
/// documentation all have.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// An integer from `min` to `max`: plain ASCII digits in text, a JSON integer in JSON
    /// (never `300.0` or `"300"`).
    Integer { min: u32, max: u32 },
    /// A number from `min` to `max`, kept as f32.
    Number { min: f32, max: f32 },
    /// Any finite number, kept as f64; `unit` is what it counts, for messages.
    Finite { unit: &'static str },
    /// `true` or `false`; text also takes `1` and `0`.
    Boolean,
    /// One of `words`, matched exactly; each alias is another spelling of a word.
    Keyword { words: &'static [&'static str], aliases: &'static [(&'static str, &'static str)] },
    /// A stored image's id: a hyphenated UUID, either case.
    ImageId,
    /// A colour, hex `RRGGBB` or `RRGGBBAA`, either case.
    Color,
    /// An image format name or alias, either case ([`ImageFormat::from_name`]).
    Format,
}

/// A value that passed its kind's check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parsed {
    Integer(u32),
    Number(f32),
    Finite(f64),
    Boolean(bool),
    /// The canonical spelling of a keyword (an alias is resolved).
    Word(&'static str),
    ImageId(Uuid),
    Color(Rgba),
    Format(ImageFormat),
}

impl Kind {
    /// Checks query or pipeline text.
    pub fn parse_text(self, name: &str, text: &str) -> Result<Parsed, String> {
        self.parse(name, Raw::Text(text))
    }

    /// Checks a JSON value.
    pub fn parse_json(self, name: &str, value: &Value) -> Result<Parsed, String> {
        self.parse(name, Raw::Json(value))
    }

    /// Checks `raw`; the error speaks of it as `name`.
    pub(super) fn parse(self, name: &str, raw: Raw) -> Result<Parsed, String> {
        let parsed = match self {
            Kind::Integer { min, max } => raw.integer_in(min, max).map(Parsed::Integer),
            Kind::Number { min, max } => raw.f32_in(min, max).map(Parsed::Number),
            Kind::Finite { .. } => raw.finite_f64().map(Parsed::Finite),
            Kind::Boolean => raw.boolean().map(Parsed::Boolean),
            Kind::Keyword { words, aliases } => raw.string().and_then(|text| {
                let word = words.iter().find(|word| **word == text).copied();
                word.or_else(|| aliases.iter().find(|(alias, _)| *alias == text).map(|(_, w)| *w))
                    .map(Parsed::Word)
            }),
            Kind::ImageId => raw.image_id().map(Parsed::ImageId),
            Kind::Color => raw.color().map(Parsed::Color),
            Kind::Format => raw.string().and_then(ImageFormat::from_name).map(Parsed::Format),
        };
        parsed.ok_or_else(|| self.message(name, matches!(raw, Raw::Text(_))))
    }

    /// What a value of this kind is, as the end of "must be ...".
    pub(super) fn noun(self, text: bool) -> String {
        match self {
            Kind::Integer { min, max } => format!("an integer from {min} to {max}"),
            Kind::Number { min, max } => format!("a number from {min} to {max}"),
            Kind::Finite { unit } => format!("a finite number of {unit}"),
            Kind::Boolean if text => "true, false, 1 or 0".to_string(),
            Kind::Boolean => "true or false".to_string(),
            Kind::Keyword { words, .. } => or_list(words),
            Kind::ImageId => "an image id".to_string(),
            Kind::Color => "a hex color, RRGGBB or RRGGBBAA".to_string(),
            Kind::Format => {
                let names: Vec<&str> =
                    ImageFormat::ALL.iter().map(|format| format.name()).collect();
                format!("one of {}", names.join(", "))
            }
        }
    }

    /// "width must be an integer from 1 to 16384", for text (`text`) or JSON.
    pub(super) fn message(self, name: &str, text: bool) -> String {
        match self {
            Kind::ImageId => format!("{name} must be an image id (a UUID)"),
            _ => format!("{name} must be {}", self.noun(text)),
        }
    }
}

/// "a", "a or b", "a, b or c".
pub(super) fn or_list<S: AsRef<str>>(items: &[S]) -> String {
    joined(items, "or")
}

/// "a", "a and b", "a, b and c".
pub(super) fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    joined(items, "and")
}

fn joined<S: AsRef<str>>(items: &[S], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} {conjunction} {}", init.join(", "), last.as_ref())
        }
    }
}

/// A float as JSON: an integer when it is one (`90`, not `90.0`).
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

impl Parsed {
    /// The value in the JSON form, canonically spelt.
    pub fn to_json(self) -> Value {
        match self {
            Parsed::Integer(n) => json!(n),
            Parsed::Number(n) => float32(n),
            Parsed::Finite(n) => float(n),
            Parsed::Boolean(on) => json!(on),
            Parsed::Word(word) => json!(word),
            Parsed::ImageId(id) => json!(id.to_string()),
            Parsed::Color(color) => json!(color.to_hex()),
            Parsed::Format(format) => json!(format.name()),
        }
    }

    /// The value in the query and pipeline-text forms, canonically spelt.
    pub fn to_text(self) -> String {
        match self.to_json() {
            Value::String(text) => text,
            value => value.to_string(),
        }
    }

    /// The integer, if this is one.
    pub fn integer(self) -> Option<u32> {
        if let Parsed::Integer(n) = self { Some(n) } else { None }
    }

    /// The bounded number, if this is one.
    pub fn number(self) -> Option<f32> {
        if let Parsed::Number(n) = self { Some(n) } else { None }
    }

    /// The finite number, if this is one.
    pub fn finite(self) -> Option<f64> {
        if let Parsed::Finite(n) = self { Some(n) } else { None }
    }

    /// The boolean, if this is one.
    pub fn boolean(self) -> Option<bool> {
        if let Parsed::Boolean(on) = self { Some(on) } else { None }
    }

    /// The keyword, if this is one.
    pub fn word(self) -> Option<&'static str> {
        if let Parsed::Word(word) = self { Some(word) } else { None }
    }

    /// The image id, if this is one.
    pub fn image_id(self) -> Option<Uuid> {
        if let Parsed::ImageId(id) = self { Some(id) } else { None }
    }

    /// The colour, if this is one.
    pub fn color(self) -> Option<Rgba> {
        if let Parsed::Color(color) = self { Some(color) } else { None }
    }

    /// The format, if this is one.
    pub fn format(self) -> Option<ImageFormat> {
        if let Parsed::Format(format) = self { Some(format) } else { None }
    }
}
