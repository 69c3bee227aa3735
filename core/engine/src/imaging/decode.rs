//! Raster decoders: every input format to upright sRGB RGBA8.
//!
//! JPEG goes through zune-jpeg behind [`decode_jpeg`]; PNG, GIF, WebP, TIFF and BMP through
//! the `image` crate's decoders; AVIF through [`super::avif`]; SVG through [`super::svg`].
//! Each applies the EXIF orientation and converts an embedded ICC profile to sRGB.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbaImage};
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::ImagingError;
use super::metadata;
use super::raster::Raster;
use crate::format::ImageFormat;
use crate::limits::Limits;

fn invalid(format: ImageFormat, error: impl std::fmt::Display) -> ImagingError {
    ImagingError::Invalid(format!("the {format} image does not decode: {error}"))
}

/// Decodes a JPEG to an upright sRGB raster (EXIF orientation applied, ICC profile and
/// CMYK/YCCK converted).
///
/// `target` is the displayed size the caller will scale to, if known: the result may be any
/// size at least that large per axis (shrink-on-load).
pub fn decode_jpeg(bytes: &[u8], target: Option<(u32, u32)>) -> Result<Raster, ImagingError> {
    let header = metadata::jpeg_header(bytes).map_err(|e| invalid(ImageFormat::Jpeg, e.0))?;
    let (_, icc) = metadata::jpeg_metadata(bytes);
    let icc = icc.and_then(|icc| ColorProfile::new_from_slice(&icc).ok());
    // Shrink-on-load: decode at 1/8, 1/4 or 1/2 scale when the target is that much
    // smaller (DCT-domain scaling; at 1/8 a progressive file's AC scans are not read).
    if let Some((target_width, target_height)) = target {
        // The target is in displayed orientation; the decoder works in stored orientation.
        let (min_width, min_height) = if (5..=8).contains(&header.orientation) {
            (target_height, target_width)
        } else {
            (target_width, target_height)
        };
        // The scaled decoder is stricter than the full one: a file it refuses (corrupt
        // entropy data the full decoder conceals) is decoded in full instead, so every
        // JPEG that passed the upload check stays processable.
        if let Ok(Some(scaled)) = super::jpeg::decode_scaled(bytes, min_width, min_height) {
            let mut raster = scaled.pixels;
            if let Some(profile) = icc.as_ref().filter(|p| p.color_space == DataColorSpace::Rgb) {
                rgba_to_srgb(&mut raster.pixels, profile);
            }
            return Ok(orient(raster, header.orientation));
        }
    }
    // Sizes are judged by the caller; zune-jpeg's own caps (16384) would refuse larger ones.
    let options = DecoderOptions::default()
        .set_max_width(usize::MAX >> 1)
        .set_max_height(usize::MAX >> 1)
        .jpeg_set_out_colorspace(ColorSpace::RGBA);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(|e| invalid(ImageFormat::Jpeg, e))?;
    let info = decoder.info().ok_or_else(|| invalid(ImageFormat::Jpeg, "no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let is_cmyk = matches!(decoder.input_colorspace(), Some(ColorSpace::CMYK | ColorSpace::YCCK));
    // A CMYK file with a usable CMYK profile goes through it; otherwise zune-jpeg's own
    // CMYK → RGB conversion applies.
    let cmyk_transform = icc
        .as_ref()
        .filter(|profile| is_cmyk && profile.color_space == DataColorSpace::Cmyk)
        .and_then(|profile| {
            profile
                .create_transform_8bit(
                    Layout::Rgba,
                    &ColorProfile::new_srgb(),
                    Layout::Rgb,
                    TransformOptions::default(),
                )
                .ok()
        });
    let pixels = match cmyk_transform {
        Some(transform) => {
            decoder.set_options(options.jpeg_set_out_colorspace(ColorSpace::CMYK));
            let cmyk = decoder.decode().map_err(|e| invalid(ImageFormat::Jpeg, e))?;
            let mut rgb = vec![0; cmyk.len() / 4 * 3];
            transform.transform(&cmyk, &mut rgb).map_err(|e| invalid(ImageFormat::Jpeg, e))?;
            rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
        }
        // zune-jpeg converts CMYK and YCCK to RGB but not to RGBA.
        None if is_cmyk => {
            decoder.set_options(options.jpeg_set_out_colorspace(ColorSpace::RGB));
            let rgb = decoder.decode().map_err(|e| invalid(ImageFormat::Jpeg, e))?;
            rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
        }
        None => {
            let mut pixels = decoder.decode().map_err(|e| invalid(ImageFormat::Jpeg, e))?;
            if let Some(profile) = icc.as_ref().filter(|p| p.color_space == DataColorSpace::Rgb) {
                rgba_to_srgb(&mut pixels, profile);
            }
            pixels
        }
    };
    if pixels.len() != width as usize * height as usize * 4 {
        return Err(invalid(ImageFormat::Jpeg, "unexpected pixel count"));
    }
    let raster = Raster { width, height, pixels, opaque: true };
    Ok(orient(raster, header.orientation))
}

/// Decodes PNG, GIF, WebP, TIFF or BMP (the first frame or page) with the `image` crate.
pub(crate) fn decode_with_image(
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
) -> Result<Raster, ImagingError> {
    let image_format = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
        ImageFormat::Bmp => image::ImageFormat::Bmp,
        other => return Err(ImagingError::Unsupported(format!("{other} is not decoded here"))),
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(image_limits(limits));
    let mut decoder = reader.into_decoder().map_err(|e| invalid(format, e))?;
    let icc = decoder.icc_profile().ok().flatten();
    let orientation = decoder.orientation().map_or(1, Orientation::to_exif);
    let image = DynamicImage::from_decoder(decoder).map_err(|e| invalid(format, e))?;
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let mut raster = Raster::from_rgba(width, height, rgba.into_raw());
    if let Some(profile) = icc.and_then(|icc| ColorProfile::new_from_slice(&icc).ok())
        && profile.color_space == DataColorSpace::Rgb
    {
        rgba_to_srgb(&mut raster.pixels, &profile);
    }
    Ok(orient(raster, orientation))
}

/// The `image` crate's own allocation caps, set from ours (its default 512 MiB would refuse
/// a 100 MP 16-bit image that our pixel limit allows).
pub(crate) fn image_limits(limits: &Limits) -> image::Limits {
    let mut image_limits = image::Limits::default();
    // 16-bit RGBA plus the RGBA8 copy.
    image_limits.max_alloc = Some(limits.max_pixels.saturating_mul(12));
    image_limits
}

/// Applies an EXIF orientation (1..=8) to the pixels.
pub(crate) fn orient(raster: Raster, orientation: u8) -> Raster {
    let Some(orientation) = Orientation::from_exif(orientation) else { return raster };
    if orientation == Orientation::NoTransforms {
        return raster;
    }
    let opaque = raster.opaque;
    let buffer = RgbaImage::from_raw(raster.width, raster.height, raster.pixels)
        .expect("a raster holds width * height RGBA pixels");
    let mut image = DynamicImage::ImageRgba8(buffer);
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Raster { width, height, pixels: image.into_rgba8().into_raw(), opaque }
}

/// Converts RGBA pixels from an RGB profile to sRGB in place; a profile moxcms cannot use is
/// ignored (as browsers do), and one that is already sRGB costs only a probe.
pub(crate) fn rgba_to_srgb(pixels: &mut [u8], profile: &ColorProfile) {
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) = profile.create_transform_8bit(
        Layout::Rgba,
        &srgb,
        Layout::Rgba,
        TransformOptions::default(),
    ) else {
        return;
    };
    // A 6×6×6 grid through the cube: when the transform moves none of it, skip the work.
    let probe: Vec<u8> = (0..216u32)
        .flat_map(|i| [(i % 6 * 51) as u8, (i / 6 % 6 * 51) as u8, (i / 36 * 51) as u8, 255])
        .collect();
    let mut probed = vec![0; probe.len()];
    if transform.transform(&probe, &mut probed).is_err()
        || probe.iter().zip(&probed).all(|(a, b)| a.abs_diff(*b) <= 1)
    {
        return;
    }
    let mut converted = vec![0; pixels.len()];
    if transform.transform(pixels, &mut converted).is_ok() {
        // The transform carries alpha through; keep the original bytes regardless.
        for (out, src) in converted.chunks_exact_mut(4).zip(pixels.chunks_exact(4)) {
            out[3] = src[3];
        }
        pixels.copy_from_slice(&converted);
    }
}
