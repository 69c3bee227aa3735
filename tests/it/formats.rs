//! Every input format to every output format, and the format-specific rules.

use progimage_tests::{TestApp, assert_problem, fixture};
use reqwest::StatusCode;
use serde_json::Value;

const INPUTS: [&str; 8] = [
    "images/sample.jpeg",
    "images/sample.png",
    "images/sample.webp",
    "images/sample.gif",
    "images/sample.avif",
    "images/sample.tiff",
    "images/sample.bmp",
    "images/oceans.svg",
];
const OUTPUTS: [&str; 8] = ["jpeg", "png", "webp", "gif", "avif", "tiff", "bmp", "svg"];

/// Uploads bytes and returns what the server says of them (it decodes them fully).
async fn reupload(app: &TestApp, bytes: Vec<u8>) -> Value {
    let response = app.upload_raw(bytes, "application/octet-stream").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_input_format_to_every_output_format() {
    let app = TestApp::spawn().await;
    for input in INPUTS {
        let image = app.upload_fixture(input).await;
        let id = image["id"].as_str().unwrap();
        let expected_format = input.rsplit('.').next().unwrap();
        assert_eq!(image["format"], expected_format, "{input}");
        let (width, height) = (image["width"].as_u64().unwrap(), image["height"].as_u64().unwrap());
        for output in OUTPUTS {
            let response = app.variant(id, output, "w=32").await;
            let status = response.status();
            let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
            let bytes = response.bytes().await.unwrap().to_vec();
            assert_eq!(
                status,
                StatusCode::OK,
                "{input} → {output}: {}",
                String::from_utf8_lossy(&bytes)
            );
            assert_eq!(content_type, progimage_tests::content_type_of(&format!("x.{output}")));
            let stored = reupload(&app, bytes).await;
            assert_eq!(stored["format"], output, "{input} → {output}");
            let expected_height = (height * 32 + width / 2) / width;
            assert_eq!(stored["width"], 32, "{input} → {output}");
            assert!(
                stored["height"].as_u64().unwrap().abs_diff(expected_height.max(1)) <= 1,
                "{input} → {output}: {stored}"
            );
        }
    }
}

#[tokio::test]
async fn raster_outputs_keep_colours() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    let reference = app.variant_image(&id, "png", "").await.to_rgba8();
    for output in ["jpeg", "webp", "gif", "tiff", "bmp"] {
        let decoded = app.variant_image(&id, output, "").await.to_rgba8();
        assert_eq!(decoded.dimensions(), reference.dimensions());
        // Compare the opaque lower part (formats without alpha flatten the top band).
        let mut total = 0u64;
        let mut count = 0u64;
        for y in 20..96 {
            for x in 0..64 {
                let (a, b) = (reference.get_pixel(x, y), decoded.get_pixel(x, y));
                total +=
                    (0..3).map(|c| (a[c] as i32 - b[c] as i32).unsigned_abs() as u64).sum::<u64>();
                count += 3;
            }
        }
        assert!(total / count < 12, "{output}: mean error {}", total / count);
    }
    // Formats without alpha put the transparent band on white, or on bg.
    let jpeg = app.variant_image(&id, "jpeg", "").await.to_rgba8();
    assert!(jpeg.get_pixel(32, 4).0[..3].iter().all(|c| *c > 240));
    let jpeg = app.variant_image(&id, "bmp", "bg=0000ff").await.to_rgba8();
    let p = jpeg.get_pixel(32, 4);
    assert!(p[2] > 240 && p[0] < 15 && p[1] < 15, "{p:?}");
    // Formats with alpha keep it.
    let webp = app.variant_image(&id, "webp", "lossless=true").await.to_rgba8();
    assert_eq!(webp.get_pixel(32, 4)[3], 0);
    // Lossless WebP is exact wherever a pixel is visible (fully transparent pixels may
    // lose their hidden colour).
    for (a, b) in webp.pixels().zip(reference.pixels()) {
        assert_eq!(a[3], b[3]);
        if a[3] > 0 {
            assert_eq!(a, b, "lossless WebP is exact");
        }
    }
}

#[tokio::test]
async fn quality_changes_lossy_sizes() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    for output in ["jpeg", "webp", "avif"] {
        let low = app.variant(&id, output, "w=200&q=10").await.bytes().await.unwrap().len();
        let high = app.variant(&id, output, "w=200&q=95").await.bytes().await.unwrap().len();
        assert!(low < high, "{output}: q=10 gives {low} bytes, q=95 {high}");
    }
}

#[tokio::test]
async fn svg_sources_render_and_rerender() {
    let app = TestApp::spawn().await;
    let svg = fixture("images/oceans.svg");
    let image = app.upload_fixture("images/oceans.svg").await;
    let id = image["id"].as_str().unwrap().to_string();
    assert_eq!(image["format"], "svg");
    assert_eq!(image["content_type"], "image/svg+xml");
    // Vectors enlarge by default.
    let big =
        app.variant_image(&id, "png", &format!("w={}", image["width"].as_u64().unwrap() * 2)).await;
    assert_eq!(big.width() as u64, image["width"].as_u64().unwrap() * 2);
    // No steps and SVG out: the sanitised original.
    let same = app.variant(&id, "svg", "").await;
    assert_eq!(same.status(), StatusCode::OK);
    let text = same.text().await.unwrap();
    assert!(text.contains("<svg"));
    assert!(svg.len() > 100);
}

#[tokio::test]
async fn svg_never_loads_anything_outside_the_document() {
    let app = TestApp::spawn().await;
    let image = app.upload_fixture("hostile/external-references.svg").await;
    let id = image["id"].as_str().unwrap().to_string();
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(120), Some(80)));
    let rendered = app.variant_image(&id, "png", "").await.to_rgba8();
    // The blue background renders; nothing external replaced it.
    let p = rendered.get_pixel(10, 10);
    assert!(p[2] > 150 && p[0] < 80, "{p:?}");
    let sanitised = app.variant(&id, "svg", "").await.text().await.unwrap();
    assert!(!sanitised.contains("/etc/passwd"), "{sanitised}");
    assert!(!sanitised.contains("169.254.169.254"), "{sanitised}");
    assert!(!sanitised.contains("secret.png"), "{sanitised}");
}

#[tokio::test]
async fn raster_to_svg_traces_paths_or_embeds() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/logo-alpha.png").await["id"].as_str().unwrap().to_string();
    let traced = app.variant(&id, "svg", "").await.text().await.unwrap();
    assert!(traced.contains("<path"), "traced into paths");
    assert!(traced.matches("<rect").count() < 10, "not a rectangle per pixel");
    let stored = reupload(&app, traced.into_bytes()).await;
    assert_eq!((stored["width"].as_u64(), stored["height"].as_u64()), (Some(240), Some(256)));
    let embedded = app.variant(&id, "svg", "svg=embed").await.text().await.unwrap();
    assert!(embedded.contains("<image") && embedded.contains("data:image/png;base64,"));
}

#[tokio::test]
async fn exif_is_stripped_unless_asked() {
    let app = TestApp::spawn().await;
    let id = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    let output = app.variant(&id, "jpeg", "").await.bytes().await.unwrap();
    assert!(!output.windows(4).any(|w| w == b"Exif"), "no EXIF in outputs by default");
    assert!(!output.windows(12).any(|w| w == b"ICC_PROFILE\0"), "no ICC profile in outputs");
    let svg_in_png = app.variant(&id, "png", "strip=false").await;
    assert_eq!(svg_in_png.status(), StatusCode::OK);
    assert_problem(app.variant(&id, "png", "strip=maybe").await, 400, "invalid_parameter").await;
}

#[tokio::test]
async fn exif_orientation_is_applied_and_metadata_kept_only_when_asked() {
    let app = TestApp::spawn().await;
    // Stored 80x40 with Orientation 6 (and GPS): displayed 40x80, the red corner top-right.
    let image = app.upload_fixture("images/orientation-6.jpg").await;
    assert_eq!((image["width"].as_u64(), image["height"].as_u64()), (Some(40), Some(80)));
    let id = image["id"].as_str().unwrap().to_string();
    let upright = app.variant_image(&id, "png", "").await.to_rgba8();
    assert_eq!(upright.dimensions(), (40, 80));
    let corner = upright.get_pixel(35, 4);
    assert!(corner[0] > 180 && corner[2] < 80, "{corner:?}");

    let stripped = app.variant(&id, "jpeg", "").await.bytes().await.unwrap();
    assert!(!stripped.windows(6).any(|w| w == b"Exif\0\0"), "EXIF (GPS included) stripped");
    let kept = app.variant(&id, "jpeg", "strip=false").await.bytes().await.unwrap();
    assert!(kept.windows(6).any(|w| w == b"Exif\0\0"), "EXIF kept with strip=false");
    // Kept with Orientation reset to 1, so viewers do not rotate the upright pixels again.
    let stored = reupload(&app, kept.to_vec()).await;
    assert_eq!((stored["width"].as_u64(), stored["height"].as_u64()), (Some(40), Some(80)));
}
