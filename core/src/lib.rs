//! ProgImage's services over the image engine (`progimage-engine`): ingest, variants and
//! jobs, and the seams (storage, repository, queue) behind which the embedded and
//! distributed set-ups differ.
//!
//! Layers, each depending only on those before it (and on the engine):
//! 1. `domain`: error codes and problem documents, transformation families;
//! 2. `store`: the repository ([`db`]) and the object store ([`storage`]);
//! 3. [`net`]: the SSRF guard and the guarded HTTP client;
//! 4. `images`: the engine pool ([`engine`]), the image service ([`service`]) and the
//!    JSON shapes ([`views`]);
//! 5. [`queue`]: the producer and consumer seams, the retry policy and both transports;
//! 6. [`jobs`]: bulk jobs;
//! 7. `runtime`: configuration ([`config`]), wiring ([`app`]), the message handler
//!    ([`processor`]) and logging ([`telemetry`]).
//!
//! Every module keeps the path the binaries use (`progimage_core::service`, ...).

#![warn(unreachable_pub)]

mod domain;
mod images;
pub mod jobs;
pub mod net;
pub mod queue;
mod runtime;
mod store;

pub use domain::problem;
pub use images::{engine, requests, service, views};
pub use runtime::{app, config, processor, telemetry};
pub use store::{db, storage};

// The engine, under the paths the services and binaries have always used.
pub use progimage_engine::{format, imaging, limits, sandbox, spec};
// Webhook signing, shared with the Rust client, under the path the services use.
pub use progimage_signature as signature;
