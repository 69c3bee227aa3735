//! ProgImage's image engine: sniffing and decoding, the transformation pipeline, encoding,
//! the request grammar (`spec`) and the limits every step is held to.
//!
//! Everything here is computation on bytes in memory. The crate depends on no async
//! runtime, database, broker, HTTP or object-store crate, so the services in
//! `progimage-core` own every IO and the engine can be fuzzed and benchmarked alone. Work
//! that could take a process down (AV1 decoding, SVG parsing and rendering) runs in the
//! [`sandbox`]'s child processes.

pub mod format;
pub mod imaging;
pub mod limits;
pub mod sandbox;
pub mod spec;
