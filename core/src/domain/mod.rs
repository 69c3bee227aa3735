//! The bottom layer: what every other layer speaks of. The contract's error codes and
//! problem documents (`problem`) and the transformation families work is routed by
//! (`family`). It depends on the engine only.

pub(crate) mod family;
pub mod problem;
