//! The three forms, their errors, normalisation and the canonical text, tested together
//! because they must agree.

use serde_json::{Value, json};
use uuid::Uuid;

use super::*;
use crate::format::ImageFormat;

const ID: &str = "0192f7e1-7c3a-7b4e-8f00-123456789abc";

fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect()
}

fn query(query: &[(&str, &str)]) -> Transform {
    Transform::from_query(&pairs(query)).unwrap_or_else(|e| panic!("{query:?}: {e:?}"))
}

fn query_error(query: &[(&str, &str)]) -> SpecError {
    match Transform::from_query(&pairs(query)) {
        Ok(transform) => panic!("{query:?} was taken: {transform:?}"),
        Err(error) => error,
    }
}

fn ops(text: &str) -> Pipeline {
    Pipeline::from_ops_text(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
}

fn ops_error(text: &str) -> String {
    match Pipeline::from_ops_text(text) {
        Ok(pipeline) => panic!("{text:?} was taken: {pipeline:?}"),
        Err(error) => {
            assert_eq!(error.param, "ops", "{text:?}");
            error.message
        }
    }
}

fn json_steps(value: Value) -> Pipeline {
    Pipeline::from_json(&value, "operations").unwrap_or_else(|e| panic!("{value}: {e:?}"))
}

fn json_error(value: Value) -> SpecError {
    match Pipeline::from_json(&value, "operations") {
        Ok(pipeline) => panic!("{value} was taken: {pipeline:?}"),
        Err(error) => error,
    }
}

fn resize(width: Option<u32>, height: Option<u32>, fit: Fit, gravity: Gravity) -> Step {
    Step::Resize(Resize::new(width, height, fit, gravity, None))
}

fn steps(query_pairs: &[(&str, &str)]) -> Vec<Step> {
    query(query_pairs).pipeline.steps
}

/// Query pairs and the steps they make.
type QueryCase<'a> = (Vec<(&'a str, &'a str)>, Vec<Step>);

#[test]
fn query_step_values() {
    let id = Uuid::parse_str(ID).unwrap();
    let upper_id = ID.to_uppercase();
    let cases: Vec<QueryCase> = vec![
        (vec![("w", "300")], vec![resize(Some(300), None, Fit::Contain, Gravity::Center)]),
        (vec![("h", "16384")], vec![resize(None, Some(16384), Fit::Contain, Gravity::Center)]),
        (
            vec![("w", "1"), ("h", "007")],
            vec![resize(Some(1), Some(7), Fit::Contain, Gravity::Center)],
        ),
        (
            vec![("w", "3"), ("h", "4"), ("fit", "cover"), ("gravity", "north")],
            vec![resize(Some(3), Some(4), Fit::Cover, Gravity::North)],
        ),
        (
            vec![("w", "3"), ("h", "4"), ("fit", "cover"), ("gravity", "centre")],
            vec![resize(Some(3), Some(4), Fit::Cover, Gravity::Center)],
        ),
        (
            vec![("w", "3"), ("h", "4"), ("fit", "cover"), ("gravity", "smart")],
            vec![resize(Some(3), Some(4), Fit::Cover, Gravity::Smart)],
        ),
        (
            vec![("w", "3"), ("h", "4"), ("fit", "fill")],
            vec![resize(Some(3), Some(4), Fit::Fill, Gravity::Center)],
        ),
        (
            vec![("w", "3"), ("enlarge", "1")],
            vec![Step::Resize(Resize::new(
                Some(3),
                None,
                Fit::Contain,
                Gravity::Center,
                Some(true),
            ))],
        ),
        (
            vec![("w", "3"), ("enlarge", "false")],
            vec![Step::Resize(Resize::new(
                Some(3),
                None,
                Fit::Contain,
                Gravity::Center,
                Some(false),
            ))],
        ),
        (vec![("crop", "0,0,1,1")], vec![Step::Crop(Crop { x: 0, y: 0, width: 1, height: 1 })]),
        (
            vec![("crop", "10,20,300,200")],
            vec![Step::Crop(Crop { x: 10, y: 20, width: 300, height: 200 })],
        ),
        (vec![("rotate", "90")], vec![Step::Rotate(90.0)]),
        (vec![("rotate", "45.5")], vec![Step::Rotate(45.5)]),
        (vec![("rotate", "-90")], vec![Step::Rotate(270.0)]),
        (vec![("rotate", "450")], vec![Step::Rotate(90.0)]),
        (vec![("rotate", "-720.25")], vec![Step::Rotate(359.75)]),
        (vec![("rotate", "1e3")], vec![Step::Rotate(280.0)]),
        (vec![("rotate", "0")], vec![]),
        (vec![("rotate", "360")], vec![]),
        (vec![("rotate", "-0")], vec![]),
        (vec![("rotate", "-1e-30")], vec![]),
        (vec![("flip", "h")], vec![Step::Flip(Axis::Horizontal)]),
        (vec![("flip", "v")], vec![Step::Flip(Axis::Vertical)]),
        (vec![("grayscale", "true")], vec![Step::Grayscale]),
        (vec![("grayscale", "1")], vec![Step::Grayscale]),
        (vec![("grayscale", "false")], vec![]),
        (vec![("grayscale", "0")], vec![]),
        (vec![("blur", "2.5")], vec![Step::Blur(2.5)]),
        (vec![("blur", "100")], vec![Step::Blur(100.0)]),
        (vec![("blur", "0")], vec![]),
        (vec![("sharpen", "0.5")], vec![Step::Sharpen(0.5)]),
        (vec![("sharpen", "0.0")], vec![]),
        (vec![("brightness", "-100")], vec![Step::Brightness(-100.0)]),
        (vec![("brightness", "0")], vec![]),
        (vec![("contrast", "100")], vec![Step::Contrast(100.0)]),
        (vec![("contrast", "-0")], vec![]),
        (vec![("mask", "circle")], vec![Step::Mask(Mask::Circle)]),
        (vec![("mask", "ellipse")], vec![Step::Mask(Mask::Ellipse)]),
        (vec![("mask", "rounded:12")], vec![Step::Mask(Mask::Rounded { radius: 12 })]),
        (vec![("mask", "rounded:0")], vec![]),
        (vec![("mask", ID)], vec![Step::Mask(Mask::Image(id))]),
        (vec![("mask", &upper_id)], vec![Step::Mask(Mask::Image(id))]),
    ];
    for (query_pairs, expected) in cases {
        assert_eq!(steps(&query_pairs), expected, "{query_pairs:?}");
    }
}

#[test]
fn query_steps_follow_the_fixed_order_whatever_the_query_order() {
    let given = [
        ("mask", "circle"),
        ("contrast", "5"),
        ("brightness", "5"),
        ("sharpen", "1"),
        ("blur", "1"),
        ("grayscale", "true"),
        ("flip", "h"),
        ("rotate", "90"),
        ("w", "10"),
        ("crop", "0,0,5,5"),
    ];
    let names: Vec<String> = steps(&given)
        .iter()
        .map(|step| step.to_string().split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "crop",
            "resize",
            "rotate",
            "flip",
            "grayscale",
            "blur",
            "sharpen",
            "brightness",
            "contrast",
            "mask"
        ]
    );
}

#[test]
fn query_settings_without_effect_make_no_step_but_are_validated() {
    assert_eq!(steps(&[("fit", "cover"), ("gravity", "north"), ("enlarge", "true")]), vec![]);
    assert_eq!(query_error(&[("fit", "stretch")]).param, "fit");
    assert_eq!(query_error(&[("gravity", "up")]).param, "gravity");
    assert_eq!(query_error(&[("enlarge", "yes")]).param, "enlarge");
    // With one side every fit keeps the aspect, and gravity matters only for cover.
    assert_eq!(
        steps(&[("w", "300"), ("fit", "cover"), ("gravity", "north")]),
        steps(&[("w", "300")])
    );
    assert_eq!(
        steps(&[("w", "3"), ("h", "3"), ("gravity", "north")]),
        steps(&[("w", "3"), ("h", "3")])
    );
    assert_eq!(
        steps(&[("w", "3"), ("h", "3"), ("fit", "fill"), ("gravity", "east")]),
        steps(&[("w", "3"), ("h", "3"), ("fit", "fill")])
    );
    // `q` is checked even though nothing says the output is lossy.
    assert_eq!(query_error(&[("q", "0")]).param, "q");
}

#[test]
fn query_bad_values_name_their_parameter() {
    let cases: &[(&str, &[&str])] = &[
        ("w", &["0", "16385", "-1", "+5", "3.5", "", "abc", " 5", "99999999999999999999999"]),
        ("h", &["0", "1e3", "0x10"]),
        ("fit", &["Cover", "stretch", ""]),
        ("gravity", &["up", "Center", "northeast"]),
        ("enlarge", &["yes", "TRUE", "2", ""]),
        (
            "crop",
            &["1,2,3", "1,2,0,4", "1,2,4,0", "a,b,c,d", "1,2,3,4,5", "-1,0,2,2", "0,0,16385,1", ""],
        ),
        ("rotate", &["NaN", "nan", "inf", "-inf", "infinity", "abc", "", "90deg", "1e400"]),
        ("flip", &["x", "horizontal", "H", ""]),
        ("grayscale", &["2", "yes", ""]),
        ("blur", &["-1", "100.5", "nan", "inf", "x"]),
        ("sharpen", &["101", "-0.1"]),
        ("brightness", &["-101", "101", "x", "inf"]),
        ("contrast", &["x", "150"]),
        (
            "mask",
            &[
                "square",
                "rounded",
                "rounded:",
                "rounded:-1",
                "rounded:x",
                "rounded:16385",
                "0192f7e1-7c3a-7b4e-8f00-123456789abz",
                "0192f7e17c3a7b4e8f00123456789abc",
                "",
            ],
        ),
        ("q", &["0", "101", "80.5", "high", ""]),
        ("lossless", &["yes", "on"]),
        ("bg", &["fff", "fffffff", "ggggggg", "#ffffff", "fffffffff", "gggggg", ""]),
        ("strip", &["no", "off"]),
        ("svg", &["png", "Trace", ""]),
    ];
    for (param, values) in cases {
        for value in *values {
            let error = query_error(&[(param, value)]);
            assert_eq!(error.param, *param, "{param}={value}: {}", error.message);
        }
    }
}

#[test]
fn query_messages_are_specific() {
    let message = |param: &str, value: &str| query_error(&[(param, value)]).message;
    assert_eq!(message("w", "0"), "w must be an integer from 1 to 16384");
    assert_eq!(message("h", "x"), "h must be an integer from 1 to 16384");
    assert_eq!(message("fit", "x"), "fit must be contain, cover or fill");
    assert_eq!(message("enlarge", "x"), "enlarge must be true, false, 1 or 0");
    assert_eq!(message("crop", "1,2,3"), "crop must be x,y,w,h");
    assert_eq!(message("crop", "1,2,0,3"), "crop w must be an integer from 1 to 16384");
    assert_eq!(message("rotate", "inf"), "rotate must be a finite number of degrees");
    assert_eq!(message("blur", "-1"), "blur must be a number from 0 to 100");
    assert_eq!(message("contrast", "101"), "contrast must be a number from -100 to 100");
    assert_eq!(
        message("mask", "square"),
        "mask must be circle, ellipse, rounded:<radius> or an image id"
    );
    assert_eq!(message("mask", "rounded"), "a rounded mask needs a radius");
    assert_eq!(message("mask", "rounded:x"), "mask radius must be an integer from 0 to 16384");
    assert_eq!(message("q", "0"), "q must be an integer from 1 to 100");
    assert_eq!(message("bg", "fff"), "bg must be a hex color, RRGGBB or RRGGBBAA");
    assert_eq!(message("svg", "x"), "svg must be trace or embed");
}

#[test]
fn query_output_settings() {
    assert_eq!(query(&[]).output, OutputSettings::default());
    let output = query(&[
        ("q", "80"),
        ("lossless", "1"),
        ("bg", "FF8000"),
        ("strip", "false"),
        ("svg", "embed"),
    ])
    .output;
    // Field by field, so that a new setting needs no edit here.
    assert_eq!(
        (output.format, output.quality, output.lossless, output.background),
        (None, Some(80), true, Some(Rgba([255, 128, 0, 255])))
    );
    assert_eq!((output.strip, output.svg), (false, SvgMode::Embed));
    assert_eq!(query(&[("bg", "ff800080")]).output.background, Some(Rgba([255, 128, 0, 128])));
    assert_eq!(query(&[("bg", "aBcDeF")]).output.background, Some(Rgba([0xab, 0xcd, 0xef, 255])));
    assert_eq!(query(&[("q", "1")]).output.quality, Some(1));
    assert_eq!(query(&[("q", "100")]).output.quality, Some(100));
    assert!(!query(&[("strip", "0")]).output.strip);
    assert!(query(&[("lossless", "true")]).output.lossless);
    assert_eq!(query(&[("svg", "trace")]).output.svg, SvgMode::Trace);
}

#[test]
fn query_unknown_and_repeated_parameters() {
    let error = query_error(&[("w", "3"), ("zoom", "2")]);
    assert_eq!((error.param.as_str(), error.message.as_str()), ("zoom", "unknown parameter zoom"));
    // The caller removes `format` itself; here it is as unknown as any other.
    assert_eq!(query_error(&[("format", "png")]).param, "format");
    assert_eq!(query_error(&[("W", "3")]).param, "W");
    let error = query_error(&[("w", "3"), ("h", "3"), ("w", "3")]);
    assert_eq!((error.param.as_str(), error.message.as_str()), ("w", "w is given more than once"));
    assert_eq!(query_error(&[("q", "80"), ("q", "90")]).param, "q");
    assert_eq!(query_error(&[("ops", "grayscale"), ("ops", "grayscale")]).param, "ops");
}

#[test]
fn ops_replaces_step_parameters_but_not_output_settings() {
    for step_param in [
        "w",
        "h",
        "fit",
        "gravity",
        "enlarge",
        "crop",
        "rotate",
        "flip",
        "grayscale",
        "blur",
        "sharpen",
        "brightness",
        "contrast",
        "mask",
    ] {
        let error = query_error(&[(step_param, "1"), ("ops", "grayscale")]);
        assert_eq!(error.param, "ops", "{step_param}");
        assert!(error.message.contains(step_param), "{}", error.message);
    }
    let transform = query(&[
        ("ops", "rotate:90|grayscale"),
        ("q", "70"),
        ("lossless", "true"),
        ("bg", "000000"),
        ("strip", "0"),
        ("svg", "embed"),
    ]);
    assert_eq!(transform.pipeline.steps, vec![Step::Rotate(90.0), Step::Grayscale]);
    assert_eq!(transform.output.quality, Some(70));
    assert!(transform.output.lossless && !transform.output.strip);
    // An error inside the pipeline text names `ops`.
    assert_eq!(query_error(&[("ops", "rotate:x")]).param, "ops");
}

#[test]
fn ops_main_values_and_keys() {
    let id = Uuid::parse_str(ID).unwrap();
    let cases: Vec<(String, Vec<Step>)> = vec![
        ("resize:width=300".into(), vec![resize(Some(300), None, Fit::Contain, Gravity::Center)]),
        (
            "resize:w=300,h=200,fit=cover,gravity=west".into(),
            vec![resize(Some(300), Some(200), Fit::Cover, Gravity::West)],
        ),
        (
            "resize:height=20,enlarge=true".into(),
            vec![Step::Resize(Resize::new(
                None,
                Some(20),
                Fit::Contain,
                Gravity::Center,
                Some(true),
            ))],
        ),
        (
            "crop:10,20,300,200".into(),
            vec![Step::Crop(Crop { x: 10, y: 20, width: 300, height: 200 })],
        ),
        (
            "crop:x=10,y=20,w=300,h=200".into(),
            vec![Step::Crop(Crop { x: 10, y: 20, width: 300, height: 200 })],
        ),
        (
            "crop:height=200,width=300,y=20,x=10".into(),
            vec![Step::Crop(Crop { x: 10, y: 20, width: 300, height: 200 })],
        ),
        ("rotate:-90".into(), vec![Step::Rotate(270.0)]),
        ("rotate:degrees=45.5".into(), vec![Step::Rotate(45.5)]),
        ("flip:h".into(), vec![Step::Flip(Axis::Horizontal)]),
        ("flip:axis=v".into(), vec![Step::Flip(Axis::Vertical)]),
        ("grayscale".into(), vec![Step::Grayscale]),
        ("blur:3".into(), vec![Step::Blur(3.0)]),
        ("blur:sigma=0.5".into(), vec![Step::Blur(0.5)]),
        ("sharpen:sigma=1".into(), vec![Step::Sharpen(1.0)]),
        ("brightness:-20".into(), vec![Step::Brightness(-20.0)]),
        ("contrast:amount=15".into(), vec![Step::Contrast(15.0)]),
        ("mask:circle".into(), vec![Step::Mask(Mask::Circle)]),
        ("mask:shape=ellipse".into(), vec![Step::Mask(Mask::Ellipse)]),
        ("mask:rounded:12".into(), vec![Step::Mask(Mask::Rounded { radius: 12 })]),
        ("mask:shape=rounded,radius=12".into(), vec![Step::Mask(Mask::Rounded { radius: 12 })]),
        (format!("mask:{ID}"), vec![Step::Mask(Mask::Image(id))]),
        (format!("mask:image_id={ID}"), vec![Step::Mask(Mask::Image(id))]),
        // Blanks around the parts are ignored; no-op steps vanish; the order is kept.
        (" rotate : 90 | grayscale ".into(), vec![Step::Rotate(90.0), Step::Grayscale]),
        ("rotate:0|blur:0|brightness:0|contrast:0|sharpen:0|mask:rounded:0".into(), vec![]),
        ("".into(), vec![]),
        (
            "mask:circle|grayscale|crop:0,0,5,5|rotate:90|flip:v|resize:w=3".into(),
            vec![
                Step::Mask(Mask::Circle),
                Step::Grayscale,
                Step::Crop(Crop { x: 0, y: 0, width: 5, height: 5 }),
                Step::Rotate(90.0),
                Step::Flip(Axis::Vertical),
                resize(Some(3), None, Fit::Contain, Gravity::Center),
            ],
        ),
        ("grayscale|grayscale".into(), vec![Step::Grayscale, Step::Grayscale]),
    ];
    for (text, expected) in cases {
        assert_eq!(ops(&text).steps, expected, "{text}");
    }
}

#[test]
fn ops_errors_name_the_step_and_the_problem() {
    let cases = [
        (
            "zoom:2",
            "ops step 1: unknown op zoom (ops: resize, crop, rotate, flip, grayscale, blur, sharpen, brightness, contrast, mask)",
        ),
        (
            "grayscale|Rotate:90",
            "ops step 2: unknown op Rotate (ops: resize, crop, rotate, flip, grayscale, blur, sharpen, brightness, contrast, mask)",
        ),
        (
            "resize:w=3,zoom=2",
            "ops step 1: resize has no key zoom (its keys: width, height, fit, gravity, enlarge)",
        ),
        ("rotate:angle=9", "ops step 1: rotate has no key angle (its keys: degrees)"),
        ("grayscale:amount=1", "ops step 1: grayscale has no key amount (it takes none)"),
        (
            "crop:x=1,y=1,w=2,h=2,sigma=3",
            "ops step 1: crop has no key sigma (its keys: x, y, width, height)",
        ),
        ("resize:300", "ops step 1: resize takes key=value pairs, e.g. resize:width=300"),
        ("resize", "ops step 1: resize needs width or height"),
        ("resize:fit=cover", "ops step 1: resize needs width or height"),
        ("grayscale:true", "ops step 1: grayscale takes no value"),
        ("resize:w=3,width=4", "ops step 1: width is given twice"),
        ("resize:w=3,cover", "ops step 1: \"cover\" is not key=value"),
        ("grayscale||grayscale", "ops step 2: empty step"),
        ("grayscale|", "ops step 2: empty step"),
        ("resize:w=0", "ops step 1: w must be an integer from 1 to 16384"),
        ("resize:width=16385", "ops step 1: width must be an integer from 1 to 16384"),
        ("resize:w=3,h=3,fit=stretch", "ops step 1: fit must be contain, cover or fill"),
        ("crop:1,2,3", "ops step 1: crop must be x,y,w,h"),
        ("crop:x=1,y=2,w=3", "ops step 1: crop needs x, y, width and height"),
        ("rotate", "ops step 1: rotate needs degrees"),
        ("rotate:", "ops step 1: rotate must be a finite number of degrees"),
        ("rotate:nan", "ops step 1: rotate must be a finite number of degrees"),
        ("flip", "ops step 1: flip needs axis"),
        ("flip:x", "ops step 1: flip must be h or v"),
        ("blur", "ops step 1: blur needs sigma"),
        ("sharpen:sigma=-1", "ops step 1: sigma must be a number from 0 to 100"),
        ("brightness", "ops step 1: brightness needs amount"),
        ("contrast:200", "ops step 1: contrast must be a number from -100 to 100"),
        ("mask", "ops step 1: mask needs a shape or an image_id"),
        ("mask:rounded", "ops step 1: a rounded mask needs a radius"),
        ("mask:shape=rounded", "ops step 1: a rounded mask needs a radius"),
        ("mask:shape=circle,radius=3", "ops step 1: radius goes only with shape rounded"),
        ("mask:radius=3", "ops step 1: radius goes only with shape rounded"),
        (
            "mask:square",
            "ops step 1: mask must be circle, ellipse, rounded:<radius> or an image id",
        ),
        ("mask:image_id=nope", "ops step 1: image_id must be an image id (a UUID)"),
        ("mask:shape=square", "ops step 1: shape must be circle, ellipse or rounded"),
    ];
    for (text, message) in cases {
        assert_eq!(ops_error(text), message, "{text}");
    }
    assert_eq!(
        ops_error(&format!("mask:shape=circle,image_id={ID}")),
        "ops step 1: mask takes a shape or an image_id, not both"
    );
}

#[test]
fn equivalent_spellings_share_one_canonical_text() {
    let groups: &[&[&str]] = &[
        &[
            "resize:width=300",
            "resize:w=300",
            "resize:w=300,fit=contain",
            "resize:w=300,fit=cover,gravity=north",
            "resize:width=300,fit=fill",
        ],
        &[
            "resize:width=3,height=4",
            "resize:h=4,w=3,fit=contain,gravity=smart",
            "resize:w=03,h=4,gravity=center",
        ],
        &[
            "resize:width=3,height=4,fit=cover",
            "resize:w=3,h=4,fit=cover,gravity=centre",
            "resize:fit=cover,h=4,w=3",
        ],
        &[
            "rotate:90",
            "rotate:90.0",
            "rotate:450",
            "rotate:-270",
            "rotate:degrees=9e1",
            "rotate:+90",
        ],
        &["crop:1,2,3,4", "crop:x=1,y=2,w=3,h=4", "crop:h=4,w=3,y=2,x=1", "crop: 1, 2, 3, 4"],
        &["blur:2.5", "blur:sigma=2.50", "blur:2.5|blur:0"],
        &["mask:rounded:12", "mask:shape=rounded,radius=12", "mask:radius=12,shape=rounded"],
        &["", "rotate:0", "rotate:360", "brightness:0|contrast:-0"],
    ];
    for group in groups {
        let canonical = ops(group[0]).canonical();
        for text in &group[1..] {
            assert_eq!(ops(text).canonical(), canonical, "{text} vs {}", group[0]);
        }
    }
    // The query form and the pipeline text agree.
    let transform = |query_pairs: &[(&str, &str)]| query(query_pairs).pipeline.canonical();
    assert_eq!(transform(&[("w", "300")]), "resize:width=300");
    assert_eq!(transform(&[("ops", "resize:w=300,fit=contain")]), "resize:width=300");
    assert_eq!(transform(&[("w", "300"), ("fit", "cover")]), "resize:width=300");
    assert_eq!(
        transform(&[
            ("rotate", "-90"),
            ("w", "30"),
            ("h", "20"),
            ("fit", "cover"),
            ("gravity", "north")
        ]),
        transform(&[("ops", "resize:width=30,height=20,fit=cover,gravity=north|rotate:270")])
    );
}

#[test]
fn canonical_text_is_exact() {
    let cases = [
        ("rotate:90", "rotate:90"),
        ("rotate:45.50", "rotate:45.5"),
        ("rotate:-0.5", "rotate:359.5"),
        ("blur:1", "blur:1"),
        ("sharpen:0.1", "sharpen:0.1"),
        ("brightness:-20", "brightness:-20"),
        ("contrast:33.3", "contrast:33.3"),
        ("flip:axis=h", "flip:h"),
        ("grayscale", "grayscale"),
        ("crop:x=10,y=20,width=300,height=200", "crop:10,20,300,200"),
        (
            "resize:enlarge=1,h=20,w=30,gravity=south,fit=cover",
            "resize:width=30,height=20,fit=cover,gravity=south,enlarge=true",
        ),
        ("resize:h=20,enlarge=0", "resize:height=20,enlarge=false"),
        ("resize:w=2,h=2,fit=fill", "resize:width=2,height=2,fit=fill"),
        ("mask:shape=circle", "mask:circle"),
        ("mask:ellipse", "mask:ellipse"),
        ("mask:radius=3,shape=rounded", "mask:rounded:3"),
        (
            "rotate:90|grayscale|resize:w=300,h=300,fit=cover",
            "rotate:90|grayscale|resize:width=300,height=300,fit=cover",
        ),
    ];
    for (text, canonical) in cases {
        assert_eq!(ops(text).canonical(), canonical, "{text}");
    }
    assert_eq!(ops(&format!("mask:{}", ID.to_uppercase())).canonical(), format!("mask:{ID}"));
}

/// A small deterministic generator, so the round trip covers many odd values reproducibly.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    fn below(&mut self, n: u64) -> u32 {
        u32::try_from(self.next() % n).unwrap()
    }

    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    fn side(&mut self) -> u32 {
        1 + self.below(u64::from(MAX_SIDE))
    }

    fn step(&mut self) -> Step {
        let unit = self.unit();
        match self.below(10) {
            0 => {
                let width = self.side();
                let height = self.side();
                let (width, height) = match self.below(3) {
                    0 => (Some(width), None),
                    1 => (None, Some(height)),
                    _ => (Some(width), Some(height)),
                };
                let fit = self.pick(&[Fit::Contain, Fit::Cover, Fit::Fill]);
                let gravity = self.pick(&[
                    Gravity::Center,
                    Gravity::North,
                    Gravity::South,
                    Gravity::East,
                    Gravity::West,
                    Gravity::Smart,
                ]);
                let enlarge = self.pick(&[None, Some(true), Some(false)]);
                Step::Resize(Resize::new(width, height, fit, gravity, enlarge))
            }
            1 => Step::Crop(Crop {
                x: self.below(1 << 32),
                y: self.below(100),
                width: self.side(),
                height: self.side(),
            }),
            // Arbitrary doubles in (0, 360), beside the exact quarter turns.
            2 => Step::Rotate(self.pick(&[90.0, 180.0, 270.0, 0.5, unit * 359.0 + 1e-9])),
            3 => Step::Flip(self.pick(&[Axis::Horizontal, Axis::Vertical])),
            4 => Step::Grayscale,
            5 => Step::Blur((unit * 99.0) as f32 + 1e-3),
            6 => Step::Sharpen(self.pick(&[0.5, 1.0, 100.0, (unit * 99.0) as f32 + 0.01])),
            7 => Step::Brightness(self.pick(&[-100.0, 100.0, 12.5, (unit * 199.0 - 99.5) as f32])),
            8 => Step::Contrast((unit * 200.0 - 100.0) as f32),
            _ => Step::Mask(match self.below(4) {
                0 => Mask::Circle,
                1 => Mask::Ellipse,
                2 => Mask::Rounded { radius: self.side() },
                _ => Mask::Image(Uuid::from_u64_pair(self.next(), self.next())),
            }),
        }
    }
}

#[test]
fn canonical_text_and_json_round_trip() {
    let mut lcg = Lcg(42);
    for _ in 0..3000 {
        let length = lcg.below(6) as usize;
        let pipeline = Pipeline {
            steps: (0..length)
                .map(|_| lcg.step())
                // A zero amount is a no-op and would rightly vanish.
                .filter(|step| !matches!(step, Step::Contrast(0.0)))
                .collect(),
        };
        let canonical = pipeline.canonical();
        assert_eq!(ops(&canonical), pipeline, "{canonical}");
        assert_eq!(ops(&canonical).canonical(), canonical);
        let echoed = pipeline.to_json();
        assert_eq!(json_steps(echoed.clone()), pipeline, "{echoed}");
    }
}

#[test]
fn json_round_trips_through_its_text() {
    let pipeline = ops(
        "resize:w=30,h=20,fit=cover,gravity=east,enlarge=false|crop:1,2,3,4|rotate:-33.3|flip:v|grayscale|blur:0.1|sharpen:2|brightness:-12.5|contrast:7|mask:rounded:8|mask:circle",
    );
    let text = serde_json::to_string(&pipeline.to_json()).unwrap();
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json_steps(parsed), pipeline);
}

#[test]
fn json_echo_shape() {
    let pipeline = ops(&format!(
        "resize:w=300,h=200,fit=cover,gravity=north|rotate:90|blur:0.1|mask:rounded:4|mask:{ID}|flip:h|grayscale|crop:1,2,3,4|brightness:-5"
    ));
    assert_eq!(
        pipeline.to_json(),
        json!([
            {"op": "resize", "width": 300, "height": 200, "fit": "cover", "gravity": "north"},
            {"op": "rotate", "degrees": 90},
            {"op": "blur", "sigma": 0.1},
            {"op": "mask", "shape": "rounded", "radius": 4},
            {"op": "mask", "image_id": ID},
            {"op": "flip", "axis": "h"},
            {"op": "grayscale"},
            {"op": "crop", "x": 1, "y": 2, "width": 3, "height": 4},
            {"op": "brightness", "amount": -5},
        ])
    );
}

#[test]
fn json_steps_of_every_op() {
    let pipeline = json_steps(json!([
        {"op": "rotate", "degrees": 90},
        {"op": "resize", "width": 300, "height": 300, "fit": "cover", "gravity": "centre", "enlarge": true},
        {"op": "crop", "x": 0, "y": 0, "width": 10, "height": 10},
        {"op": "blur", "sigma": 1.5},
        {"op": "blur", "sigma": 0},
        {"op": "flip", "axis": "v"},
        {"op": "brightness", "amount": -10},
        {"op": "mask", "shape": "rounded", "radius": 6},
        {"op": "mask", "image_id": ID},
        {"op": "resize", "height": 5, "width": null},
        {"op": "grayscale"},
    ]));
    assert_eq!(
        pipeline.canonical(),
        format!(
            "rotate:90|resize:width=300,height=300,fit=cover,enlarge=true|crop:0,0,10,10|blur:1.5|flip:v|brightness:-10|mask:rounded:6|mask:{ID}|resize:height=5|grayscale"
        )
    );
    assert_eq!(json_steps(json!([])), Pipeline::default());
}

#[test]
fn json_errors_name_the_exact_path() {
    let cases = [
        (json!({"op": "grayscale"}), "operations", "operations must be a list of steps"),
        (
            json!([{"op": "grayscale"}, "rotate"]),
            "operations[1]",
            "a step must be an object with an op",
        ),
        (json!([{"width": 3}]), "operations[0]", "a step needs an op, a string such as \"resize\""),
        (json!([{"op": null}]), "operations[0]", "a step needs an op, a string such as \"resize\""),
        (json!([{"op": 7}]), "operations[0]", "a step needs an op, a string such as \"resize\""),
        (
            json!([{"op": "zoom"}]),
            "operations[0]",
            "unknown op zoom (ops: resize, crop, rotate, flip, grayscale, blur, sharpen, brightness, contrast, mask)",
        ),
        (
            json!([{"op": "grayscale"}, {"op": "resize", "widht": 3}]),
            "operations[1].widht",
            "resize has no key widht (its keys: width, height, fit, gravity, enlarge)",
        ),
        (
            json!([{"op": "resize", "w": 3, "h": 3}]),
            "operations[0].h",
            "resize has no keys h, w (its keys: width, height, fit, gravity, enlarge)",
        ),
        (
            json!([{"op": "grayscale", "amount": 1}]),
            "operations[0].amount",
            "grayscale has no key amount (it takes none)",
        ),
        (
            json!([{"op": "resize", "width": 300.5}]),
            "operations[0].width",
            "width must be an integer from 1 to 16384",
        ),
        (
            json!([{"op": "resize", "width": 300.0}]),
            "operations[0].width",
            "width must be an integer from 1 to 16384",
        ),
        (
            json!([{"op": "resize", "width": "300"}]),
            "operations[0].width",
            "width must be an integer from 1 to 16384",
        ),
        (
            json!([{"op": "resize", "width": 0}]),
            "operations[0].width",
            "width must be an integer from 1 to 16384",
        ),
        (
            json!([{"op": "resize", "width": -3}]),
            "operations[0].width",
            "width must be an integer from 1 to 16384",
        ),
        (
            json!([{"op": "resize", "height": 16385}]),
            "operations[0].height",
            "height must be an integer from 1 to 16384",
        ),
        (
            json!([{"op": "resize", "fit": "cover"}]),
            "operations[0]",
            "resize needs width or height",
        ),
        (
            json!([{"op": "resize", "width": 3, "enlarge": "true"}]),
            "operations[0].enlarge",
            "enlarge must be true or false",
        ),
        (
            json!([{"op": "resize", "width": 3, "gravity": 1}]),
            "operations[0].gravity",
            "gravity must be center, north, south, east, west or smart",
        ),
        (
            json!([{"op": "crop", "x": 0, "y": 0, "width": 3}]),
            "operations[0].height",
            "crop needs x, y, width and height",
        ),
        (
            json!([{"op": "crop", "x": 1.5, "y": 0, "width": 3, "height": 3}]),
            "operations[0].x",
            "x must be an integer from 0 to 4294967295",
        ),
        (json!([{"op": "rotate"}]), "operations[0].degrees", "rotate needs degrees"),
        (
            json!([{"op": "rotate", "degrees": "90"}]),
            "operations[0].degrees",
            "degrees must be a finite number of degrees",
        ),
        (json!([{"op": "flip", "axis": "x"}]), "operations[0].axis", "axis must be h or v"),
        (
            json!([{"op": "sharpen", "sigma": 101}]),
            "operations[0].sigma",
            "sigma must be a number from 0 to 100",
        ),
        (
            json!([{"op": "contrast", "amount": true}]),
            "operations[0].amount",
            "amount must be a number from -100 to 100",
        ),
        (json!([{"op": "mask"}]), "operations[0]", "mask needs a shape or an image_id"),
        (
            json!([{"op": "mask", "shape": "rounded"}]),
            "operations[0].radius",
            "a rounded mask needs a radius",
        ),
        (
            json!([{"op": "mask", "shape": "circle", "radius": 4}]),
            "operations[0].radius",
            "radius goes only with shape rounded",
        ),
        (
            json!([{"op": "mask", "shape": "circle", "image_id": ID}]),
            "operations[0].image_id",
            "mask takes a shape or an image_id, not both",
        ),
        (
            json!([{"op": "mask", "image_id": "not-an-id"}]),
            "operations[0].image_id",
            "image_id must be an image id (a UUID)",
        ),
        (
            json!([{"op": "mask", "shape": "rounded:4"}]),
            "operations[0].shape",
            "shape must be circle, ellipse or rounded",
        ),
    ];
    for (value, param, message) in cases {
        let error = json_error(value.clone());
        assert_eq!((error.param.as_str(), error.message.as_str()), (param, message), "{value}");
    }
    let error =
        Pipeline::from_json(&json!([{"op": "resize", "width": 1.5}]), "items[3].operations")
            .unwrap_err();
    assert_eq!(error.param, "items[3].operations[0].width");
}

#[test]
fn json_output_settings() {
    let object = |value: Value| value.as_object().unwrap().clone();
    let all = object(json!({
        "format": "JPG", "quality": 80, "lossless": true, "background": "00ff0080",
        "strip": false, "svg": "embed", "operations": [], "url": "https://example.com/a.png",
    }));
    let output = OutputSettings::from_json(&all, "").unwrap();
    assert_eq!(
        (output.format, output.quality, output.lossless, output.background),
        (Some(ImageFormat::Jpeg), Some(80), true, Some(Rgba([0, 255, 0, 128])))
    );
    assert_eq!((output.strip, output.svg), (false, SvgMode::Embed));
    let nulls = object(json!({"format": null, "quality": null, "strip": null}));
    assert_eq!(OutputSettings::from_json(&nulls, "").unwrap(), OutputSettings::default());

    let cases = [
        (
            json!({"format": "heic"}),
            "format",
            "format must be one of jpeg, png, webp, gif, avif, tiff, bmp, svg",
        ),
        (
            json!({"format": 3}),
            "format",
            "format must be one of jpeg, png, webp, gif, avif, tiff, bmp, svg",
        ),
        (json!({"quality": 0}), "quality", "quality must be an integer from 1 to 100"),
        (json!({"quality": 80.5}), "quality", "quality must be an integer from 1 to 100"),
        (json!({"quality": "80"}), "quality", "quality must be an integer from 1 to 100"),
        (json!({"lossless": 1}), "lossless", "lossless must be true or false"),
        (
            json!({"background": "#fff"}),
            "background",
            "background must be a hex color, RRGGBB or RRGGBBAA",
        ),
        (json!({"strip": "false"}), "strip", "strip must be true or false"),
        (json!({"svg": "vector"}), "svg", "svg must be trace or embed"),
    ];
    for (value, param, message) in cases {
        let error = OutputSettings::from_json(&object(value.clone()), "").unwrap_err();
        assert_eq!((error.param.as_str(), error.message.as_str()), (param, message), "{value}");
        let error = OutputSettings::from_json(&object(value.clone()), "items[3]").unwrap_err();
        assert_eq!(error.param, format!("items[3].{param}"), "{value}");
    }
}

#[test]
fn cache_key_keeps_only_what_matters_for_the_format() {
    let key = |query_pairs: &[(&str, &str)], format| query(query_pairs).cache_key(format);
    use ImageFormat::*;
    assert_eq!(key(&[], Png), "format=png");
    assert_eq!(key(&[("w", "300")], Webp), "format=webp&ops=resize:width=300");
    assert_eq!(key(&[("w", "300")], Webp), key(&[("ops", "resize:w=300,fit=cover")], Webp));
    assert_ne!(key(&[("w", "300")], Webp), key(&[("w", "300")], Avif));
    // Quality: lossy formats only, and not when lossless.
    assert_eq!(key(&[("q", "80")], Jpeg), "format=jpeg&q=80");
    assert_eq!(key(&[("q", "80")], Png), "format=png");
    assert_eq!(key(&[("q", "80"), ("lossless", "true")], Webp), "format=webp&lossless=true");
    assert_eq!(key(&[("q", "80"), ("lossless", "true")], Jpeg), "format=jpeg&q=80");
    assert_eq!(key(&[("lossless", "true")], Png), "format=png");
    assert_eq!(key(&[("lossless", "true")], Avif), "format=avif&lossless=true");
    // Background: whenever given, but opaque white is the default without alpha.
    assert_eq!(key(&[("bg", "FFFFFF")], Jpeg), "format=jpeg");
    assert_eq!(key(&[("bg", "ffffffff")], Bmp), "format=bmp");
    assert_eq!(key(&[("bg", "FFFFFF")], Png), "format=png&bg=ffffff");
    assert_eq!(key(&[("bg", "ff000080")], Png), "format=png&bg=ff000080");
    assert_eq!(key(&[("bg", "ff0000ff")], Jpeg), "format=jpeg&bg=ff0000");
    // Strip only when false; the SVG mode only for SVG output and when not the default.
    assert_eq!(key(&[("strip", "true")], Png), "format=png");
    assert_eq!(key(&[("strip", "false")], Png), "format=png&strip=false");
    assert_eq!(key(&[("svg", "embed")], Png), "format=png");
    assert_eq!(key(&[("svg", "trace")], Svg), "format=svg");
    assert_eq!(key(&[("svg", "embed")], Svg), "format=svg&svg=embed");
    assert_eq!(
        key(&[("rotate", "90"), ("q", "70"), ("bg", "000000"), ("strip", "0")], Jpeg),
        "format=jpeg&ops=rotate:90&q=70&bg=000000&strip=false"
    );
    // The same variant through the JSON form.
    let json_transform = Transform {
        pipeline: json_steps(json!([{"op": "rotate", "degrees": 450}])),
        output: OutputSettings::from_json(json!({"quality": 70}).as_object().unwrap(), "").unwrap(),
    };
    assert_eq!(json_transform.cache_key(Jpeg), key(&[("rotate", "90"), ("q", "70")], Jpeg));
}

#[test]
fn mask_image_ids_once_each_in_step_order() {
    let other = "0192f7e1-0000-7000-8000-000000000001";
    let pipeline = ops(&format!("mask:{other}|mask:circle|mask:{ID}|mask:{other}"));
    assert_eq!(
        pipeline.mask_image_ids(),
        vec![Uuid::parse_str(other).unwrap(), Uuid::parse_str(ID).unwrap()]
    );
    assert!(ops("mask:circle|grayscale").mask_image_ids().is_empty());
}
