//! Small schema builders the other parts share.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

pub(super) fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

pub(super) fn integer(minimum: u64, maximum: u64) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(minimum)).maximum(Some(maximum))
}

pub(super) fn number() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Number)
}

pub(super) fn keyword<S: AsRef<str>>(values: &[S]) -> ObjectBuilder {
    string().enum_values(Some(values.iter().map(|value| value.as_ref().to_string())))
}

pub(super) fn boolean() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Boolean)
}

pub(super) fn uuid() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

pub(super) fn binary() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
}
