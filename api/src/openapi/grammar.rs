//! The engine's tables as schemas: each op's JSON step, the output settings (as body
//! properties and as query parameters), the transformation query parameters and the
//! format names. Nothing here names an op, a key, a setting or a range; it all comes from
//! `OPS`, `SETTINGS` and `ImageFormat`.

use progimage_core::format::ImageFormat;
use progimage_core::spec::{
    KeyDef, Kind, Main, OPS, OpDef, Parsed, QueryForm, SETTINGS, SettingDef, step_params,
};
use serde_json::{Value, json};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn, ParameterStyle};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, Discriminator, Object, ObjectBuilder, OneOfBuilder, Schema,
    SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, Required};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use super::schema::{boolean, integer, keyword, number, string, uuid};
use crate::routes::doc::{Format, TransformQuery};

/// `RRGGBB` or `RRGGBBAA`, either case.
const COLOR_PATTERN: &str = "^([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$";

/// A hyphenated UUID, either case.
const UUID_PATTERN: &str =
    "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}";

/// Where a value is written: the JSON form, or query and pipeline text (where a boolean is
/// also `1` or `0` and every value is text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    Json,
    Text,
}

/// Every format name and alias `format` and `{ext}` take (case-insensitive in a path).
fn format_names() -> Vec<&'static str> {
    let names = ImageFormat::ALL.iter().map(|format| format.name());
    names.chain(ImageFormat::ALIASES.iter().map(|(alias, _)| *alias)).collect()
}

/// The schema of a value of `kind`, with its range.
pub(super) fn kind_schema(kind: Kind, form: Form) -> ObjectBuilder {
    match kind {
        Kind::Integer { min, max } => integer(min.into(), max.into()),
        Kind::Number { min, max } => {
            number().minimum(Some(f64::from(min))).maximum(Some(f64::from(max)))
        }
        Kind::Finite { .. } => number(),
        Kind::Boolean if form == Form::Text => keyword(&["true", "false", "1", "0"]),
        Kind::Boolean => boolean(),
        Kind::Keyword { words, aliases } => {
            keyword(&words.iter().chain(aliases.iter().map(|(alias, _)| alias)).collect::<Vec<_>>())
        }
        Kind::ImageId => uuid(),
        Kind::Color => string().pattern(Some(COLOR_PATTERN)),
        Kind::Format => keyword(&format_names()),
    }
}

/// A default as the form writes it.
pub(super) fn default_value(default: Parsed, form: Form) -> Value {
    match form {
        Form::Json => default.to_json(),
        Form::Text => json!(default.to_text()),
    }
}

/// A key of an op, in a JSON step or as a query parameter.
fn key_schema(key: &KeyDef, form: Form) -> ObjectBuilder {
    kind_schema(key.kind, form)
        .description(Some(key.description))
        .default(key.default.map(|default| default_value(default, form)))
}

/// An output setting, in a JSON body or as a query parameter.
fn setting_schema(row: &SettingDef, form: Form) -> ObjectBuilder {
    kind_schema(row.kind, form)
        .description(Some(row.description))
        .default(row.default.map(|default| default_value(default, form)))
}

/// The output settings as the properties of a JSON body, where `null` counts as absent.
pub(super) fn setting_properties() -> Vec<(&'static str, Object)> {
    let nullable = |row: &SettingDef| {
        let mut schema = setting_schema(row, Form::Json).build();
        if let SchemaType::Type(kind) = schema.schema_type {
            schema.schema_type = SchemaType::from_iter([kind, Type::Null]);
        }
        schema
    };
    SETTINGS.iter().map(|row| (row.name, nullable(row))).collect()
}

/// The component name of an op's step: `ResizeOperation`.
pub(super) fn op_schema_name(op: &OpDef) -> String {
    let mut chars = op.name.chars();
    let first = chars.next().map(|first| first.to_ascii_uppercase());
    first.into_iter().chain(chars).chain("Operation".chars()).collect()
}

/// One op's JSON step: `op`, its keys with their ranges and defaults, the required ones.
fn op_schema(op: &OpDef) -> ObjectBuilder {
    let mut object = ObjectBuilder::new()
        .description(Some(op.description))
        .property("op", keyword(&[op.name]))
        .required("op");
    for key in op.keys {
        object = object.property(key.name, key_schema(key, Form::Json));
        if key.required {
            object = object.required(key.name);
        }
    }
    object
}

/// One step of the JSON pipeline form: `{"op": name, ...keys}`, one schema per op.
pub struct Operation;

impl PartialSchema for Operation {
    fn schema() -> RefOr<Schema> {
        let mut discriminator = Discriminator::new("op");
        let mut one_of = OneOfBuilder::new().description(Some(
            "A pipeline step. Unknown keys → 400 naming them; a null value counts as absent; \
             pixel values are integers.",
        ));
        for op in OPS {
            let name = op_schema_name(op);
            discriminator
                .mapping
                .insert(op.name.to_string(), format!("#/components/schemas/{name}"));
            one_of = one_of.item(Ref::from_schema_name(name));
        }
        one_of.discriminator(Some(discriminator)).into()
    }
}

impl ToSchema for Operation {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for op in OPS {
            schemas.push((op_schema_name(op), op_schema(op).into()));
        }
    }
}

impl PartialSchema for Format {
    fn schema() -> RefOr<Schema> {
        keyword(&format_names())
            .description(Some("An image format; `jpg` and `tif` are aliases."))
            .into()
    }
}

impl ToSchema for Format {}

/// How the query writes one part of a main value (`crop`'s `x`).
fn part_pattern(kind: Kind) -> String {
    match kind {
        Kind::Integer { .. } => "[0-9]+".to_string(),
        Kind::Keyword { words, .. } => format!("({})", words.join("|")),
        Kind::ImageId => UUID_PATTERN.to_string(),
        _ => "[^,|]+".to_string(),
    }
}

/// The query parameter of an op written with its main value.
fn main_schema(op: &OpDef) -> ObjectBuilder {
    let key = |key| op.key(key).expect("a main value names keys of its op");
    match op.main {
        Main::Key(main) => {
            let main = key(main);
            kind_schema(main.kind, Form::Text)
                .description(Some(format!("{} {}", op.description, main.description)))
        }
        Main::List(keys) => {
            let keys: Vec<&KeyDef> = keys.iter().map(|main| key(*main)).collect();
            let parts: Vec<String> = keys.iter().map(|main| part_pattern(main.kind)).collect();
            let names: Vec<&str> = keys.iter().map(|main| main.short_name()).collect();
            let ranges: Vec<String> = keys
                .iter()
                .filter_map(|main| match main.kind {
                    Kind::Integer { min, max } => {
                        Some(format!("`{}` {min}..{max}", main.short_name()))
                    }
                    _ => None,
                })
                .collect();
            let description = format!(
                "{} Written `{}` ({}).",
                op.description,
                names.join(","),
                ranges.join(", ")
            );
            string().pattern(Some(format!("^{}$", parts.join(",")))).description(Some(description))
        }
        Main::Shape { shape, sized, size, other } => {
            // Each choice as a pattern and as the description writes it.
            let (size, other) = (key(size), key(other));
            let mut choices: Vec<(String, String)> = match key(shape).kind {
                Kind::Keyword { words, .. } => words
                    .iter()
                    .map(|word| {
                        if *word == sized {
                            let pattern = format!("{word}:{}", part_pattern(size.kind));
                            (pattern, format!("`{word}:<{}>`", size.name))
                        } else {
                            (word.to_string(), format!("`{word}`"))
                        }
                    })
                    .collect(),
                kind => vec![(part_pattern(kind), format!("a {}", key(shape).name))],
            };
            choices.push((part_pattern(other.kind), format!("an `{}`", other.name)));
            let (patterns, mut written): (Vec<String>, Vec<String>) = choices.into_iter().unzip();
            let last = written.pop().unwrap_or_default();
            let description =
                format!("{} Written {} or {last}.", op.description, written.join(", "));
            string()
                .pattern(Some(format!("^({})$", patterns.join("|"))))
                .description(Some(description))
        }
        Main::Pairs { .. } | Main::Nothing => string().description(Some(op.description)),
    }
}

/// What `ops` is, with the step parameters it replaces and the aliases it takes.
fn ops_description() -> String {
    let mut aliases: Vec<String> = Vec::new();
    for key in OPS.iter().flat_map(|op| op.keys) {
        for alias in key.aliases {
            let alias = format!("`{alias}` for `{}`", key.name);
            if !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
    }
    format!(
        "A pipeline replacing the step parameters (`{}`; giving both → 400): steps joined by \
         `|`, each `name`, `name:key=value,…` with the JSON keys ({}) or `name:value` for the \
         op's main parameter. Example: `rotate:90|resize:width=300,height=300,fit=cover|grayscale`.",
        step_params().join(" "),
        aliases.join(", ")
    )
}

/// Every transformation query parameter with its schema, in the documentation's order.
pub(super) fn query_fields() -> Vec<(&'static str, ObjectBuilder)> {
    let mut fields = Vec::new();
    for op in OPS {
        match op.query {
            QueryForm::Keys => fields
                .extend(op.keys.iter().map(|key| (key.short_name(), key_schema(key, Form::Text)))),
            QueryForm::Main => fields.push((op.name, main_schema(op))),
            QueryForm::Flag => fields.push((
                op.name,
                kind_schema(Kind::Boolean, Form::Text).description(Some(op.description)),
            )),
        }
    }
    for row in SETTINGS {
        if let Some(name) = row.query {
            fields.push((name, setting_schema(row, Form::Text)));
        }
    }
    fields.push(("ops", string().description(Some(ops_description()))));
    fields
}

/// The transformation parameters of `GET /v1/images/{id}.{ext}` and `POST /v1/transform`:
/// one form-exploded object parameter (each property is its own `key=value` pair), so the
/// schema can say what separate parameters cannot: `ops` replaces the step parameters, and
/// giving both is a 400. It is either form, each with the output settings.
impl IntoParams for TransformQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let steps = step_params();
        let form = |keep: &dyn Fn(&str) -> bool, title: &str| {
            let mut object = ObjectBuilder::new()
                .schema_type(Type::Object)
                .title(Some(title))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            for (name, schema) in query_fields() {
                if keep(name) {
                    object = object.property(name, schema);
                }
            }
            object
        };
        let schema = AnyOfBuilder::new()
            .item(form(&|name| name != "ops", "step parameters"))
            .item(form(&|name| !steps.contains(&name), "ops"));
        vec![
            ParameterBuilder::new()
                .name("transformation")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .style(Some(ParameterStyle::Form))
                .explode(Some(true))
                .schema(Some(schema))
                .description(Some(
                    "The transformation, as separate query parameters: the step parameters or \
                     `ops` (not both), and the output settings.",
                ))
                .build(),
        ]
    }
}
