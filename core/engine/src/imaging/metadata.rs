//! Container structure read without decoding a pixel: stored size, EXIF orientation, frame
//! counts, embedded EXIF/XMP/ICC, and whether the container is complete.
//!
//! Every reader here only walks bounds-checked offsets in the input slice; none allocates in
//! proportion to what a header claims, so a hostile header costs nothing.

use image::metadata::Orientation;

/// What a container header says, sizes as stored (before orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    /// The EXIF orientation (1..=8), 1 when absent or invalid.
    pub orientation: u8,
}

impl Header {
    /// The size as displayed: orientations 5..=8 turn the image a quarter.
    pub fn displayed_size(&self) -> (u32, u32) {
        if (5..=8).contains(&self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Metadata copied to outputs when `strip=false`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Embedded {
    /// EXIF as a TIFF structure (no `Exif\0\0` prefix), orientation already reset to 1.
    pub exif: Option<Vec<u8>>,
    /// The XMP packet.
    pub xmp: Option<Vec<u8>>,
}

/// A malformed or truncated container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

type Result<T> = std::result::Result<T, Malformed>;

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

/// The orientation an EXIF TIFF structure declares, 1 when none or invalid.
pub(crate) fn exif_orientation(exif: &[u8]) -> u8 {
    Orientation::from_exif_chunk(exif).map_or(1, Orientation::to_exif)
}

/// A copy of an EXIF TIFF structure with its orientation set to 1 (the pixels are turned).
pub(crate) fn exif_upright(exif: &[u8]) -> Vec<u8> {
    let mut copy = exif.to_vec();
    let _ = Orientation::remove_from_exif_chunk(&mut copy);
    copy
}

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const ICC_PREFIX: &[u8] = b"ICC_PROFILE\0";

/// One JPEG marker segment before the first scan.
struct Segment<'a> {
    marker: u8,
    payload: &'a [u8],
}

/// The marker segments from SOI up to (not including) the first SOS.
fn jpeg_segments(bytes: &[u8]) -> impl Iterator<Item = Result<Segment<'_>>> {
    let mut at = 2;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        // Markers may be preceded by any number of 0xFF fill bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            done = true;
            return Some(Err(Malformed("JPEG marker expected")));
        };
        if marker == 0xDA || marker == 0xD9 {
            done = true;
            return None;
        }
        let Some(length) = be16(bytes, at + 2).map(usize::from) else {
            done = true;
            return Some(Err(Malformed("truncated JPEG segment")));
        };
        let Some(payload) = bytes.get(at + 4..at + 2 + length).filter(|_| length >= 2) else {
            done = true;
            return Some(Err(Malformed("truncated JPEG segment")));
        };
        at += 2 + length;
        Some(Ok(Segment { marker, payload }))
    })
}

/// JPEG: the frame header (SOFn) and any EXIF orientation before it.
pub(crate) fn jpeg_header(bytes: &[u8]) -> Result<Header> {
    let mut orientation = 1;
    for segment in jpeg_segments(bytes) {
        let Segment { marker, payload } = segment?;
        match marker {
            0xE1 if payload.starts_with(EXIF_PREFIX) => {
                orientation = exif_orientation(&payload[EXIF_PREFIX.len()..]);
            }
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(payload, 1).ok_or(Malformed("truncated JPEG frame header"))?;
                let width = be16(payload, 3).ok_or(Malformed("truncated JPEG frame header"))?;
                return Ok(Header {
                    width: width.into(),
                    height: height.into(),
                    frames: 1,
                    orientation,
                });
            }
            _ => {}
        }
    }
    Err(Malformed("JPEG without a frame header"))
}

/// JPEG: EXIF and XMP (APP1) and the ICC profile (APP2 chunks, in sequence order).
pub(crate) fn jpeg_metadata(bytes: &[u8]) -> (Embedded, Option<Vec<u8>>) {
    let mut embedded = Embedded::default();
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    for Segment { marker, payload } in jpeg_segments(bytes).map_while(|s| s.ok()) {
        match marker {
            0xE1 if payload.starts_with(EXIF_PREFIX) && embedded.exif.is_none() => {
                embedded.exif = Some(exif_upright(&payload[EXIF_PREFIX.len()..]));
            }
            0xE1 if payload.starts_with(XMP_PREFIX) && embedded.xmp.is_none() => {
                embedded.xmp = Some(payload[XMP_PREFIX.len()..].to_vec());
            }
            0xE2 if payload.starts_with(ICC_PREFIX) && payload.len() > ICC_PREFIX.len() + 2 => {
                let sequence = payload[ICC_PREFIX.len()];
                icc_chunks.push((sequence, &payload[ICC_PREFIX.len() + 2..]));
            }
            _ => {}
        }
    }
    icc_chunks.sort_by_key(|(sequence, _)| *sequence);
    let icc = (!icc_chunks.is_empty())
        .then(|| icc_chunks.iter().flat_map(|(_, c)| *c).copied().collect());
    (embedded, icc)
}

/// JPEG: whether the file holds every scan up to an EOI marker. Decoders pad a truncated scan
/// with grey instead of failing, so completeness is judged from the structure.
pub(crate) fn jpeg_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    loop {
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(0xFF), Some(&marker)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        match marker {
            0xD9 => return true,
            // Standalone markers without a length.
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let Some(length) = be16(bytes, at + 2).map(usize::from) else { return false };
                if length < 2 || at + 2 + length > bytes.len() {
                    return false;
                }
                at += 2 + length;
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker other than a stuffed zero
                    // or a restart marker.
                    loop {
                        let Some(offset) = bytes[at..].iter().position(|&b| b == 0xFF) else {
                            return false;
                        };
                        at += offset;
                        match bytes.get(at + 1) {
                            Some(0x00 | 0xD0..=0xD7 | 0xFF) => at += 1,
                            Some(_) => break,
                            None => return false,
                        }
                    }
                }
            }
        }
    }
}

/// One PNG or RIFF chunk.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
}

/// Chunks from `start` to `end`, each read by `read` (which moves `at` past it); an error,
/// and the end, at the first chunk that runs past the end.
fn chunks<'a>(
    bytes: &'a [u8],
    (start, end): (usize, usize),
    truncated: &'static str,
    read: impl Fn(&'a [u8], &mut usize) -> Option<Chunk<'a>>,
) -> impl Iterator<Item = Result<Chunk<'a>>> {
    let mut at = start;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || at >= end {
            return None;
        }
        let chunk = read(bytes, &mut at);
        done = chunk.is_none();
        Some(chunk.ok_or(Malformed(truncated)))
    })
}

/// PNG chunks after the signature; an error for a chunk running past the end.
fn png_chunks(bytes: &[u8]) -> impl Iterator<Item = Result<Chunk<'_>>> {
    chunks(bytes, (8, bytes.len()), "truncated PNG chunk", |bytes, at| {
        let length = usize::try_from(be32(bytes, *at)?).ok()?;
        let kind: [u8; 4] = bytes.get(*at + 4..*at + 8)?.try_into().ok()?;
        let data = bytes.get(*at + 8..at.checked_add(8)?.checked_add(length)?)?;
        // The CRC must be there too.
        bytes.get(*at + 8 + length..*at + 12 + length)?;
        *at += 12 + length;
        Some(Chunk { kind, data })
    })
}

/// PNG: IHDR, and eXIf/acTL before the image data.
pub(crate) fn png_header(bytes: &[u8]) -> Result<Header> {
    let mut chunks = png_chunks(bytes);
    let ihdr = chunks.next().ok_or(Malformed("PNG without IHDR"))??;
    if &ihdr.kind != b"IHDR" || ihdr.data.len() != 13 {
        return Err(Malformed("PNG without IHDR"));
    }
    let mut header = Header {
        width: be32(ihdr.data, 0).unwrap_or(0),
        height: be32(ihdr.data, 4).unwrap_or(0),
        frames: 1,
        orientation: 1,
    };
    for chunk in chunks {
        let chunk = chunk?;
        match &chunk.kind {
            b"eXIf" => header.orientation = exif_orientation(chunk.data),
            b"acTL" => header.frames = be32(chunk.data, 0).unwrap_or(1).max(1),
            b"IDAT" => break,
            _ => {}
        }
    }
    Ok(header)
}

/// A BMP's size from its info header (`BITMAPCOREHEADER` or later), heights of top-down
/// files made positive; `None` for anything else.
pub(crate) fn bmp_size(bytes: &[u8]) -> Option<(u64, u64)> {
    if !bytes.starts_with(b"BM") {
        return None;
    }
    let header_size = le32(bytes, 14)?;
    if header_size == 12 {
        let width = u16::from_le_bytes(bytes.get(18..20)?.try_into().ok()?);
        let height = u16::from_le_bytes(bytes.get(20..22)?.try_into().ok()?);
        return Some((width.into(), height.into()));
    }
    let width = i32::from_le_bytes(le32(bytes, 18)?.to_le_bytes());
    let height = i32::from_le_bytes(le32(bytes, 22)?.to_le_bytes());
    Some((u64::from(width.unsigned_abs()), u64::from(height.unsigned_abs())))
}

/// Bytes all of a PNG's compressed metadata (`iCCP`, `zTXt`, compressed `iTXt`) may
/// inflate to.
pub(crate) const MAX_PNG_METADATA: usize = 16 << 20;

/// PNG: whether the compressed metadata chunks inflate to at most [`MAX_PNG_METADATA`]
/// bytes together. Each is inflated into a buffer capped at what is left of the budget, so a
/// decompression bomb in a chunk costs at most that; the decoders that inflate them later
/// never see a document that got past this.
pub(crate) fn png_metadata_fits(bytes: &[u8]) -> bool {
    let mut left = MAX_PNG_METADATA;
    for chunk in png_chunks(bytes) {
        let Ok(chunk) = chunk else { return true };
        let compressed = match &chunk.kind {
            // keyword NUL method zlib-data
            b"iCCP" | b"zTXt" => keyword_end(chunk.data).and_then(|at| chunk.data.get(at + 2..)),
            // keyword NUL flag method language NUL translated-keyword NUL text
            b"iTXt" => keyword_end(chunk.data).and_then(|at| {
                if chunk.data.get(at + 1) != Some(&1) {
                    return None;
                }
                let rest = chunk.data.get(at + 3..)?;
                let language = memchr::memchr(0, rest)?;
                let translated = memchr::memchr(0, &rest[language + 1..])?;
                rest.get(language + translated + 2..)
            }),
            b"IDAT" => break,
            _ => None,
        };
        let Some(compressed) = compressed else { continue };
        match miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, left) {
            Ok(inflated) => left -= inflated.len(),
            Err(error) if error.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                return false;
            }
            // A corrupt stream is the decoder's to judge (it ignores bad ancillary chunks).
            Err(_) => {}
        }
    }
    true
}

/// Where a chunk's NUL-terminated keyword ends.
fn keyword_end(data: &[u8]) -> Option<usize> {
    memchr::memchr(0, &data[..data.len().min(80)])
}

/// PNG: whether every chunk is whole and the last is IEND.
pub(crate) fn png_complete(bytes: &[u8]) -> bool {
    let mut last = None;
    for chunk in png_chunks(bytes) {
        match chunk {
            Ok(chunk) => last = Some(chunk.kind),
            Err(_) => return false,
        }
    }
    last.as_ref() == Some(b"IEND")
}

/// RIFF chunks of a WebP file; an error for a chunk running past the end.
fn webp_chunks(bytes: &[u8]) -> impl Iterator<Item = Result<Chunk<'_>>> {
    let riff_end = le32(bytes, 4).map_or(0, |size| (size as usize).saturating_add(8));
    let end = riff_end.min(bytes.len());
    chunks(bytes, (12, end), "truncated WebP chunk", |bytes, at| {
        let kind: [u8; 4] = bytes.get(*at..*at + 4)?.try_into().ok()?;
        let size = le32(bytes, *at + 4)? as usize;
        let data = bytes.get(*at + 8..(*at + 8).checked_add(size)?)?;
        // Chunks are padded to an even size.
        *at += 8 + size + (size & 1);
        Some(Chunk { kind, data })
    })
}

/// WebP: the canvas (VP8X) or bitstream (VP8/VP8L) size, EXIF orientation, ANMF frames.
pub(crate) fn webp_header(bytes: &[u8]) -> Result<Header> {
    let mut size = None;
    let mut frames = 0;
    let mut orientation = 1;
    for chunk in webp_chunks(bytes) {
        let Chunk { kind, data } = chunk?;
        match &kind {
            b"VP8X" => {
                let width = le24(data, 4).ok_or(Malformed("truncated VP8X"))? + 1;
                let height = le24(data, 7).ok_or(Malformed("truncated VP8X"))? + 1;
                size = Some((width, height));
            }
            b"VP8 " if size.is_none() => {
                // Frame tag (3 bytes), start code, then 14-bit width and height.
                if data.get(3..6) != Some(&[0x9D, 0x01, 0x2A]) {
                    return Err(Malformed("bad VP8 start code"));
                }
                let width = le16(data, 6).ok_or(Malformed("truncated VP8"))? & 0x3FFF;
                let height = le16(data, 8).ok_or(Malformed("truncated VP8"))? & 0x3FFF;
                size = Some((width.into(), height.into()));
            }
            b"VP8L" if size.is_none() => {
                if data.first() != Some(&0x2F) {
                    return Err(Malformed("bad VP8L signature"));
                }
                let bits = le32(data, 1).ok_or(Malformed("truncated VP8L"))?;
                size = Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1));
            }
            b"ANMF" => frames += 1,
            b"EXIF" => orientation = exif_orientation(data),
            _ => {}
        }
    }
    let (width, height) = size.ok_or(Malformed("WebP without an image"))?;
    Ok(Header { width, height, frames: frames.max(1), orientation })
}

/// WebP: EXIF and XMP chunks.
pub(crate) fn webp_metadata(bytes: &[u8]) -> Embedded {
    let mut embedded = Embedded::default();
    for Chunk { kind, data } in webp_chunks(bytes).map_while(|c| c.ok()) {
        match &kind {
            b"EXIF" => embedded.exif = Some(exif_upright(data)),
            b"XMP " => embedded.xmp = Some(data.to_vec()),
            _ => {}
        }
    }
    embedded
}

/// WebP: whether the RIFF size fits the file and every chunk is whole.
pub(crate) fn webp_complete(bytes: &[u8]) -> bool {
    let declared = le32(bytes, 4).map_or(usize::MAX, |size| size as usize + 8);
    declared <= bytes.len() && webp_chunks(bytes).all(|chunk| chunk.is_ok())
}

/// GIF: the logical screen size and the number of complete frames.
pub(crate) struct GifLayout {
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    /// Every block is whole (a missing trailer after whole frames is tolerated).
    pub complete: bool,
}

/// GIF: walks the block structure (no LZW decoding) to count frames and check completeness.
pub(crate) fn gif_layout(bytes: &[u8]) -> Result<GifLayout> {
    let width = le16(bytes, 6).ok_or(Malformed("truncated GIF header"))?;
    let height = le16(bytes, 8).ok_or(Malformed("truncated GIF header"))?;
    let flags = *bytes.get(10).ok_or(Malformed("truncated GIF header"))?;
    let mut at = 13;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 0x07) + 1);
    }
    // Skips data sub-blocks; `None` when they run past the end.
    let skip_sub_blocks = |mut at: usize| -> Option<usize> {
        loop {
            let size = usize::from(*bytes.get(at)?);
            at += 1;
            if size == 0 {
                return Some(at);
            }
            at += size;
        }
    };
    let mut frames = 0;
    let complete = loop {
        match bytes.get(at) {
            // No trailer: acceptable when every frame so far is whole.
            None => break frames > 0,
            Some(0x3B) => break true,
            Some(0x21) => match skip_sub_blocks(at + 2) {
                Some(next) => at = next,
                None => break false,
            },
            Some(0x2C) => {
                let Some(&local) = bytes.get(at + 9) else { break false };
                at += 10;
                if local & 0x80 != 0 {
                    at += 3 << ((local & 0x07) + 1);
                }
                // LZW minimum code size, then the image data.
                match skip_sub_blocks(at + 1) {
                    Some(next) => {
                        at = next;
                        frames += 1;
                    }
                    None => break false,
                }
            }
            Some(_) => break false,
        }
    };
    Ok(GifLayout { width: width.into(), height: height.into(), frames: frames.max(1), complete })
}

/// TIFF: the number of pages (IFDs in the chain), bounded against loops.
pub(crate) fn tiff_pages(bytes: &[u8]) -> u32 {
    let read32 =
        |at: usize| if bytes.starts_with(b"II") { le32(bytes, at) } else { be32(bytes, at) };
    let read16 =
        |at: usize| if bytes.starts_with(b"II") { le16(bytes, at) } else { be16(bytes, at) };
    let mut pages = 0;
    let mut offset = read32(4);
    while let Some(at) = offset.map(|o| o as usize).filter(|&o| o != 0) {
        let Some(entries) = read16(at) else { break };
        pages += 1;
        // A loop in the chain would otherwise count forever; no real file has this many.
        if pages >= 10_000 {
            break;
        }
        let next = read32(at + 2 + 12 * usize::from(entries));
        // IFDs must move forward, which also rules out cycles.
        offset = next.filter(|&n| n as usize > at);
    }
    pages.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exif_with_orientation(orientation: u16) -> Vec<u8> {
        let mut exif = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
        exif.extend_from_slice(&orientation.to_be_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        exif
    }

    #[test]
    fn exif_orientation_read_and_reset() {
        let exif = exif_with_orientation(6);
        assert_eq!(exif_orientation(&exif), 6);
        assert_eq!(exif_orientation(&exif_upright(&exif)), 1);
        assert_eq!(exif_orientation(b"garbage"), 1);
    }

    #[test]
    fn displayed_size_turns_for_quarter_orientations() {
        let header = Header { width: 4, height: 2, frames: 1, orientation: 6 };
        assert_eq!(header.displayed_size(), (2, 4));
        assert_eq!(Header { orientation: 3, ..header }.displayed_size(), (4, 2));
    }

    #[test]
    fn jpeg_scan_needs_eoi() {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0xFF, 0xD0, 0x34];
        assert!(!jpeg_complete(&jpeg));
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        assert!(jpeg_complete(&jpeg));
    }

    #[test]
    fn gif_without_trailer_is_complete_only_with_whole_frames() {
        // 1x1, no global colour table, one image with one sub-block.
        let mut gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00]);
        let layout = gif_layout(&gif).unwrap();
        assert!(layout.complete);
        assert_eq!(layout.frames, 1);
        gif.truncate(gif.len() - 2);
        assert!(!gif_layout(&gif).unwrap().complete);
    }
}
