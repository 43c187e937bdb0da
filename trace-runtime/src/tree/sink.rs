//! Where finished trees go: a `tracing` event by default, plus any
//! [`TreeSink`] the user adds, after the configured [`TreeFilter`].

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::tree::{CallTree, TextOptions, TreeFormat};

/// The `tracing` target of the event that carries each finished tree.
pub const TREE_TARGET: &str = "trace_runtime::tree";

/// Receives every finished [`CallTree`] that passes the [`TreeFilter`].
///
/// Called on the thread where the request's last call ended; keep it quick
/// (hand the tree to a channel for slow work). A panic in a sink is caught
/// and does not reach the traced code.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use trace_runtime::tree::{add_sink, CallTree};
///
/// let seen: Arc<Mutex<Vec<String>>> = Arc::default();
/// let sink = Arc::clone(&seen);
/// add_sink(move |tree: &CallTree| sink.lock().unwrap().push(tree.to_json()));
/// # trace_runtime::tree::clear_sinks();
/// ```
pub trait TreeSink: Send + Sync + 'static {
    /// Called once per finished request.
    fn on_tree(&self, tree: &CallTree);
}

impl<F> TreeSink for F
where
    F: Fn(&CallTree) + Send + Sync + 'static,
{
    fn on_tree(&self, tree: &CallTree) {
        self(tree);
    }
}

/// Which finished trees are delivered, set with
/// [`TreeConfig::filter`](crate::tree::TreeConfig::filter). With no condition
/// set, all are; with one or more, a tree is delivered when it meets any of
/// them.
///
/// ```
/// use std::time::Duration;
/// use trace_runtime::tree::TreeFilter;
///
/// // Slow requests and failed ones.
/// let filter = TreeFilter {
///     slower_than: Some(Duration::from_millis(200)),
///     failed: true,
///     ..TreeFilter::default()
/// };
/// assert!(!filter.slow_calls);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeFilter {
    /// Deliver requests whose root took at least this long.
    pub slower_than: Option<Duration>,
    /// Deliver requests in which a call returned `Err` or panicked.
    pub failed: bool,
    /// Deliver requests in which a call exceeded its `slow = "..."` threshold.
    pub slow_calls: bool,
}

/// What the filter looks at, known before the tree is built.
pub(crate) struct Summary {
    /// The root's wall time.
    pub(crate) wall: Duration,
    /// A call failed.
    pub(crate) failed: bool,
    /// A call exceeded its slow threshold.
    pub(crate) slow: bool,
}

impl TreeFilter {
    fn passes(&self, summary: &Summary) -> bool {
        if self.slower_than.is_none() && !self.failed && !self.slow_calls {
            return true;
        }
        self.slower_than.is_some_and(|min| summary.wall >= min)
            || (self.failed && summary.failed)
            || (self.slow_calls && summary.slow)
    }
}

/// How a logged tree is written; part of [`TreeConfig`](crate::tree::TreeConfig).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Output {
    pub(crate) format: TreeFormat,
    pub(crate) summary: bool,
}

struct Sinks {
    filter: TreeFilter,
    log: bool,
    output: Output,
    /// Shared with each delivery: one reference count, no copy.
    added: Option<Arc<[Arc<dyn TreeSink>]>>,
}

static SINKS: RwLock<Sinks> = RwLock::new(Sinks {
    filter: TreeFilter {
        slower_than: None,
        failed: false,
        slow_calls: false,
    },
    log: true,
    output: Output {
        format: TreeFormat::Text,
        summary: false,
    },
    added: None,
});

/// Adds a sink that receives every finished tree passing the
/// [filter](crate::tree::TreeConfig::filter).
///
/// ```
/// use trace_runtime::tree::{add_sink, CallTree};
///
/// add_sink(|tree: &CallTree| eprintln!("{tree}"));
/// # trace_runtime::tree::clear_sinks();
/// ```
pub fn add_sink(sink: impl TreeSink) {
    let mut sinks = SINKS.write().unwrap_or_else(PoisonError::into_inner);
    let sink: Arc<dyn TreeSink> = Arc::new(sink);
    let added = sinks.added.iter().flat_map(|added| added.iter().cloned());
    sinks.added = Some(added.chain([sink]).collect());
}

/// Removes every sink added with [`add_sink`].
///
/// ```
/// trace_runtime::tree::clear_sinks();
/// ```
pub fn clear_sinks() {
    SINKS.write().unwrap_or_else(PoisonError::into_inner).added = None;
}

/// The filter, the log switch and the log output in force.
pub(crate) fn settings() -> (TreeFilter, bool, Output) {
    let sinks = SINKS.read().unwrap_or_else(PoisonError::into_inner);
    (sinks.filter, sinks.log, sinks.output)
}

/// Sets the filter, the log switch and the log output; see
/// [`TreeConfig`](crate::tree::TreeConfig).
pub(crate) fn set_settings(filter: TreeFilter, log: bool, output: Output) {
    let mut sinks = SINKS.write().unwrap_or_else(PoisonError::into_inner);
    sinks.filter = filter;
    sinks.log = log;
    sinks.output = output;
}

/// Whether a finished tree would reach anyone: a sink, or a `tracing`
/// subscriber listening to [`TREE_TARGET`].
pub(crate) fn wants_trees() -> bool {
    let sinks = SINKS.read().unwrap_or_else(PoisonError::into_inner);
    sinks.added.is_some()
        || (sinks.log && tracing::enabled!(target: TREE_TARGET, tracing::Level::WARN))
}

/// Whether a finished request with this summary passes the filter and
/// would reach anyone, so its tree is worth building.
/// Who gets a finished tree: the log and the added sinks, as they were when
/// [`wants`] was asked.
pub(crate) struct Delivery {
    /// How the tree is logged, if it is.
    log: Option<Output>,
    sinks: Option<Arc<[Arc<dyn TreeSink>]>>,
}

/// Where a finished tree with `summary` goes, if anywhere. One read of the
/// settings; whether a subscriber wants the log was asked when the tree
/// started (`wants_trees`), and is asked again when it is logged.
pub(crate) fn wants(summary: &Summary) -> Option<Delivery> {
    let sinks = SINKS.read().unwrap_or_else(PoisonError::into_inner);
    (sinks.filter.passes(summary) && (sinks.log || sinks.added.is_some())).then(|| Delivery {
        log: sinks.log.then_some(sinks.output),
        sinks: sinks.added.clone(),
    })
}

/// Delivers `tree` to the log and every sink.
pub(crate) fn dispatch(tree: &CallTree, delivery: &Delivery) {
    if let Some(output) = delivery.log {
        log_tree(tree, output);
    }
    for sink in delivery.sinks.iter().flat_map(|sinks| sinks.iter()) {
        // A panicking sink must not unwind into the traced code that happened
        // to end the request (or abort the process if that code is already
        // unwinding); the panic hook has reported it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.on_tree(tree)));
    }
}

/// One event per tree: `WARN` if a call failed or was slow (with a
/// snapshot of the process), else `INFO`. The text formats, for people:
/// message `call tree`, the `tree_id` field, and the tree in the `tree`
/// field, last, whose text starts on a line of its own; the root's line
/// already says the request, its status, wall time and marks. The JSON
/// format, for pipelines: the JSON line as the message, and the structured
/// fields (`request`, `tree_id`, `status`, `method`, `route`, `wall_us`,
/// `calls`, `failed`, `slow`) for a JSON formatter to pass on.
fn log_tree(tree: &CallTree, output: Output) {
    let failed = tree.has_failure();
    let slow = tree.has_slow_call();
    let level_enabled = if failed || slow {
        tracing::enabled!(target: TREE_TARGET, tracing::Level::WARN)
    } else {
        tracing::enabled!(target: TREE_TARGET, tracing::Level::INFO)
    };
    if !level_enabled {
        return;
    }
    let snapshot = (failed || slow).then(|| super::Snapshot::of(tree));
    if output.format == TreeFormat::Json {
        log_json(tree, failed, slow, snapshot.as_ref());
        return;
    }
    let snapshot = snapshot.as_ref().map(tracing::field::display);
    let tree_id = tree.id();
    // `tracing-subscriber` writes a field as it is, where it would escape a
    // message character by character (the renderer has escaped what the
    // request recorded already). Each field costs the subscriber a
    // formatted write: fields the text repeats are left out.
    let options = TextOptions::default()
        .ascii(output.format == TreeFormat::Ascii)
        .summary(output.summary);
    // Room for a small tree in the first allocation; the renderer reserves
    // what a larger one needs.
    let mut text = String::with_capacity(256);
    text.push('\n');
    tree.render_into(&mut text, options);
    if text.ends_with('\n') {
        text.pop();
    }
    if failed || slow {
        tracing::warn!(target: TREE_TARGET, tree_id, snapshot, tree = %text, "call tree");
    } else {
        tracing::info!(target: TREE_TARGET, tree_id, tree = %text, "call tree");
    }
}

/// The JSON format's event: the tree's JSON line as the message, and every
/// structured field.
fn log_json(tree: &CallTree, failed: bool, slow: bool, snapshot: Option<&super::Snapshot>) {
    let snapshot = snapshot.map(tracing::field::display);
    let message = tree.to_json();
    let request = tree.root().name();
    let tree_id = tree.id();
    let status = tree.status();
    let method = tree.method();
    let route = tree.route();
    // Whole microseconds, so the field reads `20770` rather than float noise.
    let wall_us = u64::try_from(tree.root().wall().as_micros()).unwrap_or(u64::MAX);
    let calls = tree.traced_calls();
    if failed || slow {
        tracing::warn!(
            target: TREE_TARGET,
            request, tree_id, status, method, route, wall_us, calls, failed, slow, snapshot,
            "{message}"
        );
    } else {
        tracing::info!(
            target: TREE_TARGET,
            request, tree_id, status, method, route, wall_us, calls, failed, slow,
            "{message}"
        );
    }
}
