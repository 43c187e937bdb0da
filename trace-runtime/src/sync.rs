//! The synchronisation primitives of the lock-free parts of the runtime
//! (`segments`, `tree::holders`). The loom models in `trace-loom` compile
//! those files against loom's versions of these instead.

pub(crate) use std::sync::atomic;
