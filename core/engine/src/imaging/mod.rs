//! The image engine: pure, synchronous and bounded. Bytes + transform + limits → bytes.
//!
//! Nothing here does IO or knows about tokio; callers run it on blocking threads.

mod avif;
mod decode;
mod encode;
pub mod jpeg;
mod metadata;
pub mod ops;
pub mod raster;
mod svg;
mod trace;

use std::collections::HashMap;
use std::io::Cursor;

use image::{ImageDecoder, ImageReader};
use uuid::Uuid;

pub use self::decode::decode_jpeg;
use self::metadata::Embedded;
use self::raster::Raster;
use crate::format::{ImageFormat, Sniffed};
use crate::limits::Limits;
use crate::sandbox::{self, Reply, Task};
use crate::spec::{Fit, Mask, Resize, Step, Transform};

/// What a header says about an image, before any pixel is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    /// As displayed: after EXIF orientation.
    pub width: u32,
    pub height: u32,
    /// Frames (animation) or pages (TIFF); 1 for still images.
    pub frames: u32,
}

/// An encoded output.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// Mask images a pipeline refers to, loaded by the caller (the engine does no IO).
pub type MaskImages = HashMap<Uuid, Vec<u8>>;

/// Why the engine refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// Empty, unrecognisable or undecodable bytes (truncated included).
    #[error("{0}")]
    Invalid(String),
    /// Over the pixel or side limits: input, any step, or output.
    #[error("{0}")]
    TooLarge(String),
    /// A recognised image format that is not supported (e.g. PSD).
    #[error("{0}")]
    Unsupported(String),
    /// A mask image the pipeline names was not supplied.
    #[error("mask image {0} not found")]
    MaskNotFound(Uuid),
    /// A step that cannot apply to this image (e.g. a crop outside it).
    #[error("{message}")]
    Step { param: String, message: String },
    /// The engine itself failed (for example, its sandbox could not be started).
    #[error("{0}")]
    Internal(String),
}

/// Reads the header: format, displayed size and frame count, judged against the pixel limit.
/// No pixel is decoded (an SVG is parsed, not rendered).
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, ImagingError> {
    let format = match crate::format::sniff(bytes) {
        Sniffed::Known(format) => format,
        Sniffed::Unsupported(name) => {
            return Err(ImagingError::Unsupported(format!("{name} images are not supported")));
        }
        Sniffed::Unknown if bytes.is_empty() => {
            return Err(ImagingError::Invalid("the image is empty".into()));
        }
        Sniffed::Unknown => {
            return Err(ImagingError::Invalid("the bytes are not a recognisable image".into()));
        }
    };
    let malformed =
        |e: metadata::Malformed| ImagingError::Invalid(format!("bad {format}: {}", e.0));
    let (width, height, frames) = match format {
        ImageFormat::Jpeg => from_header(metadata::jpeg_header(bytes).map_err(malformed)?),
        ImageFormat::Png => {
            if !metadata::png_metadata_fits(bytes) {
                return Err(ImagingError::TooLarge(format!(
                    "the png's compressed metadata inflates past {} bytes",
                    metadata::MAX_PNG_METADATA
                )));
            }
            from_header(metadata::png_header(bytes).map_err(malformed)?)
        }
        ImageFormat::Webp => from_header(metadata::webp_header(bytes).map_err(malformed)?),
        ImageFormat::Gif => {
            let layout = metadata::gif_layout(bytes).map_err(malformed)?;
            (layout.width, layout.height, layout.frames)
        }
        ImageFormat::Tiff | ImageFormat::Bmp => {
            // The BMP decoder refuses sides over 65535 as malformed: judge the size first,
            // so an oversized header is too large, not invalid.
            if let Some((width, height)) =
                metadata::bmp_size(bytes).filter(|_| format == ImageFormat::Bmp)
                && (width > 65535 || height > 65535 || width * height > limits.max_pixels)
            {
                return Err(ImagingError::TooLarge(format!(
                    "{width}x{height} is over the limit of {} pixels",
                    limits.max_pixels
                )));
            }
            let (width, height, orientation) = image_crate_header(bytes, format, limits)?;
            let frames = if format == ImageFormat::Tiff { metadata::tiff_pages(bytes) } else { 1 };
            from_header(metadata::Header { width, height, frames, orientation })
        }
        ImageFormat::Avif => {
            let (width, height) = avif::avif_size(bytes)?;
            (width, height, 1)
        }
        ImageFormat::Svg => {
            let (width, height) = svg_size(bytes, limits)?;
            (width, height, 1)
        }
    };
    if width == 0 || height == 0 {
        return Err(ImagingError::Invalid(format!("the {format} image has no pixels")));
    }
    if !limits.input_fits(width, height) {
        return Err(ImagingError::TooLarge(format!(
            "{width}x{height} is over the limit of {} pixels",
            limits.max_pixels
        )));
    }
    Ok(ImageInfo { format, width, height, frames })
}

fn from_header(header: metadata::Header) -> (u32, u32, u32) {
    let (width, height) = header.displayed_size();
    (width, height, header.frames)
}

/// TIFF and BMP headers through the `image` crate, which reads only the header here.
fn image_crate_header(
    bytes: &[u8],
    format: ImageFormat,
    limits: &Limits,
) -> Result<(u32, u32, u8), ImagingError> {
    let image_format = if format == ImageFormat::Tiff {
        image::ImageFormat::Tiff
    } else {
        image::ImageFormat::Bmp
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(decode::image_limits(limits));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| ImagingError::Invalid(format!("bad {format} header: {e}")))?;
    let (width, height) = decoder.dimensions();
    let orientation = decoder.orientation().map_or(1, image::metadata::Orientation::to_exif);
    Ok((width, height, orientation))
}

/// [`probe`], then decodes the whole image to prove the bytes are sound: truncated or
/// corrupted files are [`ImagingError::Invalid`].
pub fn verify(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, ImagingError> {
    let info = probe(bytes, limits)?;
    let complete = match info.format {
        // Decoders fill a truncated JPEG scan with grey: judge the structure.
        ImageFormat::Jpeg => metadata::jpeg_complete(bytes),
        ImageFormat::Png => metadata::png_complete(bytes),
        ImageFormat::Webp => metadata::webp_complete(bytes),
        ImageFormat::Gif => metadata::gif_layout(bytes).is_ok_and(|layout| layout.complete),
        // TIFF, BMP and AVIF decoders fail on missing data; SVG was parsed whole by probe.
        ImageFormat::Tiff | ImageFormat::Bmp | ImageFormat::Avif | ImageFormat::Svg => true,
    };
    if !complete {
        return Err(ImagingError::Invalid(format!("the {} image is truncated", info.format)));
    }
    if info.format != ImageFormat::Svg {
        decode_probed(bytes, &info, limits)?;
    }
    Ok(info)
}

/// Decodes any supported image to an upright sRGB raster (first frame or page; SVG rendered
/// at its intrinsic size).
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Raster, ImagingError> {
    let info = probe(bytes, limits)?;
    decode_probed(bytes, &info, limits)
}

fn decode_probed(bytes: &[u8], info: &ImageInfo, limits: &Limits) -> Result<Raster, ImagingError> {
    match info.format {
        ImageFormat::Jpeg => decode_jpeg(bytes, None),
        ImageFormat::Avif => sandboxed_raster(Task::AvifDecode, bytes, limits),
        ImageFormat::Svg => render_svg(bytes, info.width, info.height, limits),
        format => decode::decode_with_image(bytes, format, limits),
    }
}

/// Makes one variant: decode, apply the pipeline's steps, encode in the output format (the
/// source's when none is set).
pub fn process(
    bytes: &[u8],
    transform: &Transform,
    masks: &MaskImages,
    limits: &Limits,
) -> Result<Encoded, ImagingError> {
    let info = probe(bytes, limits)?;
    let format = transform.output.format.unwrap_or(info.format);
    let steps = &transform.pipeline.steps;
    if info.format == ImageFormat::Svg && format == ImageFormat::Svg && steps.is_empty() {
        let bytes = sanitize_svg_within(bytes, limits)?;
        return Ok(Encoded { bytes, format, width: info.width, height: info.height });
    }
    // After a shrink-on-load decode the leading resize is re-aimed at the size it would
    // have produced from the full image, so outputs do not depend on the decode scale.
    let mut leading_resize = None;
    let mut raster = match (info.format, steps.first()) {
        // A vector has no native resolution: render it at the size the resize asks for.
        (ImageFormat::Svg, Some(Step::Resize(resize))) => {
            let (width, height) = svg_render_size((info.width, info.height), resize);
            if !limits.output_fits(width, height) {
                return Err(too_large(width, height, limits));
            }
            render_svg(bytes, width, height, limits)?
        }
        (ImageFormat::Jpeg, Some(Step::Resize(resize))) => {
            let raster = decode_jpeg(bytes, Some(shrink_target(&info, resize)))?;
            if (raster.width, raster.height) != (info.width, info.height) {
                let (width, height) =
                    ops::resize_plan(info.width, info.height, resize, false).output_size();
                leading_resize = Some(Step::Resize(Resize {
                    width: Some(width),
                    height: Some(height),
                    fit: if resize.fit == Fit::Cover { Fit::Cover } else { Fit::Fill },
                    gravity: resize.gravity,
                    enlarge: Some(true),
                }));
            }
            raster
        }
        _ => decode_probed(bytes, &info, limits)?,
    };
    let mut mask_rasters = HashMap::new();
    for step in steps {
        if let Step::Mask(Mask::Image(id)) = step {
            let mask = masks.get(id).ok_or(ImagingError::MaskNotFound(*id))?;
            mask_rasters.insert(*id, decode(mask, limits)?);
        }
    }
    let context = ops::StepContext {
        limits,
        background: transform.output.background,
        output_has_alpha: format.has_alpha(),
        masks: &mask_rasters,
        enlarge_default: info.format == ImageFormat::Svg,
    };
    for (index, step) in steps.iter().enumerate() {
        let step = if index == 0 { leading_resize.as_ref().unwrap_or(step) } else { step };
        raster = ops::apply(raster, step, &context)?;
    }
    if !limits.output_fits(raster.width, raster.height) {
        return Err(too_large(raster.width, raster.height, limits));
    }
    let metadata =
        if transform.output.strip { Embedded::default() } else { embedded(bytes, info.format) };
    let bytes = encode::encode(&raster, format, &transform.output, &metadata)?;
    Ok(Encoded { bytes, format, width: raster.width, height: raster.height })
}

/// An SVG's intrinsic size, parsed (every bound judged) in a sandbox process.
fn svg_size(bytes: &[u8], limits: &Limits) -> Result<(u32, u32), ImagingError> {
    match sandbox::run(Task::SvgSize, bytes, limits)? {
        Reply::Size { width, height } => Ok((width, height)),
        other => Err(unexpected(&other)),
    }
}

/// An SVG rendered at `width` × `height` in a sandbox process.
fn render_svg(
    bytes: &[u8],
    width: u32,
    height: u32,
    limits: &Limits,
) -> Result<Raster, ImagingError> {
    sandboxed_raster(Task::SvgRender { width, height }, bytes, limits)
}

fn sandboxed_raster(task: Task, bytes: &[u8], limits: &Limits) -> Result<Raster, ImagingError> {
    match sandbox::run(task, bytes, limits)? {
        Reply::Raster { width, height, pixels, opaque } => {
            Ok(Raster { width, height, pixels, opaque })
        }
        other => Err(unexpected(&other)),
    }
}

fn unexpected(reply: &Reply) -> ImagingError {
    let kind = match reply {
        Reply::Raster { .. } => "a raster",
        Reply::Size { .. } => "a size",
        Reply::Bytes(_) => "bytes",
    };
    ImagingError::Internal(format!("the image sandbox answered with {kind}"))
}

/// An SVG source with its external references gone, re-serialised from the parsed tree so it
/// renders as the source does (parsed in a sandbox process).
fn sanitize_svg_within(bytes: &[u8], limits: &Limits) -> Result<Vec<u8>, ImagingError> {
    match sandbox::run(Task::SvgSanitize, bytes, limits)? {
        Reply::Bytes(bytes) => Ok(bytes),
        other => Err(unexpected(&other)),
    }
}

/// The work a sandbox child does for one request (see [`crate::sandbox`]): the parts of the
/// engine that may abort, recurse deeply or run long.
pub fn run_sandboxed(task: Task, bytes: &[u8], limits: &Limits) -> Result<Reply, ImagingError> {
    match task {
        Task::AvifDecode => {
            let raster = avif::decode_avif(bytes, limits)?;
            let Raster { width, height, pixels, opaque } = raster;
            Ok(Reply::Raster { width, height, pixels, opaque })
        }
        Task::SvgSize => {
            let (width, height) = svg::intrinsic_size(&svg::parse(bytes, limits)?);
            Ok(Reply::Size { width, height })
        }
        Task::SvgRender { width, height } => {
            if !limits.output_fits(width, height) {
                return Err(too_large(width, height, limits));
            }
            let Raster { width, height, pixels, opaque } =
                svg::render(&svg::parse(bytes, limits)?, width, height)?;
            Ok(Reply::Raster { width, height, pixels, opaque })
        }
        Task::SvgSanitize => Ok(Reply::Bytes(svg::sanitize(&svg::parse(bytes, limits)?))),
    }
}

/// The smallest decoded size a leading resize can start from without losing detail: the
/// scaled size before any cover crop. Resampling from at least this size keeps the
/// result as sharp as from the full image.
fn shrink_target(info: &ImageInfo, resize: &Resize) -> (u32, u32) {
    let plan = ops::resize_plan(info.width, info.height, resize, false);
    (plan.width.min(info.width), plan.height.min(info.height))
}

fn too_large(width: u32, height: u32, limits: &Limits) -> ImagingError {
    ImagingError::TooLarge(format!(
        "{width}x{height} is over the output limits ({} px a side, {} pixels)",
        limits.max_side, limits.max_pixels
    ))
}

/// The size to render an SVG at so that a leading resize needs no resampling: the resize's
/// scaled size (before any cover crop), planned like every resize with `enlarge`
/// defaulting to true for a vector.
fn svg_render_size((width, height): (u32, u32), resize: &Resize) -> (u32, u32) {
    let plan = ops::resize_plan(width, height, resize, true);
    (plan.width, plan.height)
}

/// The EXIF and XMP a `strip=false` output carries over, orientation reset to 1.
fn embedded(bytes: &[u8], format: ImageFormat) -> Embedded {
    match format {
        ImageFormat::Jpeg => metadata::jpeg_metadata(bytes).0,
        ImageFormat::Webp => metadata::webp_metadata(bytes),
        ImageFormat::Png => {
            let reader = ImageReader::with_format(Cursor::new(bytes), image::ImageFormat::Png);
            let Ok(mut decoder) = reader.into_decoder() else { return Embedded::default() };
            let exif = decoder.exif_metadata().ok().flatten();
            let xmp = decoder.xmp_metadata().ok().flatten();
            Embedded { exif: exif.map(|exif| metadata::exif_upright(&exif)), xmp }
        }
        // Their containers' metadata is not carried (see `encode`).
        ImageFormat::Gif
        | ImageFormat::Tiff
        | ImageFormat::Bmp
        | ImageFormat::Avif
        | ImageFormat::Svg => Embedded::default(),
    }
}

#[cfg(test)]
mod tests;
