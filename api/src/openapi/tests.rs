//! The document against the contract's operations and against the parsers: every
//! transformation parameter, step and setting schema is checked against the engine.

use std::collections::{BTreeMap, BTreeSet};

use progimage_core::format::ImageFormat;
use progimage_core::spec::{Kind, OPS, Pipeline, SETTINGS, Transform, step_params};
use serde_json::{Value, json};

use super::grammar::{Form, default_value, op_schema_name, query_fields};
use super::*;

fn document_json() -> Value {
    serde_json::to_value(document()).unwrap()
}

/// Every operation of API.md with the statuses it documents.
const OPERATIONS: &[(&str, &str, &[&str])] = &[
    ("/v1/images", "post", &["201", "207", "400", "401", "413", "415", "422", "503"]),
    ("/v1/images", "get", &["200", "400", "401"]),
    ("/v1/images/{id}", "get", &["200", "206", "304", "401", "404", "416"]),
    ("/v1/images/{id}", "head", &["200", "206", "304", "401", "404", "416"]),
    ("/v1/images/{id}", "delete", &["204", "401", "404"]),
    ("/v1/images/{id}.{ext}", "get", &["200", "206", "304", "400", "401", "404", "416", "422"]),
    ("/v1/images/{id}.{ext}", "head", &["200", "206", "304", "400", "401", "404", "416", "422"]),
    ("/v1/images/{id}/metadata", "get", &["200", "401", "404"]),
    ("/v1/transform", "post", &["200", "400", "401", "404", "413", "415", "422", "503"]),
    ("/v1/jobs", "post", &["200", "202", "400", "401", "409"]),
    ("/v1/jobs", "get", &["200", "400", "401"]),
    ("/v1/jobs/{id}", "get", &["200", "401", "404"]),
    ("/v1/jobs/{id}", "delete", &["200", "401", "404"]),
    ("/v1/webhook-secret", "get", &["200", "401"]),
    ("/healthz", "get", &["200"]),
    ("/readyz", "get", &["200", "503"]),
    ("/metrics", "get", &["200"]),
    ("/openapi.json", "get", &["200"]),
];

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    document.pointer(reference.strip_prefix('#')?)
}

/// A response with `$ref`s followed.
fn response<'a>(document: &'a Value, operation: &'a Value, status: &str) -> &'a Value {
    let response = &operation["responses"][status];
    match response["$ref"].as_str() {
        Some(reference) => resolve(document, reference).unwrap(),
        None => response,
    }
}

#[test]
fn every_documented_operation_with_its_statuses_and_auth() {
    let document = document_json();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "ProgImage");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    let mut operation_ids = BTreeSet::new();
    for (path, method, statuses) in OPERATIONS {
        let operation = &document["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is missing");
        assert!(operation_ids.insert(operation["operationId"].as_str().unwrap()));
        for status in *statuses {
            let answer = response(&document, operation, status);
            assert!(answer.is_object(), "{method} {path} lacks {status}");
            // Errors are problem documents (HEAD answers carry no body).
            let is_error = status.starts_with('4') || status.starts_with('5');
            if is_error && *method != "head" && *path != "/readyz" {
                let problem = &answer["content"]["application/problem+json"];
                assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem");
            }
            assert!(answer["headers"]["x-request-id"].is_object(), "{path} {status}");
        }
        let security = &operation["security"];
        if path.starts_with("/v1/") {
            assert_eq!(security[0][BEARER_AUTH], json!([]), "{method} {path}");
        } else {
            assert!(security.is_null(), "{method} {path} needs no key");
        }
    }
    let documented: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, OPERATIONS.len(), "an operation API.md does not list");
    assert_eq!(document["components"]["securitySchemes"][BEARER_AUTH]["scheme"], "bearer");
}

#[test]
fn image_responses_carry_their_headers() {
    let document = document_json();
    let variant = &document["paths"]["/v1/images/{id}.{ext}"]["get"];
    let ok = response(&document, variant, "200");
    for name in ["ETag", "Cache-Control", "x-progimage-cache", "Content-Security-Policy"] {
        assert!(ok["headers"][name].is_object(), "{name}");
    }
    for format in ImageFormat::ALL {
        assert!(ok["content"][format.content_type()].is_object(), "{format}");
    }
    assert!(response(&document, variant, "206")["headers"]["Content-Range"].is_object());
    assert!(response(&document, variant, "416")["headers"]["Content-Range"].is_object());
    let head = &document["paths"]["/v1/images/{id}.{ext}"]["head"];
    assert!(head["responses"]["200"]["content"].is_null());
    assert!(head["responses"]["200"]["headers"]["ETag"].is_object());
}

/// Every `$ref` in `value`, with where it was found.
fn references(value: &Value, at: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                if key == "$ref" {
                    found.push((at.to_string(), value.as_str().unwrap().to_string()));
                } else if key == "mapping" {
                    for target in value.as_object().into_iter().flat_map(|map| map.values()) {
                        found.push((at.to_string(), target.as_str().unwrap().to_string()));
                    }
                } else {
                    references(value, &format!("{at}/{key}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                references(item, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let document = document_json();
    let mut found = Vec::new();
    references(&document, "", &mut found);
    assert!(found.len() > 50);
    for (at, reference) in found {
        assert!(resolve(&document, &reference).is_some(), "{reference} at {at}");
    }
}

/// The query parameters named in an operation's documentation.
fn query_parameters(operation: &Value) -> Vec<(String, Value)> {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|parameter| parameter["in"] == "query")
        .map(|parameter| {
            (parameter["name"].as_str().unwrap().to_string(), parameter["schema"].clone())
        })
        .collect()
}

#[test]
fn transformation_parameters_are_the_parsers() {
    let document = document_json();
    let variant = &document["paths"]["/v1/images/{id}.{ext}"]["get"];
    let [(_, schema)] = query_parameters(variant).try_into().unwrap();
    let parameter = &variant["parameters"].as_array().unwrap().iter().find(|p| p["in"] == "query");
    let parameter = parameter.unwrap();
    assert_eq!((&parameter["style"], &parameter["explode"]), (&json!("form"), &json!(true)));
    let forms = schema["anyOf"].as_array().unwrap();
    let mut parameters = BTreeMap::new();
    for form in forms {
        assert_eq!(form["additionalProperties"], false);
        parameters.extend(form["properties"].as_object().unwrap().clone());
    }
    assert_eq!(parameters.len(), query_fields().len());
    for (name, schema) in &parameters {
        // A recognised parameter fails on its value, never as unknown.
        let error = Transform::from_query(&[(name.clone(), "\u{1}".into())]).unwrap_err();
        assert_eq!(&error.param, name);
        assert!(!error.message.starts_with("unknown parameter"), "{name}: {}", error.message);
        for value in schema["enum"].as_array().into_iter().flatten() {
            let pair = (name.clone(), value.as_str().unwrap().to_string());
            assert!(Transform::from_query(&[pair]).is_ok(), "{name}={value}");
        }
    }
    assert!(Transform::from_query(&[("zoom".into(), "2".into())]).is_err());
    // `ops` and the step parameters are never in one form, as the parser has it.
    let (steps, ops) = (&forms[0]["properties"], &forms[1]["properties"]);
    assert!(steps.get("ops").is_none() && ops["ops"].is_object());
    let valid = [
        ("w", "10"),
        ("h", "10"),
        ("fit", "cover"),
        ("gravity", "north"),
        ("enlarge", "true"),
        ("crop", "0,0,1,1"),
        ("rotate", "90"),
        ("flip", "h"),
        ("grayscale", "true"),
        ("blur", "1"),
        ("sharpen", "1"),
        ("brightness", "1"),
        ("contrast", "1"),
        ("mask", "circle"),
    ];
    assert_eq!(valid.map(|(name, _)| name).to_vec(), step_params());
    for (name, value) in valid {
        assert!(steps[name].is_object() && ops.get(name).is_none(), "{name}");
        let step = (name.to_string(), value.to_string());
        assert!(Transform::from_query(std::slice::from_ref(&step)).is_ok(), "{name}={value}");
        let both = [step, ("ops".to_string(), "grayscale".to_string())];
        assert!(Transform::from_query(&both).is_err(), "{name} beside ops");
    }
    for name in ops.as_object().unwrap().keys().filter(|name| *name != "ops") {
        assert!(steps[name].is_object(), "the output setting {name} is in both forms");
    }
}

#[test]
fn operation_schemas_are_the_parsers() {
    let document = document_json();
    let schemas = &document["components"]["schemas"];
    let steps = schemas["Operation"]["oneOf"].as_array().unwrap();
    assert_eq!(steps.len(), 10);
    for step in steps {
        let schema = resolve(&document, step["$ref"].as_str().unwrap()).unwrap();
        let op = schema["properties"]["op"]["enum"][0].as_str().unwrap();
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        for key in keys.iter().filter(|key| key.as_str() != "op") {
            let error =
                Pipeline::from_json(&json!([{"op": op, *key: []}]), "operations").unwrap_err();
            assert!(!error.message.contains("has no key"), "{op}.{key}: {}", error.message);
        }
        let error = Pipeline::from_json(&json!([{"op": op, "zoom": 1}]), "operations").unwrap_err();
        assert!(error.message.contains("has no key"), "{op}: {}", error.message);
    }
}

#[test]
fn formats_and_content_types_are_the_services() {
    let document = document_json();
    let names = document["components"]["schemas"]["Format"]["enum"].as_array().unwrap();
    for name in names {
        assert!(ImageFormat::from_name(name.as_str().unwrap()).is_some(), "{name}");
    }
    for format in ImageFormat::ALL {
        assert!(names.contains(&json!(format.name())), "{format}");
    }
    for path in ["/v1/images", "/v1/transform"] {
        let content =
            document["paths"][path]["post"]["requestBody"]["content"].as_object().unwrap();
        for content_type in content.keys().filter(|name| name.starts_with("image/")) {
            assert!(ImageFormat::from_content_type(content_type).is_some(), "{content_type}");
        }
        for format in ImageFormat::ALL {
            assert!(content.contains_key(format.content_type()), "{path} {format}");
        }
        assert!(content.contains_key("application/octet-stream"));
        assert!(content.contains_key("application/json"));
    }
    let upload = &document["paths"]["/v1/images"]["post"]["requestBody"]["content"];
    assert!(upload["multipart/form-data"].is_object());
}

#[test]
fn constraints_the_derived_schemas_cannot_say() {
    let document = document_json();
    let item = &document["components"]["schemas"]["JobItemSource"];
    let one_of = item["allOf"][1]["oneOf"].as_array().unwrap();
    let required: Vec<&Value> = one_of.iter().map(|s| &s["required"][0]).collect();
    assert_eq!(required, [&json!("image_id"), &json!("url")]);
    assert!(item["allOf"][0]["properties"]["operations"].is_object());
    // Every cursor the service gives matches the documented pattern; an empty one does not.
    let parameters = query_parameters(&document["paths"]["/v1/images"]["get"]);
    let (_, cursor) = parameters.iter().find(|(name, _)| name == "cursor").unwrap();
    let pattern = cursor["pattern"].as_str().unwrap();
    assert_eq!(pattern, "^[A-Za-z0-9_-]{21}[AQgw]$");
    for _ in 0..64 {
        let text = crate::routes::images::encode_cursor(uuid::Uuid::new_v4());
        let (body, last) = text.split_at(21);
        assert!(body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!("AQgw".contains(last), "{text}");
    }
}

/// The range, default and description a table row gives, as the schema must carry them.
fn assert_carries(schema: &Value, kind: Kind, default: Option<Value>, description: &str) {
    match kind {
        Kind::Integer { min, max } => {
            assert_eq!((&schema["minimum"], &schema["maximum"]), (&json!(min), &json!(max)));
        }
        Kind::Number { min, max } => {
            let bound = |value: &Value| value.as_f64().unwrap();
            let bounds = (bound(&schema["minimum"]), bound(&schema["maximum"]));
            assert_eq!(bounds, (f64::from(min), f64::from(max)), "{schema}");
        }
        Kind::Keyword { words, aliases } => {
            let spellings = words.iter().chain(aliases.iter().map(|(alias, _)| alias));
            assert_eq!(schema["enum"], json!(spellings.collect::<Vec<_>>()));
        }
        _ => assert!(schema["minimum"].is_null() && schema["maximum"].is_null()),
    }
    assert_eq!(schema["default"], default.unwrap_or(Value::Null), "{schema}");
    assert_eq!(schema["description"], description);
}

#[test]
fn op_key_schemas_carry_the_tables_ranges_defaults_and_required_keys() {
    let document = document_json();
    let schemas = &document["components"]["schemas"];
    for op in OPS {
        let schema = &schemas[op_schema_name(op)];
        assert_eq!(schema["description"], op.description);
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(properties.len(), op.keys.len() + 1, "{}", op.name);
        assert_eq!(properties["op"]["enum"], json!([op.name]));
        for key in op.keys {
            let default = key.default.map(|default| default_value(default, Form::Json));
            assert_carries(&properties[key.name], key.kind, default, key.description);
        }
        let required: Vec<&str> = std::iter::once("op")
            .chain(op.keys.iter().filter(|k| k.required).map(|k| k.name))
            .collect();
        assert_eq!(schema["required"], json!(required), "{}", op.name);
    }
}

#[test]
fn every_body_and_the_query_carry_the_settings_table() {
    let document = document_json();
    let schemas = &document["components"]["schemas"];
    let bodies = [
        &schemas["TransformRequest"],
        &schemas["JobSubmission"],
        &schemas["JobItemSource"]["allOf"][0],
    ];
    let variant = &document["paths"]["/v1/images/{id}.{ext}"]["get"];
    let query = &variant["parameters"].as_array().unwrap().iter().find(|p| p["in"] == "query");
    let query = &query.unwrap()["schema"]["anyOf"][1]["properties"];
    for row in SETTINGS {
        for body in bodies {
            let default = row.default.map(|default| default_value(default, Form::Json));
            assert_carries(&body["properties"][row.name], row.kind, default, row.description);
        }
        if let Some(name) = row.query {
            let default = row.default.map(|default| default_value(default, Form::Text));
            assert_carries(&query[name], row.kind, default, row.description);
        }
    }
    // Beside the settings, a body has exactly its own fields, and a job item refers to the
    // item schema.
    fn own(schema: &Value) -> BTreeSet<&str> {
        let names = schema["properties"].as_object().unwrap().keys();
        let own = names.filter(|name| SETTINGS.iter().all(|row| row.name != *name));
        own.map(String::as_str).collect()
    }
    assert_eq!(own(bodies[0]), BTreeSet::from(["url", "image_id", "operations"]));
    assert_eq!(own(bodies[1]), BTreeSet::from(["items", "operations", "webhook_url", "metadata"]));
    assert_eq!(own(bodies[2]), BTreeSet::from(["image_id", "url", "operations"]));
    let items = &bodies[1]["properties"]["items"];
    assert_eq!(items["items"]["$ref"], "#/components/schemas/JobItemSource");
    for body in bodies {
        assert_eq!(body["properties"]["operations"]["$ref"], "#/components/schemas/Operations");
    }
    assert_eq!(schemas["Operations"]["items"]["$ref"], "#/components/schemas/Operation");
}

#[test]
fn query_step_parameters_carry_the_tables_ranges() {
    let document = document_json();
    let variant = &document["paths"]["/v1/images/{id}.{ext}"]["get"];
    let query = &variant["parameters"].as_array().unwrap().iter().find(|p| p["in"] == "query");
    let steps = &query.unwrap()["schema"]["anyOf"][0]["properties"];
    for op in OPS {
        for key in op.keys {
            let parameter = match op.query {
                progimage_core::spec::QueryForm::Keys => &steps[key.short_name()],
                _ => continue,
            };
            let default = key.default.map(|default| default_value(default, Form::Text));
            assert_carries(parameter, key.kind, default, key.description);
        }
        if let progimage_core::spec::Main::Key(main) = op.main {
            let key = op.key(main).unwrap();
            if let Kind::Integer { min, max } = key.kind {
                assert_eq!(
                    (&steps[op.name]["minimum"], &steps[op.name]["maximum"]),
                    (&json!(min), &json!(max))
                );
            }
            if let Kind::Number { min, max } = key.kind {
                let bounds =
                    (steps[op.name]["minimum"].as_f64(), steps[op.name]["maximum"].as_f64());
                assert_eq!(bounds, (Some(f64::from(min)), Some(f64::from(max))), "{}", op.name);
            }
        }
    }
}
