//! The HTTP resources, one module each.

pub mod doc;
pub mod health;
pub mod images;
pub mod jobs;
pub mod transform;
pub mod webhooks;
