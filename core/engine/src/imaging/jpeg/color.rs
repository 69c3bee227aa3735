//! From per-component sample planes to RGBA: chroma upsampling, cropping, YCbCr → RGB.

/// One component's samples at the output scale, padded to whole MCUs.
pub(super) struct Plane {
    pub width: usize,
    pub height: usize,
    pub samples: Vec<u8>,
}

/// Upsamples `plane` by integer factors with bilinear interpolation between sample centres
/// (the "fancy" upsampling of libjpeg for 2x) and crops to `out_width x out_height`.
pub(super) fn upsample(
    plane: &Plane,
    fx: usize,
    fy: usize,
    out_width: usize,
    out_height: usize,
) -> Vec<u8> {
    if fx == 1 && fy == 1 {
        let mut out = Vec::with_capacity(out_width * out_height);
        for row in plane.samples.chunks_exact(plane.width).take(out_height) {
            out.extend_from_slice(&row[..out_width]);
        }
        return out;
    }
    let xs = taps(fx, out_width, plane.width);
    let ys = taps(fy, out_height, plane.height);
    let mut out = Vec::with_capacity(out_width * out_height);
    for &(y0, y1, wy) in &ys {
        let row0 = &plane.samples[y0 * plane.width..(y0 + 1) * plane.width];
        let row1 = &plane.samples[y1 * plane.width..(y1 + 1) * plane.width];
        for &(x0, x1, wx) in &xs {
            let top = u32::from(row0[x0]) * (256 - wx) + u32::from(row0[x1]) * wx;
            let bottom = u32::from(row1[x0]) * (256 - wx) + u32::from(row1[x1]) * wx;
            out.push(((top * (256 - wy) + bottom * wy + (1 << 15)) >> 16) as u8);
        }
    }
    out
}

/// For each output index: the two source samples around its centre and the weight (of 256)
/// of the second, clamped at the edges.
fn taps(factor: usize, out_len: usize, in_len: usize) -> Vec<(usize, usize, u32)> {
    (0..out_len)
        .map(|i| {
            // Source position of the output centre, in 1/(2 * factor) units, minus half a
            // source sample: (2i + 1 - factor) / (2 * factor).
            let numerator = (2 * i + 1) as isize - factor as isize;
            let denominator = 2 * factor as isize;
            if numerator < 0 {
                return (0, 0, 0);
            }
            let x0 = (numerator / denominator) as usize;
            let weight = ((numerator % denominator) * 256 / denominator) as u32;
            let x0 = x0.min(in_len - 1);
            (x0, (x0 + 1).min(in_len - 1), weight)
        })
        .collect()
}

/// Y, Cb, Cr planes (same size) to RGBA, JFIF full-range BT.601.
pub(super) fn ycbcr_to_rgba(y: &[u8], cb: &[u8], cr: &[u8]) -> Vec<u8> {
    // 16.16 fixed point.
    const CR_R: i32 = 91_881; // 1.402
    const CB_G: i32 = 22_554; // 0.344136
    const CR_G: i32 = 46_802; // 0.714136
    const CB_B: i32 = 116_130; // 1.772
    const HALF: i32 = 1 << 15;
    let mut out = vec![0u8; y.len() * 4];
    for (((px, &y), &cb), &cr) in out.chunks_exact_mut(4).zip(y).zip(cb).zip(cr) {
        let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
        let r = y + ((CR_R * cr + HALF) >> 16);
        let g = y + ((HALF - CB_G * cb - CR_G * cr) >> 16);
        let b = y + ((CB_B * cb + HALF) >> 16);
        px.copy_from_slice(&[
            r.clamp(0, 255) as u8,
            g.clamp(0, 255) as u8,
            b.clamp(0, 255) as u8,
            255,
        ]);
    }
    out
}

/// Grey to RGBA.
pub(super) fn grey_to_rgba(y: &[u8]) -> Vec<u8> {
    let mut out = vec![255u8; y.len() * 4];
    for (px, &y) in out.chunks_exact_mut(4).zip(y) {
        px[..3].fill(y);
    }
    out
}
