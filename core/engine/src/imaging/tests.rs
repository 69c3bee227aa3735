//! Engine tests on real decoded pixels, reading `fixtures/images` (see its README).

use std::path::Path;
use std::time::{Duration, Instant};

use super::raster::Raster;
use super::*;
use crate::spec::{OutputSettings, Pipeline, SvgMode};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/images").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn limits() -> Limits {
    Limits::default()
}

fn pixel(raster: &Raster, x: u32, y: u32) -> [u8; 4] {
    let i = (y * raster.width + x) as usize * 4;
    raster.pixels[i..i + 4].try_into().unwrap()
}

#[track_caller]
fn assert_colour(
    raster: &Raster,
    (x, y): (u32, u32),
    expected: [u8; 3],
    tolerance: u8,
    what: &str,
) {
    let actual = pixel(raster, x, y);
    let off = actual[..3].iter().zip(expected).map(|(a, e)| a.abs_diff(e)).max().unwrap();
    assert!(
        off <= tolerance,
        "{what}: pixel ({x},{y}) is {actual:?}, expected {expected:?} ±{tolerance}"
    );
}

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [40, 60, 220];
const YELLOW: [u8; 3] = [240, 220, 40];
const WHITE: [u8; 3] = [255, 255, 255];

/// The quadrant fixtures' colours at the quadrants' centres.
#[track_caller]
fn assert_quadrants(raster: &Raster, tolerance: u8, what: &str) {
    assert_eq!((raster.width, raster.height), (64, 64), "{what}: size");
    for ((x, y), colour) in
        [((16, 16), RED), ((48, 16), GREEN), ((16, 48), BLUE), ((48, 48), YELLOW)]
    {
        assert_colour(raster, (x, y), colour, tolerance, what);
    }
}

const RASTER_EXTENSIONS: [(&str, ImageFormat); 7] = [
    ("jpg", ImageFormat::Jpeg),
    ("png", ImageFormat::Png),
    ("gif", ImageFormat::Gif),
    ("webp", ImageFormat::Webp),
    ("tiff", ImageFormat::Tiff),
    ("bmp", ImageFormat::Bmp),
    ("avif", ImageFormat::Avif),
];

/// How far a lossy format may move a flat colour.
fn tolerance(format: ImageFormat) -> u8 {
    match format {
        ImageFormat::Jpeg | ImageFormat::Webp => 12,
        // Quality 60 at speed 10 blurs chroma around small features.
        ImageFormat::Avif => 20,
        ImageFormat::Gif => 6,
        _ => 1,
    }
}

fn transform_to(format: ImageFormat) -> Transform {
    Transform {
        pipeline: Pipeline::default(),
        output: OutputSettings { format: Some(format), ..OutputSettings::default() },
    }
}

#[test]
fn probe_reads_every_header() {
    for (extension, format) in RASTER_EXTENSIONS {
        let info = probe(&fixture(&format!("pattern.{extension}")), &limits()).unwrap();
        assert_eq!(info, ImageInfo { format, width: 64, height: 64, frames: 1 }, "{extension}");
    }
    let svg = probe(&fixture("logo.svg"), &limits()).unwrap();
    assert_eq!((svg.format, svg.width, svg.height), (ImageFormat::Svg, 120, 80));
}

#[test]
fn probe_reports_displayed_size_after_orientation() {
    for (name, size) in [
        ("orient6.jpg", (32, 64)),
        ("orient3.jpg", (64, 32)),
        ("orient6.webp", (32, 64)),
        ("orient6.avif", (32, 64)),
    ] {
        let info = probe(&fixture(name), &limits()).unwrap();
        assert_eq!((info.width, info.height), size, "{name}");
    }
}

#[test]
fn probe_refuses_empty_unknown_and_unsupported() {
    assert!(matches!(probe(b"", &limits()), Err(ImagingError::Invalid(_))));
    assert!(matches!(probe(b"hello, world", &limits()), Err(ImagingError::Invalid(_))));
    assert!(matches!(probe(b"8BPS\0\x01\0\0", &limits()), Err(ImagingError::Unsupported(_))));
}

#[test]
fn bombs_are_refused_from_the_header() {
    for name in ["bomb.png", "bomb.jpg", "huge.svg"] {
        let bytes = fixture(name);
        let started = Instant::now();
        let result = probe(&bytes, &limits());
        assert!(matches!(result, Err(ImagingError::TooLarge(_))), "{name}: {result:?}");
        assert!(matches!(verify(&bytes, &limits()), Err(ImagingError::TooLarge(_))), "{name}");
        if name != "huge.svg" {
            assert!(
                started.elapsed() < Duration::from_millis(5),
                "{name}: {:?}",
                started.elapsed()
            );
        }
    }
    // A 64x64 image is over a 4000-pixel limit.
    let small = Limits { max_pixels: 4000, ..Limits::default() };
    assert!(matches!(probe(&fixture("pattern.png"), &small), Err(ImagingError::TooLarge(_))));
}

#[test]
fn verify_accepts_whole_files() {
    for (extension, format) in RASTER_EXTENSIONS {
        let info = verify(&fixture(&format!("pattern.{extension}")), &limits()).unwrap();
        assert_eq!(info.format, format);
    }
    verify(&fixture("logo.svg"), &limits()).unwrap();
}

#[test]
fn verify_refuses_truncated_and_corrupted_files() {
    for (extension, _) in RASTER_EXTENSIONS {
        for damage in ["truncated", "corrupted"] {
            let name = format!("{damage}.{extension}");
            let result = verify(&fixture(&name), &limits());
            assert!(matches!(result, Err(ImagingError::Invalid(_))), "{name}: {result:?}");
        }
    }
}

#[test]
fn decodes_every_format() {
    for (extension, format) in RASTER_EXTENSIONS {
        let raster = decode(&fixture(&format!("pattern.{extension}")), &limits()).unwrap();
        assert!(raster.opaque, "{extension}");
        assert_quadrants(&raster, tolerance(format), extension);
    }
}

#[test]
fn decodes_alpha() {
    for name in ["alpha.png", "alpha.avif"] {
        let raster = decode(&fixture(name), &limits()).unwrap();
        assert!(!raster.opaque, "{name}");
        assert_eq!(pixel(&raster, 16, 16)[3], 255, "{name}");
        assert!(
            pixel(&raster, 48, 16)[3].abs_diff(128) <= 2,
            "{name}: {:?}",
            pixel(&raster, 48, 16)
        );
        assert_eq!(pixel(&raster, 48, 48)[3], 0, "{name}");
        assert_colour(&raster, (48, 16), GREEN, 12, name);
    }
}

#[test]
fn applies_exif_orientation() {
    // Stored: red left half, blue right half.
    for name in ["orient6.jpg", "orient6.webp", "orient6.avif"] {
        let raster = decode(&fixture(name), &limits()).unwrap();
        assert_eq!((raster.width, raster.height), (32, 64), "{name}");
        assert_colour(&raster, (16, 8), RED, 12, name);
        assert_colour(&raster, (16, 56), BLUE, 12, name);
    }
    let raster = decode(&fixture("orient3.jpg"), &limits()).unwrap();
    assert_eq!((raster.width, raster.height), (64, 32));
    assert_colour(&raster, (8, 16), BLUE, 12, "orient3");
    assert_colour(&raster, (56, 16), RED, 12, "orient3");
}

/// Display-P3 (204, 102, 102) is sRGB (219, 95, 99): the profile must be applied.
#[test]
fn converts_embedded_icc_profiles_to_srgb() {
    let p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
    let pixels: Vec<u8> = [204u8, 102, 102].repeat(16 * 16);
    let expected = [219, 95, 99];

    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 100);
    encoder.add_icc_profile(&p3).unwrap();
    encoder.encode(&pixels, 16, 16, jpeg_encoder::ColorType::Rgb).unwrap();
    assert_colour(&decode(&jpeg, &limits()).unwrap(), (8, 8), expected, 4, "jpeg");

    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    image::ImageEncoder::set_icc_profile(&mut encoder, p3).unwrap();
    image::ImageEncoder::write_image(encoder, &pixels, 16, 16, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert_colour(&decode(&png, &limits()).unwrap(), (8, 8), expected, 2, "png");
}

#[test]
fn converts_cmyk_jpeg() {
    let raster = decode(&fixture("cmyk.jpg"), &limits()).unwrap();
    assert_quadrants(&raster, 16, "cmyk");
}

#[test]
fn every_format_round_trips_to_every_format() {
    for (extension, input) in RASTER_EXTENSIONS {
        let source = fixture(&format!("pattern.{extension}"));
        for output in ImageFormat::ALL {
            let what = format!("{input} → {output}");
            let encoded = process(&source, &transform_to(output), &MaskImages::new(), &limits())
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!((encoded.format, encoded.width, encoded.height), (output, 64, 64), "{what}");
            assert_eq!(probe(&encoded.bytes, &limits()).unwrap().format, output, "{what}");
            let back = decode(&encoded.bytes, &limits()).unwrap();
            let tolerance = tolerance(input).saturating_add(tolerance(output)).max(2);
            // Tracing smooths region edges, so only the quadrant centres are compared.
            assert_quadrants(
                &back,
                tolerance.max(if output == ImageFormat::Svg { 16 } else { 0 }),
                &what,
            );
        }
    }
}

#[test]
fn svg_round_trips_to_every_format() {
    let source = fixture("logo.svg");
    for output in ImageFormat::ALL {
        let encoded =
            process(&source, &transform_to(output), &MaskImages::new(), &limits()).unwrap();
        assert_eq!((encoded.width, encoded.height), (120, 80), "{output}");
        let back = decode(&encoded.bytes, &limits()).unwrap();
        let tolerance = tolerance(output).max(2);
        assert_colour(&back, (2, 40), BLUE, tolerance, &format!("svg → {output}"));
        assert_colour(&back, (60, 40), YELLOW, tolerance, &format!("svg → {output}"));
        assert_colour(&back, (18, 18), RED, tolerance, &format!("svg → {output}"));
    }
}

#[test]
fn transparent_sources_flatten_onto_the_background() {
    let source = fixture("alpha.png");
    let mut transform = transform_to(ImageFormat::Jpeg);
    let back = |transform: &Transform| {
        let encoded = process(&source, transform, &MaskImages::new(), &limits()).unwrap();
        decode(&encoded.bytes, &limits()).unwrap()
    };
    assert_colour(&back(&transform), (48, 48), WHITE, 4, "default white");
    transform.output.background = Some(crate::spec::Rgba([0, 0, 0, 255]));
    assert_colour(&back(&transform), (48, 48), [0, 0, 0], 4, "black");
    // Formats with alpha keep it.
    for format in [
        ImageFormat::Png,
        ImageFormat::Webp,
        ImageFormat::Avif,
        ImageFormat::Tiff,
        ImageFormat::Gif,
    ] {
        let raster = back(&transform_to(format));
        assert!(pixel(&raster, 48, 48)[3] <= 8, "{format}: {:?}", pixel(&raster, 48, 48));
    }
}

/// EXIF Orientation from an encoded file's EXIF, if it has any.
fn output_orientation(bytes: &[u8]) -> Option<u8> {
    let exif = match crate::format::sniff(bytes) {
        Sniffed::Known(ImageFormat::Jpeg) => metadata::jpeg_metadata(bytes).0.exif,
        Sniffed::Known(ImageFormat::Webp) => metadata::webp_metadata(bytes).exif,
        Sniffed::Known(ImageFormat::Png) => embedded(bytes, ImageFormat::Png).exif,
        _ => None,
    }?;
    Some(metadata::exif_orientation(&exif))
}

#[test]
fn metadata_is_stripped_unless_asked_to_keep_it() {
    let source = fixture("orient6.jpg");
    for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Webp] {
        let mut transform = transform_to(format);
        let stripped = process(&source, &transform, &MaskImages::new(), &limits()).unwrap();
        assert_eq!(output_orientation(&stripped.bytes), None, "{format}");
        transform.output.strip = false;
        let kept = process(&source, &transform, &MaskImages::new(), &limits()).unwrap();
        assert_eq!(output_orientation(&kept.bytes), Some(1), "{format}");
        // Already upright: a viewer applying the EXIF must not turn it again.
        let raster = decode(&kept.bytes, &limits()).unwrap();
        assert_eq!((raster.width, raster.height), (32, 64), "{format}");
        assert_colour(&raster, (16, 8), RED, 16, &format!("{format}"));
    }
}

#[test]
fn hostile_svg_renders_without_loading_anything() {
    let raster = decode(&fixture("hostile.svg"), &limits()).unwrap();
    assert_eq!((raster.width, raster.height), (100, 100));
    assert_colour(&raster, (25, 25), RED, 0, "own shapes render");
    assert_colour(&raster, (75, 25), WHITE, 0, "relative and absolute paths are not loaded");
    assert_colour(&raster, (12, 62), RED, 2, "data URLs render");
    assert_colour(&raster, (75, 75), WHITE, 0, "file and remote URLs are not loaded");
}

#[test]
fn svg_entities_stay_inside_the_document() {
    let raster = decode(&fixture("entity.svg"), &limits()).unwrap();
    assert_colour(&raster, (2, 2), RED, 0, "internal entity");
    let started = Instant::now();
    let result = probe(&fixture("laughs.svg"), &limits());
    assert!(matches!(result, Err(ImagingError::TooLarge(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// Mean absolute channel difference after shrinking both to `side` px wide, composited on white.
fn mean_error(a: &Raster, b: &Raster, side: u32) -> f64 {
    let shrink = |r: &Raster| {
        let image = image::RgbaImage::from_raw(r.width, r.height, r.pixels.clone()).unwrap();
        let height = (side * r.height / r.width).max(1);
        let small =
            image::imageops::resize(&image, side, height, image::imageops::FilterType::Triangle);
        let raster = Raster::from_rgba(side, height, small.into_raw());
        encode::flatten(&raster, crate::spec::Rgba::WHITE)
    };
    let (a, b) = (shrink(a), shrink(b));
    a.iter().zip(&b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64
}

#[test]
fn sanitised_svg_has_no_external_references_and_renders_the_same() {
    let source = fixture("hostile.svg");
    let clean = sanitize_svg_within(&source, &Limits::default()).unwrap();
    let text = String::from_utf8(clean.clone()).unwrap();
    for reference in ["https:", "file:", "../", "@import", "/work/"] {
        assert!(!text.contains(reference), "{reference} survived: {text}");
    }
    let before = decode(&source, &limits()).unwrap();
    let after = decode(&clean, &limits()).unwrap();
    assert!(mean_error(&before, &after, 100) < 1.0);

    // An SVG source with no steps comes back sanitised.
    let encoded = process(
        &source,
        &Transform { pipeline: Pipeline::default(), output: OutputSettings::default() },
        &MaskImages::new(),
        &limits(),
    )
    .unwrap();
    assert_eq!((encoded.format, encoded.bytes), (ImageFormat::Svg, clean));
}

#[test]
fn svg_render_size_follows_a_leading_resize() {
    let resize = |width, height, fit, enlarge| Resize {
        width,
        height,
        fit,
        gravity: crate::spec::Gravity::Center,
        enlarge,
    };
    let size = (120, 80);
    assert_eq!(svg_render_size(size, &resize(Some(600), None, Fit::Contain, None)), (600, 400));
    assert_eq!(svg_render_size(size, &resize(Some(60), Some(60), Fit::Contain, None)), (60, 40));
    assert_eq!(svg_render_size(size, &resize(Some(60), Some(60), Fit::Cover, None)), (90, 60));
    assert_eq!(svg_render_size(size, &resize(Some(60), Some(60), Fit::Fill, None)), (60, 60));
    assert_eq!(
        svg_render_size(size, &resize(None, Some(800), Fit::Contain, Some(false))),
        (120, 80)
    );
}

#[test]
fn traced_svg_resembles_the_source() {
    for (name, threshold) in [("photo.jpg", 12.0), ("logo.png", 5.0)] {
        let raster = decode(&fixture(name), &limits()).unwrap();
        let svg = trace::trace(&raster);
        assert!(!svg.contains("<rect") && !svg.contains("<image"), "{name}");
        // Colour regions, not pixels.
        let paths = svg.matches("<path").count();
        assert!(
            paths >= 3 && paths < (raster.width * raster.height / 16) as usize,
            "{name}: {paths}"
        );
        let back = decode(svg.as_bytes(), &limits()).unwrap();
        assert_eq!((back.width, back.height), (raster.width, raster.height), "{name}");
        let error = mean_error(&raster, &back, 64);
        assert!(error < threshold, "{name}: mean error {error:.2}");
    }
}

#[test]
fn embedded_svg_is_lossless() {
    let source = fixture("logo.png");
    let mut transform = transform_to(ImageFormat::Svg);
    transform.output.svg = SvgMode::Embed;
    let encoded = process(&source, &transform, &MaskImages::new(), &limits()).unwrap();
    assert!(String::from_utf8_lossy(&encoded.bytes).contains("data:image/png;base64,"));
    let raster = decode(&source, &limits()).unwrap();
    let back = decode(&encoded.bytes, &limits()).unwrap();
    assert_eq!((back.width, back.height), (raster.width, raster.height));
    assert!(mean_error(&raster, &back, raster.width) < 0.5);
}

#[test]
fn missing_mask_images_are_reported() {
    let id = Uuid::now_v7();
    let transform = Transform {
        pipeline: Pipeline { steps: vec![Step::Mask(Mask::Image(id))] },
        output: OutputSettings::default(),
    };
    let result = process(&fixture("pattern.png"), &transform, &MaskImages::new(), &limits());
    assert!(matches!(result, Err(ImagingError::MaskNotFound(missing)) if missing == id));
}

#[test]
fn counts_frames_and_decodes_the_first() {
    for (name, frames) in
        [("frames.gif", 3), ("frames.webp", 3), ("frames.png", 3), ("frames.tiff", 2)]
    {
        let bytes = fixture(name);
        let info = verify(&bytes, &limits()).unwrap();
        assert_eq!((info.width, info.height, info.frames), (32, 32, frames), "{name}");
        assert_colour(&decode(&bytes, &limits()).unwrap(), (16, 16), RED, 2, name);
    }
}

#[test]
fn svg_data_url_bombs_are_dropped() {
    use base64::Engine;
    let bomb = base64::engine::general_purpose::STANDARD.encode(fixture("bomb.png"));
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"20\" height=\"20\">\
         <rect width=\"20\" height=\"20\" fill=\"#dc1e1e\"/>\
         <image width=\"20\" height=\"20\" href=\"data:image/png;base64,{bomb}\"/></svg>"
    );
    let raster = decode(svg.as_bytes(), &limits()).unwrap();
    assert_colour(&raster, (10, 10), RED, 0, "the bomb is not drawn");
}
