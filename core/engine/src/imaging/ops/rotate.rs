//! Rotation and mirroring. Right angles move whole pixels; other angles resample bilinearly.

use super::super::raster::Raster;
use super::StepContext;
use crate::spec::{Axis, Rgba};

/// Side of the square tiles right-angle rotations copy through: a 16x16 tile of 4-byte pixels
/// touches 16 source rows of one cache line each, which stay in L1 (and in the TLB).
const TILE: usize = 16;

/// A rotation by a multiple of 90 degrees, which moves pixels without resampling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RightAngle {
    Zero,
    Quarter,
    Half,
    ThreeQuarters,
}

fn right_angle(degrees: f64) -> Option<RightAngle> {
    match degrees.rem_euclid(360.0) {
        0.0 => Some(RightAngle::Zero),
        90.0 => Some(RightAngle::Quarter),
        180.0 => Some(RightAngle::Half),
        270.0 => Some(RightAngle::ThreeQuarters),
        _ => None,
    }
}

/// The canvas a clockwise rotation needs: the bounding box of the rotated image.
pub(super) fn rotated_size(width: u32, height: u32, degrees: f64) -> (u32, u32) {
    match right_angle(degrees) {
        Some(RightAngle::Zero | RightAngle::Half) => (width, height),
        Some(RightAngle::Quarter | RightAngle::ThreeQuarters) => (height, width),
        None => {
            let (sin, cos) = degrees.to_radians().sin_cos();
            let (sin, cos) = (sin.abs(), cos.abs());
            let (width, height) = (f64::from(width), f64::from(height));
            // The epsilon keeps float noise from adding a column (cos 60° is 0.5000000000000001).
            let side = |extent: f64| (extent - 1e-9).ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
            (side(width * cos + height * sin), side(width * sin + height * cos))
        }
    }
}

/// Rotates clockwise; the caller has checked [`rotated_size`] against the limits.
pub(super) fn rotate(raster: Raster, degrees: f64, ctx: &StepContext) -> Raster {
    match right_angle(degrees) {
        Some(RightAngle::Zero) => raster,
        Some(RightAngle::Half) => rotate_half(raster),
        Some(angle @ (RightAngle::Quarter | RightAngle::ThreeQuarters)) => {
            rotate_quarter(&raster, angle == RightAngle::Quarter)
        }
        None => rotate_any(raster, degrees, fill_colour(ctx)),
    }
}

/// What shows in the corners a rotation uncovers: `bg` (opaque unless the output keeps alpha),
/// else transparent where the output keeps alpha, else white.
fn fill_colour(ctx: &StepContext) -> [u8; 4] {
    match (ctx.background, ctx.output_has_alpha) {
        (Some(Rgba(colour)), true) => colour,
        (Some(Rgba([r, g, b, _])), false) => [r, g, b, 255],
        (None, true) => [0, 0, 0, 0],
        (None, false) => Rgba::WHITE.0,
    }
}

fn rotate_half(mut raster: Raster) -> Raster {
    raster.pixels.as_chunks_mut::<4>().0.reverse();
    raster
}

/// A quarter turn clockwise (`clockwise`) or counter-clockwise, tile by tile: each destination
/// row of a tile is written contiguously while its source pixels come from one column of a
/// source tile small enough to stay in cache (measured faster than writing columns).
fn rotate_quarter(raster: &Raster, clockwise: bool) -> Raster {
    let (width, height) = (raster.width as usize, raster.height as usize);
    let src = raster.pixels.as_chunks::<4>().0;
    let mut pixels = vec![0u8; src.len() * 4];
    let dst = pixels.as_chunks_mut::<4>().0;
    // The destination is `height` wide and `width` tall. Clockwise, its pixel (c, r) is the
    // source's (r, height - 1 - c); counter-clockwise, the source's (width - 1 - r, c).
    for tile_row in (0..width).step_by(TILE) {
        for tile_column in (0..height).step_by(TILE) {
            let columns = tile_column..(tile_column + TILE).min(height);
            for r in tile_row..(tile_row + TILE).min(width) {
                let out = &mut dst[r * height..][columns.clone()];
                if clockwise {
                    for (c, pixel) in columns.clone().zip(out) {
                        *pixel = src[(height - 1 - c) * width + r];
                    }
                } else {
                    let x = width - 1 - r;
                    for (c, pixel) in columns.clone().zip(out) {
                        *pixel = src[c * width + x];
                    }
                }
            }
        }
    }
    Raster { width: raster.height, height: raster.width, pixels, opaque: raster.opaque }
}

/// Any other angle: each destination pixel centre is mapped back into the source and sampled
/// bilinearly in premultiplied space. Samples reaching past the edge blend with transparency,
/// which anti-aliases the rotated edges, and then the fill shows through what is left.
fn rotate_any(raster: Raster, degrees: f64, fill: [u8; 4]) -> Raster {
    let (src_width, src_height) = (raster.width as usize, raster.height as usize);
    let (width, height) = rotated_size(raster.width, raster.height, degrees);
    let src = raster.pixels.as_chunks::<4>().0;
    let [r, g, b, a] = fill.map(f32::from);
    let fill_premultiplied = [r * a / 255.0, g * a / 255.0, b * a / 255.0, a];

    let (sin, cos) = degrees.to_radians().sin_cos();
    let (sin, cos) = (sin as f32, cos as f32);
    let (half_width, half_height) = (width as f32 / 2.0, height as f32 / 2.0);
    let (src_half_width, src_half_height) = (src_width as f32 / 2.0, src_height as f32 / 2.0);

    let (last_x, last_y) = ((src_width - 1) as f32, (src_height - 1) as f32);

    let mut pixels = vec![0u8; width as usize * height as usize * 4];
    let rows = pixels.as_chunks_mut::<4>().0.chunks_exact_mut(width as usize);
    for (y, row) in rows.enumerate() {
        let dy = y as f32 + 0.5 - half_height;
        for (x, out) in row.iter_mut().enumerate() {
            let dx = x as f32 + 0.5 - half_width;
            // The inverse of a clockwise turn (y points down), then back to pixel-centre
            // coordinates where pixel (i, j) sits at (i, j).
            let sx = cos * dx + sin * dy + src_half_width - 0.5;
            let sy = cos * dy - sin * dx + src_half_height - 0.5;
            if raster.opaque && sx >= 0.0 && sy >= 0.0 && sx < last_x && sy < last_y {
                // Inside an opaque source no fill shows and nothing needs premultiplying.
                // Truncation is the floor for these non-negative coordinates.
                let (x0, y0) = (sx as usize, sy as usize);
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                *out = bilinear_opaque(src, src_width, x0, y0, fx, fy);
                continue;
            }
            if sx < -1.0 || sy < -1.0 || sx >= src_width as f32 || sy >= src_height as f32 {
                // No texel within reach (about half the canvas at 45°): only the fill shows.
                *out = fill;
                continue;
            }
            let sample = bilinear(src, src_width, src_height, sx, sy);
            let uncovered = 1.0 - sample[3] / 255.0;
            let [r, g, b, a]: [f32; 4] =
                std::array::from_fn(|c| sample[c] + fill_premultiplied[c] * uncovered);
            // Back to straight colour in float: no 8-bit premultiplied rounding on the way.
            let straighten = if a > 0.0 { 255.0 / a } else { 0.0 };
            *out = [r * straighten + 0.5, g * straighten + 0.5, b * straighten + 0.5, a + 0.5]
                .map(|v| v as u8);
        }
    }
    let opaque = (raster.opaque && fill[3] == 255) || super::all_opaque(&pixels);
    Raster { width, height, pixels, opaque }
}

/// Bilinear sample of an opaque source whose four texels from (`x0`, `y0`) all exist, in
/// 8-bit fixed point: 4 multiplies a channel, no float conversion of texels.
#[inline]
fn bilinear_opaque(
    src: &[[u8; 4]],
    width: usize,
    x0: usize,
    y0: usize,
    fx: f32,
    fy: f32,
) -> [u8; 4] {
    let top = y0 * width + x0;
    let (top_left, top_right) = (src[top], src[top + 1]);
    let (bottom_left, bottom_right) = (src[top + width], src[top + width + 1]);
    let (fx, fy) = ((fx * 256.0) as u32, (fy * 256.0) as u32);
    let weights = [(256 - fx) * (256 - fy), fx * (256 - fy), (256 - fx) * fy, fx * fy];
    let mix = |c: usize| {
        let sum = weights[0] * u32::from(top_left[c])
            + weights[1] * u32::from(top_right[c])
            + weights[2] * u32::from(bottom_left[c])
            + weights[3] * u32::from(bottom_right[c]);
        ((sum + (1 << 15)) >> 16) as u8
    };
    [mix(0), mix(1), mix(2), 255]
}

/// Premultiplied bilinear sample of straight-alpha pixels at (`x`, `y`), which is within a
/// pixel of the image; texels outside it count as transparent.
#[inline]
fn bilinear(src: &[[u8; 4]], width: usize, height: usize, x: f32, y: f32) -> [f32; 4] {
    let (x0, y0) = (floor(x), floor(y));
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as isize, y0 as isize);
    let texel = |x: isize, y: isize| -> [f32; 4] {
        if x < 0 || y < 0 || x as usize >= width || y as usize >= height {
            [0.0; 4]
        } else {
            let [r, g, b, a] = src[y as usize * width + x as usize].map(f32::from);
            let coverage = a / 255.0;
            [r * coverage, g * coverage, b * coverage, a]
        }
    };
    let (top_left, top_right) = (texel(x0, y0), texel(x0 + 1, y0));
    let (bottom_left, bottom_right) = (texel(x0, y0 + 1), texel(x0 + 1, y0 + 1));
    std::array::from_fn(|c| {
        let top = top_left[c] + (top_right[c] - top_left[c]) * fx;
        let bottom = bottom_left[c] + (bottom_right[c] - bottom_left[c]) * fx;
        top + (bottom - top) * fy
    })
}

/// `v.floor()` without the libm call baseline x86-64 makes for it (`roundps` needs SSE4.1);
/// exact for the coordinates here, far inside `i32`.
#[inline]
fn floor(v: f32) -> f32 {
    let truncated = v as i32 as f32;
    if truncated > v { truncated - 1.0 } else { truncated }
}

/// Mirrors in place: `Horizontal` left-right, `Vertical` top-bottom.
pub(super) fn flip(mut raster: Raster, axis: Axis) -> Raster {
    let stride = raster.width as usize * 4;
    match axis {
        Axis::Horizontal => {
            for row in raster.pixels.chunks_exact_mut(stride) {
                row.as_chunks_mut::<4>().0.reverse();
            }
        }
        Axis::Vertical => {
            let (top, bottom) = raster.pixels.split_at_mut(stride * (raster.height as usize / 2));
            // `bottom` holds the middle row first when the height is odd; it stays put.
            let bottom_start = bottom.len() - top.len();
            for (upper, lower) in top
                .chunks_exact_mut(stride)
                .zip(bottom[bottom_start..].chunks_exact_mut(stride).rev())
            {
                upper.swap_with_slice(lower);
            }
        }
    }
    raster
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::limits::Limits;

    /// A raster whose pixel (x, y) is `[x, y, 100, 255]`.
    fn coordinates(width: u32, height: u32) -> Raster {
        let pixels = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [x as u8, y as u8, 100, 255]))
            .collect();
        Raster::from_rgba(width, height, pixels)
    }

    fn pixel(raster: &Raster, x: u32, y: u32) -> [u8; 4] {
        let i = (y * raster.width + x) as usize * 4;
        raster.pixels[i..i + 4].try_into().unwrap()
    }

    fn context<'a>(limits: &'a Limits, masks: &'a HashMap<uuid::Uuid, Raster>) -> StepContext<'a> {
        StepContext {
            limits,
            background: None,
            output_has_alpha: true,
            masks,
            enlarge_default: false,
        }
    }

    #[test]
    fn right_angles_move_pixels_exactly() {
        let (limits, masks) = (Limits::default(), HashMap::new());
        let ctx = context(&limits, &masks);
        // Sizes that span several tiles, with partial tiles, both ways.
        for (width, height) in [(70, 3), (19, 37)] {
            let quarter = rotate(coordinates(width, height), 90.0, &ctx);
            assert_eq!((quarter.width, quarter.height), (height, width));
            let half = rotate(coordinates(width, height), 180.0, &ctx);
            let three = rotate(coordinates(width, height), 270.0, &ctx);
            for y in 0..height {
                for x in 0..width {
                    let original = [x as u8, y as u8, 100, 255];
                    assert_eq!(pixel(&quarter, height - 1 - y, x), original);
                    assert_eq!(pixel(&half, width - 1 - x, height - 1 - y), original);
                    assert_eq!(pixel(&three, y, width - 1 - x), original);
                }
            }
        }
        assert_eq!(rotate(coordinates(5, 4), 0.0, &ctx), coordinates(5, 4));
        assert_eq!(rotate(coordinates(5, 4), -90.0, &ctx), rotate(coordinates(5, 4), 270.0, &ctx));
    }

    #[test]
    fn other_angles_grow_the_canvas() {
        assert_eq!(rotated_size(100, 50, 45.0), (107, 107));
        assert_eq!(rotated_size(100, 50, 30.0), (112, 94));
        assert_eq!(rotated_size(100, 100, 60.0), (137, 137));
        assert_eq!(rotated_size(100, 50, 90.0), (50, 100));
        assert_eq!(rotated_size(1, 1, 0.5), (2, 2));
    }

    fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Raster {
        Raster::from_rgba(width, height, rgba.repeat((width * height) as usize))
    }

    #[test]
    fn corners_take_the_fill() {
        let (limits, masks) = (Limits::default(), HashMap::new());
        let red = [200, 10, 10, 255];
        let mut ctx = context(&limits, &masks);

        let transparent = rotate(solid(40, 40, red), 45.0, &ctx);
        assert_eq!((transparent.width, transparent.height), (57, 57));
        assert_eq!(pixel(&transparent, 0, 0), [0, 0, 0, 0]);
        assert_eq!(pixel(&transparent, 28, 28), red);
        assert!(!transparent.opaque);

        ctx.output_has_alpha = false;
        let white = rotate(solid(40, 40, red), 45.0, &ctx);
        assert_eq!(pixel(&white, 0, 0), [255, 255, 255, 255]);
        assert!(white.opaque);

        ctx.background = Some(Rgba([0, 0, 255, 128]));
        assert_eq!(pixel(&rotate(solid(40, 40, red), 45.0, &ctx), 0, 0), [0, 0, 255, 255]);
        ctx.output_has_alpha = true;
        let blue = rotate(solid(40, 40, red), 45.0, &ctx);
        assert_eq!(pixel(&blue, 0, 0), [0, 0, 255, 128]);
        assert_eq!(pixel(&blue, 28, 28), red);
    }

    #[test]
    fn rotated_edges_are_anti_aliased_without_fringes() {
        let (limits, masks) = (Limits::default(), HashMap::new());
        let ctx = context(&limits, &masks);
        let out = rotate(solid(40, 40, [200, 10, 10, 255]), 30.0, &ctx);
        let partial: Vec<_> =
            out.pixels.chunks_exact(4).filter(|p| p[3] > 0 && p[3] < 255).collect();
        assert!(partial.len() > 100, "edges should be partly covered");
        // Straight colour stays the image's colour at the edges: transparency did not darken it.
        for p in partial.iter().filter(|p| p[3] > 16) {
            assert!(p[0].abs_diff(200) <= 3 && p[1].abs_diff(10) <= 3, "{p:?}");
        }
    }

    #[test]
    fn flips_mirror() {
        let flipped = flip(coordinates(3, 3), Axis::Horizontal);
        assert_eq!(pixel(&flipped, 0, 1), [2, 1, 100, 255]);
        assert_eq!(pixel(&flipped, 2, 2), [0, 2, 100, 255]);
        for height in [3, 4] {
            let flipped = flip(coordinates(2, height), Axis::Vertical);
            for y in 0..height {
                assert_eq!(pixel(&flipped, 1, y), [1, (height - 1 - y) as u8, 100, 255]);
            }
        }
    }
}
