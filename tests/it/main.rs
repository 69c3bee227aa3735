//! ProgImage's integration tests: a real server on a random port, spoken to over HTTP.

mod auth;
mod capacity;
mod errors;
mod fetch;
mod formats;
mod images;
mod jobs;
mod operations;
mod restart;
mod transform;
mod variants;
