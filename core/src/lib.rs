//! ProgImage's domain: the image engine, transformations, formats and limits, and the
//! seams (storage, repository, queue) behind which the embedded and distributed set-ups
//! differ.

pub mod app;
pub mod config;
pub mod db;
pub mod engine;
pub mod format;
pub mod imaging;
pub mod jobs;
pub mod limits;
pub mod net;
pub mod problem;
pub mod processor;
pub mod queue;
pub mod sandbox;
pub mod service;
pub mod signature;
pub mod spec;
pub mod storage;
pub mod telemetry;
pub mod views;
