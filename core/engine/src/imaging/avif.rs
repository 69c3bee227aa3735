//! AVIF input: avif-parse for the container (primary and alpha items), rav1d for the AV1
//! payloads, then YUV → RGB per the sequence header's matrix and range (8 to 12 bits), the
//! `colr` ICC profile converted to sRGB and the `irot` rotation applied (`imir` is not).
//!
//! rav1d only exposes dav1d's C API, whose functions are `unsafe extern "C"`. This module is
//! the one place that calls them; every call is wrapped so a `Dav1dContext` or `Dav1dPicture`
//! never leaves it, and each is released on every path.
#![allow(unsafe_code)]

use std::ffi::c_uint;
use std::io::Cursor;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_MC_BT470BG, DAV1D_MC_BT601, DAV1D_MC_BT709, DAV1D_MC_BT2020_CL, DAV1D_MC_BT2020_NCL,
    DAV1D_MC_IDENTITY, DAV1D_MC_SMPTE240, DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420,
    DAV1D_PIXEL_LAYOUT_I422,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

use moxcms::{ColorProfile, DataColorSpace};

use super::raster::Raster;
use super::{ImagingError, decode};
use crate::limits::Limits;

/// dav1d's "try again" result: `-EAGAIN`.
const EAGAIN: i32 = -11;

fn invalid(error: impl std::fmt::Display) -> ImagingError {
    ImagingError::Invalid(format!("the avif image does not decode: {error}"))
}

/// The primary image's displayed size (from its AV1 sequence header, turned per `irot`),
/// without decoding.
pub(crate) fn avif_size(bytes: &[u8]) -> Result<(u32, u32), ImagingError> {
    // avif-parse asserts on some malformed containers (a Rust panic, which unwinds): that
    // is a bad file, not a bug of ours. The decode itself runs in a sandbox child.
    std::panic::catch_unwind(|| container_size(bytes))
        .unwrap_or_else(|_| Err(invalid("the container is malformed")))
}

fn container_size(bytes: &[u8]) -> Result<(u32, u32), ImagingError> {
    let avif = avif_parse::read_avif(&mut Cursor::new(bytes)).map_err(invalid)?;
    let meta = avif.primary_item_metadata().map_err(invalid)?;
    let (width, height) = (meta.max_frame_width.get(), meta.max_frame_height.get());
    Ok(if properties(bytes).quarter_turns % 2 == 1 { (height, width) } else { (width, height) })
}

/// Item properties avif-parse does not expose, read from `meta/iprp/ipco`. They are taken as
/// the primary image's: item associations are not followed, which holds for single-image
/// files.
#[derive(Debug, Default, PartialEq, Eq)]
struct Properties {
    /// `irot`: anticlockwise quarter turns to display the image.
    quarter_turns: u8,
    /// `colr` of type `prof` or `rICC`.
    icc: Option<Vec<u8>>,
}

/// ISO-BMFF boxes in `data`: (type, payload); stops at the first malformed one.
fn boxes(data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
        let kind: [u8; 4] = data.get(at + 4..at + 8)?.try_into().ok()?;
        let (header, size) = match size {
            // Runs to the end of the enclosing data.
            0 => (8, data.len() - at),
            // A 64-bit size follows the type.
            1 => {
                let large = u64::from_be_bytes(data.get(at + 8..at + 16)?.try_into().ok()?);
                (16, usize::try_from(large).ok()?)
            }
            size => (8, size),
        };
        let payload = data.get(at + header..at.checked_add(size)?)?;
        at += size;
        Some((kind, payload))
    })
}

fn properties(bytes: &[u8]) -> Properties {
    fn child<'a>(data: &'a [u8], wanted: &[u8; 4]) -> Option<&'a [u8]> {
        boxes(data).find(|(kind, _)| kind == wanted).map(|(_, payload)| payload)
    }
    // `meta` is a full box: 4 bytes of version and flags before its children.
    let ipco = child(bytes, b"meta")
        .and_then(|meta| meta.get(4..))
        .and_then(|meta| child(meta, b"iprp"))
        .and_then(|iprp| child(iprp, b"ipco"));
    let mut properties = Properties::default();
    for (kind, payload) in ipco.into_iter().flat_map(boxes) {
        match &kind {
            b"irot" => properties.quarter_turns = payload.first().map_or(0, |a| a & 3),
            b"colr" if matches!(payload.get(..4), Some(b"prof" | b"rICC")) => {
                properties.icc.get_or_insert_with(|| payload[4..].to_vec());
            }
            _ => {}
        }
    }
    properties
}

/// Decodes the primary image (and its alpha item, if any) to an sRGB RGBA8 raster.
pub(crate) fn decode_avif(bytes: &[u8], limits: &Limits) -> Result<Raster, ImagingError> {
    let avif = avif_parse::read_avif(&mut Cursor::new(bytes)).map_err(invalid)?;
    let color = decode_av1(&avif.primary_item, limits)?;
    let alpha = avif.alpha_item.as_ref().map(|item| decode_av1(item, limits)).transpose()?;
    if let Some(alpha) = &alpha
        && (alpha.width, alpha.height) != (color.width, color.height)
    {
        return Err(invalid("alpha and colour sizes differ"));
    }
    let mut pixels = color.to_rgba();
    if let Some(alpha) = &alpha {
        alpha.write_alpha(&mut pixels);
        if avif.premultiplied_alpha {
            unpremultiply(&mut pixels);
        }
    }
    let properties = properties(bytes);
    if let Some(profile) = properties.icc.and_then(|icc| ColorProfile::new_from_slice(&icc).ok())
        && profile.color_space == DataColorSpace::Rgb
    {
        decode::rgba_to_srgb(&mut pixels, &profile);
    }
    // Anticlockwise quarter turns as the EXIF orientation that undoes them.
    let orientation = match properties.quarter_turns {
        1 => 8,
        2 => 3,
        3 => 6,
        _ => 1,
    };
    Ok(decode::orient(Raster::from_rgba(color.width, color.height, pixels), orientation))
}

/// One decoded AV1 frame, planes copied out of rav1d's buffers.
struct Planes {
    width: u32,
    height: u32,
    bit_depth: u32,
    /// Chroma subsampling shifts (x, y); `None` for monochrome.
    chroma: Option<(u32, u32)>,
    matrix: c_uint,
    full_range: bool,
    /// Samples widened to u16, row-major, no padding.
    y: Vec<u16>,
    u: Vec<u16>,
    v: Vec<u16>,
}

/// Owns a dav1d context; closes it on drop.
struct Decoder(Option<Dav1dContext>);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context came from `dav1d_open` and is closed once, here.
        unsafe { dav1d_close(NonNull::new(&mut self.0)) };
    }
}

/// Owns a picture returned by `dav1d_get_picture`; unrefs it on drop.
struct Picture(Dav1dPicture);

impl Drop for Picture {
    fn drop(&mut self) {
        // SAFETY: the picture was filled by `dav1d_get_picture` (or is default/empty).
        unsafe { dav1d_picture_unref(NonNull::new(&mut self.0)) };
    }
}

fn decode_av1(obus: &[u8], limits: &Limits) -> Result<Planes, ImagingError> {
    let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
    // SAFETY: `dav1d_default_settings` writes a whole `Dav1dSettings` into valid memory.
    let mut settings = unsafe {
        dav1d_default_settings(NonNull::new(settings.as_mut_ptr()).expect("non-null"));
        settings.assume_init()
    };
    // One thread: the service already runs one image per core.
    settings.n_threads = 1;
    settings.max_frame_delay = 1;
    // The decoder refuses frames over the pixel limit before allocating them.
    settings.frame_size_limit = c_uint::try_from(limits.max_pixels).unwrap_or(c_uint::MAX);

    let mut decoder = Decoder(None);
    // SAFETY: both pointers are to live locals.
    let opened = unsafe { dav1d_open(NonNull::new(&mut decoder.0), NonNull::new(&mut settings)) };
    if opened.0 != 0 || decoder.0.is_none() {
        return Err(invalid("the AV1 decoder did not start"));
    }

    let mut data = Dav1dData::default();
    // SAFETY: `data` is a live local; the returned buffer has `obus.len()` writable bytes.
    let buffer = unsafe { dav1d_data_create(NonNull::new(&mut data), obus.len()) };
    if buffer.is_null() {
        return Err(invalid("empty AV1 payload"));
    }
    // SAFETY: `buffer` points to `obus.len()` bytes owned by `data`, not aliased by `obus`.
    unsafe { std::ptr::copy_nonoverlapping(obus.as_ptr(), buffer, obus.len()) };

    let mut picture = Picture(Dav1dPicture::default());
    let result = loop {
        // SAFETY: the context is open; `data` is live and owned by this function.
        let sent = unsafe { dav1d_send_data(decoder.0, NonNull::new(&mut data)) };
        if sent.0 != 0 && sent.0 != EAGAIN {
            break Err(invalid(format!("AV1 data refused ({})", sent.0)));
        }
        // SAFETY: the context is open; `picture` is live and currently empty.
        let got = unsafe { dav1d_get_picture(decoder.0, NonNull::new(&mut picture.0)) };
        if got.0 == 0 {
            break Ok(());
        }
        if got.0 != EAGAIN {
            break Err(invalid(format!("AV1 frame does not decode ({})", got.0)));
        }
        if data.sz == 0 {
            break Err(invalid("AV1 payload holds no frame"));
        }
    };
    // SAFETY: `data` came from `dav1d_data_create`; unref is a no-op once consumed.
    unsafe { dav1d_data_unref(NonNull::new(&mut data)) };
    result?;
    copy_planes(&picture.0)
}

fn copy_planes(picture: &Dav1dPicture) -> Result<Planes, ImagingError> {
    let (width, height) = (picture.p.w, picture.p.h);
    let (Ok(width), Ok(height)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(invalid("bad picture size"));
    };
    let bit_depth = u32::try_from(picture.p.bpc).unwrap_or(0);
    if !(8..=12).contains(&bit_depth) || width == 0 || height == 0 {
        return Err(invalid("unsupported picture format"));
    }
    let chroma = match picture.p.layout {
        DAV1D_PIXEL_LAYOUT_I400 => None,
        DAV1D_PIXEL_LAYOUT_I420 => Some((1, 1)),
        DAV1D_PIXEL_LAYOUT_I422 => Some((1, 0)),
        _ => Some((0, 0)),
    };
    let Some(seq_hdr) = picture.seq_hdr else { return Err(invalid("no sequence header")) };
    // SAFETY: a returned picture points at its sequence header for as long as it is held.
    let seq_hdr = unsafe { seq_hdr.as_ref() };
    let read = |plane: usize, w: u32, h: u32| -> Result<Vec<u16>, ImagingError> {
        let base = picture.data[plane].ok_or_else(|| invalid("missing plane"))?;
        let stride = picture.stride[plane.min(1)];
        let mut out = Vec::with_capacity(w as usize * h as usize);
        for row in 0..h as isize {
            // SAFETY: dav1d planes hold `h` rows of at least `w` samples, `stride` bytes apart;
            // samples are u8 at 8 bits and u16 above.
            unsafe {
                let line = base.as_ptr().cast::<u8>().offset(row * stride);
                if bit_depth == 8 {
                    out.extend(
                        std::slice::from_raw_parts(line, w as usize).iter().map(|&s| u16::from(s)),
                    );
                } else {
                    out.extend_from_slice(std::slice::from_raw_parts(
                        line.cast::<u16>(),
                        w as usize,
                    ));
                }
            }
        }
        Ok(out)
    };
    let y = read(0, width, height)?;
    let (u, v) = match chroma {
        Some((sx, sy)) => {
            let (cw, ch) = ((width + sx) >> sx, (height + sy) >> sy);
            (read(1, cw, ch)?, read(2, cw, ch)?)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Planes {
        width,
        height,
        bit_depth,
        chroma,
        matrix: seq_hdr.mtrx,
        full_range: seq_hdr.color_range != 0,
        y,
        u,
        v,
    })
}

impl Planes {
    /// The (Kr, Kb) luma coefficients of the matrix; `None` for identity (GBR).
    fn coefficients(&self) -> Option<(f32, f32)> {
        match self.matrix {
            DAV1D_MC_IDENTITY => None,
            DAV1D_MC_BT709 => Some((0.2126, 0.0722)),
            DAV1D_MC_BT470BG | DAV1D_MC_BT601 => Some((0.299, 0.114)),
            DAV1D_MC_SMPTE240 => Some((0.212, 0.087)),
            DAV1D_MC_BT2020_NCL | DAV1D_MC_BT2020_CL => Some((0.2627, 0.0593)),
            // Unspecified: libavif and browsers assume BT.601.
            _ => Some((0.299, 0.114)),
        }
    }

    /// Converts to RGBA8, alpha opaque.
    fn to_rgba(&self) -> Vec<u8> {
        let max = ((1u32 << self.bit_depth) - 1) as f32;
        let scale = (1u32 << (self.bit_depth - 8)) as f32;
        // Limited range: luma 16..235 and chroma 16..240, scaled to the bit depth.
        let (y_offset, y_range, c_range) = if self.full_range {
            (0.0, max, max)
        } else {
            (16.0 * scale, 219.0 * scale, 224.0 * scale)
        };
        let half = (1u32 << (self.bit_depth - 1)) as f32;
        let coefficients = self.coefficients();
        let to_byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        let mut out = Vec::with_capacity(self.y.len() * 4);
        for row in 0..self.height {
            for col in 0..self.width {
                let i = (row * self.width + col) as usize;
                let y = (f32::from(self.y[i]) - y_offset) / y_range;
                let Some((sx, sy)) = self.chroma else {
                    let g = to_byte(y);
                    out.extend_from_slice(&[g, g, g, 255]);
                    continue;
                };
                let cw = (self.width + sx) >> sx;
                let c = ((row >> sy) * cw + (col >> sx)) as usize;
                let (r, g, b) = match coefficients {
                    Some((kr, kb)) => {
                        let cb = (f32::from(self.u[c]) - half) / c_range;
                        let cr = (f32::from(self.v[c]) - half) / c_range;
                        let kg = 1.0 - kr - kb;
                        let r = y + 2.0 * (1.0 - kr) * cr;
                        let b = y + 2.0 * (1.0 - kb) * cb;
                        (r, (y - kr * r - kb * b) / kg, b)
                    }
                    // Identity: Y holds G, U holds B, V holds R.
                    None => (
                        f32::from(self.v[c]) / max,
                        f32::from(self.y[i]) / max,
                        f32::from(self.u[c]) / max,
                    ),
                };
                out.extend_from_slice(&[to_byte(r), to_byte(g), to_byte(b), 255]);
            }
        }
        out
    }

    /// Writes this (monochrome) plane as the alpha of `rgba`.
    fn write_alpha(&self, rgba: &mut [u8]) {
        let max = ((1u32 << self.bit_depth) - 1) as f32;
        let (offset, range) = if self.full_range {
            (0.0, max)
        } else {
            let scale = (1u32 << (self.bit_depth - 8)) as f32;
            (16.0 * scale, 219.0 * scale)
        };
        for (pixel, &a) in rgba.chunks_exact_mut(4).zip(&self.y) {
            pixel[3] = ((f32::from(a) - offset) / range * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        }
    }
}

/// Premultiplied → straight alpha.
fn unpremultiply(rgba: &mut [u8]) {
    for pixel in rgba.chunks_exact_mut(4) {
        let a = u32::from(pixel[3]);
        if a != 0 && a != 255 {
            for c in &mut pixel[..3] {
                *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bmff(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reads_rotation_and_icc_properties() {
        let ipco = [bmff(b"colr", b"nclx\0\x01"), bmff(b"colr", b"profICC!"), bmff(b"irot", &[1])]
            .concat();
        let meta =
            [vec![0; 4], bmff(b"hdlr", &[0; 8]), bmff(b"iprp", &bmff(b"ipco", &ipco))].concat();
        let file = [bmff(b"ftyp", b"avif"), bmff(b"meta", &meta)].concat();
        assert_eq!(properties(&file), Properties { quarter_turns: 1, icc: Some(b"ICC!".to_vec()) });
        assert_eq!(properties(b"\0\0\0\x08ftyp"), Properties::default());
    }
}
