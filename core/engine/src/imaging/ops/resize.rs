//! The resize step: one SIMD convolution pass from the kept source window to the final size.

use fast_image_resize::images::{Image, TypedImage};
use fast_image_resize::pixels::{PixelType, U16x4};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};

use super::super::ImagingError;
use super::super::raster::Raster;
use super::geometry::{self, ResizePlan, resize_plan};
use crate::spec::{Crop, Gravity, Resize};

/// Lanczos3, as libvips' thumbnail uses: the sharpest of the usual filters for downscaling
/// photos without visible ringing, at about the cost of Catmull-Rom in fast_image_resize.
const FILTER: FilterType = FilterType::Lanczos3;

/// Resizes per [`resize_plan`]; a cover crop is resampled straight from the matching source
/// window, so the whole scaled image is never made.
pub(super) fn resize(
    raster: Raster,
    resize: &Resize,
    enlarge_default: bool,
) -> Result<Raster, ImagingError> {
    let plan = resize_plan(raster.width, raster.height, resize, enlarge_default);
    let window = match plan.crop {
        Some(crop) if resize.gravity == Gravity::Smart => smart_window(&raster, &plan, crop),
        Some(crop) => crop,
        None => Crop { x: 0, y: 0, width: plan.width, height: plan.height },
    };
    if (plan.width, plan.height) == (raster.width, raster.height) {
        // Scale 1: only a cover crop, if anything, is left to do.
        return Ok(geometry::crop_in_place(raster, window));
    }
    scale(raster, &plan, window)
}

/// Resamples the source region that maps onto `window` of the scaled image.
fn scale(raster: Raster, plan: &ResizePlan, window: Crop) -> Result<Raster, ImagingError> {
    let (sw, sh) = (f64::from(raster.width), f64::from(raster.height));
    let left = f64::from(window.x) * sw / f64::from(plan.width);
    let top = f64::from(window.y) * sh / f64::from(plan.height);
    let width = (f64::from(window.width) * sw / f64::from(plan.width)).min(sw - left);
    let height = (f64::from(window.height) * sh / f64::from(plan.height)).min(sh - top);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FILTER))
        .crop(left, top, width, height)
        // Alpha is premultiplied here, fused with widening, rather than by the resizer in a copy.
        .use_alpha(false);
    if raster.opaque {
        scale_opaque(raster, window, &options)
    } else {
        scale_translucent(&raster, window, &options)
    }
}

fn scale_opaque(
    raster: Raster,
    window: Crop,
    options: &ResizeOptions,
) -> Result<Raster, ImagingError> {
    let src = Image::from_vec_u8(raster.width, raster.height, raster.pixels, PixelType::U8x4)
        .map_err(|error| resize_error(&error))?;
    let mut dst = Image::new(window.width, window.height, PixelType::U8x4);
    Resizer::new().resize(&src, &mut dst, options).map_err(|error| resize_error(&error))?;
    Ok(Raster { width: window.width, height: window.height, pixels: dst.into_vec(), opaque: true })
}

/// Translucent pixels are resampled premultiplied in 16 bits: premultiplying in 8 bits would
/// shift faint colours by several levels (200 at alpha 128 comes back as 199).
fn scale_translucent(
    raster: &Raster,
    window: Crop,
    options: &ResizeOptions,
) -> Result<Raster, ImagingError> {
    let wide: Vec<U16x4> = raster
        .pixels
        .as_chunks::<4>()
        .0
        .iter()
        .map(|&[r, g, b, a]| {
            let alpha = u32::from(a);
            // c·257 · a/255, rounded: the 16-bit premultiplied value.
            let premultiply = |c: u8| ((u32::from(c) * alpha * 257 + 127) / 255) as u16;
            U16x4::new([premultiply(r), premultiply(g), premultiply(b), (alpha * 257) as u16])
        })
        .collect();
    let src = TypedImage::from_pixels(raster.width, raster.height, wide)
        .map_err(|error| resize_error(&error))?;
    let mut dst = TypedImage::<U16x4>::new(window.width, window.height);
    Resizer::new().resize_typed(&src, &mut dst, options).map_err(|error| resize_error(&error))?;
    drop(src);

    let mut pixels = Vec::with_capacity(window.width as usize * window.height as usize * 4);
    for pixel in dst.pixels() {
        let [r, g, b, a] = pixel.0.map(u64::from);
        // Back to straight 8-bit colour, c8 = p16 / a16 · 255, with one division per pixel:
        // `scale` is 255 / a16 in 32.32 fixed point. Nothing shows under no alpha.
        let scale = (255u64 << 32).checked_div(a).unwrap_or(0);
        let straighten = |c: u64| ((c * scale + (1 << 31)) >> 32).min(255) as u8;
        pixels.extend_from_slice(&[
            straighten(r),
            straighten(g),
            straighten(b),
            ((a + 128) / 257) as u8,
        ]);
    }
    let opaque = super::all_opaque(&pixels);
    Ok(Raster { width: window.width, height: window.height, pixels, opaque })
}

fn resize_error(error: &dyn std::error::Error) -> ImagingError {
    ImagingError::Step { param: "resize".to_owned(), message: format!("resize failed: {error}") }
}

/// Longest side of the map the smart gravity scores: enough to find subjects, cheap to score.
const INTEREST_MAP_SIDE: u32 = 96;

/// Moves a cover window (in scaled coordinates) to where the image is most interesting.
///
/// The source is box-filtered down to a small map, each cell is scored for edges (Laplacian of
/// luma), saturation and skin-like colour, weighted by alpha, and the window position with the
/// highest total wins; ties go to the position nearest the centre, so a flat image crops like
/// `center`. Deterministic and a few milliseconds even for large sources.
fn smart_window(raster: &Raster, plan: &ResizePlan, centred: Crop) -> Crop {
    let longest = raster.width.max(raster.height);
    let map_scale = f64::from(INTEREST_MAP_SIDE.min(longest)) / f64::from(longest);
    let map_width = ((f64::from(raster.width) * map_scale).round() as u32).max(1);
    let map_height = ((f64::from(raster.height) * map_scale).round() as u32).max(1);
    let Some(map) = downsample(raster, map_width, map_height) else {
        return centred;
    };
    let scores = interest(&map, map_width as usize, map_height as usize);

    // The window in map cells, and the positions it may take.
    let to_map_x = f64::from(map_width) / f64::from(plan.width);
    let to_map_y = f64::from(map_height) / f64::from(plan.height);
    let cells = |size: u32, ratio: f64, limit: u32| {
        ((f64::from(size) * ratio).round() as u32).clamp(1, limit)
    };
    let window_width = cells(centred.width, to_map_x, map_width) as usize;
    let window_height = cells(centred.height, to_map_y, map_height) as usize;
    let (map_width, map_height) = (map_width as usize, map_height as usize);

    // Summed-area table, one row and column of zeros in front.
    let stride = map_width + 1;
    let mut table = vec![0u64; stride * (map_height + 1)];
    for y in 0..map_height {
        let mut row_sum = 0u64;
        for x in 0..map_width {
            row_sum += u64::from(scores[y * map_width + x]);
            table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row_sum;
        }
    }
    let span_x = map_width - window_width;
    let span_y = map_height - window_height;
    let mut best = (0u64, u64::MAX, 0usize, 0usize);
    for y in 0..=span_y {
        for x in 0..=span_x {
            let (x1, y1) = (x + window_width, y + window_height);
            let total = table[y1 * stride + x1] + table[y * stride + x]
                - table[y * stride + x1]
                - table[y1 * stride + x];
            // Twice the distance from the centre position, kept integral for exact ties.
            let off_centre = (2 * x).abs_diff(span_x).pow(2) + (2 * y).abs_diff(span_y).pow(2);
            let off_centre = off_centre as u64;
            if total > best.0 || (total == best.0 && off_centre < best.1) {
                best = (total, off_centre, x, y);
            }
        }
    }
    let (_, _, x, y) = best;
    let place = |cell: usize, ratio: f64, max: u32| ((cell as f64 / ratio).round() as u32).min(max);
    Crop {
        x: place(x, to_map_x, plan.width - centred.width),
        y: place(y, to_map_y, plan.height - centred.height),
        ..centred
    }
}

/// A small box-filtered copy of the raster (straight alpha: scores weigh by alpha themselves).
fn downsample(raster: &Raster, width: u32, height: u32) -> Option<Vec<u8>> {
    let src = fast_image_resize::images::ImageRef::new(
        raster.width,
        raster.height,
        &raster.pixels,
        PixelType::U8x4,
    )
    .ok()?;
    let mut dst = Image::new(width, height, PixelType::U8x4);
    let options =
        ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box)).use_alpha(false);
    Resizer::new().resize(&src, &mut dst, &options).ok()?;
    Some(dst.into_vec())
}

/// Scores each map cell: edges count most, then skin-like colour, then saturation.
fn interest(map: &[u8], width: usize, height: usize) -> Vec<u32> {
    let luma: Vec<i32> = map
        .chunks_exact(4)
        .map(|p| (77 * i32::from(p[0]) + 150 * i32::from(p[1]) + 29 * i32::from(p[2]) + 128) >> 8)
        .collect();
    let at = |x: usize, y: usize| luma[y * width + x];
    map.chunks_exact(4)
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = (i % width, i / width);
            let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
            let laplacian = 4 * at(x, y)
                - at(x.saturating_sub(1), y)
                - at((x + 1).min(width - 1), y)
                - at(x, y.saturating_sub(1))
                - at(x, (y + 1).min(height - 1));
            let saturation = r.max(g).max(b) - r.min(g).min(b);
            // Kovac et al.'s daylight skin rule, cheap and good enough to favour faces.
            let skin =
                r > 95 && g > 40 && b > 20 && r > g && r > b && saturation > 15 && r - g > 15;
            let score =
                2 * laplacian.unsigned_abs() + saturation as u32 / 2 + if skin { 96 } else { 0 };
            score * u32::from(p[3]) / 255
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Fit;

    fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Raster {
        Raster::from_rgba(width, height, rgba.repeat((width * height) as usize))
    }

    fn cover(width: u32, height: u32, gravity: Gravity) -> Resize {
        Resize { width: Some(width), height: Some(height), fit: Fit::Cover, gravity, enlarge: None }
    }

    #[test]
    fn a_solid_colour_stays_that_colour() {
        for rgba in [[12, 200, 77, 255], [200, 100, 50, 128]] {
            let resize = Resize {
                width: Some(37),
                height: None,
                fit: Fit::Contain,
                gravity: Gravity::Center,
                enlarge: None,
            };
            let out = super::resize(solid(100, 80, rgba), &resize, false).unwrap();
            assert_eq!((out.width, out.height), (37, 30));
            assert!(out.pixels.chunks_exact(4).all(|p| p == rgba), "{rgba:?}");
            assert_eq!(out.opaque, rgba[3] == 255);
        }
    }

    #[test]
    fn transparent_neighbours_make_no_dark_fringe() {
        // Left half opaque red, right half fully transparent black: premultiplied resampling
        // must keep the edge pixels red, only less opaque.
        let mut raster = solid(64, 8, [0, 0, 0, 0]);
        for p in raster.pixels.chunks_exact_mut(4).enumerate().filter(|(i, _)| i % 64 < 32) {
            p.1.copy_from_slice(&[255, 0, 0, 255]);
        }
        let resize = Resize {
            width: Some(16),
            height: None,
            fit: Fit::Contain,
            gravity: Gravity::Center,
            enlarge: None,
        };
        let out = super::resize(raster, &resize, false).unwrap();
        let mut partial = 0;
        for p in out.pixels.chunks_exact(4).filter(|p| p[3] > 0) {
            assert!(p[0] >= 250 && p[1] <= 3 && p[2] <= 3, "fringe pixel {p:?}");
            partial += usize::from(p[3] < 255);
        }
        assert!(partial > 0, "the edge should be partly transparent");
    }

    #[test]
    fn upscaling_with_enlarge() {
        let resize = Resize {
            width: Some(20),
            height: Some(20),
            fit: Fit::Fill,
            gravity: Gravity::Center,
            enlarge: Some(true),
        };
        let out = super::resize(solid(5, 4, [9, 8, 7, 255]), &resize, false).unwrap();
        assert_eq!((out.width, out.height), (20, 20));
        assert!(out.pixels.chunks_exact(4).all(|p| p == [9, 8, 7, 255]));
    }

    /// A 200x100 image whose left half is dark and right half light grey.
    fn halves() -> Raster {
        let mut raster = solid(200, 100, [40, 40, 40, 255]);
        for (i, p) in raster.pixels.chunks_exact_mut(4).enumerate() {
            if i % 200 >= 100 {
                p.copy_from_slice(&[220, 220, 220, 255]);
            }
        }
        raster
    }

    #[test]
    fn cover_gravity_picks_the_side() {
        let west = super::resize(halves(), &cover(50, 100, Gravity::West), false).unwrap();
        assert!(west.pixels.chunks_exact(4).all(|p| p[0] == 40));
        let east = super::resize(halves(), &cover(50, 100, Gravity::East), false).unwrap();
        assert!(east.pixels.chunks_exact(4).all(|p| p[0] == 220));
        // Scaled: 200x100 -> 100x50, then the centre 25 columns straddle the edge.
        let centre = super::resize(halves(), &cover(25, 50, Gravity::Center), false).unwrap();
        assert_eq!((centre.width, centre.height), (25, 50));
        assert!(centre.pixels[..4] != centre.pixels[centre.pixels.len() - 4..]);
    }

    #[test]
    fn smart_gravity_finds_the_detail() {
        // Flat grey with a high-contrast checkerboard patch near the right edge.
        let mut raster = solid(400, 100, [128, 128, 128, 255]);
        for y in 30..70 {
            for x in 320..380 {
                let v = if (x / 4 + y / 4) % 2 == 0 { 0 } else { 255 };
                raster.pixels[(y * 400 + x) * 4..][..3].copy_from_slice(&[v, v, v]);
            }
        }
        let out = super::resize(raster, &cover(100, 100, Gravity::Smart), false).unwrap();
        assert_eq!((out.width, out.height), (100, 100));
        // The window (300..400) holds the whole patch, so its rows are not flat grey.
        let row = &out.pixels[50 * 400..51 * 400];
        assert!(row.chunks_exact(4).any(|p| p[0] < 60) && row.chunks_exact(4).any(|p| p[0] > 200));
    }

    #[test]
    fn smart_gravity_on_a_flat_image_centres() {
        let plan = resize_plan(400, 100, &cover(100, 100, Gravity::Smart), false);
        let window = smart_window(&solid(400, 100, [1, 2, 3, 255]), &plan, plan.crop.unwrap());
        assert_eq!(window, plan.crop.unwrap());
    }
}
