//! The top layer: settings both binaries flatten in (`config`), the wiring and the
//! background loops either queue runs (`app`), the message handler (`processor`) and
//! logging (`telemetry`).

pub mod app;
pub mod config;
pub mod processor;
pub mod telemetry;
