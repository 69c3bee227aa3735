//! The request bodies: each JSON body is its own fields as `progimage_core::requests`
//! derives them, with the output settings of the table beside them (as the bodies are
//! read); and the image and multipart bodies.

use progimage_core::requests::{ItemFields, JobFields, TransformFields};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::grammar::setting_properties;
use super::schema::binary;
use crate::routes::doc::{ImageBytes, JobSubmission, MultipartUpload, TransformRequest};

/// The component name of a job item, which `JobFields` refers to.
const JOB_ITEM: &str = "JobItemSource";

/// A body's fields with the setting properties added.
fn with_settings(fields: RefOr<Schema>) -> RefOr<Schema> {
    match fields {
        RefOr::T(Schema::Object(mut object)) => {
            for (name, schema) in setting_properties() {
                object.properties.insert(name.to_string(), schema.into());
            }
            RefOr::T(Schema::Object(object))
        }
        other => other,
    }
}

impl PartialSchema for ImageBytes {
    fn schema() -> RefOr<Schema> {
        binary().into()
    }
}

impl ToSchema for ImageBytes {}

impl PartialSchema for MultipartUpload {
    fn schema() -> RefOr<Schema> {
        let files = ArrayBuilder::new()
            .items(binary())
            .min_items(Some(1))
            .max_items(Some(100))
            .description(Some("The images; a part without a Content-Type is typed by its bytes."));
        ObjectBuilder::new()
            .description(Some(
                "`POST /v1/images` with `multipart/form-data`: one or more `file` parts (at \
                 most 100).",
            ))
            .property("file", files)
            .required("file")
            .into()
    }
}

impl ToSchema for MultipartUpload {}

impl PartialSchema for TransformRequest {
    fn schema() -> RefOr<Schema> {
        with_settings(TransformFields::schema())
    }
}

impl ToSchema for TransformRequest {}

impl PartialSchema for JobSubmission {
    fn schema() -> RefOr<Schema> {
        with_settings(JobFields::schema())
    }
}

impl ToSchema for JobSubmission {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        // An item names exactly one source, which the derived object cannot say.
        let needs = |field: &str| ObjectBuilder::new().required(field).build();
        let one_source = OneOfBuilder::new().item(needs("image_id")).item(needs("url"));
        let item = AllOfBuilder::new().item(with_settings(ItemFields::schema())).item(one_source);
        schemas.push((JOB_ITEM.to_string(), item.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_item_schema_is_the_one_job_fields_refers_to() {
        assert_eq!(<ItemFields as ToSchema>::name(), JOB_ITEM);
    }
}
