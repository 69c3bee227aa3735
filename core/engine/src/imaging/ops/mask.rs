//! Alpha masks: shapes drawn with anti-aliased edges, or another image's luminance.

use std::collections::HashMap;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::pixels::PixelType;
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use uuid::Uuid;

use super::super::ImagingError;
use super::super::raster::Raster;
use super::mul_div_255;
use crate::spec::Mask;

/// Multiplies the raster's alpha by the mask's coverage. Colour is left alone: formats without
/// alpha are flattened onto the background by the encoder.
pub(super) fn mask(
    mut raster: Raster,
    mask: &Mask,
    masks: &HashMap<Uuid, Raster>,
) -> Result<Raster, ImagingError> {
    let (width, height) = (f64::from(raster.width), f64::from(raster.height));
    let changed = match *mask {
        Mask::Circle => {
            let radius = width.min(height) / 2.0;
            shape(&mut raster, |dx, dy| radius - dx.hypot(dy))
        }
        Mask::Ellipse => {
            let (a, b) = (width / 2.0, height / 2.0);
            shape(&mut raster, |dx, dy| ellipse_distance(a, b, dx, dy))
        }
        Mask::Rounded { radius } => {
            let radius = f64::from(radius).min(width.min(height) / 2.0);
            let (inner_x, inner_y) = (width / 2.0 - radius, height / 2.0 - radius);
            // Distance inside the rectangle whose corners are arcs of `radius`: the corner
            // circles' centres sit `radius` in from each side.
            shape(&mut raster, |dx, dy| {
                let (over_x, over_y) = (dx.abs() - inner_x, dy.abs() - inner_y);
                if over_x > 0.0 && over_y > 0.0 {
                    radius - over_x.hypot(over_y)
                } else {
                    // Straight sides are exactly on pixel edges: always fully covered.
                    f64::INFINITY
                }
            })
        }
        Mask::Image(id) => {
            let mask = masks.get(&id).ok_or(ImagingError::MaskNotFound(id))?;
            image_mask(&mut raster, mask)?;
            true
        }
    };
    if changed {
        raster.opaque = false;
    }
    Ok(raster)
}

/// Approximate signed distance to an ellipse with semi-axes `a`, `b` (positive inside): the
/// implicit function over its gradient's length, exact on a circle and close to the edge,
/// which is the only place anti-aliasing looks at it.
fn ellipse_distance(a: f64, b: f64, dx: f64, dy: f64) -> f64 {
    let (u, v) = (dx / a, dy / b);
    let implicit = u * u + v * v - 1.0;
    let gradient = 2.0 * (u * u / (a * a) + v * v / (b * b)).sqrt();
    if gradient == 0.0 { a.min(b) } else { -implicit / gradient }
}

/// Applies a centred, symmetric shape given by `distance` (signed, positive inside, from the
/// pixel centre's offset to the image centre). Coverage is `distance + ½` clamped to 0..1, a
/// one-pixel ramp across the edge. Each half row is walked in from the edge until coverage is
/// full, so only the border region is computed; the shapes are convex, so the rest is inside.
fn shape(raster: &mut Raster, distance: impl Fn(f64, f64) -> f64) -> bool {
    let (width, height) = (raster.width as usize, raster.height as usize);
    let (centre_x, centre_y) = (width as f64 / 2.0, height as f64 / 2.0);
    let mut changed = false;
    let middle = (width - 1) / 2;
    for (y, row) in raster.pixels.as_chunks_mut::<4>().0.chunks_exact_mut(width).enumerate() {
        let dy = y as f64 + 0.5 - centre_y;
        if distance(middle as f64 + 0.5 - centre_x, dy) <= -0.5 {
            // The middle column is the row's deepest point: if even it is outside, all is.
            row.iter_mut().for_each(|pixel| pixel[3] = 0);
            changed = true;
            continue;
        }
        for x in 0..width.div_ceil(2) {
            let dx = x as f64 + 0.5 - centre_x;
            let coverage = ((distance(dx, dy) + 0.5).clamp(0.0, 1.0) * 255.0).round() as u8;
            if coverage == 255 {
                break;
            }
            changed = true;
            row[x][3] = mul_div_255(row[x][3], coverage);
            // The mirror column has the mirror offset and so the same coverage.
            let mirror = width - 1 - x;
            if mirror != x {
                row[mirror][3] = mul_div_255(row[mirror][3], coverage);
            }
        }
    }
    changed
}

/// Stretches the mask to the raster and multiplies alpha by its luminance (Rec. 601) times its
/// own alpha, so transparent parts of a mask hide like black ones.
fn image_mask(raster: &mut Raster, mask: &Raster) -> Result<(), ImagingError> {
    let luminance: Vec<u8> = mask
        .pixels
        .as_chunks::<4>()
        .0
        .iter()
        .map(|&[r, g, b, a]| {
            let [r, g, b] = [r, g, b].map(u32::from);
            mul_div_255(((77 * r + 150 * g + 29 * b + 128) >> 8) as u8, a)
        })
        .collect();
    let stretched = if (mask.width, mask.height) == (raster.width, raster.height) {
        luminance
    } else {
        let src = ImageRef::new(mask.width, mask.height, &luminance, PixelType::U8)
            .map_err(|error| mask_error(&error))?;
        let mut dst = Image::new(raster.width, raster.height, PixelType::U8);
        let options =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
        Resizer::new().resize(&src, &mut dst, &options).map_err(|error| mask_error(&error))?;
        dst.into_vec()
    };
    for (pixel, &coverage) in raster.pixels.as_chunks_mut::<4>().0.iter_mut().zip(&stretched) {
        pixel[3] = mul_div_255(pixel[3], coverage);
    }
    Ok(())
}

fn mask_error(error: &dyn std::error::Error) -> ImagingError {
    ImagingError::Step { param: "mask".to_owned(), message: format!("mask image failed: {error}") }
}
