//! Pipeline-text parsing, kept beside the printing so that the two stay one grammar.

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
                return Err("mask takes shape=circle|ellipse, shape=rounded,radius=N or image_id"
                    .to_string());
            }
        },
        // Grayscale has no keys, so any pair was refused above.
        _ => Step::Grayscale,
    })
}
