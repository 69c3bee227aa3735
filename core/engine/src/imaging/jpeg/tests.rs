//! Scaled decoding checked against a full decode (zune-jpeg) box-averaged to the same scale.

use std::path::PathBuf;

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::{decode_scaled, pick_denominator};

const SUPPORTED: &[&str] = &[
    "baseline_411.jpg",
    "baseline_420.jpg",
    "baseline_422_restart.jpg",
    "baseline_444.jpg",
    "baseline_grey.jpg",
    "progressive_411.jpg",
    "progressive_420.jpg",
    "progressive_422_restart.jpg",
    "progressive_444.jpg",
    "progressive_grey_restart.jpg",
];

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "..", "..", "fixtures", "images", "jpeg-scaled", name]
            .iter()
            .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Full decode to RGB with zune-jpeg: (width, height, pixels).
fn reference(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder.decode().expect("reference decode");
    let info = decoder.info().expect("header");
    (usize::from(info.width), usize::from(info.height), pixels)
}

/// Averages `d x d` cells of an RGB image (partial cells at the edges average what they hold).
fn box_average(width: usize, height: usize, rgb: &[u8], d: usize) -> Vec<u8> {
    let (out_w, out_h) = (width.div_ceil(d), height.div_ceil(d));
    let mut out = Vec::with_capacity(out_w * out_h * 3);
    for oy in 0..out_h {
        for ox in 0..out_w {
            let mut sum = [0u32; 3];
            let mut count = 0;
            for y in oy * d..((oy + 1) * d).min(height) {
                for x in ox * d..((ox + 1) * d).min(width) {
                    for (c, s) in sum.iter_mut().enumerate() {
                        *s += u32::from(rgb[(y * width + x) * 3 + c]);
                    }
                    count += 1;
                }
            }
            out.extend(sum.map(|s| ((s + count / 2) / count) as u8));
        }
    }
    out
}

/// Errors of `rgba` against `rgb`: per-channel mean and max, and the same for BT.601 luma.
struct Errors {
    mean: [f64; 3],
    max: u8,
    luma_mean: f64,
    luma_max: u8,
}

fn compare(rgba: &[u8], rgb: &[u8]) -> Errors {
    let luma = |p: &[u8]| {
        ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000) as u8
    };
    let (mut sums, mut max, mut luma_sum, mut luma_max) = ([0u64; 3], 0, 0u64, 0);
    for (a, b) in rgba.chunks_exact(4).zip(rgb.chunks_exact(3)) {
        for c in 0..3 {
            let diff = a[c].abs_diff(b[c]);
            sums[c] += u64::from(diff);
            max = max.max(diff);
        }
        let diff = luma(a).abs_diff(luma(b));
        luma_sum += u64::from(diff);
        luma_max = luma_max.max(diff);
    }
    let n = (rgb.len() / 3) as f64;
    Errors { mean: sums.map(|s| s as f64 / n), max, luma_mean: luma_sum as f64 / n, luma_max }
}

#[test]
fn jpeg_scaled_matches_box_averaged_full_decode() {
    for d in [8, 4, 2] {
        for name in SUPPORTED {
            let bytes = fixture(name);
            let (width, height, rgb) = reference(&bytes);
            let (min_w, min_h) = (width.div_ceil(d) as u32, height.div_ceil(d) as u32);
            let scaled = decode_scaled(&bytes, min_w, min_h)
                .unwrap_or_else(|e| panic!("{name} 1/{d}: {e}"))
                .unwrap_or_else(|| panic!("{name} 1/{d}: declined"));
            assert_eq!((scaled.width, scaled.height), (min_w, min_h), "{name} 1/{d}");
            assert_eq!((scaled.pixels.width, scaled.pixels.height), (min_w, min_h));
            assert!(scaled.pixels.opaque);
            let e = compare(&scaled.pixels.pixels, &box_average(width, height, &rgb, d));
            // Luma is exact up to rounding: at 1/8 the DC is the block mean, and the reduced
            // IDCTs are close to averaging the full one.
            assert!(
                e.luma_mean < 1.5 && e.luma_max <= 4,
                "{name} 1/{d}: luma {} {}",
                e.luma_mean,
                e.luma_max
            );
            // Subsampled chroma is interpolated from fewer samples than the full decode
            // averages (a 4:2:0 chroma block covers 2x2 pixels at 1/8), so colour may drift
            // where it changes fast; with full-resolution chroma it is exact too.
            let subsampled = !(name.contains("444") || name.contains("grey"));
            let (mean_bound, max_bound) =
                if subsampled { (3.0 * (d as f64) / 2.0, 64) } else { (1.5, 4) };
            assert!(
                e.mean.iter().all(|&m| m < mean_bound) && e.max <= max_bound,
                "{name} 1/{d}: mean error {:?}, max {}",
                e.mean,
                e.max
            );
        }
    }
}

#[test]
fn jpeg_scaled_picks_the_largest_reduction_that_still_covers_the_target() {
    assert_eq!(pick_denominator(6028, 3391, 300, 169), Some(8));
    assert_eq!(pick_denominator(6028, 3391, 754, 424), Some(8));
    assert_eq!(pick_denominator(6028, 3391, 755, 424), Some(4));
    assert_eq!(pick_denominator(6028, 3391, 1920, 1080), Some(2));
    assert_eq!(pick_denominator(6028, 3391, 3015, 10), None);
    assert_eq!(pick_denominator(203, 147, 26, 19), Some(8));
    assert_eq!(pick_denominator(203, 147, 26, 20), Some(4));
}

#[test]
fn jpeg_scaled_declines_what_it_does_not_handle() {
    let bytes = fixture("baseline_420.jpg");
    assert!(decode_scaled(&bytes, 103, 74).unwrap().is_none(), "no reduction fits");
    for name in ["unsupported_cmyk.jpg", "unsupported_arithmetic.jpg"] {
        assert!(decode_scaled(&fixture(name), 10, 10).unwrap().is_none(), "{name}");
    }
}

#[test]
fn jpeg_scaled_rejects_non_jpeg_and_headers_only() {
    assert!(decode_scaled(b"", 1, 1).is_err());
    assert!(decode_scaled(b"\x89PNG\r\n\x1a\n", 1, 1).is_err());
    let bytes = fixture("progressive_420.jpg");
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).expect("has a scan");
    assert!(decode_scaled(&bytes[..sos], 1, 1).is_err());
}

/// xorshift64*: deterministic noise for the mutation test.
struct Noise(u64);

impl Noise {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % below
    }
}

#[test]
fn jpeg_scaled_survives_truncation_and_bit_flips() {
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    for name in SUPPORTED {
        let bytes = fixture(name);
        let (width, height) = (203u32, 147u32);
        let check = |input: &[u8], d: u32| {
            // Any outcome but a panic is fine; a decoded image has the promised size.
            if let Ok(Some(scaled)) = decode_scaled(input, width.div_ceil(d), height.div_ceil(d)) {
                assert_eq!(scaled.pixels.pixels.len(), (scaled.width * scaled.height * 4) as usize);
            }
        };
        for d in [8, 4, 2] {
            for _ in 0..40 {
                check(&bytes[..noise.next(bytes.len())], d);
                let mut flipped = bytes.clone();
                for _ in 0..1 + noise.next(4) {
                    let at = noise.next(flipped.len());
                    flipped[at] ^= 1 << noise.next(8);
                }
                check(&flipped, d);
            }
        }
    }
}
