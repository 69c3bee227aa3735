//! The tables against the parsers: every range bound of every op key and output setting
//! parses in every form and one step beyond fails, every default means what leaving the
//! key out means, and the rows are consistent with each other.

use serde_json::{Map, Value, json};

use super::*;
use crate::format::ImageFormat;

const ID: &str = "0192f7e1-7c3a-7b4e-8f00-123456789abc";

/// A JSON value of `kind` that passes.
fn sample(kind: Kind) -> Value {
    match kind {
        Kind::Integer { min, .. } => json!(min.max(1)),
        Kind::Number { min, .. } => json!(min),
        Kind::Finite { .. } => json!(45),
        Kind::Boolean => json!(true),
        Kind::Keyword { words, .. } => json!(words[0]),
        Kind::ImageId => json!(ID),
        Kind::Color => json!("ff8000"),
        Kind::Format => json!("png"),
    }
}

/// The same value as query or pipeline text.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        value => value.to_string(),
    }
}

/// Values of `kind` at its bounds (and its other spellings) that must parse, and values
/// one step beyond that must fail, as JSON. The text forms take the same values printed.
fn bounds(kind: Kind) -> (Vec<Value>, Vec<Value>) {
    match kind {
        Kind::Integer { min, max } => {
            let mut beyond = vec![json!(u64::from(max) + 1)];
            if min > 0 {
                beyond.push(json!(min - 1));
            }
            (vec![json!(min), json!(max)], beyond)
        }
        Kind::Number { min, max } => {
            (vec![json!(min), json!(max)], vec![json!(min - 1.0), json!(max + 1.0)])
        }
        Kind::Finite { .. } => (vec![json!(-1e300), json!(1e300)], vec![json!("1e400")]),
        Kind::Boolean => (vec![json!(true), json!(false)], vec![json!("yes")]),
        Kind::Keyword { words, aliases } => {
            let mut valid: Vec<Value> = words.iter().map(|word| json!(word)).collect();
            valid.extend(aliases.iter().map(|(alias, _)| json!(alias)));
            (valid, vec![json!(words[0].to_uppercase()), json!("")])
        }
        Kind::ImageId => (vec![json!(ID), json!(ID.to_uppercase())], vec![json!(&ID[1..])]),
        Kind::Color => (vec![json!("000000"), json!("FFFFFFFF")], vec![json!("fffff")]),
        Kind::Format => {
            let mut valid: Vec<Value> =
                ImageFormat::ALL.iter().map(|format| json!(format.name())).collect();
            valid.extend(ImageFormat::ALIASES.iter().map(|(alias, _)| json!(alias)));
            (valid, vec![json!("heic")])
        }
    }
}

/// A JSON step of `op` with `key` set to `value` and whatever else the op needs.
fn step_with(op: &OpDef, key: &KeyDef, value: Value) -> Map<String, Value> {
    let mut step = Map::new();
    step.insert("op".into(), json!(op.name));
    for other in op.keys.iter().filter(|other| other.required) {
        step.insert(other.name.into(), sample(other.kind));
    }
    if let Some(first) = op.needs_one_of.first()
        && !op.needs_one_of.contains(&key.key)
    {
        step.insert(first.name().into(), sample(op.key(*first).unwrap().kind));
    }
    // The one rule between keys the table does not hold: a radius goes with the rounded
    // shape, and the rounded shape needs one.
    if key.key == Key::Radius {
        step.insert(Key::Shape.name().into(), json!(Shape::Rounded.name()));
    }
    if key.key == Key::Shape && value == json!(Shape::Rounded.name()) {
        step.insert(Key::Radius.name().into(), json!(1));
    }
    step.insert(key.name.into(), value);
    step
}

/// The same step as pipeline text, keys written by their JSON names.
fn ops_text(step: &Map<String, Value>) -> String {
    let pairs: Vec<String> = step
        .iter()
        .filter(|(name, _)| *name != "op")
        .map(|(name, value)| format!("{name}={}", text(value)))
        .collect();
    format!("{}:{}", step["op"].as_str().unwrap(), pairs.join(","))
}

/// The query parameters of a step, when the query form writes one key of it on its own:
/// the key's parameter (resize) or the op's main value (rotate, blur, ...).
fn query_of(op: &OpDef, key: &KeyDef, value: &Value) -> Option<(String, Vec<(String, String)>)> {
    match (op.query, op.main) {
        (QueryForm::Keys, _) => {
            let param = key.short_name().to_string();
            let mut pairs = vec![(param.clone(), text(value))];
            if let Some(first) = op.needs_one_of.first()
                && !op.needs_one_of.contains(&key.key)
            {
                let side = op.key(*first).unwrap();
                pairs.push((side.short_name().into(), text(&sample(side.kind))));
            }
            Some((param, pairs))
        }
        (QueryForm::Main, Main::Key(main)) if main == key.key => {
            Some((op.name.to_string(), vec![(op.name.to_string(), text(value))]))
        }
        _ => None,
    }
}

#[test]
fn every_op_key_bound_parses_and_one_beyond_fails_in_every_form() {
    for op in OPS {
        for key in op.keys {
            let (valid, beyond) = bounds(key.kind);
            let at = format!("operations[0].{}", key.name);
            for value in &valid {
                let step = Value::Object(step_with(op, key, value.clone()));
                let parsed = Pipeline::from_json(&json!([step]), "operations");
                assert!(parsed.is_ok(), "{step}: {parsed:?}");
                let text = ops_text(step.as_object().unwrap());
                assert!(Pipeline::from_ops_text(&text).is_ok(), "{text}");
                if let Some((_, pairs)) = query_of(op, key, value) {
                    assert!(Transform::from_query(&pairs).is_ok(), "{pairs:?}");
                }
            }
            for value in &beyond {
                let step = Value::Object(step_with(op, key, value.clone()));
                // A string is never a number in JSON, so "1e400" tests only the text forms.
                if !(matches!(key.kind, Kind::Finite { .. }) && value.is_string()) {
                    let error = Pipeline::from_json(&json!([step]), "operations").unwrap_err();
                    assert_eq!(error.param, at, "{step}: {}", error.message);
                }
                let text = ops_text(step.as_object().unwrap());
                let error = Pipeline::from_ops_text(&text).unwrap_err();
                assert!(error.message.contains(key.name), "{text}: {}", error.message);
                if let Some((param, pairs)) = query_of(op, key, value) {
                    let error = Transform::from_query(&pairs).unwrap_err();
                    assert_eq!(error.param, param, "{pairs:?}: {}", error.message);
                }
            }
        }
    }
}

#[test]
fn every_setting_bound_parses_and_one_beyond_fails_in_every_form() {
    for row in SETTINGS {
        let (valid, beyond) = bounds(row.kind);
        for value in &valid {
            let object = json!({ row.name: value });
            let settings = Settings::from_json(object.as_object().unwrap(), "");
            assert!(settings.unwrap().get(row.name).is_some(), "{object}");
            if let Some(param) = row.query {
                let pairs = [(param.to_string(), text(value))];
                assert!(Transform::from_query(&pairs).is_ok(), "{pairs:?}");
            }
        }
        for value in &beyond {
            let object = json!({ row.name: value });
            let error = Settings::from_json(object.as_object().unwrap(), "items[2]").unwrap_err();
            assert_eq!(error.param, format!("items[2].{}", row.name), "{object}");
            if let Some(param) = row.query {
                let pairs = [(param.to_string(), text(value))];
                assert_eq!(Transform::from_query(&pairs).unwrap_err().param, param);
            }
        }
    }
}

#[test]
fn defaults_mean_what_leaving_the_key_out_means() {
    for op in OPS {
        for key in op.keys {
            let Some(default) = key.default else { continue };
            // Every key the op could use given, so that the default has something to change.
            let mut without = step_with(op, key, Value::Null);
            for side in op.needs_one_of {
                without.insert(side.name().into(), sample(op.key(*side).unwrap().kind));
            }
            let mut with = without.clone();
            with.insert(key.name.into(), default.to_json());
            let parse = |step: Map<String, Value>| {
                Pipeline::from_json(&json!([step]), "operations").unwrap()
            };
            assert_eq!(parse(with), parse(without), "{} {}", op.name, key.name);
        }
    }
    for row in SETTINGS {
        if let Some(default) = row.default {
            let object = json!({ row.name: default.to_json() });
            let output = OutputSettings::from_json(object.as_object().unwrap(), "").unwrap();
            assert_eq!(output, OutputSettings::default(), "{}", row.name);
        }
    }
}

#[test]
fn rows_agree_with_each_other_and_with_the_steps() {
    // Every op has one row, and its name is the name of the steps it makes.
    let ops: Vec<Op> = OPS.iter().map(|row| row.op).collect();
    for op in ops.iter() {
        assert_eq!(ops.iter().filter(|other| *other == op).count(), 1, "{op:?}");
        assert_eq!(OpDef::of(*op).name, op.name());
    }
    // A key has one name and one kind in every op that takes it.
    for row in OPS {
        for key in row.keys {
            for other in OPS.iter().flat_map(|op| op.keys).filter(|other| other.key == key.key) {
                assert_eq!((other.name, other.kind), (key.name, key.kind), "{}", key.name);
            }
            assert!(row.key_named(key.name, false).is_some());
        }
        for key in row.needs_one_of {
            assert!(row.key(*key).is_some(), "{} needs a key it lacks", row.name);
        }
    }
    // Keyword words name the variants of their enums, and an alias names a word.
    let names = |words: &[&'static str], name: fn(&str) -> Option<&'static str>| {
        words.iter().all(|word| name(word) == Some(*word))
    };
    assert!(names(Fit::WORDS, |word| Fit::from_name(word).map(Fit::name)));
    assert!(names(Gravity::WORDS, |word| Gravity::from_name(word).map(Gravity::name)));
    assert!(names(Axis::WORDS, |word| Axis::from_name(word).map(Axis::name)));
    assert!(names(Shape::WORDS, |word| Shape::from_name(word).map(Shape::name)));
    assert!(names(SvgMode::WORDS, |word| SvgMode::from_name(word).map(SvgMode::name)));
    for kind in OPS.iter().flat_map(|op| op.keys).map(|key| key.kind) {
        if let Kind::Keyword { words, aliases } = kind {
            assert!(
                aliases.iter().all(|(alias, word)| words.contains(word) && !words.contains(alias))
            );
        }
    }
    // No query parameter means two things.
    let mut names: Vec<&str> = step_params();
    names.extend(SETTINGS.iter().filter_map(|row| row.query));
    names.push("ops");
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count, "{names:?}");
    for name in names {
        assert!(query_param(name).is_some(), "{name}");
    }
}
