//! The query form (`w=300&h=200&fit=cover&rotate=90&q=80`), its parameters as the tables
//! name them, and the variant identity.

use super::kind::{Kind, Raw};
use super::settings::{SettingDef, Settings};
use super::step::{Fields, Op};
use super::table::{KeyDef, OPS, OpDef, QueryForm};
use super::{Pipeline, Rgba, SpecError, Step, SvgMode, Transform};
use crate::format::ImageFormat;

/// What a query parameter of the transformation is, by the tables.
#[derive(Debug, Clone, Copy)]
pub enum QueryParam {
    /// `ops`: pipeline text replacing the step parameters.
    Ops,
    /// A key of an op whose keys are separate parameters (`w` of resize).
    Key(&'static OpDef, &'static KeyDef),
    /// An op written with its main value (`crop=0,0,9,9`).
    Main(&'static OpDef),
    /// An op that is a boolean (`grayscale=true`).
    Flag(&'static OpDef),
    /// An output setting (`q=80`), by its row's index and row.
    Setting(usize, &'static SettingDef),
}

impl QueryParam {
    /// Whether it makes steps, which `ops` replaces.
    pub fn is_step(self) -> bool {
        matches!(self, QueryParam::Key(..) | QueryParam::Main(_) | QueryParam::Flag(_))
    }
}

/// The transformation parameter called `name`, if there is one (`format` belongs to the
/// caller, so it is none).
pub fn query_param(name: &str) -> Option<QueryParam> {
    if name == "ops" {
        return Some(QueryParam::Ops);
    }
    for op in OPS {
        match op.query {
            QueryForm::Keys => {
                if let Some(key) = op.keys.iter().find(|key| key.short_name() == name) {
                    return Some(QueryParam::Key(op, key));
                }
            }
            QueryForm::Main if op.name == name => return Some(QueryParam::Main(op)),
            QueryForm::Flag if op.name == name => return Some(QueryParam::Flag(op)),
            QueryForm::Main | QueryForm::Flag => {}
        }
    }
    SettingDef::in_query(name).map(|(index, row)| QueryParam::Setting(index, row))
}

/// The parameters that make steps, in the documentation's order; `ops` replaces them all.
pub fn step_params() -> Vec<&'static str> {
    let mut names = Vec::new();
    for op in OPS {
        match op.query {
            QueryForm::Keys => names.extend(op.keys.iter().map(KeyDef::short_name)),
            QueryForm::Main | QueryForm::Flag => names.push(op.name),
        }
    }
    names
}

impl Transform {
    /// Parses the transformation parameters of a query, already percent-decoded, with the
    /// caller's own parameters (such as `format`) removed. Unknown or repeated parameters,
    /// `ops` beside a step parameter, and any bad value (even one without effect, such as
    /// `fit` without `w`/`h`) are errors naming the parameter. Step parameters apply in the
    /// fixed order of [`Op`]: crop, resize, rotate, flip, grayscale, blur, sharpen,
    /// brightness, contrast, mask. The output format is left `None`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Transform, SpecError> {
        let mut given: Vec<(&str, QueryParam)> = Vec::with_capacity(pairs.len());
        for (key, _) in pairs {
            let key = key.as_str();
            let param = query_param(key)
                .ok_or_else(|| SpecError::new(key, format!("unknown parameter {key}")))?;
            if given.iter().any(|(seen, _)| *seen == key) {
                return Err(SpecError::new(key, format!("{key} is given more than once")));
            }
            given.push((key, param));
        }
        if given.iter().any(|(_, param)| matches!(param, QueryParam::Ops))
            && let Some((step_param, _)) = given.iter().find(|(_, param)| param.is_step())
        {
            return Err(SpecError::new(
                "ops",
                format!(
                    "ops replaces the step parameters, so {step_param} cannot be given with it"
                ),
            ));
        }

        let mut pipeline = Pipeline::default();
        let mut settings = Settings::default();
        // The ops whose keys are separate parameters gather them into one step each.
        let mut keyed: Vec<(&'static OpDef, Fields)> = Vec::new();
        let mut steps = Vec::new();
        for ((key, param), (_, text)) in given.into_iter().zip(pairs) {
            let raw = Raw::Text(text);
            let error = |message: String| SpecError::new(key, message);
            match param {
                QueryParam::Ops => pipeline = Pipeline::from_ops_text(text)?,
                QueryParam::Setting(index, row) => {
                    settings.set(index, row.kind.parse(key, raw).map_err(error)?);
                }
                QueryParam::Flag(op) => {
                    let on = Kind::Boolean.parse(key, raw).map_err(error)?;
                    if on.boolean() == Some(true) {
                        let step = Fields::default().into_step(op).map_err(|f| error(f.message))?;
                        steps.extend(step.map(|step| (op.op, step)));
                    }
                }
                QueryParam::Key(op, def) => {
                    let index = match keyed.iter().position(|(seen, _)| seen.op == op.op) {
                        Some(index) => index,
                        None => {
                            keyed.push((op, Fields::default()));
                            keyed.len() - 1
                        }
                    };
                    keyed[index].1.set(def, key, raw).map_err(|fault| error(fault.message))?;
                }
                QueryParam::Main(op) => {
                    let step = Fields::from_main_value(op, text, key)
                        .and_then(|fields| fields.into_step(op))
                        .map_err(|fault| error(fault.message))?;
                    steps.extend(step.map(|step| (op.op, step)));
                }
            }
        }
        // `fit`, `gravity` and `enlarge` alone were checked above but make no step.
        for (op, fields) in keyed {
            if fields.has_what_it_needs(op) {
                let param = op.keys.first().map_or(op.name, KeyDef::short_name);
                let step = fields.into_step(op).map_err(|f| SpecError::new(param, f.message))?;
                steps.extend(step.map(|step| (op.op, step)));
            }
        }
        if !steps.is_empty() {
            // Each op appears at most once, since no parameter may repeat.
            steps.sort_by_key(|(op, _): &(Op, Step)| *op);
            pipeline.steps = steps.into_iter().map(|(_, step)| step).collect();
        }
        Ok(Transform { pipeline, output: settings.output() })
    }

    /// The variant identity: two transforms with the same key for the same output format
    /// make the same bytes, so the key names the stored variant. It is the canonical
    /// pipeline plus only the output settings that matter for `format`, written like a
    /// query: `format=webp&ops=resize:width=300&q=80`. Quality counts only for lossy formats
    /// and not when lossless; lossless only for WebP and AVIF; the background whenever given
    /// (except opaque white for formats without alpha, which is their default anyway);
    /// `strip` only when false; the SVG mode only for SVG output.
    pub fn cache_key(&self, format: ImageFormat) -> String {
        let output = &self.output;
        let mut key = format!("format={format}");
        let ops = self.pipeline.canonical();
        if !ops.is_empty() {
            key.push_str(&format!("&ops={ops}"));
        }
        let lossless = output.lossless && matches!(format, ImageFormat::Webp | ImageFormat::Avif);
        if let Some(quality) = output.quality
            && format.is_lossy()
            && !lossless
        {
            key.push_str(&format!("&q={quality}"));
        }
        if lossless {
            key.push_str("&lossless=true");
        }
        if let Some(background) = output.background
            && (format.has_alpha() || background != Rgba::WHITE)
        {
            key.push_str(&format!("&bg={}", background.to_hex()));
        }
        if !output.strip {
            key.push_str("&strip=false");
        }
        if format == ImageFormat::Svg && output.svg != SvgMode::Trace {
            key.push_str(&format!("&svg={}", output.svg.name()));
        }
        key
    }
}
