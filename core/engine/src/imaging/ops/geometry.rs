//! Resize geometry and cropping: where pixels go, before any of them is touched.

use super::super::ImagingError;
use super::super::raster::Raster;
use crate::spec::{Crop, Fit, Gravity, Resize};

/// Where a resize lands: the size the whole image is scaled to and, for `fit=cover`, the
/// window of that scaled image that is kept.
///
/// A plan is idempotent: planning the same resize again on an image already scaled to
/// `width`x`height` scales by 1 (tested). So the SVG renderer may render at exactly the scaled
/// size and the resize step then only crops, and the decoder may shrink on load to a size no
/// smaller than the scaled one; the step re-plans from the size it is given, which can differ
/// by a pixel from planning on the original where the derived side's rounding differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizePlan {
    /// Width of the whole scaled image.
    pub width: u32,
    /// Height of the whole scaled image.
    pub height: u32,
    /// The kept window, in scaled coordinates; `None` keeps the whole scaled image. With
    /// `Gravity::Smart` the window is centred here: only the pixels can say where it goes.
    pub crop: Option<Crop>,
}

impl ResizePlan {
    /// The size of the step's result.
    pub fn output_size(&self) -> (u32, u32) {
        match self.crop {
            Some(crop) => (crop.width, crop.height),
            None => (self.width, self.height),
        }
    }
}

/// Plans a resize of a `src_width`x`src_height` image; `enlarge_default` applies when
/// `resize.enlarge` is unset (false for rasters, true for SVG sources).
///
/// `w`,`h` is the target box. With one side given, the other follows the aspect ratio whatever
/// the fit. With both: `contain` fits inside the box, `cover` fills it and crops the overflow
/// by gravity, `fill` stretches to it. A derived side is rounded half up and is at least 1.
/// Without enlargement the scale is capped at 1 and the box at the image, axis by axis.
pub fn resize_plan(
    src_width: u32,
    src_height: u32,
    resize: &Resize,
    enlarge_default: bool,
) -> ResizePlan {
    let enlarge = resize.enlarge.unwrap_or(enlarge_default);
    let cap = |wanted: u32, have: u32| if enlarge { wanted } else { wanted.min(have) };
    let whole = |width, height| ResizePlan { width, height, crop: None };
    match (resize.width, resize.height) {
        (None, None) => whole(src_width, src_height),
        (Some(width), None) => {
            let width = cap(width, src_width);
            whole(width, scale_side(src_height, width, src_width))
        }
        (None, Some(height)) => {
            let height = cap(height, src_height);
            whole(scale_side(src_width, height, src_height), height)
        }
        (Some(width), Some(height)) => {
            let (box_width, box_height) = (cap(width, src_width), cap(height, src_height));
            // box_width / src_width <= box_height / src_height, compared without rounding.
            let width_ratio_smaller = u64::from(box_width) * u64::from(src_height)
                <= u64::from(box_height) * u64::from(src_width);
            let by_width = || whole(box_width, scale_side(src_height, box_width, src_width));
            let by_height = || whole(scale_side(src_width, box_height, src_height), box_height);
            match resize.fit {
                Fit::Fill => whole(box_width, box_height),
                Fit::Contain if width_ratio_smaller => by_width(),
                Fit::Contain => by_height(),
                Fit::Cover => {
                    let mut plan = if width_ratio_smaller { by_height() } else { by_width() };
                    if (plan.width, plan.height) != (box_width, box_height) {
                        let (x, y) = gravity_offset(
                            resize.gravity,
                            plan.width - box_width,
                            plan.height - box_height,
                        );
                        plan.crop = Some(Crop { x, y, width: box_width, height: box_height });
                    }
                    plan
                }
            }
        }
    }
}

/// `side * numerator / denominator` rounded half up, at least 1, saturating at `u32::MAX` (which
/// no limit allows, so an absurd plan is refused rather than wrapped).
fn scale_side(side: u32, numerator: u32, denominator: u32) -> u32 {
    let (side, numerator, denominator) =
        (u64::from(side), u64::from(numerator), u64::from(denominator.max(1)));
    let scaled = (2 * side * numerator + denominator) / (2 * denominator);
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// Top-left of the kept window given the overflow on each axis.
fn gravity_offset(gravity: Gravity, slack_x: u32, slack_y: u32) -> (u32, u32) {
    let (mid_x, mid_y) = (slack_x / 2, slack_y / 2);
    match gravity {
        Gravity::Center | Gravity::Smart => (mid_x, mid_y),
        Gravity::North => (mid_x, 0),
        Gravity::South => (mid_x, slack_y),
        Gravity::East => (slack_x, mid_y),
        Gravity::West => (0, mid_y),
    }
}

/// Clamps a crop to the image; no overlap at all is the caller's error.
pub(super) fn clamp_crop(width: u32, height: u32, crop: &Crop) -> Result<Crop, ImagingError> {
    if crop.x >= width || crop.y >= height || crop.width == 0 || crop.height == 0 {
        return Err(ImagingError::Step {
            param: "crop".to_owned(),
            message: format!(
                "crop {},{},{},{} does not overlap the {width}x{height} image",
                crop.x, crop.y, crop.width, crop.height
            ),
        });
    }
    Ok(Crop {
        x: crop.x,
        y: crop.y,
        width: crop.width.min(width - crop.x),
        height: crop.height.min(height - crop.y),
    })
}

/// Cuts `rect` (inside the image) out of the raster, moving rows down within its own buffer.
pub(super) fn crop_in_place(mut raster: Raster, rect: Crop) -> Raster {
    if (rect.width, rect.height) == (raster.width, raster.height) {
        return raster;
    }
    let src_stride = raster.width as usize * 4;
    let dst_stride = rect.width as usize * 4;
    let left = rect.x as usize * 4;
    for row in 0..rect.height as usize {
        // The destination of a row never starts after its source, so moving rows in order
        // never overwrites a row still to be moved.
        let src = (rect.y as usize + row) * src_stride + left;
        raster.pixels.copy_within(src..src + dst_stride, row * dst_stride);
    }
    raster.pixels.truncate(dst_stride * rect.height as usize);
    // Give a large buffer back when little of it is kept; reallocating copies only what is kept.
    if raster.pixels.len() < raster.pixels.capacity() / 4 {
        raster.pixels.shrink_to_fit();
    }
    raster.width = rect.width;
    raster.height = rect.height;
    if !raster.opaque {
        raster.opaque = super::all_opaque(&raster.pixels);
    }
    raster
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(width: Option<u32>, height: Option<u32>, fit: Fit, enlarge: Option<bool>) -> Resize {
        Resize { width, height, fit, gravity: Gravity::Center, enlarge }
    }

    /// Scaled width, scaled height and the crop as x, y, width, height.
    type Outcome = (u32, u32, Option<(u32, u32, u32, u32)>);

    fn plan(src: (u32, u32), resize: Resize) -> Outcome {
        let plan = resize_plan(src.0, src.1, &resize, false);
        (plan.width, plan.height, plan.crop.map(|c| (c.x, c.y, c.width, c.height)))
    }

    #[test]
    fn plan_table() {
        use Fit::*;
        let cases: &[((u32, u32), Resize, Outcome)] = &[
            // One side: every fit keeps the aspect.
            ((800, 600), resize(Some(400), None, Contain, None), (400, 300, None)),
            ((800, 600), resize(Some(400), None, Cover, None), (400, 300, None)),
            ((800, 600), resize(Some(400), None, Fill, None), (400, 300, None)),
            ((800, 600), resize(None, Some(150), Fill, None), (200, 150, None)),
            // The derived side rounds half up: 333 * 1/2 = 166.5 -> 167; 3 * 1/2 = 1.5 -> 2.
            ((1000, 333), resize(Some(500), None, Contain, None), (500, 167, None)),
            ((10, 3), resize(Some(5), None, Contain, None), (5, 2, None)),
            // ... and is at least 1.
            ((1000, 1), resize(Some(10), None, Contain, None), (10, 1, None)),
            ((1, 1000), resize(None, Some(10), Contain, None), (1, 10, None)),
            // No enlargement by default: the scale is capped at 1.
            ((800, 600), resize(Some(1600), None, Contain, None), (800, 600, None)),
            ((800, 600), resize(Some(1600), None, Contain, Some(true)), (1600, 1200, None)),
            // Contain fits inside the box.
            ((800, 600), resize(Some(300), Some(300), Contain, None), (300, 225, None)),
            ((600, 800), resize(Some(300), Some(300), Contain, None), (225, 300, None)),
            ((800, 600), resize(Some(400), Some(100), Contain, None), (133, 100, None)),
            // Cover fills the box and crops the overflow, centred by default.
            (
                (800, 600),
                resize(Some(300), Some(300), Cover, None),
                (400, 300, Some((50, 0, 300, 300))),
            ),
            (
                (600, 800),
                resize(Some(300), Some(300), Cover, None),
                (300, 400, Some((0, 50, 300, 300))),
            ),
            ((800, 600), resize(Some(400), Some(300), Cover, None), (400, 300, None)),
            // Fill stretches.
            ((800, 600), resize(Some(300), Some(300), Fill, None), (300, 300, None)),
            // Without enlargement the box is capped at the image per axis.
            (
                (400, 300),
                resize(Some(800), Some(200), Cover, Some(false)),
                (400, 300, Some((0, 50, 400, 200))),
            ),
            ((400, 300), resize(Some(800), Some(200), Fill, Some(false)), (400, 200, None)),
            ((400, 300), resize(Some(800), Some(200), Contain, Some(false)), (267, 200, None)),
            ((400, 300), resize(Some(800), Some(600), Contain, None), (400, 300, None)),
            ((400, 300), resize(Some(800), Some(600), Cover, None), (400, 300, None)),
            // With enlargement the box is taken as given.
            (
                (400, 300),
                resize(Some(800), Some(200), Cover, Some(true)),
                (800, 600, Some((0, 200, 800, 200))),
            ),
            ((400, 300), resize(Some(800), Some(200), Contain, Some(true)), (267, 200, None)),
            ((400, 300), resize(Some(800), Some(900), Contain, Some(true)), (800, 600, None)),
            ((400, 300), resize(Some(800), Some(200), Fill, Some(true)), (800, 200, None)),
            // Cover with rounding: 1000x333 into 300x300 scales by 300/333.
            (
                (1000, 333),
                resize(Some(300), Some(300), Cover, None),
                (901, 300, Some((300, 0, 300, 300))),
            ),
        ];
        for (src, resize, expected) in cases {
            assert_eq!(plan(*src, *resize), *expected, "{src:?} {resize:?}");
        }
    }

    #[test]
    fn cover_gravity_places_the_window() {
        let expected = [
            (Gravity::Center, (50, 0)),
            (Gravity::North, (50, 0)),
            (Gravity::South, (50, 0)),
            (Gravity::East, (100, 0)),
            (Gravity::West, (0, 0)),
            (Gravity::Smart, (50, 0)),
        ];
        for (gravity, (x, y)) in expected {
            let resize = Resize { gravity, ..resize(Some(300), Some(300), Fit::Cover, None) };
            let crop = resize_plan(800, 600, &resize, false).crop.unwrap();
            assert_eq!((crop.x, crop.y), (x, y), "{gravity:?}");
        }
        let tall = |gravity| {
            let resize = Resize { gravity, ..resize(Some(300), Some(300), Fit::Cover, None) };
            let crop = resize_plan(600, 800, &resize, false).crop.unwrap();
            (crop.x, crop.y)
        };
        assert_eq!(tall(Gravity::North), (0, 0));
        assert_eq!(tall(Gravity::South), (0, 100));
        assert_eq!(tall(Gravity::East), (0, 50));
    }

    #[test]
    fn enlarge_default_applies_only_when_unset() {
        let unset = resize(Some(200), None, Fit::Contain, None);
        assert_eq!(resize_plan(100, 50, &unset, true).output_size(), (200, 100));
        assert_eq!(resize_plan(100, 50, &unset, false).output_size(), (100, 50));
        let refused = resize(Some(200), None, Fit::Contain, Some(false));
        assert_eq!(resize_plan(100, 50, &refused, true).output_size(), (100, 50));
    }

    #[test]
    fn plans_are_idempotent() {
        let sources = [(800, 600), (1000, 333), (37, 1001), (4000, 3000), (3, 7)];
        let boxes =
            [(Some(300), Some(300)), (Some(123), None), (None, Some(77)), (Some(50), Some(400))];
        for (sw, sh) in sources {
            for (w, h) in boxes {
                for fit in [Fit::Contain, Fit::Cover, Fit::Fill] {
                    for enlarge in [false, true] {
                        let resize = resize(w, h, fit, Some(enlarge));
                        let first = resize_plan(sw, sh, &resize, false);
                        let again = resize_plan(first.width, first.height, &resize, false);
                        assert_eq!((again.width, again.height), (first.width, first.height));
                        assert_eq!(
                            again.output_size(),
                            first.output_size(),
                            "{sw}x{sh} {resize:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn absurd_plans_saturate_instead_of_wrapping() {
        let resize = resize(Some(16384), None, Fit::Contain, Some(true));
        assert_eq!(resize_plan(1, 100_000_000, &resize, false).height, u32::MAX);
    }

    #[test]
    fn crop_is_clamped_and_must_overlap() {
        let rect = clamp_crop(100, 50, &Crop { x: 90, y: 40, width: 50, height: 50 }).unwrap();
        assert_eq!(rect, Crop { x: 90, y: 40, width: 10, height: 10 });
        for crop in [
            Crop { x: 100, y: 0, width: 5, height: 5 },
            Crop { x: 0, y: 50, width: 5, height: 5 },
            Crop { x: 0, y: 0, width: 0, height: 5 },
        ] {
            let error = clamp_crop(100, 50, &crop).unwrap_err();
            assert!(matches!(error, ImagingError::Step { ref param, .. } if param == "crop"));
        }
    }

    #[test]
    fn crop_in_place_keeps_the_right_pixels() {
        // Each pixel encodes its own coordinates.
        let (width, height) = (5u32, 4u32);
        let pixels = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [x as u8, y as u8, 7, 200]))
            .collect();
        let raster = Raster::from_rgba(width, height, pixels);
        let cropped = crop_in_place(raster, Crop { x: 1, y: 2, width: 3, height: 2 });
        assert_eq!((cropped.width, cropped.height), (3, 2));
        let expected: Vec<u8> = [(1, 2), (2, 2), (3, 2), (1, 3), (2, 3), (3, 3)]
            .iter()
            .flat_map(|&(x, y)| [x, y, 7, 200])
            .collect();
        assert_eq!(cropped.pixels, expected);
        assert!(!cropped.opaque);
    }

    #[test]
    fn crop_finds_an_opaque_window_in_a_translucent_image() {
        let mut pixels = vec![255u8; 4 * 4 * 4];
        pixels[3] = 0;
        let raster = Raster::from_rgba(4, 4, pixels);
        assert!(!raster.opaque);
        assert!(crop_in_place(raster, Crop { x: 1, y: 1, width: 3, height: 3 }).opaque);
    }
}
