//! A request's tree while it is being recorded: one node per call, opened
//! when the call starts and closed when it ends, turned into a [`CallTree`]
//! and delivered when the request's own work ends.
//!
//! Nodes live in a [`Segmented`] array (64 slots, then 128, 256, …, so the
//! memory follows the request's size, whatever the cap). Opening a call
//! takes the tree's lock, to claim a slot and write its parent and depth.
//! Closing writes only the call's own slot: without the lock for calls of
//! attached holders (see [`holders`](crate::tree::holders)), which all end
//! before the tree is delivered, and under the lock for calls of detached
//! ones, which may still run when it is: those check that the tree is still
//! there first. Delivery takes the lock, builds the tree (calls still running
//! show as unfinished), frees the nodes and leaves a small shell that later
//! calls of detached holders no longer grow.
//!
//! Nodes are numbered in the order their calls opened. When every call opened
//! under an ancestor of the call opened just before it (always, for sync
//! code), that order is the tree's pre-order, and the tree is built in one
//! pass over the slots; otherwise (concurrent children) the children of each
//! node are gathered first.
//!
//! Memory is bounded: past the node cap, further calls are folded into one
//! aggregate per (kept ancestor, function), shown as `name ×N total …`; past
//! a second cap even those are only counted.

use spin::mutex::{SpinMutex, SpinMutexGuard};
use spin::relax::Yield;
use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::outcome::Outcome;
use crate::segments::Segmented;
use crate::traceparent::TraceParent;
use crate::tree::extra::{Link, NodeExtra};
use crate::tree::holders::{Holders, Release};
use crate::tree::ids::TraceIds;
use crate::tree::sink::{self, Summary};
use crate::tree::{CallTree, NodeData, RootInfo, RootName, NO_EXTRA, NO_TIME};

/// Most distinct (parent, function) aggregates a request keeps.
const MAX_FOLDS: usize = 256;

/// Where a call sits in its request's tree: a node of its own, by index, or,
/// past the node cap, an aggregate (the top bit set) by index among the
/// request's aggregates, or nowhere but in the count of uncounted calls.
/// Four bytes, so a frame stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeId(u32);

const FOLDED: u32 = 1 << 31;
/// With [`FOLDED`]: a call of the aggregate's own function under a call of
/// that aggregate (recursion), counted in it without adding to its total.
const RECURSIVE: u32 = 1 << 30;
const FOLD_INDEX: u32 = RECURSIVE - 1;
/// The fold index of calls past the aggregate cap.
const UNCOUNTED: u32 = FOLD_INDEX;

/// What a [`NodeId`] designates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Kept(u32),
    Fold { index: u32, recursive: bool },
    Uncounted,
}

impl NodeId {
    pub(crate) const ROOT: NodeId = NodeId(0);

    /// Whether the call has a node of its own (not folded past the cap).
    #[inline]
    pub(crate) fn is_kept(self) -> bool {
        self.0 & FOLDED == 0
    }

    fn kept(index: u32) -> NodeId {
        NodeId(index)
    }

    fn folded(index: u32, recursive: bool) -> NodeId {
        NodeId(index | FOLDED | if recursive { RECURSIVE } else { 0 })
    }

    const UNCOUNTED: NodeId = NodeId(UNCOUNTED | FOLDED);

    /// The key of the node this call has (see [`TraceIds::span_id`]):
    /// its index, or for an aggregate [`FOLDED`] and the aggregate's index;
    /// the root's for calls counted nowhere.
    fn key(self) -> u32 {
        match self.place() {
            Place::Kept(index) => index,
            Place::Fold { index, .. } => FOLDED | index,
            Place::Uncounted => 0,
        }
    }

    fn place(self) -> Place {
        if self.0 & FOLDED == 0 {
            Place::Kept(self.0)
        } else if self.0 & FOLD_INDEX == UNCOUNTED {
            Place::Uncounted
        } else {
            Place::Fold {
                index: self.0 & FOLD_INDEX,
                recursive: self.0 & RECURSIVE != 0,
            }
        }
    }
}

/// How a finished call is recorded in its node.
pub(crate) struct Closing {
    pub(crate) wall_nanos: u64,
    /// Time inside `poll`, for async calls.
    pub(crate) busy_nanos: Option<u64>,
    pub(crate) outcome: Outcome,
}

/// Written once when the call opens, under the lock; read only under it.
struct Fixed {
    name: &'static str,
    module: &'static str,
    start: Instant,
    parent: u32,
    depth: u32,
}

/// Written once by the call itself when it ends; `outcome: None` until then.
#[derive(Default)]
struct End {
    wall_nanos: u64,
    busy_nanos: u64,
    outcome: Option<Outcome>,
    slow: bool,
}

/// A node's slot: left uninitialised when its segment is allocated, written
/// in full when the node opens (under the lock), before its index is handed
/// out; only slots below `State::len` are ever read.
struct Slot {
    fixed: UnsafeCell<MaybeUninit<Fixed>>,
    end: UnsafeCell<MaybeUninit<End>>,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            fixed: UnsafeCell::new(MaybeUninit::uninit()),
            end: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }
}

/// What an aggregate hangs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FoldParent {
    Kept(u32),
    Fold(u32),
}

/// The calls of one function under one parent, past the node cap. Created
/// when its first call opens, so the calls they make nest under it.
struct Fold {
    parent: FoldParent,
    name: &'static str,
    module: &'static str,
    calls: u64,
    failures: u64,
    /// Wall time of its outermost calls (recursive ones are inside them).
    total_nanos: u64,
    /// Wall time of all its calls, recursive ones included.
    walls_nanos: u64,
    /// Wall time of the calls its calls made.
    children_nanos: u64,
}

/// Where the node opened last sits.
#[derive(Clone, Copy)]
struct Last {
    index: u32,
    parent: u32,
    depth: u32,
}

/// Everything only touched under the lock.
struct State {
    root: RootInfo,
    len: u32,
    /// Whether node order so far is pre-order.
    in_order: bool,
    /// The node opened last: `len - 1`.
    last: Last,
    folds: Vec<Fold>,
    uncounted: u64,
    /// The tree has been delivered and its nodes freed.
    delivered: bool,
    /// Made when first asked for ([`LiveTree::traceparent`]).
    ids: Option<TraceIds>,
    /// Annotations of kept nodes, by index, in the order they were made.
    extras: Vec<(u32, NodeExtra)>,
    /// For a request opened inside another: the outer tree, held until
    /// this one is delivered, and the node standing for this request there.
    link: Option<(TreeRef, NodeId)>,
}

/// The ids of trees: the last one handed out.
static LAST_TREE_ID: AtomicU64 = AtomicU64::new(0);

/// One request's call tree under construction.
pub(crate) struct LiveTree {
    holders: Holders,
    /// The tree's [`CallTree::id`].
    id: u64,
    started: Instant,
    cap: u32,
    /// A spin lock: critical sections are a few field writes, an uncontended
    /// acquire is one atomic read-modify-write and a release one store (a
    /// waiter yields its thread). `std::sync::Mutex` cost 35 more
    /// instructions per call under callgrind (poison checks, a second
    /// read-modify-write to release).
    state: SpinMutex<State, Yield>,
    slots: Segmented<Slot>,
    failed: AtomicBool,
    slow: AtomicBool,
}

// SAFETY: the slots' cells are shared by the protocol described in the
// module docs: `fixed` is only touched under `state`'s lock; each `end` has
// one writer (its call) and is read under the lock only once that writer is
// done (attached calls) or by writes made under the lock (detached calls).
unsafe impl Sync for LiveTree {}

/// Proof that the caller holds the tree's lock.
type Locked<'a> = SpinMutexGuard<'a, State>;

impl LiveTree {
    fn lock(&self) -> Locked<'_> {
        self.state.lock()
    }

    /// The fixed part of an opened node.
    fn fixed<'a>(&'a self, locked: &'a Locked<'_>, index: u32) -> Option<&'a Fixed> {
        Some(fixed_of(locked, self.slots.get(index as usize)?))
    }

    /// Opens a child of `parent` for a call of `site` that started at
    /// `start`; `None` if the tree has been delivered.
    pub(crate) fn open(
        &self,
        parent: NodeId,
        site: &'static Callsite,
        start: Instant,
    ) -> Option<NodeId> {
        let mut state = self.lock();
        if state.delivered {
            return None;
        }
        let parent = match parent.place() {
            Place::Kept(parent) => parent,
            Place::Uncounted => return Some(NodeId::UNCOUNTED),
            Place::Fold { index, .. } => {
                let under = FoldParent::Fold(index);
                let recursive = state
                    .folds
                    .get(index as usize)
                    .is_some_and(|f| std::ptr::eq(f.name, site.name()));
                if recursive {
                    return Some(NodeId::folded(index, true));
                }
                return Some(fold_for(&mut state, under, site));
            }
        };
        if state.len >= self.cap {
            return Some(fold_for(&mut state, FoldParent::Kept(parent), site));
        }
        self.push_kept(&mut state, parent, site.name(), site.module(), start)
    }

    /// Opens a kept node under `parent`, below the cap.
    #[inline(always)]
    fn push_kept(
        &self,
        state: &mut Locked<'_>,
        parent: u32,
        name: &'static str,
        module: &'static str,
        start: Instant,
    ) -> Option<NodeId> {
        let index = state.len;
        // The node opened last is usually the parent (a first child) or a
        // sibling (a next child): then neither the parent's depth nor the
        // pre-order check needs a slot read.
        let last = state.last;
        let parent_depth = if last.index == parent {
            last.depth
        } else if last.parent == parent {
            last.depth.saturating_sub(1)
        } else {
            self.fixed(state, parent).map_or(0, |f| f.depth)
        };
        if state.in_order && last.index != parent && last.parent != parent {
            state.in_order = self.is_on_path_to(state, parent, parent_depth, last.index);
        }
        state.last = Last {
            index,
            parent,
            depth: parent_depth + 1,
        };
        let fixed = Fixed {
            name,
            module,
            start,
            parent,
            depth: parent_depth + 1,
        };
        let slot = self.slots.get_or_grow(index as usize)?;
        write_open(state, slot, fixed);
        state.len += 1;
        Some(NodeId::kept(index))
    }

    /// The tree's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Opens a node under `parent` standing for `link`, a request opened
    /// inside this one that started at `start`; `None` if the tree has been
    /// delivered, `parent` is not a kept node or the cap is reached (the
    /// inner request then stands alone).
    #[cold]
    pub(crate) fn open_link(&self, parent: NodeId, link: Link, start: Instant) -> Option<NodeId> {
        let mut state = self.lock();
        let Place::Kept(parent) = parent.place() else {
            return None;
        };
        if state.delivered || state.len >= self.cap {
            return None;
        }
        let node = self.push_kept(&mut state, parent, "", "", start)?;
        let extra = NodeExtra {
            link: Some(link),
            ..NodeExtra::default()
        };
        state.extras.push((node.0, extra));
        Some(node)
    }

    /// Makes this tree, a request opened inside `outer`, close `node` of
    /// `outer` when its root ends; `outer` is held until this tree is
    /// delivered.
    #[cold]
    pub(crate) fn set_link(&self, outer: TreeRef, node: NodeId) {
        let mut state = self.lock();
        state.root.outer = Some(outer.tree().id());
        state.link = Some((outer, node));
    }

    /// The root of this tree has ended as `closing` says: closes the node
    /// standing for it in the outer tree, if any.
    #[cold]
    pub(crate) fn close_link(&self, closing: &Closing) {
        let link = {
            let state = self.lock();
            state
                .link
                .as_ref()
                .map(|(outer, node)| (std::ptr::from_ref(outer.tree()), *node, outer.is_detached()))
        };
        if let Some((outer, node, detached)) = link {
            // SAFETY: `outer` is held by `state.link` until this tree is
            // delivered, which happens after its root has ended.
            let outer = unsafe { &*outer };
            outer.close(node, None, closing, detached);
        }
    }

    /// Adds to the annotations of `node` (a kept node; others keep none);
    /// nothing once the tree has been delivered.
    #[cold]
    pub(crate) fn annotate(&self, node: NodeId, add: impl FnOnce(&mut NodeExtra)) {
        let Place::Kept(index) = node.place() else {
            return;
        };
        let mut state = self.lock();
        if state.delivered {
            return;
        }
        let at = if let Some(at) = state.extras.iter().rposition(|(i, _)| *i == index) {
            at
        } else {
            state.extras.push((index, NodeExtra::default()));
            state.extras.len() - 1
        };
        add(&mut state.extras[at].1);
    }

    /// The request's name and the tree's id, for events about its calls.
    #[cold]
    pub(crate) fn request(&self) -> (RootName, u64) {
        (self.lock().root.name.clone(), self.id)
    }

    /// Whether `ancestor` (at `depth`) is `node` or one of its ancestors: a
    /// node opened under `ancestor` right after `node` keeps pre-order.
    fn is_on_path_to(&self, locked: &Locked<'_>, ancestor: u32, depth: u32, mut node: u32) -> bool {
        while let Some(fixed) = self.fixed(locked, node) {
            if fixed.depth <= depth {
                return node == ancestor;
            }
            node = fixed.parent;
        }
        false
    }

    /// Records how the call in `node` ended. Each node is closed at most once,
    /// by the call that opened it; `detached` says whether that call belongs
    /// to a detached holder.
    #[inline]
    pub(crate) fn close(
        &self,
        node: NodeId,
        site: Option<&'static Callsite>,
        closing: &Closing,
        detached: bool,
    ) {
        let slow = site
            .and_then(Callsite::slow_nanos)
            .is_some_and(|limit| closing.wall_nanos >= limit);
        match node.place() {
            Place::Kept(index) => {
                let end = End {
                    wall_nanos: closing.wall_nanos,
                    busy_nanos: closing.busy_nanos.unwrap_or(NO_TIME),
                    outcome: Some(closing.outcome),
                    slow,
                };
                if detached {
                    self.close_detached(index, end);
                } else {
                    self.flag(slow, closing.outcome);
                    if let Some(slot) = self.slots.get(index as usize) {
                        // SAFETY: only the call that opened `index` writes
                        // its `end`, once; an attached call ends before the
                        // tree is read (the last attached holder delivers it).
                        unsafe { *slot.end.get() = MaybeUninit::new(end) };
                    }
                }
            }
            Place::Fold { index, recursive } => self.fold(index, recursive, closing),
            Place::Uncounted => self.uncounted(closing),
        }
    }

    fn flag(&self, slow: bool, outcome: Outcome) {
        if slow {
            self.slow.store(true, Ordering::Relaxed);
        }
        if outcome.is_failure() {
            self.failed.store(true, Ordering::Relaxed);
        }
    }

    #[cold]
    #[inline(never)]
    fn close_detached(&self, index: u32, end: End) {
        let state = self.lock();
        if state.delivered {
            return;
        }
        self.flag(end.slow, end.outcome.unwrap_or(Outcome::Ok));
        if let Some(slot) = self.slots.get(index as usize) {
            // SAFETY: written under the lock by the node's only writer, and
            // read only under the lock.
            unsafe { *slot.end.get() = MaybeUninit::new(end) };
        }
        drop(state);
    }

    /// Counts a finished call in aggregate `index`.
    #[cold]
    fn fold(&self, index: u32, recursive: bool, closing: &Closing) {
        if closing.outcome.is_failure() {
            self.failed.store(true, Ordering::Relaxed);
        }
        let mut state = self.lock();
        if state.delivered {
            return;
        }
        let wall = closing.wall_nanos;
        let Some(fold) = state.folds.get_mut(index as usize) else {
            return;
        };
        fold.calls += 1;
        fold.failures += u64::from(closing.outcome.is_failure());
        fold.walls_nanos = fold.walls_nanos.saturating_add(wall);
        // The caller: another call of this aggregate, or one of its parent.
        let caller = if recursive {
            Some(index)
        } else {
            fold.total_nanos = fold.total_nanos.saturating_add(wall);
            match fold.parent {
                FoldParent::Fold(parent) => Some(parent),
                // Kept callers' own time is computed when the tree is built.
                FoldParent::Kept(_) => None,
            }
        };
        if let Some(caller) = caller.and_then(|c| state.folds.get_mut(c as usize)) {
            caller.children_nanos = caller.children_nanos.saturating_add(wall);
        }
    }

    /// Counts a finished call past the aggregate cap.
    #[cold]
    fn uncounted(&self, closing: &Closing) {
        if closing.outcome.is_failure() {
            self.failed.store(true, Ordering::Relaxed);
        }
        let mut state = self.lock();
        if !state.delivered {
            state.uncounted += 1;
        }
    }

    /// The `traceparent` of the call in `node`: the tree's trace id and the
    /// node's span id, with the remote parent's flags (else sampled); `None`
    /// once the tree has been delivered. Makes the tree's ids if new.
    pub(crate) fn traceparent(&self, node: NodeId) -> Option<TraceParent> {
        let mut state = self.lock();
        if state.delivered {
            return None;
        }
        let remote = state.root.remote_parent;
        let ids = *state
            .ids
            .get_or_insert_with(|| TraceIds::new(remote.as_ref()));
        drop(state);
        Some(TraceParent {
            trace_id: ids.trace_id,
            parent_id: ids.span_id(node.key()),
            flags: remote.map_or(1, |r| r.flags),
        })
    }

    /// Records the request's response status, shown on the root.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn set_status(&self, status: u16) {
        self.lock().root.status = Some(status);
    }

    /// Builds and hands out the tree if anyone wants it, and frees the
    /// nodes. Called once, by the last attached holder.
    fn deliver(&self) {
        let (tree, link) = {
            let mut state = self.lock();
            state.delivered = true;
            let root_wall = self
                .slots
                .get(0)
                .map_or(0, |root| end_of(&state, root).wall_nanos);
            let summary = Summary {
                wall: Duration::from_nanos(root_wall),
                failed: self.failed.load(Ordering::Relaxed),
                slow: self.slow.load(Ordering::Relaxed),
            };
            let tree = sink::wants(&summary).map(|to| (self.build_tree(&mut state), to));
            // What is left is a small shell, kept until the last detached
            // holder lets go: free the name, aggregates, annotations and
            // nodes now.
            drop(std::mem::take(&mut state.root));
            drop(std::mem::take(&mut state.folds));
            drop(std::mem::take(&mut state.extras));
            let link = state.link.take();
            // SAFETY: no attached holder is left, so nobody touches a slot
            // without the lock, which is held here; detached holders see
            // `delivered` before they would.
            unsafe { self.slots.clear() };
            (tree, link)
        };
        // Outside the lock: a sink may make traced calls.
        if let Some((tree, to)) = tree {
            sink::dispatch(&tree, &to);
        }
        // The outer tree, let go once this one is out (which may deliver it).
        drop(link);
    }

    /// The finished tree, nodes in depth-first pre-order.
    fn build_tree(&self, state: &mut Locked<'_>) -> CallTree {
        let root = std::mem::take(&mut state.root);
        let folds = std::mem::take(&mut state.folds);
        let extras = std::mem::take(&mut state.extras);
        let len = state.len as usize;
        // One pass over the slots, in the order the calls opened.
        let mut nodes = Vec::with_capacity(len + folds.len());
        // Not needed for a lone root (an HTTP request without traced calls).
        let need_parents = len > 1 || !folds.is_empty();
        let mut parents = Vec::with_capacity(if need_parents { len } else { 0 });
        self.slots.for_each(len, |slot| {
            let fixed = fixed_of(state, slot);
            if need_parents {
                parents.push(fixed.parent as usize);
            }
            nodes.push(self.node_data(fixed, end_of(state, slot)));
        });
        let mut kept_extras = Vec::with_capacity(extras.len());
        for (index, extra) in extras {
            if let Some(node) = nodes.get_mut(index as usize) {
                node.extra = u32::try_from(kept_extras.len()).unwrap_or(NO_EXTRA);
                kept_extras.push(extra);
            }
        }
        let (nodes, keys) = if state.in_order && folds.is_empty() {
            // Already pre-order: add subtree sizes up from the leaves.
            for index in (1..nodes.len()).rev() {
                let subtree = nodes[index].subtree;
                nodes[parents[index]].subtree += subtree;
            }
            // Each node's key is its index.
            (nodes, None)
        } else {
            let (nodes, keys) = gathered(&nodes, &parents, &folds);
            (nodes, Some(keys.into_boxed_slice()))
        };
        CallTree::from_parts(root, nodes, state.uncounted, kept_extras).with_trace(
            keys,
            self.started,
            state.ids.take(),
        )
    }

    fn node_data(&self, fixed: &Fixed, end: &End) -> NodeData {
        NodeData {
            name: fixed.name,
            module: fixed.module,
            depth: fixed.depth,
            subtree: 1,
            start_ticks: fixed.start.ticks_since(self.started),
            wall_nanos: end.wall_nanos,
            // Computed when read, from the children.
            own_nanos: 0,
            busy_nanos: end.busy_nanos,
            outcome: end.outcome,
            slow: end.slow,
            aggregate: false,
            calls: 1,
            failures: u64::from(end.outcome.is_some_and(Outcome::is_failure)),
            extra: NO_EXTRA,
        }
    }
}

/// Writes an opening node's slot in full; `_locked` proves the lock is held.
fn write_open(_locked: &Locked<'_>, slot: &Slot, fixed: Fixed) {
    // SAFETY: the slot's index has not been handed out yet, so nobody else
    // reads or writes it; `fixed` is only touched under the lock anyway.
    unsafe {
        slot.fixed.get().write(MaybeUninit::new(fixed));
        slot.end.get().write(MaybeUninit::new(End::default()));
    }
}

/// The fixed part of an opened node (one below `State::len`); `_locked`
/// proves the lock is held.
fn fixed_of<'a>(_locked: &'a Locked<'_>, slot: &'a Slot) -> &'a Fixed {
    // SAFETY: `fixed` is only written under the lock, which `_locked` proves,
    // and was initialised when the node opened (callers pass opened nodes).
    unsafe { (*slot.fixed.get()).assume_init_ref() }
}

/// The end of an opened node; `_locked` proves the lock is held, and every
/// attached holder has let go (the tree is being delivered), so no lock-free
/// writer is left.
fn end_of<'a>(_locked: &'a Locked<'_>, slot: &'a Slot) -> &'a End {
    // SAFETY: writers of `end` are either done (attached calls) or write
    // under the lock (detached calls), which `_locked` proves; initialised
    // when the node opened.
    unsafe { (*slot.end.get()).assume_init_ref() }
}

/// The aggregate of `site`'s calls under `parent`, created if new; past the
/// aggregate cap, nowhere (counted only).
fn fold_for(state: &mut Locked<'_>, parent: FoldParent, site: &'static Callsite) -> NodeId {
    let existing = state
        .folds
        .iter()
        .position(|f| f.parent == parent && std::ptr::eq(f.name, site.name()));
    let index = match existing {
        Some(index) => index,
        None if state.folds.len() < MAX_FOLDS => {
            state.folds.push(Fold {
                parent,
                name: site.name(),
                module: site.module(),
                calls: 0,
                failures: 0,
                total_nanos: 0,
                walls_nanos: 0,
                children_nanos: 0,
            });
            state.folds.len() - 1
        }
        None => return NodeId::UNCOUNTED,
    };
    // Below MAX_FOLDS, far below FOLD_INDEX.
    NodeId::folded(u32::try_from(index).unwrap_or(UNCOUNTED), false)
}

/// The nodes, given in the order their calls opened, rearranged into
/// pre-order: children gathered per parent (in the order they opened),
/// aggregates after each parent's own children (an aggregate's own
/// aggregates under it), then a depth-first walk; with each node's key.
fn gathered(opened: &[NodeData], parents: &[usize], folds: &[Fold]) -> (Vec<NodeData>, Vec<u32>) {
    let len = opened.len();
    // Children of node p: child_list[child_start[p]..child_start[p + 1]].
    let mut child_start = vec![0_usize; len + 1];
    for &parent in &parents[1..] {
        child_start[parent + 1] += 1;
    }
    for p in 0..len {
        child_start[p + 1] += child_start[p];
    }
    let mut fill = child_start.clone();
    let mut child_list = vec![0_usize; len.saturating_sub(1)];
    for (index, &parent) in parents.iter().enumerate().skip(1) {
        child_list[fill[parent]] = index;
        fill[parent] += 1;
    }
    // First aggregate under each kept node and under each aggregate, and
    // the next one under the same parent, in the order they were created.
    let none = usize::MAX;
    let mut fold_first = vec![none; len];
    let mut fold_first_in_fold = vec![none; folds.len()];
    let mut fold_next = vec![none; folds.len()];
    for (i, fold) in folds.iter().enumerate().rev() {
        let first = match fold.parent {
            FoldParent::Kept(p) => fold_first.get_mut(p as usize),
            FoldParent::Fold(f) => fold_first_in_fold.get_mut(f as usize),
        };
        if let Some(first) = first {
            fold_next[i] = *first;
            *first = i;
        }
    }
    let mut nodes = Vec::with_capacity(len + folds.len());
    let mut keys = Vec::with_capacity(len + folds.len());
    nodes.push(opened[0].clone());
    keys.push(0);
    // (position in `nodes`, next entry of child_list, its end, next aggregate);
    // an aggregate's entry has no kept children (an empty range).
    let mut stack = vec![(0_usize, child_start[0], child_start[1], fold_first[0])];
    while let Some(&(pos, child, end, fold)) = stack.last() {
        let depth = u32::try_from(stack.len()).unwrap_or(u32::MAX);
        let top = stack.len() - 1;
        if child < end {
            stack[top].1 += 1;
            let index = child_list[child];
            nodes.push(opened[index].clone());
            // Below the node cap, itself below FOLDED.
            keys.push(u32::try_from(index).unwrap_or(u32::MAX));
            stack.push((
                nodes.len() - 1,
                child_start[index],
                child_start[index + 1],
                fold_first[index],
            ));
        } else if fold != none {
            stack[top].3 = fold_next[fold];
            nodes.push(fold_data(&folds[fold], depth));
            // Below MAX_FOLDS.
            keys.push(FOLDED | u32::try_from(fold).unwrap_or(FOLD_INDEX));
            stack.push((nodes.len() - 1, 0, 0, fold_first_in_fold[fold]));
        } else {
            nodes[pos].subtree = u32::try_from(nodes.len() - pos).unwrap_or(u32::MAX);
            stack.pop();
        }
    }
    (nodes, keys)
}

fn fold_data(fold: &Fold, depth: u32) -> NodeData {
    NodeData {
        name: fold.name,
        module: fold.module,
        depth,
        subtree: 1,
        start_ticks: NO_TIME,
        wall_nanos: fold.total_nanos,
        own_nanos: fold.walls_nanos.saturating_sub(fold.children_nanos),
        busy_nanos: NO_TIME,
        outcome: Some(if fold.failures > 0 {
            Outcome::Error
        } else {
            Outcome::Ok
        }),
        slow: false,
        aggregate: true,
        calls: fold.calls,
        failures: fold.failures,
        extra: NO_EXTRA,
    }
}

/// A holder of a [`LiveTree`]: the tree stays alive while any holder does,
/// and is delivered when the last attached one lets go.
pub(crate) struct TreeRef {
    tree: &'static LiveTree,
    detached: bool,
}

impl TreeRef {
    /// A new tree for the request `root` describes (its id is given here),
    /// or `None` when trees are off or nobody would receive it. Its root
    /// node (index 0) is open; the returned holder is attached.
    pub(crate) fn new_root(
        mut root: RootInfo,
        module: &'static str,
        started: Instant,
    ) -> Option<TreeRef> {
        if !(config::trees_enabled() && sink::wants_trees()) {
            return None;
        }
        let id = LAST_TREE_ID.fetch_add(1, Ordering::Relaxed) + 1;
        root.id = id;
        let cap = u32::try_from(config::max_nodes()).map_or(FOLDED - 1, |cap| cap.min(FOLDED - 1));
        let tree = LiveTree {
            holders: Holders::new(),
            id,
            started,
            cap,
            state: SpinMutex::new(State {
                root,
                len: 1,
                in_order: true,
                // The root; as it has no parent, no child matches `parent`.
                last: Last {
                    index: 0,
                    parent: u32::MAX,
                    depth: 0,
                },
                folds: Vec::new(),
                uncounted: 0,
                delivered: false,
                ids: None,
                extras: Vec::new(),
                link: None,
            }),
            slots: Segmented::new(),
            failed: AtomicBool::new(false),
            slow: AtomicBool::new(false),
        };
        {
            let state = tree.lock();
            let root = Fixed {
                name: "",
                module,
                start: started,
                parent: 0,
                depth: 0,
            };
            // The first segment always exists; without it, no tree.
            write_open(&state, tree.slots.get_or_grow(0)?, root);
        }
        // Freed by the holder that sees the last release (`Drop`).
        let tree: &'static LiveTree = Box::leak(Box::new(tree));
        Some(TreeRef {
            tree,
            detached: false,
        })
    }

    /// A new holder of `tree`, attached or detached. The caller runs inside
    /// a call of a holder of `tree`, which keeps it alive meanwhile.
    pub(crate) fn hold(tree: &LiveTree, detached: bool) -> TreeRef {
        if detached {
            tree.holders.detach();
        } else {
            tree.holders.attach();
        }
        // The holder just added keeps the tree alive until this `TreeRef`
        // drops: it lives as long as the `'static` says, as far as any use
        // through `self` can tell.
        let tree: &'static LiveTree = {
            let ptr = NonNull::from(tree);
            // SAFETY: see above; the tree is freed only after every holder,
            // this one included, has let go.
            unsafe { ptr.as_ref() }
        };
        TreeRef { tree, detached }
    }

    pub(crate) fn tree(&self) -> &LiveTree {
        self.tree
    }

    pub(crate) fn is_detached(&self) -> bool {
        self.detached
    }
}

impl Clone for TreeRef {
    fn clone(&self) -> Self {
        TreeRef::hold(self.tree, self.detached)
    }
}

impl Drop for TreeRef {
    fn drop(&mut self) {
        let tree = self.tree;
        let release = if self.detached {
            tree.holders.release_detached()
        } else {
            tree.holders.release_attached()
        };
        let free = match release {
            Release::Kept => false,
            Release::Free => true,
            Release::DeliverAndFree => {
                tree.deliver();
                true
            }
            Release::Deliver => {
                tree.deliver();
                tree.holders.release_token() == Release::Free
            }
        };
        if free {
            // SAFETY: leaked from a `Box` in `new_root`; the last holder has
            // let go, so no reference to it is used again.
            drop(unsafe { Box::from_raw(std::ptr::from_ref(tree).cast_mut()) });
        }
    }
}
