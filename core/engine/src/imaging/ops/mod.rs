//! Pixel operations: one function per pipeline step, pure, synchronous and single-threaded.
//!
//! Every step takes the raster by value so it can work in place or reuse its buffer, and is
//! judged against the output limits from its result's geometry before anything is allocated
//! (see [`apply`]). Rasters stay RGBA8 with straight alpha between steps; a step that blends
//! neighbouring pixels (resize, rotate, blur) premultiplies first so transparent pixels do not
//! bleed their colour into the edges, and skips that work when the raster is opaque.

mod adjust;
mod blur;
mod geometry;
mod mask;
mod resize;
mod rotate;

use std::collections::HashMap;

use fast_image_resize::MulDiv;
use fast_image_resize::images::Image;
use fast_image_resize::pixels::PixelType;
use uuid::Uuid;

use super::ImagingError;
use super::raster::Raster;
use crate::limits::Limits;
use crate::spec::{Rgba, Step};

pub use geometry::{ResizePlan, resize_plan};

/// What the steps need beyond the raster: limits, output settings and supplied mask images.
#[derive(Debug, Clone, Copy)]
pub struct StepContext<'a> {
    /// Every step's result must fit these output limits.
    pub limits: &'a Limits,
    /// The output setting `bg`: fill for the corners a rotation uncovers.
    pub background: Option<Rgba>,
    /// Whether the output format keeps alpha (decides a rotation's default fill).
    pub output_has_alpha: bool,
    /// Decoded mask images by id, for `Mask::Image`.
    pub masks: &'a HashMap<Uuid, Raster>,
    /// What `enlarge` means when a resize leaves it unset: false for rasters, true for SVG.
    pub enlarge_default: bool,
}

/// Applies one step, refusing it before any allocation when its result would be over the limits.
pub fn apply(raster: Raster, step: &Step, ctx: &StepContext) -> Result<Raster, ImagingError> {
    let (width, height) = result_size(&raster, step, ctx)?;
    if !ctx.limits.output_fits(width, height) {
        return Err(ImagingError::TooLarge(format!(
            "{} would make a {width}x{height} image; the limit is {} px per side and {} pixels",
            step_name(step),
            ctx.limits.max_side,
            ctx.limits.max_pixels,
        )));
    }
    match step {
        Step::Resize(resize) => resize::resize(raster, resize, ctx.enlarge_default),
        Step::Crop(crop) => {
            let rect = geometry::clamp_crop(raster.width, raster.height, crop)?;
            Ok(geometry::crop_in_place(raster, rect))
        }
        Step::Rotate(degrees) => Ok(rotate::rotate(raster, *degrees, ctx)),
        Step::Flip(axis) => Ok(rotate::flip(raster, *axis)),
        Step::Grayscale => Ok(adjust::grayscale(raster)),
        Step::Blur(sigma) => Ok(blur::blur(raster, *sigma)),
        Step::Sharpen(sigma) => Ok(blur::sharpen(raster, *sigma)),
        Step::Brightness(amount) => Ok(adjust::brightness(raster, *amount)),
        Step::Contrast(amount) => Ok(adjust::contrast(raster, *amount)),
        Step::Mask(mask) => mask::mask(raster, mask, ctx.masks),
    }
}

/// The size a step would produce, from geometry alone.
fn result_size(
    raster: &Raster,
    step: &Step,
    ctx: &StepContext,
) -> Result<(u32, u32), ImagingError> {
    Ok(match step {
        Step::Resize(resize) => {
            resize_plan(raster.width, raster.height, resize, ctx.enlarge_default).output_size()
        }
        Step::Crop(crop) => {
            let rect = geometry::clamp_crop(raster.width, raster.height, crop)?;
            (rect.width, rect.height)
        }
        Step::Rotate(degrees) => rotate::rotated_size(raster.width, raster.height, *degrees),
        _ => (raster.width, raster.height),
    })
}

fn step_name(step: &Step) -> &'static str {
    match step {
        Step::Resize(_) => "resize",
        Step::Crop(_) => "crop",
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

/// Multiplies colour by alpha in place (SIMD), so blending neighbours weighs colour by coverage.
fn premultiply(width: u32, height: u32, pixels: &mut [u8]) {
    // The view borrows exactly `width * height * 4` bytes of RGBA8, which is all the
    // constructor and the multiplier check, so neither can fail for a raster.
    let mut image = Image::from_slice_u8(width, height, pixels, PixelType::U8x4)
        .expect("a raster's buffer is width * height RGBA8 pixels");
    MulDiv::default().multiply_alpha_inplace(&mut image).expect("U8x4 has an alpha channel");
}

/// Undoes [`premultiply`] in place.
fn unpremultiply(width: u32, height: u32, pixels: &mut [u8]) {
    let mut image = Image::from_slice_u8(width, height, pixels, PixelType::U8x4)
        .expect("a raster's buffer is width * height RGBA8 pixels");
    MulDiv::default().divide_alpha_inplace(&mut image).expect("U8x4 has an alpha channel");
}

/// Whether every alpha byte is 255.
fn all_opaque(pixels: &[u8]) -> bool {
    pixels.chunks_exact(4).all(|p| p[3] == 255)
}

/// `a * b / 255`, rounded, exact for all bytes.
#[inline]
fn mul_div_255(a: u8, b: u8) -> u8 {
    let t = u32::from(a) * u32::from(b) + 128;
    ((t + (t >> 8)) >> 8) as u8
}

#[cfg(test)]
mod tests;
