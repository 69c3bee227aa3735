//! Steps through [`apply`]: limits, dispatch and the mask shapes.

use std::collections::HashMap;

use uuid::Uuid;

use super::*;
use crate::spec::{Axis, Crop, Fit, Gravity, Mask, Resize};

fn solid(width: u32, height: u32, rgba: [u8; 4]) -> Raster {
    Raster::from_rgba(width, height, rgba.repeat((width * height) as usize))
}

fn alpha(raster: &Raster, x: u32, y: u32) -> u8 {
    raster.pixels[(y * raster.width + x) as usize * 4 + 3]
}

fn run(raster: Raster, step: Step) -> Result<Raster, ImagingError> {
    run_with(raster, step, &Limits::default(), &HashMap::new())
}

fn run_with(
    raster: Raster,
    step: Step,
    limits: &Limits,
    masks: &HashMap<Uuid, Raster>,
) -> Result<Raster, ImagingError> {
    let ctx = StepContext {
        limits,
        background: None,
        output_has_alpha: true,
        masks,
        enlarge_default: false,
    };
    apply(raster, &step, &ctx)
}

#[test]
fn a_rotation_over_the_side_limit_is_refused_before_allocating() {
    // The raster's buffer is far smaller than its claimed size: any attempt to touch the
    // pixels would panic, so an Err proves the refusal came from the geometry alone.
    let claimed = Raster { width: 1000, height: 10, pixels: Vec::new(), opaque: true };
    let limits = Limits { max_side: 999, ..Limits::default() };
    let error = run_with(claimed, Step::Rotate(90.0), &limits, &HashMap::new()).unwrap_err();
    assert!(
        matches!(error, ImagingError::TooLarge(ref m) if m.contains("rotate") && m.contains("10x1000")),
        "{error}"
    );

    let limits = Limits { max_pixels: 10_000, ..Limits::default() };
    let claimed = Raster { width: 100, height: 100, pixels: Vec::new(), opaque: true };
    let error = run_with(claimed, Step::Rotate(45.0), &limits, &HashMap::new()).unwrap_err();
    assert!(matches!(error, ImagingError::TooLarge(_)), "{error}");
}

#[test]
fn a_resize_over_the_limits_is_refused() {
    let resize = Resize {
        width: Some(16000),
        height: None,
        fit: Fit::Contain,
        gravity: Gravity::Center,
        enlarge: Some(true),
    };
    let claimed = Raster { width: 10, height: 100, pixels: Vec::new(), opaque: true };
    let error = run(claimed, Step::Resize(resize)).unwrap_err();
    assert!(
        matches!(error, ImagingError::TooLarge(ref m) if m.contains("16000x160000")),
        "{error}"
    );
}

#[test]
fn resize_and_crop_through_apply() {
    let resize = Resize {
        width: Some(10),
        height: Some(10),
        fit: Fit::Cover,
        gravity: Gravity::Center,
        enlarge: None,
    };
    let out = run(solid(40, 20, [1, 2, 3, 255]), Step::Resize(resize)).unwrap();
    assert_eq!((out.width, out.height), (10, 10));
    assert!(out.pixels.chunks_exact(4).all(|p| p == [1, 2, 3, 255]));

    let crop = Crop { x: 30, y: 5, width: 100, height: 100 };
    let out = run(solid(40, 20, [1, 2, 3, 255]), Step::Crop(crop)).unwrap();
    assert_eq!((out.width, out.height), (10, 15));
    let outside = Crop { x: 40, y: 0, width: 1, height: 1 };
    let error = run(solid(40, 20, [1, 2, 3, 255]), Step::Crop(outside)).unwrap_err();
    assert!(matches!(error, ImagingError::Step { ref param, .. } if param == "crop"));
}

#[test]
fn colour_steps_through_apply() {
    let out = run(solid(2, 2, [10, 20, 30, 40]), Step::Flip(Axis::Vertical)).unwrap();
    assert_eq!(out, solid(2, 2, [10, 20, 30, 40]));
    let out = run(solid(2, 2, [100, 100, 100, 40]), Step::Brightness(10.0)).unwrap();
    assert_eq!(out, solid(2, 2, [110, 110, 110, 40]));
    let out = run(solid(2, 2, [100, 100, 100, 40]), Step::Contrast(0.0)).unwrap();
    assert_eq!(out, solid(2, 2, [100, 100, 100, 40]));
    let out = run(solid(2, 2, [255, 255, 255, 40]), Step::Grayscale).unwrap();
    assert_eq!(out, solid(2, 2, [255, 255, 255, 40]));
    let out = run(solid(5, 5, [9, 9, 200, 255]), Step::Blur(3.0)).unwrap();
    assert_eq!(out, solid(5, 5, [9, 9, 200, 255]));
    let out = run(solid(5, 5, [9, 9, 200, 255]), Step::Sharpen(3.0)).unwrap();
    assert_eq!(out, solid(5, 5, [9, 9, 200, 255]));
}

#[test]
fn circle_mask_is_centred_on_the_shorter_side() {
    let out = run(solid(60, 40, [200, 100, 0, 255]), Step::Mask(Mask::Circle)).unwrap();
    assert_eq!((out.width, out.height), (60, 40));
    assert!(!out.opaque);
    assert_eq!(alpha(&out, 30, 20), 255);
    assert_eq!(alpha(&out, 0, 0), 0);
    assert_eq!(alpha(&out, 59, 39), 0);
    // Diameter 40: the circle spans columns 10..50 and touches the top and bottom rows.
    assert_eq!(alpha(&out, 5, 20), 0);
    assert_eq!(alpha(&out, 54, 20), 0);
    assert!(alpha(&out, 10, 20) > 100);
    assert_eq!(alpha(&out, 12, 20), 255);
    // The edge is a ramp, not a step.
    let partial = out.pixels.chunks_exact(4).filter(|p| p[3] > 0 && p[3] < 255).count();
    assert!(partial > 40, "{partial}");
    // Colour is untouched.
    assert!(out.pixels.chunks_exact(4).all(|p| p[..3] == [200, 100, 0]));
    // Symmetric both ways.
    for y in 0..40 {
        for x in 0..60 {
            assert_eq!(alpha(&out, x, y), alpha(&out, 59 - x, y));
            assert_eq!(alpha(&out, x, y), alpha(&out, x, 39 - y));
        }
    }
}

#[test]
fn masks_multiply_existing_alpha() {
    let out = run(solid(21, 21, [1, 2, 3, 100]), Step::Mask(Mask::Circle)).unwrap();
    assert_eq!(alpha(&out, 10, 10), 100);
    assert_eq!(alpha(&out, 0, 0), 0);
    assert!(alpha(&out, 10, 0) <= 100);
}

#[test]
fn ellipse_mask_is_inscribed() {
    let out = run(solid(80, 20, [0, 0, 0, 255]), Step::Mask(Mask::Ellipse)).unwrap();
    assert_eq!(alpha(&out, 40, 10), 255);
    assert_eq!(alpha(&out, 0, 0), 0);
    // Reaches the middle of every side, not much beyond.
    assert!(alpha(&out, 1, 10) > 200);
    assert!(alpha(&out, 40, 0) > 200);
    assert_eq!(alpha(&out, 8, 2), 0);
    assert_eq!(alpha(&out, 20, 10), 255);
}

#[test]
fn rounded_mask_touches_only_the_corners() {
    let out = run(solid(50, 30, [0, 0, 0, 255]), Step::Mask(Mask::Rounded { radius: 8 })).unwrap();
    assert_eq!(alpha(&out, 0, 0), 0);
    assert_eq!(alpha(&out, 49, 29), 0);
    assert_eq!(alpha(&out, 8, 0), 255);
    assert_eq!(alpha(&out, 0, 8), 255);
    assert_eq!(alpha(&out, 25, 0), 255);
    assert!(alpha(&out, 2, 2) < 255 && alpha(&out, 2, 2) > 0, "{}", alpha(&out, 2, 2));
    let changed = out.pixels.chunks_exact(4).filter(|p| p[3] < 255).count();
    // Four corners of at most 8x8 pixels each, and at least the tip of each.
    assert!((4..=4 * 64).contains(&changed), "{changed}");

    // A radius past half the shorter side is clamped: the short sides become half circles.
    let pill =
        run(solid(50, 30, [0, 0, 0, 255]), Step::Mask(Mask::Rounded { radius: 500 })).unwrap();
    // The apex pixel of the half circle is 99% inside.
    assert!(alpha(&pill, 0, 15) >= 250, "{}", alpha(&pill, 0, 15));
    assert_eq!(alpha(&pill, 0, 3), 0);
    assert_eq!(alpha(&pill, 25, 0), 255);

    let unchanged =
        run(solid(5, 5, [0, 0, 0, 255]), Step::Mask(Mask::Rounded { radius: 0 })).unwrap();
    assert!(unchanged.opaque);
}

#[test]
fn image_mask_stretches_luminance_onto_alpha() {
    // A 2x1 mask, black then white, stretched over a 40x10 image.
    let id = Uuid::now_v7();
    let mask = Raster::from_rgba(2, 1, vec![0, 0, 0, 255, 255, 255, 255, 255]);
    let masks = HashMap::from([(id, mask)]);
    let out = run_with(
        solid(40, 10, [7, 8, 9, 200]),
        Step::Mask(Mask::Image(id)),
        &Limits::default(),
        &masks,
    )
    .unwrap();
    assert_eq!(alpha(&out, 0, 5), 0);
    assert_eq!(alpha(&out, 39, 5), 200);
    assert!(out.pixels.chunks_exact(4).all(|p| p[..3] == [7, 8, 9]));

    // Same size: used as it is, a transparent mask pixel hides like a black one.
    let mask = Raster::from_rgba(2, 1, vec![255, 255, 255, 0, 128, 128, 128, 255]);
    let masks = HashMap::from([(id, mask)]);
    let out = run_with(
        solid(2, 1, [7, 8, 9, 255]),
        Step::Mask(Mask::Image(id)),
        &Limits::default(),
        &masks,
    )
    .unwrap();
    assert_eq!((alpha(&out, 0, 0), alpha(&out, 1, 0)), (0, 128));
}

#[test]
fn a_missing_mask_image_is_named() {
    let id = Uuid::now_v7();
    let error = run(solid(2, 2, [0, 0, 0, 255]), Step::Mask(Mask::Image(id))).unwrap_err();
    assert!(matches!(error, ImagingError::MaskNotFound(missing) if missing == id));
}

#[test]
fn mul_div_255_is_exact() {
    for a in 0..=255u8 {
        for b in 0..=255u8 {
            let expected = (f64::from(a) * f64::from(b) / 255.0).round() as u8;
            assert_eq!(mul_div_255(a, b), expected, "{a} * {b}");
        }
    }
}

#[test]
fn ratios_that_round_past_the_edge_still_resize() {
    // 300 * (3264 / 300) is 3264.0000000000005 in floating point: the source window must
    // still lie within the image.
    for (width, height, target) in [(3264, 2448, 300), (4224, 3168, 1920), (377, 233, 17)] {
        let resize = Resize {
            width: Some(target),
            height: Some(target),
            fit: Fit::Contain,
            gravity: Gravity::Center,
            enlarge: None,
        };
        let out = run(solid(width, height, [9, 9, 9, 255]), Step::Resize(resize)).unwrap();
        assert_eq!(out.width.max(out.height), target);
    }
}
