//! The runtime's lock-free protocols, compiled from trace-runtime's own
//! source files against loom's atomics, for the models in `tests/`.
//!
//! Each file included here reaches its atomics through `crate::sync`, which
//! is `std` in trace-runtime and loom here.
#![warn(clippy::undocumented_unsafe_blocks)]

/// loom's versions of what the included files use from `std::sync`.
pub(crate) mod sync {
    pub(crate) use loom::sync::atomic;
}

/// Arrays in segments that never move (trace-runtime's `segments.rs`).
#[path = "../../trace-runtime/src/segments.rs"]
#[allow(dead_code)]
pub mod segments;

/// Who holds a tree and who delivers it (trace-runtime's `tree/holders.rs`).
#[path = "../../trace-runtime/src/tree/holders.rs"]
pub mod holders;

mod models;

pub use models::{
    holders_deliver_once_and_free_after_every_access, segments_grow_once_under_races,
};
