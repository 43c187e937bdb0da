//! Call trees: one per request, collected while it runs and delivered, as a
//! [`CallTree`], to a `tracing` event and to every [`TreeSink`] when the
//! request's own work ends. [`TreeConfig`] says which trees are collected
//! and delivered.
//!
//! A tree is one vector of nodes in depth-first pre-order, each knowing its
//! depth and the size of its subtree, so building, walking and dropping it
//! each touch one allocation. [`CallNode`] is a cheap view into it.

mod config;
pub(crate) mod holders;
pub(crate) mod json;
pub(crate) mod live;
pub(crate) mod render;
pub(crate) mod sink;
pub(crate) mod snapshot;
#[cfg(feature = "pages")]
pub(crate) mod truncate;

pub use config::{TreeConfig, DEFAULT_MAX_NODES};
pub use sink::{add_sink, clear_sinks, TreeFilter, TreeSink, TREE_TARGET};
pub use snapshot::{add_snapshot_source, Snapshot};

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::clock;
use crate::outcome::Outcome;
use crate::traceparent::TraceParent;

/// The calls of one finished request.
///
/// Delivered to every [`TreeSink`]; print it with
/// [`render`](CallTree::render), serialise it with
/// [`to_json`](CallTree::to_json), or walk it from [`root`](CallTree::root).
#[derive(Clone, Debug)]
pub struct CallTree {
    root: RootInfo,
    nodes: Vec<NodeData>,
    uncounted: u64,
}

/// A root's name: borrowed, owned (`in_request(format!(..), ..)`), or shared
/// by every request of an HTTP route.
#[derive(Clone, Debug)]
pub(crate) enum RootName {
    Text(Cow<'static, str>),
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    Shared(Arc<str>),
}

impl Default for RootName {
    fn default() -> Self {
        RootName::Text(Cow::Borrowed(""))
    }
}

impl std::ops::Deref for RootName {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            RootName::Text(text) => text,
            RootName::Shared(shared) => shared,
        }
    }
}

/// What a tree knows about its request besides the calls.
#[derive(Clone, Debug, Default)]
pub(crate) struct RootInfo {
    pub(crate) name: RootName,
    /// The response status, for HTTP requests.
    pub(crate) status: Option<u16>,
    /// The caller's span in another service, from `traceparent`.
    pub(crate) remote_parent: Option<TraceParent>,
}

/// "No time" in [`NodeData`]'s optional times.
pub(crate) const NO_TIME: u64 = u64::MAX;

/// One node's data; see [`CallNode`] for the meaning of each field.
#[derive(Clone, Debug)]
pub(crate) struct NodeData {
    /// Unused for the root, whose name is the tree's.
    pub(crate) name: &'static str,
    pub(crate) module: &'static str,
    pub(crate) depth: u32,
    /// Nodes in this node's subtree, itself included.
    pub(crate) subtree: u32,
    /// Raw clock ticks since the request started (scaled when read), or
    /// [`NO_TIME`] for aggregates.
    pub(crate) start_ticks: u64,
    pub(crate) wall_nanos: u64,
    /// For aggregates, own time summed over their calls; unused otherwise
    /// (a call's own time is computed from its children when read).
    pub(crate) own_nanos: u64,
    /// [`NO_TIME`] for sync calls.
    pub(crate) busy_nanos: u64,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) slow: bool,
    /// Calls folded past the node cap, rather than one call.
    pub(crate) aggregate: bool,
    pub(crate) calls: u64,
    pub(crate) failures: u64,
}

/// One call in a [`CallTree`], or an aggregate of the calls of one function
/// under one parent when the request exceeded its node cap (then
/// [`is_aggregate`](CallNode::is_aggregate), and [`calls`](CallNode::calls)
/// says how many). Aggregates nest as their calls did.
#[derive(Clone, Copy, Debug)]
pub struct CallNode<'a> {
    tree: &'a CallTree,
    index: usize,
}

impl CallTree {
    pub(crate) fn from_parts(root: RootInfo, nodes: Vec<NodeData>, uncounted: u64) -> CallTree {
        debug_assert!(!nodes.is_empty());
        CallTree {
            root,
            nodes,
            uncounted,
        }
    }

    /// The request root: the outermost traced call, or a root opened by
    /// [`in_request`](crate::in_request) / [`in_request`](crate::TraceFutureExt::in_request).
    #[must_use]
    pub fn root(&self) -> CallNode<'_> {
        CallNode {
            tree: self,
            index: 0,
        }
    }

    /// The HTTP response status, when the request came through the HTTP
    /// layer (`http::TraceLayer`, cargo feature `tower`) and produced a
    /// response.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.root.status
    }

    /// The caller's span in another service, when the request carried a
    /// valid W3C `traceparent` header (read by the HTTP layer).
    #[must_use]
    pub fn remote_parent(&self) -> Option<TraceParent> {
        self.root.remote_parent
    }

    /// Every node, depth first, parents before their children.
    pub fn iter(&self) -> impl Iterator<Item = CallNode<'_>> + '_ {
        (0..self.nodes.len()).map(move |index| CallNode { tree: self, index })
    }

    /// Calls past both caps (nodes and aggregates), counted nowhere else
    /// than in the metrics.
    #[must_use]
    pub fn uncounted(&self) -> u64 {
        self.uncounted
    }

    /// Whether any call in the tree failed (`Err` or panic).
    #[must_use]
    pub fn has_failure(&self) -> bool {
        self.nodes.iter().any(|n| n.failures > 0)
    }

    /// Whether any call exceeded its `slow = "..."` threshold.
    #[must_use]
    pub fn has_slow_call(&self) -> bool {
        self.nodes.iter().any(|n| n.slow)
    }

    /// How many calls the tree accounts for, aggregates and uncounted included.
    #[must_use]
    pub fn call_count(&self) -> u64 {
        self.uncounted + self.nodes.iter().map(|n| n.calls).sum::<u64>()
    }
}

impl<'a> CallNode<'a> {
    fn data(&self) -> &'a NodeData {
        &self.tree.nodes[self.index]
    }

    /// The function label (`Type::method`) or the root's name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        if self.index == 0 {
            &self.tree.root.name
        } else {
            self.data().name
        }
    }

    /// The module path of the function; empty for user-opened roots.
    #[must_use]
    pub fn module(&self) -> &'static str {
        self.data().module
    }

    /// Nesting depth: 0 for the root.
    #[must_use]
    pub fn depth(&self) -> usize {
        self.data().depth as usize
    }

    /// When the call started, relative to the start of the request; `None`
    /// for aggregates.
    #[must_use]
    pub fn start(&self) -> Option<Duration> {
        let ticks = self.data().start_ticks;
        (ticks != NO_TIME).then(|| Duration::from_nanos(clock::ticks_to_nanos(ticks)))
    }

    /// Wall-clock time from start to end; for aggregates, the sum over its
    /// outermost calls (a recursive call's time is inside its caller's, so
    /// it is not added again).
    #[must_use]
    pub fn wall(&self) -> Duration {
        Duration::from_nanos(self.data().wall_nanos)
    }

    /// Own (exclusive) time: [`wall`](Self::wall) less the time of the
    /// traced calls it made, never below zero (calls it ran concurrently,
    /// under `join!`, can add up to more than its wall time); for
    /// aggregates, summed over all its calls.
    #[must_use]
    pub fn own(&self) -> Duration {
        let data = self.data();
        if data.aggregate {
            return Duration::from_nanos(data.own_nanos);
        }
        let children = self
            .children()
            .map(|c| c.data().wall_nanos)
            .fold(0_u64, u64::saturating_add);
        Duration::from_nanos(data.wall_nanos.saturating_sub(children))
    }

    /// Whether this node aggregates calls folded past the node cap (see
    /// [`calls`](Self::calls)), rather than being one call.
    #[must_use]
    pub fn is_aggregate(&self) -> bool {
        self.data().aggregate
    }

    /// For async calls, the time spent inside `poll`.
    #[must_use]
    pub fn busy(&self) -> Option<Duration> {
        let nanos = self.data().busy_nanos;
        (nanos != NO_TIME).then(|| Duration::from_nanos(nanos))
    }

    /// How the call ended; `None` if it had not ended when the tree was built.
    #[must_use]
    pub fn outcome(&self) -> Option<Outcome> {
        self.data().outcome
    }

    /// Whether the call took longer than its `slow = "..."` threshold.
    #[must_use]
    pub fn is_slow(&self) -> bool {
        self.data().slow
    }

    /// How many calls this node stands for: 1, or the size of an aggregate.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.data().calls
    }

    /// How many of those calls failed.
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.data().failures
    }

    /// Calls made by this one, in the order they started; aggregates last.
    pub fn children(&self) -> impl Iterator<Item = CallNode<'a>> + 'a {
        let tree = self.tree;
        let end = self.index + self.data().subtree as usize;
        let mut next = self.index + 1;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let node = CallNode { tree, index: next };
                next += tree.nodes[next].subtree as usize;
                node
            })
        })
    }
}
