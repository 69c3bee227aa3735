//! The query form (`w=300&h=200&fit=cover&rotate=90&q=80`) and the variant identity.

use super::step::{Fields, Op};
use super::value::{self, Raw};
use super::{OutputSettings, Pipeline, Rgba, SpecError, Step, SvgMode, Transform};
use crate::format::ImageFormat;

/// The parameters that make steps; `ops` replaces them all.
pub const STEP_PARAMS: [&str; 14] = [
    "w",
    "h",
    "fit",
    "gravity",
    "enlarge",
    "crop",
    "rotate",
    "flip",
    "grayscale",
    "blur",
    "sharpen",
    "brightness",
    "contrast",
    "mask",
];

/// The output settings a query may carry (`format` belongs to the caller).
const OUTPUT_PARAMS: [&str; 5] = ["q", "lossless", "bg", "strip", "svg"];

impl Transform {
    /// Parses the transformation parameters of a query, already percent-decoded, with the
    /// caller's own parameters (such as `format`) removed. Unknown or repeated parameters,
    /// `ops` beside a step parameter, and any bad value (even one without effect, such as
    /// `fit` without `w`/`h`) are errors naming the parameter. Step parameters apply in the
    /// fixed order crop, resize, rotate, flip, grayscale, blur, sharpen, brightness,
    /// contrast, mask. The output format is left `None`.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Transform, SpecError> {
        let mut given: Vec<&str> = Vec::with_capacity(pairs.len());
        for (key, _) in pairs {
            let key = key.as_str();
            if key != "ops" && !STEP_PARAMS.contains(&key) && !OUTPUT_PARAMS.contains(&key) {
                return Err(SpecError::new(key, format!("unknown parameter {key}")));
            }
            if given.contains(&key) {
                return Err(SpecError::new(key, format!("{key} is given more than once")));
            }
            given.push(key);
        }
        if given.contains(&"ops")
            && let Some(step_param) = given.iter().find(|key| STEP_PARAMS.contains(key))
        {
            return Err(SpecError::new(
                "ops",
                format!(
                    "ops replaces the step parameters, so {step_param} cannot be given with it"
                ),
            ));
        }

        let mut pipeline = Pipeline::default();
        let mut output = OutputSettings::default();
        let mut resize = Fields::default();
        let mut steps = Vec::new();
        for (key, text) in pairs {
            let key = key.as_str();
            let raw = Raw::Text(text);
            let error = |message: String| SpecError::new(key, message);
            match key {
                "ops" => pipeline = Pipeline::from_ops_text(text)?,
                "grayscale" => {
                    if value::boolean(key, raw).map_err(error)? {
                        steps.push((Op::Grayscale, Step::Grayscale));
                    }
                }
                "q" => output.quality = Some(value::quality(key, raw).map_err(error)?),
                "lossless" => output.lossless = value::boolean(key, raw).map_err(error)?,
                "bg" => output.background = Some(value::color(key, raw).map_err(error)?),
                "strip" => output.strip = value::boolean(key, raw).map_err(error)?,
                "svg" => output.svg = value::svg_mode(key, raw).map_err(error)?,
                // The resize parameters gather into one step, made below.
                _ if let Some(resize_key) = Op::Resize.key(key, true) => {
                    resize.set(resize_key, key, raw).map_err(|fault| error(fault.message))?
                }
                // Every other step parameter is named after its op and holds its main value.
                _ => {
                    let op = Op::from_name(key)
                        .ok_or_else(|| error(format!("unknown parameter {key}")))?;
                    let step = Fields::from_main_value(op, text, key)
                        .and_then(|fields| fields.into_step(op))
                        .map_err(|fault| error(fault.message))?;
                    steps.extend(step.map(|step| (op, step)));
                }
            }
        }
        // `fit`, `gravity` and `enlarge` alone were checked above but make no step.
        if resize.has_side() {
            // With a side given, a resize of checked values cannot fail.
            let step =
                resize.into_step(Op::Resize).map_err(|fault| SpecError::new("w", fault.message))?;
            steps.extend(step.map(|step| (Op::Resize, step)));
        }
        if !steps.is_empty() {
            // Each op appears at most once, since no parameter may repeat.
            steps.sort_by_key(|(op, _)| *op);
            pipeline.steps = steps.into_iter().map(|(_, step)| step).collect();
        }
        Ok(Transform { pipeline, output })
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
