//! Limits on what one request may cost: bytes in, pixels decoded, pixels out, render time.

use std::time::Duration;

/// The bounds every decode, step and encode is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes per upload or fetch.
    pub max_bytes: u64,
    /// Pixels of one frame (width × height), input, any step, or output.
    pub max_pixels: u64,
    /// Longest side of any step's result or of the output.
    pub max_side: u32,
    /// Wall time one SVG render or AVIF decode may take in its sandbox process before the
    /// kernel stops it (whole seconds; the image is then refused as too costly).
    pub max_render: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_side: 16384,
            max_render: Duration::from_secs(20),
        }
    }
}

impl Limits {
    /// Whether a `width` × `height` frame is within the pixel limit (sides are not judged:
    /// an input may be long and thin as long as its area fits).
    pub fn input_fits(&self, width: u32, height: u32) -> bool {
        width > 0 && height > 0 && u64::from(width) * u64::from(height) <= self.max_pixels
    }

    /// Whether a step's result or the output fits both the side and the pixel limits.
    pub fn output_fits(&self, width: u32, height: u32) -> bool {
        width <= self.max_side && height <= self.max_side && self.input_fits(width, height)
    }
}
