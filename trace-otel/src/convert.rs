//! One finished [`CallTree`] as OpenTelemetry span data: a span per node,
//! with the tree's trace id and each node's span id, timed from the tree's
//! one wall-clock anchor.
//!
//! | span field | from |
//! |---|---|
//! | name | the node's name (`Type::method`, or the request's) |
//! | trace id, span id | [`CallTree::trace_id`], [`CallNode::span_id`](trace_runtime::tree::CallNode::span_id) |
//! | parent | the enclosing call; for the root, the remote parent (`traceparent`) |
//! | start, end | [`CallTree::started_at`] plus the node's start and wall time |
//! | kind | `Server` for HTTP request roots, else `Internal` |
//! | status | `Error` for `err` and `panic` (and aggregates with failures) |
//!
//! Attributes: `code.function` and `code.namespace`; the fields the call
//! recorded (`#[trace(fields(...))]`) under their own names; on HTTP roots
//! `http.request.method`, `http.route` and `http.response.status_code`; and
//! under `trace_runtime.`: `busy_ns` (async calls), `own_ns`, `cancelled`,
//! `slow`, `unfinished` (still running when the tree was delivered), for
//! aggregates `aggregate`, `calls`, `failures`, `linked_tree` on a node
//! standing for a request opened inside this one, and on the root
//! `tree_id`, `outer_tree` (the tree of the request this one was opened
//! in) and `uncounted` (calls past both caps). The error text a call
//! recorded (`#[trace(err)]`) is its status description.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use trace_runtime::tree::{CallNode, CallTree};
use trace_runtime::Outcome;

/// The instrumentation scope of every span: this library.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("trace-runtime")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// Appends the spans of `tree` to `out`, in the tree's pre-order.
pub(crate) fn spans(tree: &CallTree, scope: &InstrumentationScope, out: &mut Vec<SpanData>) {
    let trace_id = TraceId::from_bytes(tree.trace_id());
    let anchor = tree.started_at();
    let root = tree.root();
    let tree_end = after(anchor, root.start().unwrap_or_default() + root.wall());
    // (span id, start, end) of the open ancestors, by depth.
    let mut ancestors: Vec<(SpanId, SystemTime, SystemTime)> = Vec::new();
    for node in tree.iter() {
        ancestors.truncate(node.depth());
        let parent = ancestors.last().copied();
        let (start, end) = times(&node, anchor, parent, tree_end);
        let span_id = SpanId::from_bytes(node.span_id());
        let (parent_span_id, remote) = match parent {
            Some((id, _, _)) => (id, false),
            None => tree.remote_parent().map_or((SpanId::INVALID, false), |p| {
                (SpanId::from_bytes(p.parent_id), true)
            }),
        };
        let is_root = node.depth() == 0;
        out.push(SpanData {
            span_context: SpanContext::new(
                trace_id,
                span_id,
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id,
            parent_span_is_remote: remote,
            span_kind: if is_root && (tree.status().is_some() || remote) {
                SpanKind::Server
            } else {
                SpanKind::Internal
            },
            name: node
                .function()
                .map_or_else(|| Cow::Owned(node.name().to_owned()), Cow::Borrowed),
            start_time: start,
            end_time: end,
            attributes: attributes(tree, &node),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: status(tree, &node),
            instrumentation_scope: scope.clone(),
        });
        ancestors.push((span_id, start, end));
    }
}

/// A node's start and end: from its start and wall time; an aggregate
/// (no start of its own) from its parent's start, its total time, within
/// its parent; an unfinished call to the end of the tree.
fn times(
    node: &CallNode<'_>,
    anchor: SystemTime,
    parent: Option<(SpanId, SystemTime, SystemTime)>,
    tree_end: SystemTime,
) -> (SystemTime, SystemTime) {
    let start = match (node.start(), parent) {
        (Some(offset), _) => after(anchor, offset),
        (None, Some((_, parent_start, _))) => parent_start,
        (None, None) => anchor,
    };
    let end = if node.outcome().is_none() {
        tree_end.max(start)
    } else {
        after(start, node.wall())
    };
    let end = match (node.is_aggregate(), parent) {
        (true, Some((_, _, parent_end))) => end.min(parent_end).max(start),
        _ => end,
    };
    (start, end)
}

/// `time` plus `duration`, or `time` where that would overflow.
fn after(time: SystemTime, duration: Duration) -> SystemTime {
    time.checked_add(duration).unwrap_or(time)
}

/// A tree id as an attribute value: OTLP integers are signed.
fn id(tree: u64) -> i64 {
    i64::from_ne_bytes(tree.to_ne_bytes())
}

fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

fn attributes(tree: &CallTree, node: &CallNode<'_>) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(4);
    // A root opened by a traced function is named after it.
    let function = match node.function() {
        Some(function) => Some(Cow::Borrowed(function)),
        None if !node.module().is_empty() => Some(Cow::Owned(node.name().to_owned())),
        None => None,
    };
    if let Some(function) = function {
        attributes.push(KeyValue::new("code.function", function));
        attributes.push(KeyValue::new("code.namespace", node.module()));
    }
    for (name, value) in node.fields() {
        attributes.push(KeyValue::new(name, value.to_owned()));
    }
    if let Some(linked) = node.linked_tree() {
        attributes.push(KeyValue::new("trace_runtime.linked_tree", id(linked)));
    }
    if node.depth() == 0 {
        if let Some(method) = tree.method() {
            attributes.push(KeyValue::new("http.request.method", method.to_owned()));
        }
        if let Some(route) = tree.route() {
            attributes.push(KeyValue::new("http.route", route.to_owned()));
        }
        if let Some(status) = tree.status() {
            attributes.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        attributes.push(KeyValue::new("trace_runtime.tree_id", id(tree.id())));
        if let Some(outer) = tree.outer_tree() {
            attributes.push(KeyValue::new("trace_runtime.outer_tree", id(outer)));
        }
        if tree.uncounted() > 0 {
            let uncounted = i64::try_from(tree.uncounted()).unwrap_or(i64::MAX);
            attributes.push(KeyValue::new("trace_runtime.uncounted", uncounted));
        }
    }
    if let Some(busy) = node.busy() {
        attributes.push(KeyValue::new("trace_runtime.busy_ns", nanos(busy)));
    }
    attributes.push(KeyValue::new("trace_runtime.own_ns", nanos(node.own())));
    if node.is_aggregate() {
        attributes.push(KeyValue::new("trace_runtime.aggregate", true));
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        attributes.push(KeyValue::new("trace_runtime.calls", count(node.calls())));
        attributes.push(KeyValue::new(
            "trace_runtime.failures",
            count(node.failures()),
        ));
    }
    match node.outcome() {
        Some(Outcome::Cancelled) => attributes.push(KeyValue::new("trace_runtime.cancelled", true)),
        None => attributes.push(KeyValue::new("trace_runtime.unfinished", true)),
        Some(_) => {}
    }
    if node.is_slow() {
        attributes.push(KeyValue::new("trace_runtime.slow", true));
    }
    attributes
}

fn status(tree: &CallTree, node: &CallNode<'_>) -> Status {
    match node.outcome() {
        Some(Outcome::Panic) => Status::error("panic"),
        Some(Outcome::Error) if node.is_aggregate() => Status::error(format!(
            "{} of {} calls failed",
            node.failures(),
            node.calls()
        )),
        Some(Outcome::Error) => {
            let http = tree.status().filter(|_| node.depth() == 0);
            match (node.error(), http) {
                (Some(text), _) => Status::error(text.to_owned()),
                (None, Some(status)) => Status::error(format!("HTTP {status}")),
                (None, None) => Status::error("err"),
            }
        }
        _ => Status::Unset,
    }
}
