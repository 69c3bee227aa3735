//! Reduced-size inverse DCTs: an 8x8 block of coefficients straight to 4x4, 2x2 or 1x1
//! samples, the scaled-IDCT approach of libjpeg's `jidctred.c` (same fixed-point
//! constants; the odd coefficients are kept, the high even ones dropped).

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

// The cosine factors, scaled by 2^13.
const FIX_0_211164243: i64 = 1730;
const FIX_0_509795579: i64 = 4176;
const FIX_0_601344887: i64 = 4926;
const FIX_0_720959822: i64 = 5906;
const FIX_0_765366865: i64 = 6270;
const FIX_0_850430095: i64 = 6967;
const FIX_0_899976223: i64 = 7373;
const FIX_1_061594337: i64 = 8697;
const FIX_1_272758580: i64 = 10426;
const FIX_1_451774981: i64 = 11893;
const FIX_1_847759065: i64 = 15137;
const FIX_2_172734803: i64 = 17799;
const FIX_2_562915447: i64 = 20995;
const FIX_3_624509785: i64 = 29692;

/// Rounding right shift. The arithmetic is 64-bit so hostile coefficients cannot overflow.
#[inline(always)]
fn descale(x: i64, n: u32) -> i64 {
    (x + (1 << (n - 1))) >> n
}

/// Level-shifts and clamps a sample.
#[inline(always)]
fn to_sample(x: i64) -> u8 {
    (x + 128).clamp(0, 255) as u8
}

/// `coefficients` (natural order, quantised) times `quant` → a 4x4 block written at
/// `out[0..]` with row stride `stride`.
pub(super) fn idct_4x4(coefficients: &[i16], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let dq = |i: usize| i64::from(coefficients[i]) * i64::from(quant[i]);
    let mut workspace = [0i64; 8 * 4];
    // Pass 1: columns (row 4 is not needed for a 4-point output).
    for col in 0..8 {
        if col == 4 {
            continue;
        }
        let c = |row: usize| dq(row * 8 + col);
        if [1, 2, 3, 5, 6, 7].iter().all(|&row| coefficients[row * 8 + col] == 0) {
            let dc = c(0) << PASS1_BITS;
            for row in 0..4 {
                workspace[row * 8 + col] = dc;
            }
            continue;
        }
        let tmp0 = c(0) << (CONST_BITS + 1);
        let tmp2 = c(2) * FIX_1_847759065 - c(6) * FIX_0_765366865;
        let (tmp10, tmp12) = (tmp0 + tmp2, tmp0 - tmp2);
        let (z1, z2, z3, z4) = (c(7), c(5), c(3), c(1));
        let odd0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803
            + z4 * FIX_1_061594337;
        let odd2 = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887
            + z3 * FIX_0_899976223
            + z4 * FIX_2_562915447;
        let shift = CONST_BITS - PASS1_BITS + 1;
        workspace[col] = descale(tmp10 + odd2, shift);
        workspace[3 * 8 + col] = descale(tmp10 - odd2, shift);
        workspace[8 + col] = descale(tmp12 + odd0, shift);
        workspace[2 * 8 + col] = descale(tmp12 - odd0, shift);
    }
    // Pass 2: rows.
    for row in 0..4 {
        let w = &workspace[row * 8..row * 8 + 8];
        let line = &mut out[row * stride..row * stride + 4];
        if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
            line.fill(to_sample(descale(w[0], PASS1_BITS + 3)));
            continue;
        }
        let tmp0 = w[0] << (CONST_BITS + 1);
        let tmp2 = w[2] * FIX_1_847759065 - w[6] * FIX_0_765366865;
        let (tmp10, tmp12) = (tmp0 + tmp2, tmp0 - tmp2);
        let (z1, z2, z3, z4) = (w[7], w[5], w[3], w[1]);
        let odd0 = -z1 * FIX_0_211164243 + z2 * FIX_1_451774981 - z3 * FIX_2_172734803
            + z4 * FIX_1_061594337;
        let odd2 = -z1 * FIX_0_509795579 - z2 * FIX_0_601344887
            + z3 * FIX_0_899976223
            + z4 * FIX_2_562915447;
        let shift = CONST_BITS + PASS1_BITS + 3 + 1;
        line[0] = to_sample(descale(tmp10 + odd2, shift));
        line[3] = to_sample(descale(tmp10 - odd2, shift));
        line[1] = to_sample(descale(tmp12 + odd0, shift));
        line[2] = to_sample(descale(tmp12 - odd0, shift));
    }
}

/// Like [`idct_4x4`], for a 2x2 output.
pub(super) fn idct_2x2(coefficients: &[i16], quant: &[u16; 64], out: &mut [u8], stride: usize) {
    let dq = |i: usize| i64::from(coefficients[i]) * i64::from(quant[i]);
    let mut workspace = [0i64; 8 * 2];
    // Pass 1: columns; only the odd ones and column 0 feed a 2-point output.
    for col in [0, 1, 3, 5, 7] {
        let c = |row: usize| dq(row * 8 + col);
        if [1, 3, 5, 7].iter().all(|&row| coefficients[row * 8 + col] == 0) {
            let dc = c(0) << PASS1_BITS;
            workspace[col] = dc;
            workspace[8 + col] = dc;
            continue;
        }
        let tmp10 = c(0) << (CONST_BITS + 2);
        let odd = -c(7) * FIX_0_720959822 + c(5) * FIX_0_850430095 - c(3) * FIX_1_272758580
            + c(1) * FIX_3_624509785;
        let shift = CONST_BITS - PASS1_BITS + 2;
        workspace[col] = descale(tmp10 + odd, shift);
        workspace[8 + col] = descale(tmp10 - odd, shift);
    }
    // Pass 2: rows.
    for row in 0..2 {
        let w = &workspace[row * 8..row * 8 + 8];
        let line = &mut out[row * stride..row * stride + 2];
        if w[1] == 0 && w[3] == 0 && w[5] == 0 && w[7] == 0 {
            line.fill(to_sample(descale(w[0], PASS1_BITS + 3)));
            continue;
        }
        let tmp10 = w[0] << (CONST_BITS + 2);
        let odd = -w[7] * FIX_0_720959822 + w[5] * FIX_0_850430095 - w[3] * FIX_1_272758580
            + w[1] * FIX_3_624509785;
        let shift = CONST_BITS + PASS1_BITS + 3 + 2;
        line[0] = to_sample(descale(tmp10 + odd, shift));
        line[1] = to_sample(descale(tmp10 - odd, shift));
    }
}

/// The DC term alone: the block's mean sample, for 1/8 scale.
#[inline(always)]
pub(super) fn idct_1x1(dc: i16, q0: u16) -> u8 {
    to_sample(descale(i64::from(dc) * i64::from(q0), 3))
}
