//! What every traced call does, sync or async: at its start it reads the
//! current frame (its caller), counts itself in flight, reads the clock and
//! opens its node in the caller's tree (or starts a tree of its own); at its
//! end it reads the clock, records its metrics, closes its node and lets go
//! of its tree, which delivers the tree if it was the tree's last attached
//! holder.

use std::borrow::Cow;
use std::time::Duration;

use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::frame::{self, Frame};
use crate::metrics::call::CallMetrics;
use crate::outcome::Outcome;
use crate::tree::extra::{Link, NodeExtra};
use crate::tree::live::{Closing, LiveTree, NodeId, TreeRef};
use crate::tree::{RootInfo, RootName};

/// The `tracing` target of the event logged for each slow call.
pub const SLOW_TARGET: &str = "trace_runtime::slow";

/// What starts: a traced function, or a root the user opened by name.
pub(crate) enum Opening {
    Traced(&'static Callsite),
    Root(RootInfo),
}

/// A running call.
pub(crate) struct ActiveCall {
    /// `None` for a user-opened root, which has no metrics. The function is
    /// `frame.site`.
    metrics: Option<CallMetrics>,
    pub(crate) start: Instant,
    /// The frame this call makes current while it runs.
    pub(crate) frame: Frame,
    /// Keeps `frame`'s tree alive: roots and async calls hold their tree;
    /// sync children borrow it from their caller, which outlives them.
    holder: Option<TreeRef>,
}

/// How a starting call relates to the current frame.
#[derive(Clone, Copy)]
pub(crate) enum Start {
    /// A sync call: borrows its caller's tree and becomes the current frame
    /// at once, until it ends.
    Sync,
    /// An async call: holds its tree, since it may outlive its caller's
    /// frame, and becomes current only during its polls.
    Async,
}

impl ActiveCall {
    /// Starts a call of `site` under the current frame, which it returns
    /// (the caller's frame) with the call.
    #[inline(always)]
    pub(crate) fn traced(site: &'static Callsite, how: Start) -> (Frame, ActiveCall) {
        // Not `frame::with_current`: its closure was left out of line in
        // some builds (with axum's default features: +48 instructions per
        // call under callgrind), and closures cannot be `inline(always)`.
        let parent = frame::current();
        // SAFETY: `parent` is current; `start_under` uses the tree only
        // before it makes another frame current.
        let tree = unsafe { frame::tree_of_current(&parent) };
        start_under(site, how, parent, tree)
    }

    /// Starts the root of the request `root` describes; it becomes the
    /// current frame only when its caller makes it so. Opened inside a
    /// request (the current frame has a tree), it is also a node of that
    /// tree, linked to its own.
    pub(crate) fn root(root: RootInfo) -> ActiveCall {
        let start = Instant::now();
        let holder = TreeRef::new_root(root, "", start);
        if let Some(holder) = &holder {
            link_to_current(holder, start);
        }
        ActiveCall {
            metrics: None,
            start,
            frame: root_frame(None, holder.as_ref()),
            holder,
        }
    }

    /// Starts what `opening` says, as an async call. Out of line: the
    /// future that calls it is generic, and this part need not be
    /// compiled once per traced `async fn`.
    #[inline(never)]
    pub(crate) fn start_async(opening: Opening) -> ActiveCall {
        match opening {
            Opening::Traced(site) => ActiveCall::traced(site, Start::Async).1,
            Opening::Root(root) => ActiveCall::root(root),
        }
    }

    /// Records a request's response status on its tree (roots only).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn set_status(&self, status: u16) {
        if let Some(holder) = &self.holder {
            holder.tree().set_status(status);
        }
    }

    /// Whether the call has a node in a tree.
    #[inline]
    pub(crate) fn in_tree(&self) -> bool {
        !self.frame.tree.is_null()
    }

    /// Whether the call has a node of its own in a tree, which can carry
    /// annotations (a call folded past the node cap has none).
    #[inline]
    pub(crate) fn has_node(&self) -> bool {
        self.in_tree() && self.frame.node.is_kept()
    }

    /// Records the end of the call at `end` (busy time for async calls). The
    /// caller restores its frame, then calls [`release`](Self::release).
    /// A sync call ends while its own frame is current.
    #[inline(always)]
    pub(crate) fn end(&self, end: Instant, busy_nanos: Option<u64>, outcome: Outcome) {
        let wall_nanos = end.nanos_since(self.start);
        let site = self.frame.site;
        let closing = Closing {
            wall_nanos,
            busy_nanos,
            outcome,
        };
        if let (Some(metrics), Some(site)) = (self.metrics, site) {
            metrics.end(wall_nanos, outcome);
            if let Some(limit) = site.slow_nanos() {
                if wall_nanos >= limit {
                    self.log_slow(site, wall_nanos, limit);
                }
            }
        } else if let Some(holder) = &self.holder {
            // A root: its node in an outer request, if it has one.
            holder.tree().close_link(&closing);
        }
        if self.frame.tree.is_null() {
            return;
        }
        let close = |tree: &LiveTree| {
            tree.close(self.frame.node, site, &closing, self.frame.detached);
        };
        match &self.holder {
            Some(holder) => close(holder.tree()),
            // A sync child borrows its caller's tree: reached through its own
            // frame, current while it ends.
            None => frame::with_current(|current, tree| {
                if let Some(tree) = tree.filter(|_| std::ptr::eq(current.tree, self.frame.tree)) {
                    close(tree);
                }
            }),
        }
    }

    /// Adds to the annotations of the call's node, if it has one: its
    /// error text or fields. Reaches the tree as [`end`](Self::end) does,
    /// so a sync call records while its own frame is current.
    #[cold]
    #[inline(never)]
    pub(crate) fn annotate(&self, add: &mut dyn FnMut(&mut NodeExtra)) {
        if self.frame.tree.is_null() {
            return;
        }
        match &self.holder {
            Some(holder) => holder.tree().annotate(self.frame.node, add),
            None => frame::with_current(|current, tree| {
                if let Some(tree) = tree.filter(|_| std::ptr::eq(current.tree, self.frame.tree)) {
                    tree.annotate(self.frame.node, add);
                }
            }),
        }
    }

    /// Logs a call of `site` slower than `limit`, with its request's name
    /// and tree id when it is in a tree.
    #[cold]
    #[inline(never)]
    fn log_slow(&self, site: &'static Callsite, wall_nanos: u64, limit: u64) {
        let request = if self.frame.tree.is_null() {
            None
        } else {
            match &self.holder {
                Some(holder) => Some(holder.tree().request()),
                None => frame::with_current(|current, tree| {
                    tree.filter(|_| std::ptr::eq(current.tree, self.frame.tree))
                        .map(LiveTree::request)
                }),
            }
        };
        log_slow(site, wall_nanos, limit, request.as_ref());
    }

    /// [`end`](Self::end), out of line for the generic async future.
    #[inline(never)]
    pub(crate) fn end_async(&self, end: Instant, busy_nanos: u64, outcome: Outcome) {
        self.end(end, Some(busy_nanos), outcome);
    }

    /// Lets go of the call's tree: if this was its last attached holder, the
    /// tree is delivered now. Call with the caller's frame current.
    #[inline]
    pub(crate) fn release(&mut self) {
        self.frame.tree = std::ptr::null();
        drop(self.holder.take());
    }
}

/// [`ActiveCall::traced`] once the current frame, `parent`, and its tree
/// are known.
#[inline(always)]
fn start_under(
    site: &'static Callsite,
    how: Start,
    parent: Frame,
    tree: Option<&LiveTree>,
) -> (Frame, ActiveCall) {
    let metrics = CallMetrics::begin(site.metrics(), parent.site.map(Callsite::metrics));
    let start = Instant::now();
    let (frame, holder) = open(site, parent, tree, start, matches!(how, Start::Async));
    if let Start::Sync = how {
        frame::replace(frame);
    }
    let call = ActiveCall {
        metrics: Some(metrics),
        start,
        frame,
        holder,
    };
    (parent, call)
}

/// The frame of a tree's root.
fn root_frame(site: Option<&'static Callsite>, holder: Option<&TreeRef>) -> Frame {
    Frame {
        site,
        tree: holder.map_or(std::ptr::null(), |h| std::ptr::from_ref(h.tree())),
        node: NodeId::ROOT,
        detached: false,
    }
}

/// Where a starting call of `site` goes in a tree: its frame, and its hold
/// on the tree if it takes one. Its caller is `parent`, the current frame,
/// whose tree is `tree`.
#[inline]
fn open(
    site: &'static Callsite,
    parent: Frame,
    tree: Option<&LiveTree>,
    start: Instant,
    holds: bool,
) -> (Frame, Option<TreeRef>) {
    let untracked = Frame {
        site: Some(site),
        ..Frame::EMPTY
    };
    if !crate::config::trees_enabled() {
        return (untracked, None);
    }
    if let Some(tree) = tree {
        // `None`: delivered already (the caller is spawned work that
        // outlived its request), so this call starts a tree of its own.
        if let Some(node) = tree.open(parent.node, site, start) {
            let frame = Frame {
                site: Some(site),
                tree: parent.tree,
                node,
                detached: parent.detached,
            };
            return (frame, holds.then(|| TreeRef::hold(tree, parent.detached)));
        }
    } else if parent.site.is_some() {
        // A caller without a tree has chosen not to collect one.
        return (untracked, None);
    }
    let holder = site_root(site, start);
    (root_frame(Some(site), holder.as_ref()), holder)
}

/// A tree rooted at a call of `site`: out of line, once per request, so the
/// inlined start of every call stays small.
#[inline(never)]
fn site_root(site: &'static Callsite, start: Instant) -> Option<TreeRef> {
    let root = RootInfo {
        name: RootName::Text(Cow::Borrowed(site.name())),
        ..RootInfo::default()
    };
    TreeRef::new_root(root, site.module(), start)
}

/// Makes `inner`, a new root's tree, a node of the tree of the current
/// frame, if it has one: opened under the current call, closed when the
/// inner root ends, linked to the inner tree. The outer tree is held (as
/// the current frame holds it, attached or detached) until the inner one is
/// delivered.
#[cold]
#[inline(never)]
fn link_to_current(inner: &TreeRef, start: Instant) {
    frame::with_current(|current, outer| {
        let Some(outer) = outer else {
            return;
        };
        let name = inner.tree().request().0;
        let link = Link {
            tree: inner.tree().id(),
            name,
        };
        if let Some(node) = outer.open_link(current.node, link, start) {
            inner
                .tree()
                .set_link(TreeRef::hold(outer, current.detached), node);
        }
    });
}

#[cold]
fn log_slow(
    site: &'static Callsite,
    wall_nanos: u64,
    limit: u64,
    request: Option<&(RootName, u64)>,
) {
    // Whole microseconds: readable, and no float noise.
    let wall_us = u64::try_from(Duration::from_nanos(wall_nanos).as_micros()).unwrap_or(u64::MAX);
    let threshold_us = limit / 1_000;
    let (request, tree_id) = match request {
        Some((name, id)) => (Some(&**name), Some(*id)),
        None => (None, None),
    };
    tracing::warn!(
        target: SLOW_TARGET,
        function = site.name(),
        module = site.module(),
        request,
        tree_id,
        wall_us,
        threshold_us,
        "slow call"
    );
}
