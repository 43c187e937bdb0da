//! Run-time switches, read on every call with one relaxed atomic load each:
//! instrumentation on or off, and the tree settings of
//! [`TreeConfig`](crate::tree::TreeConfig).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(true);
static TREES: AtomicBool = AtomicBool::new(true);
/// The default [`TreeConfig::max_nodes`](crate::tree::TreeConfig::max_nodes) cap.
pub const DEFAULT_MAX_NODES: usize = 1000;

static MAX_NODES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_NODES);

/// Turns all instrumentation on (the default) or off at run time. While off, a
/// traced call costs one atomic load and records nothing. A call is on or off
/// for its whole life, as the switch was when it started: an async call
/// suspended across a flip of the switch is recorded whole or not at all.
///
/// ```
/// trace_runtime::set_enabled(false);
/// assert!(!trace_runtime::is_enabled());
/// trace_runtime::set_enabled(true);
/// ```
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether instrumentation is on; see [`set_enabled`].
#[must_use]
#[inline]
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Sets whether trees are collected and how many nodes a request keeps;
/// see [`TreeConfig`](crate::tree::TreeConfig).
pub(crate) fn set_trees(collect: bool, max_nodes: usize) {
    TREES.store(collect, Ordering::Relaxed);
    MAX_NODES.store(max_nodes.max(1), Ordering::Relaxed);
}

#[inline]
pub(crate) fn trees_enabled() -> bool {
    TREES.load(Ordering::Relaxed)
}

pub(crate) fn max_nodes() -> usize {
    MAX_NODES.load(Ordering::Relaxed)
}
