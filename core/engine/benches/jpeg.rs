//! Scaled JPEG decoding against zune-jpeg's full decode, on the real photos of the shared
//! corpus (`../../shared/corpus/jpeg` from this crate). Throughput is in input megapixels:
//! criterion's `Melem/s`.
//!
//! Run: `cargo bench -p progimage-engine --bench jpeg`. Skipped, with a note, when the corpus
//! is not there (it is not part of the repository).

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use progimage_engine::imaging::jpeg::decode_scaled;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// The corpus photos as (name, bytes), or `None` when the corpus is absent.
fn corpus() -> Option<Vec<(String, Vec<u8>)>> {
    let dir: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "..", "..", "..", "shared", "corpus", "jpeg"].iter().collect();
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).ok()?.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let photos = files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .map(|p| {
            let name = p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).expect("readable corpus file");
            (name, bytes)
        })
        .collect();
    Some(photos)
}

fn full_decode(bytes: &[u8]) -> Vec<u8> {
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    JpegDecoder::new_with_options(ZCursor::new(bytes), options).decode().expect("zune-jpeg decodes")
}

fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = JpegDecoder::new(ZCursor::new(bytes));
    decoder.decode_headers().expect("JPEG header");
    let info = decoder.info().expect("JPEG header");
    (u32::from(info.width), u32::from(info.height))
}

/// Mean absolute error per channel of the scaled decode against the full decode averaged over
/// the same `d x d` cells: printed, so a speed-up that costs fidelity shows.
fn fidelity(bytes: &[u8], width: u32, height: u32, d: u32) -> [f64; 3] {
    let (w, h, d) = (width as usize, height as usize, d as usize);
    let rgb = full_decode(bytes);
    let scaled = decode_scaled(bytes, width.div_ceil(d as u32), height.div_ceil(d as u32))
        .expect("decodes")
        .expect("scales");
    let (out_w, out_h) = (w.div_ceil(d), h.div_ceil(d));
    let mut sums = [0f64; 3];
    for oy in 0..out_h {
        for ox in 0..out_w {
            let mut cell = [0u64; 3];
            let mut count = 0;
            for y in oy * d..((oy + 1) * d).min(h) {
                for x in ox * d..((ox + 1) * d).min(w) {
                    for (c, s) in cell.iter_mut().enumerate() {
                        *s += u64::from(rgb[(y * w + x) * 3 + c]);
                    }
                    count += 1;
                }
            }
            let got = &scaled.pixels.pixels[(oy * out_w + ox) * 4..][..3];
            for c in 0..3 {
                sums[c] += (cell[c] as f64 / f64::from(count) - f64::from(got[c])).abs();
            }
        }
    }
    sums.map(|s| s / (out_w * out_h) as f64)
}

fn bench_jpeg(c: &mut Criterion) {
    let Some(photos) = corpus() else {
        eprintln!("jpeg bench: ../../shared/corpus/jpeg not found, nothing to measure");
        return;
    };
    for (name, bytes) in &photos {
        let (width, height) = dimensions(bytes);
        for d in [8, 4, 2] {
            let error = fidelity(bytes, width, height, d);
            eprintln!(
                "{name} 1/{d}: mean abs error vs box-averaged full decode (R, G, B) {error:.2?}"
            );
        }
        let mut group = c.benchmark_group(name.as_str());
        group.throughput(Throughput::Elements(u64::from(width) * u64::from(height)));
        group.sample_size(10).warm_up_time(Duration::from_secs(1));
        for d in [8, 4, 2] {
            let (min_w, min_h) = (width.div_ceil(d), height.div_ceil(d));
            group.bench_function(format!("scaled_1_{d}"), |b| {
                b.iter(|| {
                    decode_scaled(black_box(bytes), min_w, min_h).expect("decodes").expect("scales")
                })
            });
        }
        group.bench_function("zune_full", |b| b.iter(|| full_decode(black_box(bytes))));
        group.finish();
    }
}

criterion_group!(benches, bench_jpeg);
criterion_main!(benches);
