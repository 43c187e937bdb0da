//! The trace context: which call is running on this thread right now, and the
//! tree its children go in.
//!
//! Like `AsyncLocalStorage`, but explicit: sync calls set the thread's current
//! [`frame`] for their duration; async calls set it for the duration of each
//! poll, so interleaved `join!`/`select!` siblings and futures that move between
//! worker threads always see their own parent.

pub(crate) mod frame;
pub(crate) mod propagate;
pub(crate) mod root;
