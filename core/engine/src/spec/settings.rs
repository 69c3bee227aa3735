//! The output settings table, and the settings the encoder reads.
//!
//! A row names a setting in JSON and in the query, gives its kind (type and range), its
//! default and its description, and stores a checked value in [`OutputSettings`]. The
//! query parser, the JSON bodies (transforms, jobs and job items), the job-to-item
//! defaulting and the OpenAPI document all read the rows; adding a setting is a row here,
//! its field in [`OutputSettings`], and what the encoder and the variant key make of it.

use serde_json::{Map, Value};

use super::kind::{Kind, Parsed};
use super::{Rgba, SpecError, SvgMode};
use crate::format::ImageFormat;

/// One output setting.
#[derive(Debug)]
pub struct SettingDef {
    /// Its JSON name, beside `operations`.
    pub name: &'static str,
    /// Its query parameter; `None` when the caller takes it from elsewhere (`format` is the
    /// path's extension, or the transform endpoint's own parameter).
    pub query: Option<&'static str>,
    /// Its type and range.
    pub kind: Kind,
    /// What an absent setting means, when it always means one value.
    pub default: Option<Parsed>,
    /// What it does, for the documentation.
    pub description: &'static str,
    /// Stores a checked value.
    apply: fn(&mut OutputSettings, Parsed),
}

/// Every output setting, in the documentation's order.
pub static SETTINGS: &[SettingDef] = &[
    SettingDef {
        name: "format",
        query: None,
        kind: Kind::Format,
        default: None,
        description: "The output format; default the source's. `jpg` and `tif` are aliases.",
        apply: |output, value| output.format = value.format(),
    },
    SettingDef {
        name: "quality",
        query: Some("q"),
        kind: Kind::Integer { min: 1, max: 100 },
        default: None,
        description: "Quality for lossy encoders.",
        apply: |output, value| {
            output.quality = value.integer().and_then(|quality| u8::try_from(quality).ok());
        },
    },
    SettingDef {
        name: "lossless",
        query: Some("lossless"),
        kind: Kind::Boolean,
        default: Some(Parsed::Boolean(false)),
        description: "Lossless where the format has it (WebP, AVIF).",
        apply: |output, value| output.lossless = value.boolean().unwrap_or(output.lossless),
    },
    SettingDef {
        name: "background",
        query: Some("bg"),
        kind: Kind::Color,
        default: None,
        description: "`RRGGBB` or `RRGGBBAA`: behind transparency for formats without alpha \
            (default `ffffff`), and rotation fill.",
        apply: |output, value| output.background = value.color(),
    },
    SettingDef {
        name: "strip",
        query: Some("strip"),
        kind: Kind::Boolean,
        default: Some(Parsed::Boolean(true)),
        description: "`false` keeps EXIF/XMP (Orientation set to 1).",
        apply: |output, value| output.strip = value.boolean().unwrap_or(output.strip),
    },
    SettingDef {
        name: "svg",
        query: Some("svg"),
        kind: Kind::Keyword { words: SvgMode::WORDS, aliases: &[] },
        default: Some(Parsed::Word(SvgMode::Trace.name())),
        description: "How a raster becomes SVG: traced paths, or the raster embedded \
            losslessly.",
        apply: |output, value| {
            output.svg = value.word().and_then(SvgMode::from_name).unwrap_or(output.svg);
        },
    },
];

impl SettingDef {
    /// The row called `name` in JSON, with its index.
    pub fn named(name: &str) -> Option<(usize, &'static SettingDef)> {
        SETTINGS.iter().enumerate().find(|(_, row)| row.name == name)
    }

    /// The row whose query parameter is `name`, with its index.
    pub fn in_query(name: &str) -> Option<(usize, &'static SettingDef)> {
        SETTINGS.iter().enumerate().find(|(_, row)| row.query == Some(name))
    }
}

/// Output settings: not steps, they apply to the encode.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputSettings {
    /// `None` keeps the source's format.
    pub format: Option<ImageFormat>,
    /// 1..=100, for lossy encoders.
    pub quality: Option<u8>,
    /// Lossless encoding where the format has it (WebP, AVIF).
    pub lossless: bool,
    /// Behind transparency for formats without alpha (default white), and rotation fill.
    pub background: Option<Rgba>,
    /// `false` keeps EXIF/XMP (Orientation reset to 1).
    pub strip: bool,
    /// How a raster becomes SVG.
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

impl OutputSettings {
    /// Reads the settings of [`SETTINGS`] from a JSON object (a request body, a job item or
    /// a stored item spec), ignoring its other keys; see [`Settings::from_json`].
    pub fn from_json(
        object: &Map<String, Value>,
        path_prefix: &str,
    ) -> Result<OutputSettings, SpecError> {
        Settings::from_json(object, path_prefix).map(|settings| settings.output())
    }
}

/// Output settings as given: a checked value for some rows of [`SETTINGS`], nothing for
/// the rest. Kept apart from [`OutputSettings`] so that one set can stand in for another's
/// missing values (a job's for its items').
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    given: Vec<Option<Parsed>>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { given: vec![None; SETTINGS.len()] }
    }
}

impl Settings {
    /// Reads the settings from a JSON object, ignoring its other keys; a `null` value
    /// counts as absent. Errors name `<path_prefix>.<key>`, or the bare key when the prefix
    /// is empty.
    pub fn from_json(
        object: &Map<String, Value>,
        path_prefix: &str,
    ) -> Result<Settings, SpecError> {
        let mut settings = Settings::default();
        for (key, value) in object {
            if let Some((index, _)) = SettingDef::named(key) {
                settings.read_json(index, value).map_err(|message| {
                    let param = if path_prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{path_prefix}.{key}")
                    };
                    SpecError::new(param, message)
                })?;
            }
        }
        Ok(settings)
    }

    /// Checks and stores the JSON value of row `index`; `null` leaves it absent.
    pub(super) fn read_json(&mut self, index: usize, value: &Value) -> Result<(), String> {
        if !value.is_null() {
            let row = &SETTINGS[index];
            self.given[index] = Some(row.kind.parse_json(row.name, value)?);
        }
        Ok(())
    }

    /// Stores a checked value of row `index`.
    pub(super) fn set(&mut self, index: usize, value: Parsed) {
        self.given[index] = Some(value);
    }

    /// The value given for the setting called `name`.
    pub fn get(&self, name: &str) -> Option<Parsed> {
        SettingDef::named(name).and_then(|(index, _)| self.given[index])
    }

    /// These settings, with `defaults`' value wherever none is given.
    pub fn or(&self, defaults: &Settings) -> Settings {
        let given = self.given.iter().zip(&defaults.given).map(|(own, other)| own.or(*other));
        Settings { given: given.collect() }
    }

    /// What the encoder reads: the given values over [`OutputSettings::default`].
    pub fn output(&self) -> OutputSettings {
        let mut output = OutputSettings::default();
        for (row, value) in SETTINGS.iter().zip(&self.given) {
            if let Some(value) = value {
                (row.apply)(&mut output, *value);
            }
        }
        output
    }

    /// The given values as JSON, canonically spelt, under their names.
    pub fn to_json(&self) -> Map<String, Value> {
        let given = SETTINGS.iter().zip(&self.given);
        given
            .filter_map(|(row, value)| Some((row.name.to_string(), value.as_ref()?.to_json())))
            .collect()
    }
}
