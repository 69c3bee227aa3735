//! Huffman tables with lookahead: one table lookup decodes most codes, and for AC tables
//! most (run, coefficient) pairs including their extra bits.

use super::bits::BitReader;
use crate::imaging::ImagingError;

/// Lookahead width: 9-10 bits cover ~95% of the codes in photographic JPEGs.
const FAST_BITS: u32 = 10;

/// One DHT table, expanded for decoding.
pub(super) struct HuffmanTable {
    /// Indexed by the next `FAST_BITS` bits: `(code length << 8) | symbol`, or 0 when the
    /// code is longer than `FAST_BITS`.
    lookup: Box<[u16; 1 << FAST_BITS]>,
    /// AC tables only, indexed like `lookup`: when a code and its extra bits both fit in
    /// `FAST_BITS`, `(value << 16) | (run << 8) | total bits`; 0 otherwise (also for
    /// EOB and ZRL, which carry no extra bits and go through `lookup`).
    ac_fast: Box<[i32; 1 << FAST_BITS]>,
    /// Largest code of each length (index 1..=16), -1 when there is none.
    max_code: [i32; 18],
    /// Added to a code of a given length to index `symbols`.
    symbol_offset: [i32; 17],
    symbols: [u8; 256],
}

impl HuffmanTable {
    /// Builds a table from the DHT code counts (per length 1..=16) and symbols.
    pub(super) fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<HuffmanTable, ImagingError> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != symbols.len() {
            return Err(invalid("bad Huffman table"));
        }
        let mut table = HuffmanTable {
            lookup: Box::new([0; 1 << FAST_BITS]),
            ac_fast: Box::new([0; 1 << FAST_BITS]),
            max_code: [-1; 18],
            symbol_offset: [0; 17],
            symbols: [0; 256],
        };
        table.symbols[..total].copy_from_slice(symbols);
        let mut code: u32 = 0;
        let mut index: usize = 0;
        for length in 1..=16u32 {
            let count = u32::from(counts[length as usize - 1]);
            if count > 0 {
                if code + count > 1 << length {
                    return Err(invalid("bad Huffman table: over-subscribed code"));
                }
                table.symbol_offset[length as usize] = index as i32 - code as i32;
                for _ in 0..count {
                    if length <= FAST_BITS {
                        let shift = FAST_BITS - length;
                        let first = (code << shift) as usize;
                        let entry = ((length as u16) << 8) | u16::from(symbols[index]);
                        table.lookup[first..first + (1 << shift)].fill(entry);
                    }
                    code += 1;
                    index += 1;
                }
                table.max_code[length as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        table.max_code[17] = i32::MAX;
        table.fill_ac_fast();
        Ok(table)
    }

    fn fill_ac_fast(&mut self) {
        for (look, &entry) in self.lookup.iter().enumerate() {
            if entry == 0 {
                continue;
            }
            let code_length = u32::from(entry >> 8);
            let symbol = entry as u8;
            let run = u32::from(symbol >> 4);
            let size = u32::from(symbol & 15);
            if size == 0 || code_length + size > FAST_BITS {
                continue;
            }
            let extra = (look as u32 >> (FAST_BITS - code_length - size)) & ((1 << size) - 1);
            let mut value = extra as i32;
            if value < 1 << (size - 1) {
                value += 1 - (1 << size);
            }
            self.ac_fast[look] = (value << 16) | (run << 8) as i32 | (code_length + size) as i32;
        }
    }

    /// Decodes one symbol; the reader must hold at least 16 valid bits.
    #[inline(always)]
    pub(super) fn decode(&self, reader: &mut BitReader) -> Result<u8, ImagingError> {
        let entry = self.lookup[reader.peek(FAST_BITS) as usize];
        if entry != 0 {
            reader.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        self.decode_long(reader)
    }

    #[cold]
    fn decode_long(&self, reader: &mut BitReader) -> Result<u8, ImagingError> {
        let bits = reader.peek(16) as i32;
        for length in FAST_BITS + 1..=16 {
            let code = bits >> (16 - length);
            if code <= self.max_code[length as usize] {
                reader.consume(length);
                let index = code + self.symbol_offset[length as usize];
                return Ok(self.symbols[index as usize & 255]);
            }
        }
        Err(invalid("corrupt JPEG data: bad Huffman code"))
    }

    /// The combined (value, run, bit count) entry for the next bits, or 0 when the slow
    /// path applies; the reader must hold at least `FAST_BITS` valid bits.
    #[inline(always)]
    pub(super) fn ac_fast(&self, reader: &BitReader) -> i32 {
        self.ac_fast[reader.peek(FAST_BITS) as usize]
    }
}

fn invalid(message: &str) -> ImagingError {
    ImagingError::Invalid(message.to_owned())
}
