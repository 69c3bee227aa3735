//! Decoded pixels, the currency between decoders, steps and encoders.

/// RGBA8 pixels, straight (not premultiplied) alpha, row-major, no row padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    /// `width * height * 4` bytes.
    pub pixels: Vec<u8>,
    /// `true` when every alpha byte is 255 (lets steps and encoders skip alpha work).
    pub opaque: bool,
}

impl Raster {
    /// Wraps RGBA8 pixels; `opaque` is computed.
    pub fn from_rgba(width: u32, height: u32, pixels: Vec<u8>) -> Raster {
        debug_assert_eq!(pixels.len(), width as usize * height as usize * 4);
        let opaque = pixels.chunks_exact(4).all(|p| p[3] == 255);
        Raster { width, height, pixels, opaque }
    }

    /// Expands RGB8 pixels to an opaque raster.
    pub fn from_rgb(width: u32, height: u32, rgb: &[u8]) -> Raster {
        debug_assert_eq!(rgb.len(), width as usize * height as usize * 3);
        let mut pixels = Vec::with_capacity(width as usize * height as usize * 4);
        for p in rgb.chunks_exact(3) {
            pixels.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        Raster { width, height, pixels, opaque: true }
    }
}
