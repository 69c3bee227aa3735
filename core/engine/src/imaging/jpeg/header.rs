//! Marker segments: frame header, scan headers, tables.

use super::huffman::HuffmanTable;
use crate::imaging::ImagingError;

/// Natural (row-major) position of the n-th coefficient in zigzag order.
pub(super) const ZIGZAG_TO_NATURAL: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// One colour component of the frame.
pub(super) struct Component {
    pub id: u8,
    pub h: usize,
    pub v: usize,
    /// Quantisation table selector.
    pub tq: usize,
    /// Blocks per row and rows of blocks, padded to whole MCUs.
    pub blocks_w: usize,
    pub blocks_h: usize,
    /// Blocks a non-interleaved scan of this component covers (not padded to MCUs).
    pub scan_blocks_w: usize,
    pub scan_blocks_h: usize,
}

/// The SOFn header, plus what follows from it.
pub(super) struct Frame {
    pub width: usize,
    pub height: usize,
    pub progressive: bool,
    pub components: Vec<Component>,
    pub h_max: usize,
    pub v_max: usize,
    pub mcus_x: usize,
    pub mcus_y: usize,
}

/// What a frame header can turn out to be.
pub(super) enum FrameKind {
    /// 8-bit Huffman baseline/extended (SOF0/SOF1) or progressive (SOF2).
    Supported(Frame),
    /// A JPEG this decoder leaves to the full decoder.
    Unsupported,
}

/// Parses a SOF0/1/2 segment body.
pub(super) fn parse_frame(body: &[u8], progressive: bool) -> Result<FrameKind, ImagingError> {
    if body.len() < 6 {
        return Err(invalid("truncated frame header"));
    }
    let precision = body[0];
    let height = usize::from(u16::from_be_bytes([body[1], body[2]]));
    let width = usize::from(u16::from_be_bytes([body[3], body[4]]));
    let count = usize::from(body[5]);
    // Height 0 means the height comes later in a DNL marker: rare enough to leave alone.
    if precision != 8 || height == 0 || width == 0 || !(count == 1 || count == 3) {
        return Ok(FrameKind::Unsupported);
    }
    if body.len() < 6 + 3 * count {
        return Err(invalid("truncated frame header"));
    }
    let mut components = Vec::with_capacity(count);
    for spec in body[6..6 + 3 * count].chunks_exact(3) {
        let (h, v, tq) =
            (usize::from(spec[1] >> 4), usize::from(spec[1] & 15), usize::from(spec[2]));
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
            return Err(invalid("bad component in frame header"));
        }
        components.push(Component {
            id: spec[0],
            h,
            v,
            tq,
            blocks_w: 0,
            blocks_h: 0,
            scan_blocks_w: 0,
            scan_blocks_h: 0,
        });
    }
    let h_max = components.iter().map(|c| c.h).max().unwrap_or(1);
    let v_max = components.iter().map(|c| c.v).max().unwrap_or(1);
    // Fractional subsampling ratios (e.g. H=3 beside H=2) exist only in test suites.
    if components.iter().any(|c| h_max % c.h != 0 || v_max % c.v != 0) {
        return Ok(FrameKind::Unsupported);
    }
    // A single-component frame is always coded one block per MCU, whatever its factors say.
    let (h_max, v_max) = if count == 1 { (1, 1) } else { (h_max, v_max) };
    if count == 1 {
        components[0].h = 1;
        components[0].v = 1;
    }
    let mcus_x = width.div_ceil(8 * h_max);
    let mcus_y = height.div_ceil(8 * v_max);
    for c in &mut components {
        c.blocks_w = mcus_x * c.h;
        c.blocks_h = mcus_y * c.v;
        c.scan_blocks_w = (width * c.h).div_ceil(h_max).div_ceil(8);
        c.scan_blocks_h = (height * c.v).div_ceil(v_max).div_ceil(8);
    }
    Ok(FrameKind::Supported(Frame {
        width,
        height,
        progressive,
        components,
        h_max,
        v_max,
        mcus_x,
        mcus_y,
    }))
}

/// One component of a scan: which frame component, which tables.
pub(super) struct ScanComponent {
    pub index: usize,
    pub dc_table: usize,
    pub ac_table: usize,
}

/// An SOS header.
pub(super) struct Scan {
    pub components: Vec<ScanComponent>,
    /// Spectral selection start and end (zigzag indices).
    pub ss: usize,
    pub se: usize,
    /// Successive approximation: previous and current point transform.
    pub ah: u32,
    pub al: u32,
}

/// Parses an SOS segment body against the frame.
pub(super) fn parse_scan(body: &[u8], frame: &Frame) -> Result<Scan, ImagingError> {
    let count = usize::from(*body.first().ok_or_else(|| invalid("truncated scan header"))?);
    if count == 0 || count > frame.components.len() || body.len() < 1 + 2 * count + 3 {
        return Err(invalid("bad scan header"));
    }
    let mut components = Vec::with_capacity(count);
    for spec in body[1..1 + 2 * count].chunks_exact(2) {
        let index = frame
            .components
            .iter()
            .position(|c| c.id == spec[0])
            .ok_or_else(|| invalid("scan names an unknown component"))?;
        if components.iter().any(|c: &ScanComponent| c.index == index) {
            return Err(invalid("scan names a component twice"));
        }
        components.push(ScanComponent {
            index,
            dc_table: usize::from(spec[1] >> 4) & 3,
            ac_table: usize::from(spec[1] & 15) & 3,
        });
    }
    let tail = &body[1 + 2 * count..];
    let (ss, se) = (usize::from(tail[0]), usize::from(tail[1]));
    let (ah, al) = (u32::from(tail[2] >> 4), u32::from(tail[2] & 15));
    let blocks_per_mcu: usize =
        components.iter().map(|c| frame.components[c.index].h * frame.components[c.index].v).sum();
    let valid = if frame.progressive {
        // DC scans carry nothing else; AC scans are single-component.
        ss <= se && se <= 63 && (ss == 0) == (se == 0) && (ss == 0 || count == 1) && al <= 13
    } else {
        ss == 0 && se == 63 && ah == 0 && al == 0
    };
    if !valid || (count > 1 && blocks_per_mcu > 10) {
        return Err(invalid("bad scan header"));
    }
    Ok(Scan { components, ss, se, ah, al })
}

/// Huffman tables by class (0 = DC, 1 = AC) and slot.
pub(super) type HuffmanTables = [[Option<HuffmanTable>; 4]; 2];

/// Parses a DHT segment body into `tables`.
pub(super) fn parse_huffman(
    mut body: &[u8],
    tables: &mut HuffmanTables,
) -> Result<(), ImagingError> {
    while !body.is_empty() {
        if body.len() < 17 {
            return Err(invalid("truncated Huffman table"));
        }
        let (class, slot) = (usize::from(body[0] >> 4), usize::from(body[0] & 15));
        if class > 1 || slot > 3 {
            return Err(invalid("bad Huffman table"));
        }
        let counts: [u8; 16] = body[1..17].try_into().expect("16 bytes");
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = body.get(17..17 + total).ok_or_else(|| invalid("truncated Huffman table"))?;
        tables[class][slot] = Some(HuffmanTable::new(&counts, symbols)?);
        body = &body[17 + total..];
    }
    Ok(())
}

/// Quantisation tables by slot, in natural order.
pub(super) type QuantTables = [Option<[u16; 64]>; 4];

/// Parses a DQT segment body into `tables`.
pub(super) fn parse_quant(mut body: &[u8], tables: &mut QuantTables) -> Result<(), ImagingError> {
    while !body.is_empty() {
        let (precision, slot) = (body[0] >> 4, usize::from(body[0] & 15));
        let size = if precision == 0 { 64 } else { 128 };
        if precision > 1 || slot > 3 || body.len() < 1 + size {
            return Err(invalid("bad quantisation table"));
        }
        let mut table = [0u16; 64];
        for (k, &natural) in ZIGZAG_TO_NATURAL.iter().enumerate() {
            table[natural] = if precision == 0 {
                u16::from(body[1 + k])
            } else {
                u16::from_be_bytes([body[1 + 2 * k], body[2 + 2 * k]])
            };
        }
        tables[slot] = Some(table);
        body = &body[1 + size..];
    }
    Ok(())
}

pub(super) fn invalid(message: &str) -> ImagingError {
    ImagingError::Invalid(message.to_owned())
}
