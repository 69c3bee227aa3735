//! Shrink-on-load JPEG decoding: straight to 1/8, 1/4 or 1/2 scale in the DCT domain.
//!
//! Thumbnails are bound by JPEG decoding, so the way to make them fast is to decode less.
//! At 1/8 scale each 8x8 block becomes one pixel, its DC coefficient: progressive files
//! decode only their DC scans and step over every AC scan without entropy-decoding it,
//! baseline files run the Huffman decoder over the AC coefficients without dequantising or
//! transforming them. At 1/4 and 1/2 scale every coefficient is decoded and each block goes
//! through a reduced 2x2 or 4x4 inverse DCT.
//!
//! Only 8-bit Huffman-coded baseline, extended and progressive JPEGs with one (grey) or three
//! (YCbCr) components are handled; anything else (arithmetic coding, 12-bit, lossless,
//! hierarchical, CMYK, Adobe RGB, DNL) yields `Ok(None)` so the caller falls back to the
//! full decoder.

mod bits;
mod color;
mod header;
mod huffman;
mod idct;
mod scan;
#[cfg(test)]
mod tests;

use self::color::Plane;
use self::header::{FrameKind, HuffmanTables, QuantTables, invalid};
use self::scan::{Coefficients, Keep};
use crate::imaging::ImagingError;
use crate::imaging::raster::Raster;

/// A JPEG decoded at a reduced scale, in the file's stored orientation.
#[derive(Debug, Clone)]
pub struct Scaled {
    /// `ceil(stored width / denominator)`.
    pub width: u32,
    /// `ceil(stored height / denominator)`.
    pub height: u32,
    /// Opaque RGBA8 pixels, `width x height`.
    pub pixels: Raster,
}

/// Decodes `bytes` at the smallest of 1/8, 1/4 and 1/2 scale whose output still covers
/// `min_width x min_height` (stored orientation: the caller swaps the targets for EXIF
/// rotations).
///
/// `Ok(None)` means no reduction applies or the file uses a feature this decoder leaves to
/// the full decoder. The caller is expected to have checked the header dimensions against
/// its limits: at 1/4 and 1/2 scale the coefficients of a whole progressive image are held.
pub fn decode_scaled(
    bytes: &[u8],
    min_width: u32,
    min_height: u32,
) -> Result<Option<Scaled>, ImagingError> {
    Decoder::new(bytes).run(min_width as usize, min_height as usize)
}

/// The largest of 8, 4, 2 whose output is still at least `min_width x min_height`.
fn pick_denominator(
    width: usize,
    height: usize,
    min_width: usize,
    min_height: usize,
) -> Option<usize> {
    [8, 4, 2]
        .into_iter()
        .find(|&d| width.div_ceil(d) >= min_width && height.div_ceil(d) >= min_height)
}

/// Marker-level state while walking the file.
struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    huffman: HuffmanTables,
    quant: QuantTables,
    restart_interval: usize,
    /// Set by an Adobe APP14 segment.
    adobe_transform: Option<u8>,
    saw_jfif: bool,
}

/// A decoded frame's state: geometry, scale and coefficients.
struct Image {
    frame: header::Frame,
    denominator: usize,
    coefficients: Coefficients,
    /// Each component's quantisation table, latched at its first scan (as libjpeg does).
    quant: Vec<Option<[u16; 64]>>,
    scans_decoded: usize,
}

impl<'a> Decoder<'a> {
    fn new(data: &'a [u8]) -> Decoder<'a> {
        Decoder {
            data,
            pos: 0,
            huffman: Default::default(),
            quant: [None; 4],
            restart_interval: 0,
            adobe_transform: None,
            saw_jfif: false,
        }
    }

    /// Reads the next marker code, stepping over fill bytes; `None` at the end of data.
    fn next_marker(&mut self) -> Option<u8> {
        while self.pos + 1 < self.data.len() {
            if self.data[self.pos] == 0xFF && !matches!(self.data[self.pos + 1], 0x00 | 0xFF) {
                let marker = self.data[self.pos + 1];
                self.pos += 2;
                return Some(marker);
            }
            self.pos += 1;
        }
        None
    }

    /// Reads a length-prefixed segment body.
    fn segment(&mut self) -> Result<&'a [u8], ImagingError> {
        let length = self
            .data
            .get(self.pos..self.pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| invalid("truncated JPEG segment"))?;
        let body = self
            .data
            .get(self.pos + 2..self.pos + length.max(2))
            .ok_or_else(|| invalid("truncated JPEG segment"))?;
        self.pos += length.max(2);
        Ok(body)
    }

    fn run(mut self, min_width: usize, min_height: usize) -> Result<Option<Scaled>, ImagingError> {
        if !self.data.starts_with(&[0xFF, 0xD8]) {
            return Err(invalid("not a JPEG"));
        }
        self.pos = 2;
        let mut image: Option<Image> = None;
        while let Some(marker) = self.next_marker() {
            match marker {
                0xD8 | 0x01 | 0xD0..=0xD7 => {}
                0xD9 => break,
                0xC0..=0xC2 => {
                    if image.is_some() {
                        return Err(invalid("more than one frame"));
                    }
                    let body = self.segment()?;
                    let frame = match header::parse_frame(body, marker == 0xC2)? {
                        FrameKind::Supported(frame) => frame,
                        FrameKind::Unsupported => return Ok(None),
                    };
                    if !self.colour_model_supported(&frame) {
                        return Ok(None);
                    }
                    let Some(denominator) =
                        pick_denominator(frame.width, frame.height, min_width, min_height)
                    else {
                        return Ok(None);
                    };
                    let keep = if denominator == 8 { Keep::Dc } else { Keep::All };
                    image = Some(Image {
                        coefficients: Coefficients::new(&frame, keep),
                        quant: vec![None; frame.components.len()],
                        frame,
                        denominator,
                        scans_decoded: 0,
                    });
                }
                // Lossless, hierarchical and arithmetic-coded frames, arithmetic tables.
                0xC3 | 0xC5..=0xCF => return Ok(None),
                0xC4 => header::parse_huffman(self.segment()?, &mut self.huffman)?,
                0xDB => header::parse_quant(self.segment()?, &mut self.quant)?,
                0xDD => {
                    let body = self.segment()?;
                    let bytes = body.get(..2).ok_or_else(|| invalid("truncated DRI segment"))?;
                    self.restart_interval = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
                }
                0xE0 => {
                    let body = self.segment()?;
                    self.saw_jfif |= body.starts_with(b"JFIF\0");
                }
                0xEE => {
                    let body = self.segment()?;
                    if body.starts_with(b"Adobe") && body.len() >= 12 {
                        self.adobe_transform = Some(body[11]);
                    }
                }
                0xDA => {
                    let image = image.as_mut().ok_or_else(|| invalid("scan before frame"))?;
                    let body = self.segment()?;
                    self.scan(image, body)?;
                }
                _ => {
                    self.segment()?;
                }
            }
        }
        match image {
            Some(image) if image.scans_decoded > 0 => image.finish().map(Some),
            _ => Err(invalid("JPEG has no image data")),
        }
    }

    /// `true` for grey and YCbCr; RGB-coded three-component files go to the full decoder.
    fn colour_model_supported(&self, frame: &header::Frame) -> bool {
        if frame.components.len() == 1 {
            return true;
        }
        match self.adobe_transform {
            Some(transform) => transform == 1,
            // libjpeg's rule: without JFIF or Adobe markers, component ids 'R','G','B' mean RGB.
            None => self.saw_jfif || frame.components.iter().map(|c| c.id).ne([b'R', b'G', b'B']),
        }
    }

    /// Decodes (or steps over) one scan whose header is `body`; leaves `pos` on the next
    /// marker.
    fn scan(&mut self, image: &mut Image, body: &[u8]) -> Result<(), ImagingError> {
        let scan = header::parse_scan(body, &image.frame)?;
        let start = self.pos;
        // At 1/8 scale only DC coefficients matter: AC scans are skipped unread.
        let wanted = image.coefficients.keep == Keep::All || scan.ss == 0;
        let mut end = start;
        if wanted {
            for sc in &scan.components {
                let tq = image.frame.components[sc.index].tq;
                if image.quant[sc.index].is_none() {
                    image.quant[sc.index] = Some(
                        self.quant[tq]
                            .ok_or_else(|| invalid("scan before its quantisation table"))?,
                    );
                }
            }
            end = scan::decode_scan(
                self.data,
                start,
                &image.frame,
                &scan,
                &self.huffman,
                self.restart_interval,
                &mut image.coefficients,
            )?;
            image.scans_decoded += 1;
        }
        self.pos = bits::next_marker(self.data, end, true);
        Ok(())
    }
}

impl Image {
    /// Turns the coefficients into pixels at the chosen scale.
    fn finish(self) -> Result<Scaled, ImagingError> {
        let frame = &self.frame;
        let d = self.denominator;
        let scale = 8 / d;
        let out_width = frame.width.div_ceil(d);
        let out_height = frame.height.div_ceil(d);
        let mut planes = Vec::with_capacity(frame.components.len());
        for (index, c) in frame.components.iter().enumerate() {
            // A component no scan ever covered stays mid-grey.
            let quant = self.quant[index].unwrap_or([0; 64]);
            let coefficients = &self.coefficients.planes[index];
            let plane = component_plane(coefficients, c.blocks_w, c.blocks_h, &quant, scale);
            planes.push(color::upsample(
                &plane,
                frame.h_max / c.h,
                frame.v_max / c.v,
                out_width,
                out_height,
            ));
        }
        let pixels = match planes.as_slice() {
            [y] => color::grey_to_rgba(y),
            [y, cb, cr] => color::ycbcr_to_rgba(y, cb, cr),
            _ => unreachable!("frames have one or three components"),
        };
        let (width, height) = (out_width as u32, out_height as u32);
        Ok(Scaled { width, height, pixels: Raster { width, height, pixels, opaque: true } })
    }
}

/// Runs the reduced IDCT (`scale` samples per block side) over a component's blocks.
fn component_plane(
    coefficients: &[i16],
    blocks_w: usize,
    blocks_h: usize,
    quant: &[u16; 64],
    scale: usize,
) -> Plane {
    let width = blocks_w * scale;
    let height = blocks_h * scale;
    let mut samples = vec![0u8; width * height];
    match scale {
        1 => {
            for (sample, &dc) in samples.iter_mut().zip(coefficients) {
                *sample = idct::idct_1x1(dc, quant[0]);
            }
        }
        2 | 4 => {
            let idct = if scale == 2 { idct::idct_2x2 } else { idct::idct_4x4 };
            for (index, block) in coefficients.chunks_exact(64).enumerate() {
                let (bx, by) = (index % blocks_w, index / blocks_w);
                let at = by * scale * width + bx * scale;
                idct(block, quant, &mut samples[at..], width);
            }
        }
        _ => unreachable!("scale is 1, 2 or 4"),
    }
    Plane { width, height, samples }
}
