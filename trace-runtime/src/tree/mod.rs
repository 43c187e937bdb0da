//! Finished call trees as data: what sinks receive and renderers print.

pub(crate) mod json;
pub(crate) mod render;
pub(crate) mod sink;

use std::borrow::Cow;
use std::time::Duration;

use crate::call::outcome::Outcome;

/// The calls of one finished request.
///
/// Delivered to every [`TreeSink`](crate::TreeSink); print it with
/// [`render`](CallTree::render) or serialise it with [`to_json`](CallTree::to_json).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CallTree {
    /// The request root: the outermost traced call, or a root opened by
    /// [`request`](crate::request) / [`in_request`](crate::TraceFutureExt::in_request).
    pub root: CallNode,
    /// Calls past both caps (nodes and aggregates) that were counted nowhere
    /// else than in the metrics.
    pub uncounted: u64,
}

/// One call in a [`CallTree`], or an aggregate of repeated calls when the
/// request exceeded its node cap (then `calls > 1`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CallNode {
    /// The function label (`Type::method`) or the root's name.
    pub name: Cow<'static, str>,
    /// The module path of the function; empty for user-opened roots.
    pub module: &'static str,
    /// When the call started, relative to the start of the request; `None`
    /// for aggregates.
    pub start: Option<Duration>,
    /// Wall-clock time from start to end; for aggregates, the sum.
    pub wall: Duration,
    /// For async calls, the time spent inside `poll`.
    pub busy: Option<Duration>,
    /// How the call ended; `None` if it had not ended when the tree was built.
    pub outcome: Option<Outcome>,
    /// The call took longer than its `slow = "..."` threshold.
    pub slow: bool,
    /// How many calls this node stands for: 1, or the size of an aggregate.
    pub calls: u64,
    /// How many of those calls failed.
    pub failures: u64,
    /// Calls made by this one, in the order they started.
    pub children: Vec<CallNode>,
}

impl CallNode {
    pub(crate) fn empty(name: Cow<'static, str>) -> CallNode {
        CallNode {
            name,
            module: "",
            start: Some(Duration::ZERO),
            wall: Duration::ZERO,
            busy: None,
            outcome: None,
            slow: false,
            calls: 1,
            failures: 0,
            children: Vec::new(),
        }
    }

    /// Visits this node and its descendants, depth first.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a CallNode, usize)) {
        fn go<'a>(node: &'a CallNode, depth: usize, visit: &mut impl FnMut(&'a CallNode, usize)) {
            visit(node, depth);
            for child in &node.children {
                go(child, depth + 1, visit);
            }
        }
        go(self, 0, visit);
    }
}

impl CallTree {
    /// Whether any call in the tree failed (`Err` or panic).
    #[must_use]
    pub fn has_failure(&self) -> bool {
        let mut failed = false;
        self.root.walk(&mut |node, _| failed |= node.failures > 0);
        failed
    }

    /// How many calls the tree accounts for, aggregates included.
    #[must_use]
    pub fn call_count(&self) -> u64 {
        let mut calls = self.uncounted;
        self.root.walk(&mut |node, _| calls += node.calls);
        calls
    }
}
