//! ProgImage's services over the image engine (`progimage-engine`): ingest, variants and
//! jobs, and the seams (storage, repository, queue) behind which the embedded and
//! distributed set-ups differ.

pub mod app;
pub mod config;
pub mod db;
pub mod engine;
pub mod jobs;
pub mod net;
pub mod problem;
pub mod processor;
pub mod queue;
pub mod requests;
pub mod service;
pub mod signature;
pub mod storage;
pub mod telemetry;
pub mod views;

// The engine, under the paths the services and binaries have always used.
pub use progimage_engine::{format, imaging, limits, sandbox, spec};
