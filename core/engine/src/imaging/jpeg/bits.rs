//! The entropy-coded segment reader: a 64-bit bit buffer with byte-stuffing removal.

/// Reads the bits of one entropy-coded segment, MSB first.
///
/// Valid bits sit at the top of `acc`. Past a marker (or the end of the data) the reader
/// feeds zero bits, as libjpeg does, so a truncated scan decodes to flat blocks instead of
/// failing; callers bound the work by the block count, never by the data.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    nbits: u32,
    at_marker: bool,
}

/// `true` when any byte of `word` is 0xFF (the only byte that needs unstuffing).
#[inline(always)]
fn has_ff_byte(word: u64) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let inverted = !word;
    inverted.wrapping_sub(LOW) & !inverted & HIGH != 0
}

impl<'a> BitReader<'a> {
    /// Starts reading at `pos`, the first byte after a scan header.
    pub(super) fn new(data: &'a [u8], pos: usize) -> BitReader<'a> {
        BitReader { data, pos, acc: 0, nbits: 0, at_marker: false }
    }

    /// Position of the first byte not yet loaded into the bit buffer.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// Ensures at least 32 valid bits (zeros past a marker): one Huffman code plus its extra
    /// bits never exceeds that.
    #[inline(always)]
    pub(super) fn ensure32(&mut self) {
        if self.nbits < 32 {
            self.refill();
        }
    }

    #[inline(always)]
    fn refill(&mut self) {
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(chunk.try_into().expect("8-byte slice"));
            if !has_ff_byte(word) {
                // Branch-free refill: the bytes that do not fit whole are loaded partially
                // below `nbits`; the next refill ORs the very same bits there again.
                self.acc |= word >> self.nbits;
                self.pos += ((63 - self.nbits) >> 3) as usize;
                self.nbits |= 56;
                return;
            }
        }
        self.refill_slow();
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.nbits <= 56 {
            let byte = if self.at_marker {
                0
            } else {
                match self.data.get(self.pos) {
                    None => {
                        self.at_marker = true;
                        0
                    }
                    Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0x00) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some(&0xFF) => {
                        self.at_marker = true;
                        0
                    }
                    Some(&byte) => {
                        self.pos += 1;
                        byte
                    }
                }
            };
            self.acc |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    /// The next `n` bits (1..=32) without consuming them; call [`Self::ensure32`] first.
    #[inline(always)]
    pub(super) fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    /// Drops `n` bits (at most the valid count).
    #[inline(always)]
    pub(super) fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.nbits -= n;
    }

    /// Reads `n` bits (0..=16) as an unsigned value.
    #[inline(always)]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let value = self.peek(n);
        self.consume(n);
        value
    }

    /// Reads one bit; refills as needed.
    #[inline(always)]
    pub(super) fn bit(&mut self) -> bool {
        self.ensure32();
        self.bits(1) == 1
    }

    /// Reads `n` bits (0..=16) and sign-extends them per the JPEG magnitude categories
    /// (F.2.2.1 EXTEND).
    #[inline(always)]
    pub(super) fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        let value = self.bits(n) as i32;
        if value < 1 << (n - 1) { value - (1 << n) + 1 } else { value }
    }

    /// Handles a restart marker: drops the padding bits and steps over the next RSTn.
    ///
    /// A missing RSTn (corrupt data) is not an error: the reader then stops at whatever
    /// marker comes next and feeds zeros, so the remaining blocks decode flat.
    pub(super) fn restart(&mut self) {
        self.acc = 0;
        self.nbits = 0;
        self.at_marker = false;
        let marker_at = next_marker(self.data, self.pos, false);
        match self.data.get(marker_at + 1) {
            Some(0xD0..=0xD7) => self.pos = marker_at + 2,
            _ => {
                self.pos = marker_at;
                self.at_marker = true;
            }
        }
    }
}

/// Finds the next marker at or after `pos` in entropy-coded data: a 0xFF that is not a
/// stuffed 0xFF00 (and, when `skip_restarts`, not an RSTn either). Returns the index of its
/// 0xFF, or `data.len()` when there is none.
pub(super) fn next_marker(data: &[u8], mut pos: usize, skip_restarts: bool) -> usize {
    while let Some(offset) = memchr::memchr(0xFF, data.get(pos..).unwrap_or_default()) {
        let at = pos + offset;
        match data.get(at + 1) {
            None => return data.len(),
            // Stuffed byte, or a fill byte before the real marker.
            Some(0x00) | Some(0xFF) => pos = at + 1,
            Some(0xD0..=0xD7) if skip_restarts => pos = at + 2,
            Some(_) => return at,
        }
    }
    data.len()
}
