//! Gaussian blur and unsharp mask, separable, in fixed point over flat byte rows.
//!
//! Both passes are the same loop: the output row is a weighted sum of whole input rows shifted
//! by one tap, vertically a row apart and horizontally one pixel apart (within a row padded by
//! its edge pixels). Summing whole rows keeps the inner loops free of index arithmetic and
//! bounds checks, so they vectorise. The kernel is symmetric, so each tap weighs the sum of its
//! two mirror rows: half the multiplies.
//!
//! Weights are 8-bit fractions so every sum fits 16 bits: eight lanes per SSE2 register with
//! plain 16-bit multiplies (32-bit ones have no SSE2 instruction). Each weight is off by at
//! most 1/512 and each pass rounds once to 8 bits, so a result is within about one level of
//! the exact Gaussian, invisible at the sigmas the kernel is used for.

use super::super::raster::Raster;

/// Kernel weights are fractions of `1 << WEIGHT_BITS`: a full sum is at most 255 · 256 + 128.
const WEIGHT_BITS: u32 = 8;
const WEIGHT_ONE: u16 = 1 << WEIGHT_BITS;
const WEIGHT_HALF: u16 = WEIGHT_ONE / 2;

/// Above this sigma three box blurs stand in for the Gaussian (their cost does not grow with
/// sigma, the kernel's does); below it the exact kernel is cheaper and truer.
const BOX_SIGMA: f32 = 4.0;

/// Gaussian blur; colour is blurred premultiplied so transparent pixels do not darken edges.
pub(super) fn blur(mut raster: Raster, sigma: f32) -> Raster {
    if sigma > 0.0 {
        blur_raster(&mut raster, sigma);
    }
    raster
}

/// Unsharp mask of amount 1: each channel moves away from its blurred value by as much again.
pub(super) fn sharpen(mut raster: Raster, sigma: f32) -> Raster {
    if sigma <= 0.0 {
        return raster;
    }
    let mut blurred = raster.clone();
    blur_raster(&mut blurred, sigma);
    let blurred = blurred.pixels.as_chunks::<4>().0;
    for (pixel, soft) in raster.pixels.as_chunks_mut::<4>().0.iter_mut().zip(blurred) {
        for (channel, &soft) in pixel[..3].iter_mut().zip(&soft[..3]) {
            *channel = (2 * i16::from(*channel) - i16::from(soft)).clamp(0, 255) as u8;
        }
    }
    raster
}

fn blur_raster(raster: &mut Raster, sigma: f32) {
    let width = raster.width as usize;
    if raster.opaque && raster.pixels.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]) {
        // Opaque grey (say, after `grayscale`): blur one plane instead of four. The check stops
        // at the first coloured pixel, so a colour image hardly pays for it.
        let mut plane: Vec<u8> = raster.pixels.chunks_exact(4).map(|p| p[0]).collect();
        blur_plane(&mut plane, width, 1, sigma);
        for (pixel, &value) in raster.pixels.as_chunks_mut::<4>().0.iter_mut().zip(&plane) {
            pixel[..3].fill(value);
        }
        return;
    }
    let translucent = !raster.opaque;
    if translucent {
        super::premultiply(raster.width, raster.height, &mut raster.pixels);
    }
    // Opaque alpha is blurred along with colour: 255 everywhere stays 255 (the weights sum to
    // one exactly), and skipping one byte in four would cost more than it saves.
    blur_plane(&mut raster.pixels, width, 4, sigma);
    if translucent {
        super::unpremultiply(raster.width, raster.height, &mut raster.pixels);
    }
}

/// Blurs interleaved `channels`-byte pixels in place (one scratch buffer of the same size).
fn blur_plane(data: &mut [u8], width: usize, channels: usize, sigma: f32) {
    let stride = width * channels;
    let mut scratch = vec![0u8; data.len()];
    if sigma <= BOX_SIGMA {
        let kernel = gaussian_kernel(sigma);
        if kernel.len() == 1 {
            return;
        }
        convolve_vertical(data, &mut scratch, stride, &kernel);
        convolve_horizontal(&scratch, data, stride, channels, &kernel);
    } else {
        for radius in box_radii(sigma) {
            box_vertical(data, &mut scratch, stride, radius);
            box_horizontal(&scratch, data, stride, channels, radius);
        }
    }
}

/// The centre weight and one side of a normalised Gaussian, truncated at 3 sigma and where
/// weights round to zero. Weights are rounded by largest remainder so they sum to one exactly
/// (a flat area stays flat) without bending the curve's shape.
fn gaussian_kernel(sigma: f32) -> Vec<u16> {
    let sigma = f64::from(sigma);
    let radius = (3.0 * sigma).ceil().max(1.0) as usize;
    let weights: Vec<f64> =
        (0..=radius).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
    let total = weights[0] + 2.0 * weights[1..].iter().sum::<f64>();
    let scaled: Vec<f64> = weights.iter().map(|w| w / total * f64::from(WEIGHT_ONE)).collect();
    let mut kernel: Vec<u16> = scaled.iter().map(|w| w.floor() as u16).collect();
    let mut missing = WEIGHT_ONE - kernel[0] - 2 * kernel[1..].iter().sum::<u16>();
    let mut by_remainder: Vec<usize> = (0..kernel.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        (scaled[b] - scaled[b].floor()).total_cmp(&(scaled[a] - scaled[a].floor()))
    });
    for tap in by_remainder {
        // A side weight is used twice, so it takes two of the missing units.
        let cost = if tap == 0 { 1 } else { 2 };
        if missing >= cost {
            kernel[tap] += 1;
            missing -= cost;
        }
    }
    kernel[0] += missing;
    while kernel.len() > 1 && kernel.last() == Some(&0) {
        kernel.pop();
    }
    kernel
}

/// `out[i] = Σ kernel · in[i ± k·stride]`, rows past the edges repeating the edge row.
fn convolve_vertical(src: &[u8], dst: &mut [u8], stride: usize, kernel: &[u16]) {
    let last = src.len() / stride - 1;
    let row = |y: usize| &src[y.min(last) * stride..][..stride];
    let mut sums = vec![0u16; stride];
    for (y, out) in dst.chunks_exact_mut(stride).enumerate() {
        let neighbours = kernel
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, &w)| (w, row(y.saturating_sub(k)), row(y + k)));
        accumulate(&mut sums, kernel[0], row(y), neighbours);
        narrow(&sums, out);
    }
}

/// `out[i] = Σ kernel · in[i ± k·channels]` within each row, the edge pixels repeating.
fn convolve_horizontal(src: &[u8], dst: &mut [u8], stride: usize, channels: usize, kernel: &[u16]) {
    let radius = kernel.len() - 1;
    let pad = radius * channels;
    let mut padded = vec![0u8; stride + 2 * pad];
    let mut sums = vec![0u16; stride];
    for (input, out) in src.chunks_exact(stride).zip(dst.chunks_exact_mut(stride)) {
        pad_row(input, &mut padded, channels, radius);
        let shifted = |offset: usize| &padded[offset..][..stride];
        let neighbours = kernel
            .iter()
            .enumerate()
            .skip(1)
            .map(|(k, &w)| (w, shifted(pad - k * channels), shifted(pad + k * channels)));
        accumulate(&mut sums, kernel[0], shifted(pad), neighbours);
        narrow(&sums, out);
    }
}

/// `sums = centre_weight · centre + Σ w · (before + after) + ½`, all rows of equal length.
#[inline]
fn accumulate<'a>(
    sums: &mut [u16],
    centre_weight: u16,
    centre: &[u8],
    neighbours: impl Iterator<Item = (u16, &'a [u8], &'a [u8])>,
) {
    for (sum, &value) in sums.iter_mut().zip(centre) {
        *sum = centre_weight * u16::from(value) + WEIGHT_HALF;
    }
    for (weight, before, after) in neighbours {
        for ((sum, &a), &b) in sums.iter_mut().zip(before).zip(after) {
            *sum += weight * (u16::from(a) + u16::from(b));
        }
    }
}

#[inline]
fn narrow(sums: &[u16], out: &mut [u8]) {
    for (out, &sum) in out.iter_mut().zip(sums) {
        *out = (sum >> WEIGHT_BITS) as u8;
    }
}

/// Copies `row` into the middle of `padded`, with `radius` copies of its edge pixels each side.
fn pad_row(row: &[u8], padded: &mut [u8], channels: usize, radius: usize) {
    let pad = radius * channels;
    let (left, rest) = padded.split_at_mut(pad);
    let (middle, right) = rest.split_at_mut(row.len());
    middle.copy_from_slice(row);
    for pixel in left.chunks_exact_mut(channels) {
        pixel.copy_from_slice(&row[..channels]);
    }
    for pixel in right.chunks_exact_mut(channels) {
        pixel.copy_from_slice(&row[row.len() - channels..]);
    }
}

/// Radii of three box blurs whose succession approximates a Gaussian of `sigma` (the variance
/// of a box of width w is (w² - 1) / 12; widths are odd, the two nearest the ideal mixed so the
/// variances add up to sigma²).
fn box_radii(sigma: f32) -> [usize; 3] {
    let (sigma, passes) = (f64::from(sigma), 3.0);
    let variance = 12.0 * sigma * sigma;
    let ideal = (variance / passes + 1.0).sqrt();
    let mut lower = ideal.floor();
    if lower % 2.0 == 0.0 {
        lower -= 1.0;
    }
    let lower_passes = ((variance - passes * lower * lower - 4.0 * passes * lower - 3.0 * passes)
        / (-4.0 * lower - 4.0))
        .round();
    std::array::from_fn(|pass| {
        let width = if (pass as f64) < lower_passes { lower } else { lower + 2.0 };
        (width as usize - 1) / 2
    })
}

/// Moving average over `2 · radius + 1` rows, rows past the edges repeating the edge row.
fn box_vertical(src: &[u8], dst: &mut [u8], stride: usize, radius: usize) {
    let last = src.len() / stride - 1;
    let row = |y: usize| &src[y.min(last) * stride..][..stride];
    let scale = 1.0 / (2 * radius + 1) as f32;
    let mut sums: Vec<u32> = row(0).iter().map(|&v| u32::from(v) * (radius as u32 + 1)).collect();
    for y in 1..=radius {
        add_row(&mut sums, row(y));
    }
    for (y, out) in dst.chunks_exact_mut(stride).enumerate() {
        for (out, &sum) in out.iter_mut().zip(&sums) {
            *out = (sum as f32 * scale + 0.5) as u8;
        }
        // Slide the window down: take in the row entering, then drop the row leaving.
        add_row(&mut sums, row(y + radius + 1));
        for (sum, &value) in sums.iter_mut().zip(row(y.saturating_sub(radius))) {
            *sum -= u32::from(value);
        }
    }
}

fn add_row(sums: &mut [u32], row: &[u8]) {
    for (sum, &value) in sums.iter_mut().zip(row) {
        *sum += u32::from(value);
    }
}

/// Moving average over `2 · radius + 1` pixels of each row, the edge pixels repeating.
fn box_horizontal(src: &[u8], dst: &mut [u8], stride: usize, channels: usize, radius: usize) {
    // The running sums are inherently sequential along a row; a constant channel count lets
    // the compiler keep them in registers and unroll the per-channel work.
    match channels {
        1 => box_horizontal_n::<1>(src, dst, stride, radius),
        _ => box_horizontal_n::<4>(src, dst, stride, radius),
    }
}

fn box_horizontal_n<const CHANNELS: usize>(
    src: &[u8],
    dst: &mut [u8],
    stride: usize,
    radius: usize,
) {
    let pad = (radius + 1) * CHANNELS;
    let mut padded = vec![0u8; stride + 2 * pad];
    let width = 2 * radius + 1;
    let scale = 1.0 / width as f32;
    for (input, out) in src.chunks_exact(stride).zip(dst.chunks_exact_mut(stride)) {
        pad_row(input, &mut padded, CHANNELS, radius + 1);
        let pixels = padded.as_chunks::<CHANNELS>().0;
        // The window for output pixel 0 spans padded pixels 1 ..= 2·radius + 1. Sums of at
        // most 255 · 201 fit 32 bits, so a pixel's four sums are one SIMD register.
        let mut sums = [0u32; CHANNELS];
        for pixel in &pixels[1..=width] {
            for (sum, &value) in sums.iter_mut().zip(pixel) {
                *sum += u32::from(value);
            }
        }
        let out = out.as_chunks_mut::<CHANNELS>().0;
        for ((out, entering), leaving) in out.iter_mut().zip(&pixels[width + 1..]).zip(&pixels[1..])
        {
            for c in 0..CHANNELS {
                out[c] = (sums[c] as f32 * scale + 0.5) as u8;
                sums[c] = sums[c] + u32::from(entering[c]) - u32::from(leaving[c]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(raster: &Raster, channel: usize) -> f64 {
        raster.pixels.chunks_exact(4).map(|p| f64::from(p[channel])).sum::<f64>()
            / f64::from(raster.width * raster.height)
    }

    /// A colourful, deterministic test card: gradients and a hard-edged square.
    fn card(width: u32, height: u32, alpha: u8) -> Raster {
        let pixels = (0..height)
            .flat_map(|y| {
                (0..width).flat_map(move |x| {
                    let inside = (width / 4..width * 3 / 4).contains(&x)
                        && (height / 4..height * 3 / 4).contains(&y);
                    let blue = if inside { 240 } else { 20 };
                    [(x * 255 / width) as u8, (y * 255 / height) as u8, blue, alpha]
                })
            })
            .collect();
        Raster::from_rgba(width, height, pixels)
    }

    #[test]
    fn kernels_sum_to_one() {
        for sigma in [0.3, 0.5, 1.0, 2.0, 3.7, 4.0] {
            let kernel = gaussian_kernel(sigma);
            assert_eq!(kernel[0] + 2 * kernel[1..].iter().sum::<u16>(), WEIGHT_ONE, "{sigma}");
            assert!(kernel.windows(2).all(|pair| pair[0] >= pair[1]), "{sigma}: {kernel:?}");
        }
        assert_eq!(gaussian_kernel(0.1), [WEIGHT_ONE]);
        // A side weight is at most half of one, so a tap's `weight · (a + b)` fits 16 bits.
        assert!(gaussian_kernel(0.3)[1] <= WEIGHT_ONE / 2);
    }

    #[test]
    fn box_radii_match_the_variance() {
        for sigma in [4.5f32, 10.0, 33.3, 100.0] {
            let variance: f64 =
                box_radii(sigma).iter().map(|&r| ((2 * r + 1).pow(2) - 1) as f64 / 12.0).sum();
            let expected = f64::from(sigma).powi(2);
            assert!(
                (variance - expected).abs() / expected < 0.1,
                "{sigma}: {variance} vs {expected}"
            );
        }
    }

    #[test]
    fn blur_preserves_the_mean_and_flat_colour() {
        for sigma in [0.8, 2.0, 7.0, 60.0] {
            let flat = Raster::from_rgba(9, 7, [10, 150, 250, 255].repeat(63));
            assert_eq!(blur(flat.clone(), sigma), flat, "sigma {sigma}");
            if sigma > 8.0 {
                // Wider than the card: edge replication then rightly pulls toward the border.
                continue;
            }
            let original = card(64, 48, 255);
            let blurred = blur(original.clone(), sigma);
            for channel in 0..3 {
                let drift = (mean(&blurred, channel) - mean(&original, channel)).abs();
                // Edge replication weighs border pixels a little more; the card is symmetric
                // enough that this stays small.
                assert!(drift < 2.0, "sigma {sigma} channel {channel}: drift {drift}");
            }
            assert!(blurred.pixels.chunks_exact(4).all(|p| p[3] == 255));
            assert_ne!(blurred.pixels, original.pixels);
        }
    }

    #[test]
    fn blur_spreads_a_point_like_a_gaussian() {
        // A single white dot on black: the blurred profile along its row follows the kernel.
        let mut pixels = [0, 0, 0, 255].repeat(41 * 41);
        pixels[(20 * 41 + 20) * 4..][..3].fill(255);
        let out = blur(Raster::from_rgba(41, 41, pixels), 1.0);
        let at = |x: usize, y: usize| f64::from(out.pixels[(y * 41 + x) * 4]);
        // The unit normal density: the 2-D kernel is its product along both axes.
        let gauss = |d: f64| (-d * d / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1), (2, 0)] {
            let expected = 255.0 * gauss(f64::from(dx)) * gauss(f64::from(dy));
            assert!(
                (at(20 + dx as usize, 20 + dy as usize) - expected).abs() <= 1.5,
                "({dx},{dy})"
            );
            assert_eq!(
                at(20 - dx as usize, 20 - dy as usize),
                at(20 + dx as usize, 20 + dy as usize)
            );
        }
        assert_eq!(at(0, 0), 0.0);
    }

    #[test]
    fn grey_and_colour_paths_agree() {
        let grey: Vec<u8> = card(30, 20, 255)
            .pixels
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[0], p[0], 255])
            .collect();
        let mut tinted = grey.clone();
        // One pixel off grey sends the whole image down the four-channel path.
        tinted[0] = tinted[1].wrapping_add(1);
        let grey = blur(Raster::from_rgba(30, 20, grey), 2.0);
        let tinted = blur(Raster::from_rgba(30, 20, tinted), 2.0);
        let differing = grey.pixels.iter().zip(&tinted.pixels).filter(|(a, b)| a != b).count();
        // Only the neighbourhood of the changed pixel may differ.
        assert!(differing <= 7 * 7 * 3, "{differing}");
        assert!(grey.pixels.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]));
    }

    #[test]
    fn translucent_blur_keeps_colour_under_fading_alpha() {
        // Opaque green square on fully transparent *black*: the blurred halo must stay green.
        let mut raster = Raster::from_rgba(32, 32, [0, 0, 0, 0].repeat(32 * 32));
        for y in 8..24 {
            for x in 8..24 {
                raster.pixels[(y * 32 + x) * 4..][..4].copy_from_slice(&[0, 200, 0, 255]);
            }
        }
        let out = blur(raster, 2.0);
        for p in out.pixels.chunks_exact(4).filter(|p| p[3] > 64) {
            assert!(p[1].abs_diff(200) <= 3 && p[0] == 0, "{p:?}");
        }
        assert!(out.pixels.chunks_exact(4).any(|p| p[3] > 0 && p[3] < 255));
    }

    #[test]
    fn sharpen_steepens_edges_and_keeps_flat_areas() {
        let mut pixels = [50, 50, 50, 255].repeat(40 * 10);
        for (i, p) in pixels.chunks_exact_mut(4).enumerate() {
            if i % 40 >= 20 {
                p[..3].fill(150);
            }
        }
        let out = sharpen(Raster::from_rgba(40, 10, pixels.clone()), 1.5);
        let at = |x: usize| out.pixels[(5 * 40 + x) * 4];
        assert_eq!(at(2), 50);
        assert_eq!(at(37), 150);
        assert!(at(19) < 50 && at(20) > 150, "{} {}", at(19), at(20));
        assert!(out.pixels.chunks_exact(4).all(|p| p[3] == 255));
    }

    #[test]
    fn zero_sigma_is_a_no_op() {
        let original = card(8, 8, 128);
        assert_eq!(blur(original.clone(), 0.0), original);
        assert_eq!(sharpen(original.clone(), 0.0), original);
    }
}
