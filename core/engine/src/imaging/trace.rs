//! Raster → SVG by colour tracing: visioncortex clusters similar colours hierarchically and
//! fits spline paths around each cluster; the paths are stacked largest first, so each colour
//! region is one path (never a rectangle per pixel).
//!
//! Large rasters are traced from a copy whose longest side is [`TRACE_SIDE`]; the document's
//! `viewBox` is that copy's size and its `width`/`height` the raster's, so the SVG has the
//! raster's size.

use std::fmt::Write;

use image::RgbaImage;
use visioncortex::color_clusters::{HIERARCHICAL_MAX, KeyingAction, Runner, RunnerConfig};
use visioncortex::{Color, ColorImage, PathSimplifyMode, PointF64};

use super::raster::Raster;

/// Longest side traced: detail beyond it costs time and bytes without showing in the paths.
const TRACE_SIDE: u32 = 768;
/// Colour bits kept when comparing pixels (8 − 6 = 2 low bits ignored).
const COLOR_PRECISION_LOSS: i32 = 2;
/// Colour difference between hierarchy layers.
const LAYER_DIFFERENCE: i32 = 16;
/// Clusters smaller than this many pixels (4 × 4) are merged into a neighbour.
const SPECKLE_AREA: usize = 16;
/// Spline fitting: corners sharper than 60°, segments over 4 px, splice at 45°.
const CORNER_THRESHOLD: f64 = 60.0 * std::f64::consts::PI / 180.0;
const LENGTH_THRESHOLD: f64 = 4.0;
const MAX_ITERATIONS: usize = 10;
const SPLICE_THRESHOLD: f64 = 45.0 * std::f64::consts::PI / 180.0;
/// Decimal places in path coordinates.
const PATH_PRECISION: u32 = 2;

/// Traces `raster` into an SVG document of the same size.
pub(crate) fn trace(raster: &Raster) -> String {
    let source = downscaled(raster);
    let (width, height) = (source.width as usize, source.height as usize);
    let mut pixels = source.pixels;
    // Transparent pixels become a key colour absent from the image, which the clustering
    // then discards, so they stay transparent.
    let key = (!source.opaque).then(|| key_color(&pixels)).flatten();
    if let Some(key) = key {
        for p in pixels.chunks_exact_mut(4) {
            if p[3] < 128 {
                p.copy_from_slice(&[key.r, key.g, key.b, key.a]);
            }
        }
    }
    let image = ColorImage { pixels, width, height };
    let clusters = Runner::new(
        RunnerConfig {
            diagonal: false,
            hierarchical: HIERARCHICAL_MAX,
            batch_size: 25600,
            good_min_area: SPECKLE_AREA,
            good_max_area: width * height,
            is_same_color_a: COLOR_PRECISION_LOSS,
            is_same_color_b: 1,
            deepen_diff: LAYER_DIFFERENCE,
            hollow_neighbours: 1,
            key_color: key.unwrap_or_default(),
            keying_action: if key.is_some() { KeyingAction::Discard } else { KeyingAction::Keep },
        },
        image,
    )
    .run();
    let view = clusters.view();

    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" \
         viewBox=\"0 0 {width} {height}\">",
        raster.width, raster.height
    );
    for &index in view.clusters_output.iter().rev() {
        let cluster = view.get_cluster(index);
        let paths = cluster.to_compound_path(
            &view,
            false,
            PathSimplifyMode::Spline,
            CORNER_THRESHOLD,
            LENGTH_THRESHOLD,
            MAX_ITERATIONS,
            SPLICE_THRESHOLD,
        );
        if paths.is_empty() {
            continue;
        }
        let (d, offset) = paths.to_svg_string(true, PointF64::default(), Some(PATH_PRECISION));
        let color = cluster.residue_color();
        let _ = write!(
            svg,
            "<path d=\"{d}\" fill=\"#{:02x}{:02x}{:02x}\" transform=\"translate({},{})\"/>",
            color.r, color.g, color.b, offset.x, offset.y
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The raster itself, or a copy whose longest side is [`TRACE_SIDE`].
fn downscaled(raster: &Raster) -> Raster {
    let longest = raster.width.max(raster.height);
    if longest <= TRACE_SIDE {
        return raster.clone();
    }
    let scale = f64::from(TRACE_SIDE) / f64::from(longest);
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).max(1);
    let image = RgbaImage::from_raw(raster.width, raster.height, raster.pixels.clone())
        .expect("a raster holds width * height RGBA pixels");
    let small = image::imageops::thumbnail(&image, side(raster.width), side(raster.height));
    let (width, height) = small.dimensions();
    Raster::from_rgba(width, height, small.into_raw())
}

/// An opaque colour that no pixel has, if one of a few candidates is free.
fn key_color(pixels: &[u8]) -> Option<Color> {
    const CANDIDATES: [[u8; 3]; 5] =
        [[255, 0, 255], [0, 255, 255], [255, 255, 0], [1, 2, 3], [254, 1, 253]];
    CANDIDATES
        .iter()
        .find(|c| !pixels.chunks_exact(4).any(|p| p[..3] == c[..]))
        .map(|c| Color::new_rgba(c[0], c[1], c[2], 255))
}
