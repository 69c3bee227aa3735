//! The client against the real server, started in-process on a loopback port with its own
//! data directory.

mod errors;
mod harness;
mod images;
mod jobs;
mod parity;
mod webhooks;
