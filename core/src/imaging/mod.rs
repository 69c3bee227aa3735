//! The image engine: pure, synchronous and bounded. Bytes + transform + limits → bytes.
//!
//! Nothing here does IO or knows about tokio; callers run it on blocking threads.

pub mod jpeg;
pub mod raster;

use std::collections::HashMap;

use uuid::Uuid;

use crate::format::ImageFormat;
use crate::limits::Limits;
use crate::spec::Transform;

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
}
