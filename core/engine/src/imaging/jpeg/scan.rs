//! Entropy decoding of one scan: the MCU walk (with restart intervals) and the block
//! decoders for each kind of scan.

use super::bits::BitReader;
use super::header::{Frame, HuffmanTables, Scan, ZIGZAG_TO_NATURAL, invalid};
use super::huffman::HuffmanTable;
use crate::imaging::ImagingError;

/// Coefficients kept per block: only the DC (1/8 scale) or all 64 in natural order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    Dc,
    All,
}

impl Keep {
    fn stride(self) -> usize {
        match self {
            Keep::Dc => 1,
            Keep::All => 64,
        }
    }
}

/// Quantised coefficients of every component, `blocks_w * blocks_h * stride` each.
pub(super) struct Coefficients {
    pub keep: Keep,
    pub planes: Vec<Vec<i16>>,
}

impl Coefficients {
    /// Zeroed planes for `frame`.
    pub(super) fn new(frame: &Frame, keep: Keep) -> Coefficients {
        let planes = frame
            .components
            .iter()
            .map(|c| vec![0i16; c.blocks_w * c.blocks_h * keep.stride()])
            .collect();
        Coefficients { keep, planes }
    }
}

/// Per scan component: where its blocks go and which tables decode them.
struct Slot<'t> {
    component: usize,
    blocks_w: usize,
    dc: Option<&'t HuffmanTable>,
    ac: Option<&'t HuffmanTable>,
}

/// Decodes one entropy-coded segment starting at `start` into `coefficients`.
///
/// Returns the position where the reader stopped (at or before the next marker).
pub(super) fn decode_scan(
    data: &[u8],
    start: usize,
    frame: &Frame,
    scan: &Scan,
    tables: &HuffmanTables,
    restart_interval: usize,
    coefficients: &mut Coefficients,
) -> Result<usize, ImagingError> {
    let needs_dc = scan.ss == 0 && scan.ah == 0;
    let needs_ac = scan.se > 0 && (scan.ss > 0 || !frame.progressive);
    let mut slots = Vec::with_capacity(scan.components.len());
    for sc in &scan.components {
        let table = |class: usize, slot: usize, needed: bool| match &tables[class][slot] {
            Some(table) => Ok(Some(table)),
            None if needed => Err(invalid("scan uses an undefined Huffman table")),
            None => Ok(None),
        };
        slots.push(Slot {
            component: sc.index,
            blocks_w: frame.components[sc.index].blocks_w,
            dc: table(0, sc.dc_table, needs_dc)?,
            ac: table(1, sc.ac_table, needs_ac)?,
        });
    }
    let mut reader = BitReader::new(data, start);
    let keep = coefficients.keep;
    let planes = &mut coefficients.planes;
    let stride = keep.stride();
    let walk = Walk { frame, scan, restart_interval };
    if !frame.progressive {
        let planes = Planes { slots, planes, stride };
        let mut decoder = Sequential { planes, keep, predictors: [0; 4] };
        walk.run(&mut reader, &mut decoder)?;
    } else if scan.ss == 0 && scan.ah == 0 {
        let planes = Planes { slots, planes, stride };
        let mut decoder = DcFirst { planes, al: scan.al, predictors: [0; 4] };
        walk.run(&mut reader, &mut decoder)?;
    } else if scan.ss == 0 {
        let mut decoder = DcRefine { planes: Planes { slots, planes, stride }, bit: 1 << scan.al };
        walk.run(&mut reader, &mut decoder)?;
    } else if keep == Keep::All {
        let slot = slots.swap_remove(0);
        let ac = slot.ac.expect("checked above");
        let plane = &mut planes[slot.component];
        let band = Band { ac, plane, scan, blocks_w: slot.blocks_w, eob_run: 0 };
        if scan.ah == 0 {
            walk.run(&mut reader, &mut AcFirst(band))?;
        } else {
            walk.run(&mut reader, &mut AcRefine(band))?;
        }
    }
    Ok(reader.position())
}

/// Which block a decoder is handed: the scan component's slot and the block's position
/// in that component's grid.
#[derive(Clone, Copy)]
struct BlockAt {
    slot: usize,
    bx: usize,
    by: usize,
}

/// Decodes blocks in scan order; `reset` runs at each restart marker.
trait BlockDecoder {
    fn reset(&mut self);
    fn block(&mut self, reader: &mut BitReader, at: BlockAt) -> Result<(), ImagingError>;
}

/// The coefficient planes a scan of several components writes, one slot per component.
struct Planes<'a, 't> {
    slots: Vec<Slot<'t>>,
    planes: &'a mut [Vec<i16>],
    stride: usize,
}

impl<'t> Planes<'_, 't> {
    /// The slot's tables, its component's plane and where the block's DC is in it.
    #[inline(always)]
    fn block(&mut self, at: BlockAt) -> (&Slot<'t>, &mut [i16], usize) {
        let s = &self.slots[at.slot];
        (s, &mut self.planes[s.component], (at.by * s.blocks_w + at.bx) * self.stride)
    }
}

/// What both kinds of progressive AC scan read and write: one component's band of
/// coefficients, with its end-of-band run.
struct Band<'a> {
    ac: &'a HuffmanTable,
    plane: &'a mut [i16],
    scan: &'a Scan,
    blocks_w: usize,
    eob_run: u32,
}

impl Band<'_> {
    /// The 64 coefficients of a block.
    #[inline(always)]
    fn block(&mut self, at: BlockAt) -> &mut [i16] {
        let start = (at.by * self.blocks_w + at.bx) * 64;
        &mut self.plane[start..start + 64]
    }
}

/// The block order of one scan (A.2): MCU by MCU when interleaved, else the component's
/// own block grid.
struct Walk<'a> {
    frame: &'a Frame,
    scan: &'a Scan,
    restart_interval: usize,
}

impl Walk<'_> {
    fn run(
        &self,
        reader: &mut BitReader,
        decoder: &mut impl BlockDecoder,
    ) -> Result<(), ImagingError> {
        let interleaved = self.scan.components.len() > 1;
        let (units_x, units_y) = if interleaved {
            (self.frame.mcus_x, self.frame.mcus_y)
        } else {
            let c = &self.frame.components[self.scan.components[0].index];
            (c.scan_blocks_w, c.scan_blocks_h)
        };
        let mut until_restart = self.restart_interval;
        for uy in 0..units_y {
            for ux in 0..units_x {
                if self.restart_interval > 0 {
                    if until_restart == 0 {
                        reader.restart();
                        decoder.reset();
                        until_restart = self.restart_interval;
                    }
                    until_restart -= 1;
                }
                if !interleaved {
                    decoder.block(reader, BlockAt { slot: 0, bx: ux, by: uy })?;
                    continue;
                }
                for (slot, sc) in self.scan.components.iter().enumerate() {
                    let c = &self.frame.components[sc.index];
                    for v in 0..c.v {
                        for h in 0..c.h {
                            let at = BlockAt { slot, bx: ux * c.h + h, by: uy * c.v + v };
                            decoder.block(reader, at)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Decodes a DC difference and returns the new predictor.
#[inline(always)]
fn decode_dc(
    reader: &mut BitReader,
    table: &HuffmanTable,
    predictor: i32,
) -> Result<i32, ImagingError> {
    reader.ensure32();
    let size = u32::from(table.decode(reader)?);
    if size > 15 {
        return Err(invalid("corrupt JPEG data: bad DC magnitude"));
    }
    Ok(predictor.wrapping_add(reader.receive_extend(size)))
}

/// Decodes the 63 AC coefficients of a sequential block, storing them into `block` (natural
/// order) when given, else only stepping over them.
#[inline(always)]
fn decode_ac_sequential(
    reader: &mut BitReader,
    table: &HuffmanTable,
    mut block: Option<&mut [i16]>,
) -> Result<(), ImagingError> {
    let mut k = 1usize;
    while k < 64 {
        reader.ensure32();
        let fast = table.ac_fast(reader);
        if fast != 0 {
            reader.consume((fast & 0xFF) as u32);
            k += ((fast >> 8) & 0xFF) as usize;
            if let Some(block) = block.as_deref_mut() {
                block[ZIGZAG_TO_NATURAL[k & 63]] = (fast >> 16) as i16;
            }
            k += 1;
            continue;
        }
        let symbol = table.decode(reader)?;
        let (run, size) = (usize::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 {
            if run != 15 {
                break;
            }
            k += 16;
            continue;
        }
        k += run;
        let value = reader.receive_extend(size);
        if k > 63 {
            return Err(invalid("corrupt JPEG data: AC coefficient past the block"));
        }
        if let Some(block) = block.as_deref_mut() {
            block[ZIGZAG_TO_NATURAL[k]] = value as i16;
        }
        k += 1;
    }
    if k > 64 {
        return Err(invalid("corrupt JPEG data: AC coefficient past the block"));
    }
    Ok(())
}

/// Baseline/extended sequential scans: DC and AC interleaved in each block.
struct Sequential<'a, 't> {
    planes: Planes<'a, 't>,
    keep: Keep,
    predictors: [i32; 4],
}

impl BlockDecoder for Sequential<'_, '_> {
    fn reset(&mut self) {
        self.predictors = [0; 4];
    }

    #[inline(always)]
    fn block(&mut self, reader: &mut BitReader, at: BlockAt) -> Result<(), ImagingError> {
        let keep = self.keep;
        let (s, plane, start) = self.planes.block(at);
        let (dc, ac) = (s.dc.expect("checked"), s.ac.expect("checked"));
        let predictor = decode_dc(reader, dc, self.predictors[at.slot])?;
        self.predictors[at.slot] = predictor;
        plane[start] = predictor as i16;
        match keep {
            // At 1/8 scale the AC coefficients are decoded only to find the next block.
            Keep::Dc => decode_ac_sequential(reader, ac, None),
            Keep::All => decode_ac_sequential(reader, ac, Some(&mut plane[start..start + 64])),
        }
    }
}

/// Progressive first DC scan (G.1.2.1): differences shifted by the point transform.
struct DcFirst<'a, 't> {
    planes: Planes<'a, 't>,
    al: u32,
    predictors: [i32; 4],
}

impl BlockDecoder for DcFirst<'_, '_> {
    fn reset(&mut self) {
        self.predictors = [0; 4];
    }

    #[inline(always)]
    fn block(&mut self, reader: &mut BitReader, at: BlockAt) -> Result<(), ImagingError> {
        let (s, plane, start) = self.planes.block(at);
        let predictor = decode_dc(reader, s.dc.expect("checked"), self.predictors[at.slot])?;
        self.predictors[at.slot] = predictor;
        plane[start] = predictor.wrapping_shl(self.al) as i16;
        Ok(())
    }
}

/// Progressive DC refinement scan: one raw bit per block.
struct DcRefine<'a, 't> {
    planes: Planes<'a, 't>,
    bit: i16,
}

impl BlockDecoder for DcRefine<'_, '_> {
    fn reset(&mut self) {}

    #[inline(always)]
    fn block(&mut self, reader: &mut BitReader, at: BlockAt) -> Result<(), ImagingError> {
        if reader.bit() {
            let (_, plane, start) = self.planes.block(at);
            plane[start] |= self.bit;
        }
        Ok(())
    }
}

/// Progressive first AC scan (G.1.2.2) of one component, with end-of-band runs.
struct AcFirst<'a>(Band<'a>);

impl BlockDecoder for AcFirst<'_> {
    fn reset(&mut self) {
        self.0.eob_run = 0;
    }

    fn block(&mut self, reader: &mut BitReader, at: BlockAt) -> Result<(), ImagingError> {
        let band = &mut self.0;
        if band.eob_run > 0 {
            band.eob_run -= 1;
            return Ok(());
        }
        let (ac, ss, se, al) = (band.ac, band.scan.ss, band.scan.se, band.scan.al);
        let mut eob_run = 0;
        let block = band.block(at);
        let mut k = ss;
        while k <= se {
            reader.ensure32();
            let symbol = ac.decode(reader)?;
            let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
            if size == 0 {
                if run < 15 {
                    eob_run = (1 << run) - 1 + reader.bits(run);
                    break;
                }
                k += 16;
                continue;
            }
            k += run as usize;
            let value = reader.receive_extend(size);
            if k > se {
                return Err(invalid("corrupt JPEG data: AC coefficient past the band"));
            }
            block[ZIGZAG_TO_NATURAL[k]] = value.wrapping_shl(al) as i16;
            k += 1;
        }
        band.eob_run = eob_run;
        Ok(())
    }
}

/// Progressive AC refinement scan (G.1.2.3) of one component: correction bits for the
/// coefficients already non-zero, and new coefficients of magnitude 1.
struct AcRefine<'a>(Band<'a>);

/// Reads a correction bit for a non-zero coefficient.
#[inline(always)]
fn refine(reader: &mut BitReader, coefficient: &mut i16, bit: i16) {
    if reader.bit() && *coefficient & bit == 0 {
        *coefficient = if *coefficient >= 0 {
            coefficient.wrapping_add(bit)
        } else {
            coefficient.wrapping_sub(bit)
        };
    }
}

impl BlockDecoder for AcRefine<'_> {
    fn reset(&mut self) {
        self.0.eob_run = 0;
    }

    fn block(&mut self, reader: &mut BitReader, at: BlockAt) -> Result<(), ImagingError> {
        let band = &mut self.0;
        let (ac, ss, se) = (band.ac, band.scan.ss, band.scan.se);
        let bit: i16 = 1 << band.scan.al;
        let mut eob_run = band.eob_run;
        let block = band.block(at);
        let mut k = ss;
        if eob_run == 0 {
            while k <= se {
                reader.ensure32();
                let symbol = ac.decode(reader)?;
                let (mut run, size) = (i32::from(symbol >> 4), symbol & 15);
                let mut new_value = 0i16;
                if size != 0 {
                    if size != 1 {
                        return Err(invalid("corrupt JPEG data: bad refinement magnitude"));
                    }
                    new_value = if reader.bit() { bit } else { -bit };
                } else if run != 15 {
                    eob_run = (1 << run) + reader.bits(run as u32);
                    break;
                }
                // Skip `run` zero coefficients, refining the non-zero ones passed on the way.
                while k <= se {
                    let coefficient = &mut block[ZIGZAG_TO_NATURAL[k]];
                    if *coefficient != 0 {
                        refine(reader, coefficient, bit);
                    } else {
                        if run == 0 {
                            break;
                        }
                        run -= 1;
                    }
                    k += 1;
                }
                if new_value != 0 && k <= se {
                    block[ZIGZAG_TO_NATURAL[k]] = new_value;
                }
                k += 1;
            }
        }
        if eob_run > 0 {
            // Inside an end-of-band run: only correction bits for the non-zero coefficients.
            while k <= se {
                let coefficient = &mut block[ZIGZAG_TO_NATURAL[k]];
                if *coefficient != 0 {
                    refine(reader, coefficient, bit);
                }
                k += 1;
            }
            eob_run -= 1;
        }
        band.eob_run = eob_run;
        Ok(())
    }
}
