//! Every transformation, checked on the decoded pixels of the output.

use image::{DynamicImage, GenericImageView, Rgba};
use progimage_tests::{TestApp, assert_problem};

/// A 64x96 sample whose top 16 rows are transparent (PNG); and a 427x640 photo.
async fn setup() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let png = app.upload_fixture("images/sample.png").await["id"].as_str().unwrap().to_string();
    let photo = app.upload_fixture("images/wine.jpg").await["id"].as_str().unwrap().to_string();
    (app, png, photo)
}

fn size(image: &DynamicImage) -> (u32, u32) {
    (image.width(), image.height())
}

fn close(a: Rgba<u8>, b: Rgba<u8>, tolerance: i32) -> bool {
    a.0.iter().zip(b.0.iter()).all(|(x, y)| (*x as i32 - *y as i32).abs() <= tolerance)
}

#[tokio::test]
async fn resize_fits() {
    let (app, _, photo) = setup().await;
    // 427x640 photo.
    assert_eq!(size(&app.variant_image(&photo, "png", "w=100").await), (100, 150));
    assert_eq!(size(&app.variant_image(&photo, "png", "h=100").await), (67, 100));
    assert_eq!(size(&app.variant_image(&photo, "png", "w=100&h=100").await), (67, 100));
    assert_eq!(size(&app.variant_image(&photo, "png", "w=100&h=100&fit=cover").await), (100, 100));
    assert_eq!(size(&app.variant_image(&photo, "png", "w=100&h=100&fit=fill").await), (100, 100));
    assert_eq!(
        size(&app.variant_image(&photo, "png", "w=100&h=100&fit=cover&gravity=smart").await),
        (100, 100)
    );
    assert_eq!(
        size(&app.variant_image(&photo, "png", "w=100&h=50&fit=cover&gravity=north").await),
        (100, 50)
    );
    // No enlargement by default; the box is capped at the image per axis.
    assert_eq!(size(&app.variant_image(&photo, "png", "w=1000").await), (427, 640));
    assert_eq!(size(&app.variant_image(&photo, "png", "w=1000&h=300&fit=fill").await), (427, 300));
    assert_eq!(size(&app.variant_image(&photo, "png", "w=854&enlarge=true").await), (854, 1280));
    // The JSON keys in ops, with aliases.
    assert_eq!(
        size(&app.variant_image(&photo, "png", "ops=resize:width=50,height=50,fit=cover").await),
        (50, 50)
    );
}

#[tokio::test]
async fn crop_rotate_flip() {
    let (app, png, photo) = setup().await;
    assert_eq!(size(&app.variant_image(&photo, "png", "crop=10,20,100,50").await), (100, 50));
    // Clamped to the image.
    assert_eq!(size(&app.variant_image(&photo, "png", "crop=400,600,100,100").await), (27, 40));
    let outside = assert_problem(
        app.variant(&photo, "png", "crop=1000,1000,10,10").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(outside["param"], "crop");
    let outside = assert_problem(
        app.variant(&photo, "png", "ops=crop:1000,1000,10,10").await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_eq!(outside["param"], "ops");

    let original = app.variant_image(&png, "png", "").await;
    let rotated = app.variant_image(&png, "png", "rotate=90").await;
    assert_eq!(size(&rotated), (96, 64));
    // Clockwise: the top-left pixel moves to the top-right.
    assert_eq!(rotated.get_pixel(95, 0), original.get_pixel(0, 0));
    assert_eq!(rotated.get_pixel(0, 0), original.get_pixel(0, 95));
    let counter = app.variant_image(&png, "png", "rotate=-90").await;
    assert_eq!(counter.get_pixel(0, 63), original.get_pixel(0, 0));
    let half = app.variant_image(&png, "png", "rotate=180").await;
    assert_eq!(half.get_pixel(63, 95), original.get_pixel(0, 0));

    let tilted = app.variant_image(&photo, "png", "rotate=45").await;
    assert!(tilted.width() > 700 && tilted.height() > 700, "{:?}", size(&tilted));
    assert_eq!(tilted.get_pixel(0, 0)[3], 0, "transparent corner where the output has alpha");
    let tilted = app.variant_image(&photo, "jpeg", "rotate=45").await;
    assert!(close(tilted.get_pixel(1, 1), Rgba([255, 255, 255, 255]), 8), "white corner in JPEG");
    let tilted = app.variant_image(&photo, "jpeg", "rotate=45&bg=ff0000").await;
    assert!(close(tilted.get_pixel(1, 1), Rgba([255, 0, 0, 255]), 24), "bg corner in JPEG");

    let flipped = app.variant_image(&png, "png", "flip=h").await;
    assert_eq!(flipped.get_pixel(63, 40), original.get_pixel(0, 40));
    let flipped = app.variant_image(&png, "png", "flip=v").await;
    assert_eq!(flipped.get_pixel(0, 95), original.get_pixel(0, 0));
}

#[tokio::test]
async fn filters() {
    let (app, _, photo) = setup().await;
    let original = app.variant_image(&photo, "png", "").await.to_rgba8();
    let gray = app.variant_image(&photo, "png", "grayscale=true").await.to_rgba8();
    assert!(gray.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    assert_eq!(app.variant_image(&photo, "png", "grayscale=1").await.to_rgba8(), gray);

    let mean = |image: &image::RgbaImage| {
        image.pixels().map(|p| p[0] as f64 + p[1] as f64 + p[2] as f64).sum::<f64>()
            / (image.width() * image.height() * 3) as f64
    };
    let roughness = |image: &image::RgbaImage| {
        image
            .pixels()
            .zip(image.pixels().skip(1))
            .map(|(a, b)| (a[1] as f64 - b[1] as f64).abs())
            .sum::<f64>()
    };
    let blurred = app.variant_image(&photo, "png", "blur=3").await.to_rgba8();
    assert!((mean(&blurred) - mean(&original)).abs() < 2.0);
    assert!(roughness(&blurred) < roughness(&original) * 0.6);
    let sharpened = app.variant_image(&photo, "png", "sharpen=1").await.to_rgba8();
    assert!(roughness(&sharpened) > roughness(&original));

    let brighter = app.variant_image(&photo, "png", "brightness=30").await.to_rgba8();
    assert!(mean(&brighter) > mean(&original) + 10.0);
    let darker = app.variant_image(&photo, "png", "brightness=-100").await.to_rgba8();
    assert!(mean(&darker) < 1.0);
    let flat = app.variant_image(&photo, "png", "contrast=-100").await.to_rgba8();
    let first = *flat.get_pixel(0, 0);
    assert!(flat.pixels().all(|p| close(*p, first, 1)), "no contrast left");
}

#[tokio::test]
async fn masks() {
    let (app, png, photo) = setup().await;
    let circle = app.variant_image(&photo, "png", "w=100&mask=circle").await.to_rgba8();
    assert_eq!(circle.get_pixel(0, 0)[3], 0);
    assert_eq!(circle.get_pixel(50, 75)[3], 255);
    // Diameter = shorter side (100): the circle spans rows 25..125.
    assert_eq!(circle.get_pixel(50, 10)[3], 0);
    assert_eq!(circle.get_pixel(50, 30)[3], 255);
    let ellipse = app.variant_image(&photo, "png", "w=100&mask=ellipse").await.to_rgba8();
    assert_eq!(ellipse.get_pixel(50, 10)[3], 255);
    assert_eq!(ellipse.get_pixel(2, 2)[3], 0);
    let rounded = app.variant_image(&photo, "png", "w=100&mask=rounded:20").await.to_rgba8();
    assert_eq!(rounded.get_pixel(0, 0)[3], 0);
    assert_eq!(rounded.get_pixel(20, 0)[3], 255);
    let rounded_ops =
        app.variant_image(&photo, "png", "ops=resize:w=100|mask:rounded:20").await.to_rgba8();
    assert_eq!(rounded_ops, rounded);

    // Without alpha the mask flattens onto bg.
    let flattened = app.variant_image(&photo, "jpeg", "w=100&mask=circle&bg=00ff00").await;
    assert!(close(flattened.get_pixel(1, 1), Rgba([0, 255, 0, 255]), 30));

    // An image mask: the sample's transparent band has luminance... its alpha is 0 there,
    // so use its luminance: a mask of the photo itself keeps some alpha everywhere
    // bright and removes it where dark.
    let masked = app.variant_image(&photo, "png", &format!("w=64&mask={png}")).await.to_rgba8();
    assert_eq!(size(&DynamicImage::ImageRgba8(masked.clone())), (64, 96));
    assert!(masked.pixels().any(|p| p[3] < 250), "the mask's luminance reduced alpha");
}

#[tokio::test]
async fn limits_are_judged_from_the_geometry() {
    let (app, _, photo) = setup().await;
    let problem = assert_problem(
        app.variant(&photo, "png", "w=16384&h=16384&fit=fill&enlarge=true").await,
        422,
        "image_too_large",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().len() > 5);
    let problem =
        assert_problem(app.variant(&photo, "png", "w=16385").await, 400, "invalid_parameter").await;
    assert_eq!(problem["param"], "w");
    for (query, param) in [
        ("q=0", "q"),
        ("q=101", "q"),
        ("fit=squash", "fit"),
        ("blur=101", "blur"),
        ("brightness=-101", "brightness"),
        ("rotate=abc", "rotate"),
        ("flip=x", "flip"),
        ("bg=12345", "bg"),
        ("grayscale=yes", "grayscale"),
        ("svg=vector", "svg"),
        ("gravity=up", "gravity"),
        ("ops=explode", "ops"),
    ] {
        let problem =
            assert_problem(app.variant(&photo, "png", query).await, 400, "invalid_parameter").await;
        assert_eq!(problem["param"], param, "{query}");
    }
}
