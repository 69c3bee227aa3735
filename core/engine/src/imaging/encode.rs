//! Encoders: a raster to bytes in every output format, per the output settings.
//!
//! Outputs are sRGB and carry no ICC profile. With `strip=false` the source's EXIF (its
//! orientation reset to 1) is copied into JPEG, PNG, WebP and AVIF outputs, and its XMP into
//! JPEG and WebP outputs; GIF, TIFF, BMP and SVG outputs never carry metadata.

use std::io::Cursor;

use image::codecs::avif::AvifEncoder;
use image::codecs::bmp::BmpEncoder;
use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::tiff::TiffEncoder;
use image::{ExtendedColorType, ImageEncoder};
use jpeg_encoder::{ColorType, SamplingFactor};

use super::ImagingError;
use super::metadata::Embedded;
use super::raster::Raster;
use super::{svg, trace};
use crate::format::ImageFormat;
use crate::spec::{OutputSettings, Rgba, SvgMode};

/// Quality when `quality` is not given, per lossy format.
const JPEG_QUALITY: u8 = 80;
const WEBP_QUALITY: u8 = 80;
const AVIF_QUALITY: u8 = 60;
/// ravif's speed: 1 (slowest, smallest) ..= 10. Without rav1e's assembly (it needs nasm at
/// build time) a 1920×1200 encode takes about 9 s at speed 7 and 2-3 s at 10, for files
/// 15-20% larger: latency wins for variants made on request.
const AVIF_SPEED: u8 = 10;
/// libwebp's effort: 0 (fastest) ..= 6; 4 is cwebp's default.
const WEBP_METHOD: i32 = 4;

fn failed(format: ImageFormat, error: impl std::fmt::Display) -> ImagingError {
    ImagingError::Invalid(format!("the {format} encoder failed: {error}"))
}

/// Encodes `raster` as `format`; `metadata` is copied when `settings.strip` is false.
pub(crate) fn encode(
    raster: &Raster,
    format: ImageFormat,
    settings: &OutputSettings,
    metadata: &Embedded,
) -> Result<Vec<u8>, ImagingError> {
    let metadata = if settings.strip { &Embedded::default() } else { metadata };
    let background = settings.background.unwrap_or(Rgba::WHITE);
    match format {
        ImageFormat::Jpeg => encode_jpeg(raster, settings.quality, background, metadata),
        ImageFormat::Png => encode_png(raster, metadata),
        ImageFormat::Webp => encode_webp(raster, settings, metadata),
        ImageFormat::Gif => {
            let mut out = Vec::new();
            // Speed 10: NeuQuant samples a tenth of the pixels, ample for one frame.
            GifEncoder::new_with_speed(&mut out, 10)
                .encode(&raster.pixels, raster.width, raster.height, ExtendedColorType::Rgba8)
                .map_err(|e| failed(format, e))?;
            Ok(out)
        }
        ImageFormat::Avif => {
            let mut out = Vec::new();
            // ravif has no true lossless mode; quality 100 is its nearest.
            let quality =
                if settings.lossless { 100 } else { settings.quality.unwrap_or(AVIF_QUALITY) };
            let mut encoder = AvifEncoder::new_with_speed_quality(&mut out, AVIF_SPEED, quality);
            if let Some(exif) = &metadata.exif {
                encoder.set_exif_metadata(exif.clone()).map_err(|e| failed(format, e))?;
            }
            write_image(encoder, raster, format)?;
            Ok(out)
        }
        ImageFormat::Tiff => {
            let mut out = Cursor::new(Vec::new());
            write_image(TiffEncoder::new(&mut out), raster, format)?;
            Ok(out.into_inner())
        }
        ImageFormat::Bmp => {
            let rgb = flatten(raster, background);
            let mut out = Vec::new();
            BmpEncoder::new(&mut out)
                .write_image(&rgb, raster.width, raster.height, ExtendedColorType::Rgb8)
                .map_err(|e| failed(format, e))?;
            Ok(out)
        }
        ImageFormat::Svg => match settings.svg {
            SvgMode::Trace => Ok(trace::trace(raster).into_bytes()),
            SvgMode::Embed => {
                let png = encode_png(raster, &Embedded::default())?;
                Ok(svg::embed_png(&png, raster.width, raster.height).into_bytes())
            }
        },
    }
}

/// Writes RGB when the raster is opaque (smaller files), RGBA otherwise.
fn write_image(
    encoder: impl ImageEncoder,
    raster: &Raster,
    format: ImageFormat,
) -> Result<(), ImagingError> {
    let (width, height) = (raster.width, raster.height);
    if raster.opaque {
        let rgb: Vec<u8> = raster.pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        encoder.write_image(&rgb, width, height, ExtendedColorType::Rgb8)
    } else {
        encoder.write_image(&raster.pixels, width, height, ExtendedColorType::Rgba8)
    }
    .map_err(|e| failed(format, e))
}

/// RGB pixels composited over an opaque `background` (its alpha is ignored: the output has
/// nothing behind it).
pub(crate) fn flatten(raster: &Raster, background: Rgba) -> Vec<u8> {
    let [br, bg, bb, _] = background.0;
    let mut rgb = Vec::with_capacity(raster.pixels.len() / 4 * 3);
    for p in raster.pixels.chunks_exact(4) {
        let a = u32::from(p[3]);
        let blend =
            |c: u8, b: u8| ((u32::from(c) * a + u32::from(b) * (255 - a) + 127) / 255) as u8;
        rgb.extend_from_slice(&[blend(p[0], br), blend(p[1], bg), blend(p[2], bb)]);
    }
    rgb
}

fn encode_jpeg(
    raster: &Raster,
    quality: Option<u8>,
    background: Rgba,
    metadata: &Embedded,
) -> Result<Vec<u8>, ImagingError> {
    let format = ImageFormat::Jpeg;
    let (Ok(width), Ok(height)) = (u16::try_from(raster.width), u16::try_from(raster.height))
    else {
        return Err(ImagingError::TooLarge("JPEG sides are at most 65535 px".into()));
    };
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality.unwrap_or(JPEG_QUALITY));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    if let Some(exif) = &metadata.exif {
        encoder.add_exif_metadata(exif).map_err(|e| failed(format, e))?;
    }
    if let Some(xmp) = &metadata.xmp {
        let mut segment = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        segment.extend_from_slice(xmp);
        // An XMP packet over one segment's 64 KiB is dropped rather than failing the encode.
        let _ = encoder.add_app_segment(1, segment);
    }
    if raster.opaque {
        encoder.encode(&raster.pixels, width, height, ColorType::Rgba)
    } else {
        encoder.encode(&flatten(raster, background), width, height, ColorType::Rgb)
    }
    .map_err(|e| failed(format, e))?;
    Ok(out)
}

fn encode_png(raster: &Raster, metadata: &Embedded) -> Result<Vec<u8>, ImagingError> {
    let mut out = Vec::new();
    // Level 6 is zlib's default balance of size and speed.
    let mut encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Level(6), FilterType::Adaptive);
    if let Some(exif) = &metadata.exif {
        encoder.set_exif_metadata(exif.clone()).map_err(|e| failed(ImageFormat::Png, e))?;
    }
    write_image(encoder, raster, ImageFormat::Png)?;
    Ok(out)
}

fn encode_webp(
    raster: &Raster,
    settings: &OutputSettings,
    metadata: &Embedded,
) -> Result<Vec<u8>, ImagingError> {
    let format = ImageFormat::Webp;
    let mut config = webp::WebPConfig::new().map_err(|()| failed(format, "bad configuration"))?;
    config.lossless = i32::from(settings.lossless);
    config.quality = f32::from(settings.quality.unwrap_or(WEBP_QUALITY));
    config.method = WEBP_METHOD;
    let encoded = if raster.opaque {
        let rgb: Vec<u8> = raster.pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        webp::Encoder::from_rgb(&rgb, raster.width, raster.height).encode_advanced(&config)
    } else {
        webp::Encoder::from_rgba(&raster.pixels, raster.width, raster.height)
            .encode_advanced(&config)
    }
    .map_err(|e| failed(format, format!("{e:?}")))?;
    if metadata.exif.is_none() && metadata.xmp.is_none() {
        return Ok(encoded.to_vec());
    }
    Ok(webp_with_metadata(&encoded, raster, metadata))
}

/// Rewraps a simple or extended WebP file in a VP8X container that carries EXIF and XMP chunks.
fn webp_with_metadata(encoded: &[u8], raster: &Raster, metadata: &Embedded) -> Vec<u8> {
    let mut body = Vec::new();
    let mut at = 12;
    while at + 8 <= encoded.len() {
        let kind = &encoded[at..at + 4];
        let size =
            u32::from_le_bytes(encoded[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let end = (at + 8 + size + (size & 1)).min(encoded.len());
        if kind != b"VP8X" {
            body.extend_from_slice(&encoded[at..end]);
        }
        at = end;
    }
    let push_chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        out.extend_from_slice(kind);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
    };
    let mut flags = 0u8;
    if !raster.opaque {
        flags |= 0x10;
    }
    if metadata.exif.is_some() {
        flags |= 0x08;
    }
    if metadata.xmp.is_some() {
        flags |= 0x04;
    }
    let mut vp8x = vec![flags, 0, 0, 0];
    vp8x.extend_from_slice(&(raster.width - 1).to_le_bytes()[..3]);
    vp8x.extend_from_slice(&(raster.height - 1).to_le_bytes()[..3]);
    let mut chunks = Vec::new();
    push_chunk(&mut chunks, b"VP8X", &vp8x);
    chunks.extend_from_slice(&body);
    if let Some(exif) = &metadata.exif {
        push_chunk(&mut chunks, b"EXIF", exif);
    }
    if let Some(xmp) = &metadata.xmp {
        push_chunk(&mut chunks, b"XMP ", xmp);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(chunks.len() as u32 + 4).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    out
}
