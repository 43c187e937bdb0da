//! Call trees: one per request, collected while it runs and delivered, as a
//! [`CallTree`], to a `tracing` event and to every [`TreeSink`] when the
//! request's own work ends. [`TreeConfig`] says which trees are collected
//! and delivered.
//!
//! A tree is one vector of nodes in depth-first pre-order, each knowing its
//! depth and the size of its subtree, so building, walking and dropping it
//! each touch one allocation. [`CallNode`] is a cheap view into it.

mod config;
pub(crate) mod extra;
pub(crate) mod holders;
pub(crate) mod ids;
pub(crate) mod json;
pub(crate) mod live;
pub(crate) mod render;
pub(crate) mod sink;
pub(crate) mod snapshot;
mod summary;
#[cfg(feature = "pages")]
pub(crate) mod truncate;

pub use config::{TreeConfig, TreeFormat, DEFAULT_MAX_NODES};
pub use extra::{MAX_ERROR_BYTES, MAX_FIELD_BYTES};
pub use render::TextOptions;
pub use sink::{add_sink, clear_sinks, TreeFilter, TreeSink, TREE_TARGET};
pub use snapshot::{add_snapshot_source, Snapshot};
pub use summary::FunctionSummary;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crate::clock;
use crate::outcome::Outcome;
use crate::traceparent::TraceParent;
use crate::tree::extra::NodeExtra;
use crate::tree::ids::TraceIds;

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
    /// Annotations, by [`NodeData::extra`]: apart from the nodes, so a
    /// tree without any drops its nodes without visiting them.
    extras: Vec<NodeExtra>,
    /// The nodes' keys (the order their calls opened in, aggregates
    /// `1 << 31 | index`), when that is not their index.
    keys: Option<Box<[u32]>>,
    /// The request's start by the call clock.
    started: clock::Instant,
    /// The request's start by the system clock, read when first asked.
    started_at: OnceLock<SystemTime>,
    /// Made when first asked, unless the running request was asked already.
    ids: OnceLock<TraceIds>,
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
    /// Set when the tree is created: unique in the process, from 1.
    pub(crate) id: u64,
    /// The tree of the request this one was opened in, if any.
    pub(crate) outer: Option<u64>,
    /// An HTTP request's root, named `METHOD route` by the layer.
    pub(crate) http: bool,
}

/// "No time" in [`NodeData`]'s optional times.
pub(crate) const NO_TIME: u64 = u64::MAX;

/// "No annotations" in [`NodeData::extra`].
pub(crate) const NO_EXTRA: u32 = u32::MAX;

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
    /// Error text, fields, link: the index in [`CallTree`]'s annotations,
    /// or [`NO_EXTRA`] (for calls that recorded none).
    pub(crate) extra: u32,
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
    pub(crate) fn from_parts(
        root: RootInfo,
        nodes: Vec<NodeData>,
        uncounted: u64,
        extras: Vec<NodeExtra>,
    ) -> CallTree {
        debug_assert!(!nodes.is_empty());
        CallTree {
            root,
            nodes,
            uncounted,
            extras,
            keys: None,
            started: clock::Instant::default(),
            started_at: OnceLock::new(),
            ids: OnceLock::new(),
        }
    }

    /// Sets what a live tree knows of the request's distributed trace: the
    /// nodes' keys (`None`: their indices), its start by the call clock,
    /// and its ids if a running call asked for them.
    pub(crate) fn with_trace(
        mut self,
        keys: Option<Box<[u32]>>,
        started: clock::Instant,
        ids: Option<TraceIds>,
    ) -> CallTree {
        self.keys = keys;
        self.started = started;
        if let Some(ids) = ids {
            let _ = self.ids.set(ids);
        }
        self
    }

    /// When the request started, by the system clock: the one wall-clock
    /// anchor of the tree, to which each node's [`start`](CallNode::start)
    /// and [`wall`](CallNode::wall) add (so spans exported from the tree
    /// never drift apart). Read from the system clock when first asked, less
    /// the time since the request started by the call clock; the same
    /// value every time after.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::SystemTime;
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// #[trace_runtime::trace]
    /// fn work() {}
    ///
    /// let seen: Arc<Mutex<Vec<SystemTime>>> = Arc::default();
    /// let sink = Arc::clone(&seen);
    /// add_sink(move |tree: &CallTree| sink.lock().unwrap().push(tree.started_at()));
    /// let before = SystemTime::now();
    /// work();
    /// let started = seen.lock().unwrap()[0];
    /// // Within the clocks' resolution of the call.
    /// assert!(started <= SystemTime::now());
    /// assert!(before.duration_since(started).unwrap_or_default().as_millis() < 5);
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    #[must_use]
    pub fn started_at(&self) -> SystemTime {
        *self.started_at.get_or_init(|| {
            let since = clock::Instant::now().nanos_since(self.started);
            SystemTime::now()
                .checked_sub(Duration::from_nanos(since))
                .unwrap_or(SystemTime::UNIX_EPOCH)
        })
    }

    /// The W3C trace id of the request: its
    /// [remote parent](Self::remote_parent)'s, else a random one made for
    /// this tree (when first asked, here or by
    /// [`current_traceparent`](crate::context::current_traceparent) while
    /// the request ran). Never all zeros.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use trace_runtime::context::{current_traceparent, TraceParent};
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// #[trace_runtime::trace]
    /// fn call_another_service() -> Option<TraceParent> {
    ///     current_traceparent() // what an outgoing request would carry
    /// }
    ///
    /// let seen: Arc<Mutex<Vec<([u8; 16], [u8; 8])>>> = Arc::default();
    /// let sink = Arc::clone(&seen);
    /// add_sink(move |tree: &CallTree| {
    ///     sink.lock().unwrap().push((tree.trace_id(), tree.root().span_id()));
    /// });
    /// let sent = call_another_service().unwrap();
    /// let (trace_id, span_id) = seen.lock().unwrap()[0];
    /// assert_eq!(sent.trace_id, trace_id);
    /// assert_eq!(sent.parent_id, span_id);
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    #[must_use]
    pub fn trace_id(&self) -> [u8; 16] {
        self.ids().trace_id
    }

    fn ids(&self) -> &TraceIds {
        self.ids
            .get_or_init(|| TraceIds::new(self.root.remote_parent.as_ref()))
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

    /// The tree's id: unique in the process (counted from 1 as trees are
    /// created), so a node of another tree can link to this one (see
    /// [`CallNode::linked_tree`]).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// let ids: Arc<Mutex<Vec<u64>>> = Arc::default();
    /// let sink = Arc::clone(&ids);
    /// add_sink(move |tree: &CallTree| sink.lock().unwrap().push(tree.id()));
    /// trace_runtime::in_request("first", || ());
    /// trace_runtime::in_request("second", || ());
    /// let ids = ids.lock().unwrap();
    /// assert!(ids[0] > 0 && ids[1] > ids[0]);
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    #[must_use]
    pub fn id(&self) -> u64 {
        self.root.id
    }

    /// The [id](Self::id) of the tree of the request this one was opened
    /// in (an [`in_request`](crate::in_request) inside a running request),
    /// where a node links to this tree; `None` for a top-level request.
    #[must_use]
    pub fn outer_tree(&self) -> Option<u64> {
        self.root.outer
    }

    /// The HTTP method, when the request came through the HTTP layer.
    #[must_use]
    pub fn method(&self) -> Option<&str> {
        self.http_parts().map(|(method, _)| method)
    }

    /// The route template (`/rooms/{name}`, or `unmatched`), when the
    /// request came through the HTTP layer.
    #[must_use]
    pub fn route(&self) -> Option<&str> {
        self.http_parts().map(|(_, route)| route)
    }

    /// The HTTP layer names a root `METHOD route`; a method has no space.
    fn http_parts(&self) -> Option<(&str, &str)> {
        self.root
            .http
            .then(|| self.root.name.split_once(' '))
            .flatten()
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

    /// How many calls the tree accounts for, aggregates and uncounted
    /// included, and so is its root and every [linked](CallNode::linked_tree)
    /// request's node; [`traced_calls`](Self::traced_calls) counts only the
    /// calls of traced functions.
    #[must_use]
    pub fn call_count(&self) -> u64 {
        self.uncounted + self.nodes.iter().map(|n| n.calls).sum::<u64>()
    }

    /// How many calls of traced functions the request made, aggregates and
    /// uncounted included: the root counts only when it is a traced call
    /// itself, not when it was opened by [`in_request`](crate::in_request)
    /// or the HTTP layer; nodes linking to requests opened inside this one
    /// do not count. The `calls` field of the logged event.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// #[trace_runtime::trace]
    /// fn step() {}
    ///
    /// let counts: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    /// let sink = Arc::clone(&counts);
    /// add_sink(move |tree: &CallTree| {
    ///     sink.lock().unwrap().push((tree.traced_calls(), tree.call_count()));
    /// });
    /// trace_runtime::in_request("job", step);
    /// assert_eq!(counts.lock().unwrap()[0], (1, 2));
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    #[must_use]
    pub fn traced_calls(&self) -> u64 {
        self.uncounted
            + self
                .nodes
                .iter()
                .filter(|n| !n.module.is_empty())
                .map(|n| n.calls)
                .sum::<u64>()
    }
}

impl<'a> CallNode<'a> {
    fn data(&self) -> &'a NodeData {
        &self.tree.nodes[self.index]
    }

    /// The function label (`Type::method`), the root's name, or for a
    /// [linked](Self::linked_tree) request the name of its root.
    #[must_use]
    pub fn name(&self) -> &'a str {
        if self.index == 0 {
            &self.tree.root.name
        } else if let Some(link) = self.extra().and_then(|e| e.link.as_ref()) {
            &link.name
        } else {
            self.data().name
        }
    }

    fn extra(&self) -> Option<&'a NodeExtra> {
        let index = self.data().extra;
        if index == NO_EXTRA {
            return None;
        }
        self.tree.extras.get(index as usize)
    }

    /// The `Display` (or with `err(Debug)`, the `Debug`) of the `Err` the
    /// call returned, for functions traced with `#[trace(err)]`; at most
    /// [`MAX_ERROR_BYTES`] bytes, cut ones ending in `...`. `None` for calls
    /// that did not fail, for functions without the option, and for
    /// aggregates.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// #[trace_runtime::trace(err)]
    /// fn join(room: &str) -> Result<(), String> {
    ///     Err(format!("room {room:?} is full"))
    /// }
    ///
    /// let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    /// let sink = Arc::clone(&errors);
    /// add_sink(move |tree: &CallTree| {
    ///     let texts = tree.iter().filter_map(|n| n.error().map(str::to_owned));
    ///     sink.lock().unwrap().extend(texts);
    /// });
    /// let _ = trace_runtime::in_request("POST /join", || join("lobby"));
    /// assert_eq!(*errors.lock().unwrap(), ["room \"lobby\" is full"]);
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    #[must_use]
    pub fn error(&self) -> Option<&'a str> {
        self.extra().and_then(|e| e.error.as_deref())
    }

    /// The values chosen by `#[trace(fields(...))]`, as `(name, value)` in
    /// the order the attribute lists them, each value at most
    /// [`MAX_FIELD_BYTES`] bytes; empty for calls of functions without the
    /// option, and for aggregates.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// #[trace_runtime::trace(fields(room, user = %player))]
    /// fn join(room: u32, player: &str) {}
    ///
    /// let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    /// let sink = Arc::clone(&seen);
    /// add_sink(move |tree: &CallTree| {
    ///     for node in tree.iter() {
    ///         let fields = node.fields().map(|(k, v)| (k.to_owned(), v.to_owned()));
    ///         sink.lock().unwrap().extend(fields);
    ///     }
    /// });
    /// trace_runtime::in_request("POST /join", || join(7, "ann"));
    /// let seen = seen.lock().unwrap();
    /// assert_eq!(*seen, [("room".into(), "7".into()), ("user".into(), "ann".into())]);
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
        self.extra()
            .map_or(&[][..], |e| &e.fields[..])
            .iter()
            .map(|(name, value)| (*name, &**value))
    }

    /// For a node standing for a request opened inside this one (an
    /// [`in_request`](crate::in_request) within a running request), the
    /// [id](CallTree::id) of that request's own tree, where its calls are;
    /// the node has the inner root's name, wall time and outcome.
    #[must_use]
    pub fn linked_tree(&self) -> Option<u64> {
        self.extra().and_then(|e| e.link.as_ref()).map(|l| l.tree)
    }

    /// The function label as a `'static` string, for every node but the
    /// root (whose [`name`](Self::name) is the request's): what an exporter
    /// can keep without copying it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use trace_runtime::tree::{add_sink, CallTree};
    ///
    /// #[trace_runtime::trace]
    /// fn child() {}
    ///
    /// let seen: Arc<Mutex<Vec<Option<&'static str>>>> = Arc::default();
    /// let sink = Arc::clone(&seen);
    /// add_sink(move |tree: &CallTree| {
    ///     sink.lock().unwrap().extend(tree.iter().map(|node| node.function()));
    /// });
    /// trace_runtime::in_request("job", child);
    /// assert_eq!(*seen.lock().unwrap(), [None, Some("child")]);
    /// # trace_runtime::tree::clear_sinks();
    /// ```
    #[must_use]
    pub fn function(&self) -> Option<&'static str> {
        (self.index != 0).then(|| self.data().name)
    }

    /// The module path of the function; empty for user-opened roots and
    /// linked requests.
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

    /// The node's span id in the request's distributed trace (see
    /// [`CallTree::trace_id`]): distinct within the tree, never zero, and
    /// the `parent_id` that [`current_traceparent`](crate::context::current_traceparent)
    /// gave while this call ran. An aggregate has one of its own.
    #[must_use]
    pub fn span_id(&self) -> [u8; 8] {
        let key = self.tree.keys.as_ref().map_or_else(
            || u32::try_from(self.index).unwrap_or(u32::MAX),
            |keys| keys[self.index],
        );
        self.tree.ids().span_id(key)
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
