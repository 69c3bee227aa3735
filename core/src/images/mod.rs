//! Images: the bounded pool in front of the engine (`engine`), the image service over
//! storage and repository (`service`: ingest, variants, transforms) and the JSON shapes
//! of images and jobs (`views`).

pub mod engine;
pub mod requests;
pub mod service;
pub mod views;
