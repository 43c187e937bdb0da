//! Run-time switches, read on every call with one relaxed atomic load each.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(true);
static TREES: AtomicBool = AtomicBool::new(true);
static MAX_NODES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_NODES);

/// The default [`set_max_nodes`] cap.
pub const DEFAULT_MAX_NODES: usize = 1000;

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

/// Turns call-tree collection on (the default) or off. With trees off, calls
/// still feed the metrics, including the caller labels.
///
/// ```
/// trace_runtime::set_trees_enabled(false);
/// trace_runtime::set_trees_enabled(true);
/// ```
pub fn set_trees_enabled(enabled: bool) {
    TREES.store(enabled, Ordering::Relaxed);
}

#[inline]
pub(crate) fn trees_enabled() -> bool {
    TREES.load(Ordering::Relaxed)
}

/// Caps the nodes one request keeps (at least 1; default
/// [`DEFAULT_MAX_NODES`]). Calls past the cap are aggregated per function
/// under their nearest kept ancestor and rendered as `name ×N total …`.
///
/// ```
/// trace_runtime::set_max_nodes(500);
/// # trace_runtime::set_max_nodes(trace_runtime::DEFAULT_MAX_NODES);
/// ```
pub fn set_max_nodes(max: usize) {
    MAX_NODES.store(max.max(1), Ordering::Relaxed);
}

pub(crate) fn max_nodes() -> usize {
    MAX_NODES.load(Ordering::Relaxed)
}
