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

use std::borrow::Cow;
use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::outcome::Outcome;
use crate::segments::Segmented;
use crate::tree::holders::{Holders, Release};
use crate::tree::sink::{self, Summary};
use crate::tree::{CallTree, NodeData, NO_TIME};

/// Most distinct (ancestor, function) aggregates a request keeps.
const MAX_FOLDS: usize = 256;
/// "No node" in links.
const NONE: u32 = u32::MAX;

/// Where a call sits in its request's tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeId {
    /// A node of its own, by index.
    Kept(u32),
    /// Past the node cap: aggregated under the kept node with this index.
    Folded(u32),
}

impl NodeId {
    pub(crate) const ROOT: NodeId = NodeId::Kept(0);
}

/// How a finished call is recorded in its node.
pub(crate) struct Closing {
    pub(crate) wall_nanos: u64,
    /// Time inside `poll`, for async calls.
    pub(crate) busy_nanos: Option<u64>,
    pub(crate) outcome: Outcome,
}

/// Written once when the call opens, under the lock; read only under it.
#[derive(Default)]
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

#[derive(Default)]
struct Slot {
    fixed: UnsafeCell<Fixed>,
    end: UnsafeCell<End>,
}

struct Fold {
    parent: u32,
    name: &'static str,
    module: &'static str,
    calls: u64,
    failures: u64,
    total_nanos: u64,
}

/// Everything only touched under the lock.
struct State {
    root_name: Cow<'static, str>,
    len: u32,
    /// Whether node order so far is pre-order.
    in_order: bool,
    folds: Vec<Fold>,
    uncounted: u64,
    /// The tree has been delivered and its nodes freed.
    delivered: bool,
}

/// One request's call tree under construction.
pub(crate) struct LiveTree {
    holders: Holders,
    /// The module of the function at the root; empty for user-opened roots.
    root_module: &'static str,
    started: Instant,
    cap: u32,
    state: Mutex<State>,
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
type Locked<'a> = MutexGuard<'a, State>;

impl LiveTree {
    fn lock(&self) -> Locked<'_> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fixed part of an opened node.
    fn fixed<'a>(&'a self, _locked: &'a Locked<'_>, index: u32) -> Option<&'a Fixed> {
        let slot = self.slots.get(index as usize)?;
        // SAFETY: `fixed` is only written under the lock, which `_locked` proves.
        Some(unsafe { &*slot.fixed.get() })
    }

    /// The end of a node; `locked` proves the lock is held, and every
    /// attached holder has let go (so no lock-free writer is left).
    fn end<'a>(&'a self, _locked: &'a Locked<'_>, index: u32) -> Option<&'a End> {
        let slot = self.slots.get(index as usize)?;
        // SAFETY: writers of `end` are either done (attached) or write under
        // the lock (detached), which `_locked` proves.
        Some(unsafe { &*slot.end.get() })
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
        let parent = match parent {
            NodeId::Kept(p) => p,
            folded @ NodeId::Folded(_) => return Some(folded),
        };
        let index = state.len;
        if index >= self.cap {
            return Some(NodeId::Folded(parent));
        }
        let parent_depth = self.fixed(&state, parent).map_or(0, |f| f.depth);
        if state.in_order {
            state.in_order = self.is_on_path_to(&state, parent, parent_depth, index - 1);
        }
        state.len += 1;
        let slot = self.slots.get_or_grow(index as usize);
        let fixed = Fixed {
            name: site.name(),
            module: site.module(),
            start,
            parent,
            depth: parent_depth + 1,
        };
        // SAFETY: `fixed` is only touched under the lock, held here; `index`
        // is handed out only after this write.
        unsafe { *slot.fixed.get() = fixed };
        Some(NodeId::Kept(index))
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
        match node {
            NodeId::Kept(index) => {
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
                        unsafe { *slot.end.get() = end };
                    }
                }
            }
            NodeId::Folded(parent) => {
                if let Some(site) = site {
                    self.fold(parent, site, closing);
                }
            }
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
            unsafe { *slot.end.get() = end };
        }
        drop(state);
    }

    #[cold]
    fn fold(&self, parent: u32, site: &'static Callsite, closing: &Closing) {
        let failed = u64::from(closing.outcome.is_failure());
        if failed > 0 {
            self.failed.store(true, Ordering::Relaxed);
        }
        let mut state = self.lock();
        if state.delivered {
            return;
        }
        if let Some(fold) = state
            .folds
            .iter_mut()
            .find(|f| f.parent == parent && std::ptr::eq(f.name, site.name()))
        {
            fold.calls += 1;
            fold.failures += failed;
            fold.total_nanos = fold.total_nanos.saturating_add(closing.wall_nanos);
        } else if state.folds.len() < MAX_FOLDS {
            state.folds.push(Fold {
                parent,
                name: site.name(),
                module: site.module(),
                calls: 1,
                failures: failed,
                total_nanos: closing.wall_nanos,
            });
        } else {
            state.uncounted += 1;
        }
    }

    /// Builds and hands out the tree if anyone wants it, and frees the
    /// nodes. Called once, by the last attached holder.
    fn deliver(&self) {
        let tree = {
            let mut state = self.lock();
            state.delivered = true;
            let root_wall = self.end(&state, 0).map_or(0, |end| end.wall_nanos);
            let summary = Summary {
                wall: Duration::from_nanos(root_wall),
                failed: self.failed.load(Ordering::Relaxed),
                slow: self.slow.load(Ordering::Relaxed),
            };
            let tree = sink::wants(&summary).then(|| self.build_tree(&mut state));
            // What is left is a small shell, kept until the last detached
            // holder lets go: free the name, aggregates and nodes now.
            drop(std::mem::take(&mut state.root_name));
            drop(std::mem::take(&mut state.folds));
            // SAFETY: no attached holder is left, so nobody touches a slot
            // without the lock, which is held here; detached holders see
            // `delivered` before they would.
            unsafe { self.slots.clear() };
            tree
        };
        // Outside the lock: a sink may make traced calls.
        if let Some(tree) = tree {
            sink::dispatch(&tree);
        }
    }

    /// The finished tree, nodes in depth-first pre-order.
    fn build_tree(&self, state: &mut Locked<'_>) -> CallTree {
        let root_name = std::mem::take(&mut state.root_name);
        let folds = std::mem::take(&mut state.folds);
        let nodes = if state.in_order && folds.is_empty() {
            self.nodes_in_order(state)
        } else {
            self.nodes_gathered(state, &folds)
        };
        CallTree::from_parts(root_name, nodes, state.uncounted)
    }

    fn parent_of(&self, locked: &Locked<'_>, index: u32) -> usize {
        self.fixed(locked, index).map_or(0, |f| f.parent as usize)
    }

    /// The nodes when their order is already pre-order: one pass, then
    /// subtree sizes added up from the leaves.
    fn nodes_in_order(&self, locked: &Locked<'_>) -> Vec<NodeData> {
        let len = locked.len;
        let mut nodes: Vec<NodeData> = (0..len).map(|i| self.node_data(locked, i)).collect();
        for index in (1..len).rev() {
            let parent = self.parent_of(locked, index);
            let subtree = nodes[index as usize].subtree;
            nodes[parent].subtree += subtree;
        }
        nodes
    }

    /// The nodes in any order: children gathered per parent (in the order
    /// they opened), aggregates after each parent's own children, then a
    /// depth-first walk.
    fn nodes_gathered(&self, locked: &Locked<'_>, folds: &[Fold]) -> Vec<NodeData> {
        let len = locked.len;
        // Children of node p: child_list[child_start[p]..child_start[p + 1]].
        let mut child_start = vec![0_u32; len as usize + 1];
        for index in 1..len {
            child_start[self.parent_of(locked, index) + 1] += 1;
        }
        for p in 0..len as usize {
            child_start[p + 1] += child_start[p];
        }
        let mut fill = child_start.clone();
        let mut child_list = vec![0_u32; len.saturating_sub(1) as usize];
        for index in 1..len {
            let parent = self.parent_of(locked, index);
            child_list[fill[parent] as usize] = index;
            fill[parent] += 1;
        }
        let mut fold_first = vec![NONE; len as usize];
        let mut fold_next = vec![NONE; folds.len()];
        for (i, fold) in folds.iter().enumerate().rev() {
            fold_next[i] = fold_first[fold.parent as usize];
            fold_first[fold.parent as usize] = u32::try_from(i).unwrap_or(NONE);
        }
        let mut nodes = Vec::with_capacity(len as usize + folds.len());
        nodes.push(self.node_data(locked, 0));
        // (position in `nodes`, next entry of child_list, its end, next aggregate)
        let mut stack = vec![(0_usize, child_start[0], child_start[1], fold_first[0])];
        while let Some(&(pos, child, end, fold)) = stack.last() {
            let depth = u32::try_from(stack.len()).unwrap_or(u32::MAX);
            let top = stack.len() - 1;
            if child < end {
                stack[top].1 += 1;
                let index = child_list[child as usize];
                nodes.push(self.node_data(locked, index));
                stack.push((
                    nodes.len() - 1,
                    child_start[index as usize],
                    child_start[index as usize + 1],
                    fold_first[index as usize],
                ));
            } else if fold != NONE {
                stack[top].3 = fold_next[fold as usize];
                nodes.push(fold_data(&folds[fold as usize], depth));
            } else {
                nodes[pos].subtree = u32::try_from(nodes.len() - pos).unwrap_or(u32::MAX);
                stack.pop();
            }
        }
        nodes
    }

    fn node_data(&self, locked: &Locked<'_>, index: u32) -> NodeData {
        let fixed = self.fixed(locked, index);
        let end = self.end(locked, index);
        let outcome = end.and_then(|e| e.outcome);
        NodeData {
            name: fixed.map_or("", |f| f.name),
            module: if index == 0 {
                self.root_module
            } else {
                fixed.map_or("", |f| f.module)
            },
            depth: fixed.map_or(0, |f| f.depth),
            subtree: 1,
            start_ticks: fixed.map_or(0, |f| f.start.ticks_since(self.started)),
            wall_nanos: end.map_or(0, |e| e.wall_nanos),
            busy_nanos: end.map_or(NO_TIME, |e| e.busy_nanos),
            outcome,
            slow: end.is_some_and(|e| e.slow),
            calls: 1,
            failures: u64::from(outcome.is_some_and(Outcome::is_failure)),
        }
    }
}

fn fold_data(fold: &Fold, depth: u32) -> NodeData {
    NodeData {
        name: fold.name,
        module: fold.module,
        depth,
        subtree: 1,
        start_ticks: NO_TIME,
        wall_nanos: fold.total_nanos,
        busy_nanos: NO_TIME,
        outcome: Some(if fold.failures > 0 {
            Outcome::Error
        } else {
            Outcome::Ok
        }),
        slow: false,
        calls: fold.calls,
        failures: fold.failures,
    }
}

/// A holder of a [`LiveTree`]: the tree stays alive while any holder does,
/// and is delivered when the last attached one lets go.
pub(crate) struct TreeRef {
    tree: &'static LiveTree,
    detached: bool,
}

impl TreeRef {
    /// A new tree rooted at `name`, or `None` when trees are off or nobody
    /// would receive it. Its root node (index 0) is open; the returned
    /// holder is attached.
    pub(crate) fn new_root(
        name: Cow<'static, str>,
        module: &'static str,
        started: Instant,
    ) -> Option<TreeRef> {
        if !(config::trees_enabled() && sink::wants_trees()) {
            return None;
        }
        let cap = u32::try_from(config::max_nodes()).unwrap_or(u32::MAX - 1);
        let slots = Segmented::new();
        // The root's slot: depth 0, start 0 ticks after `started`.
        slots.get_or_grow(0);
        let tree = LiveTree {
            root_module: module,
            holders: Holders::new(),
            started,
            cap,
            state: Mutex::new(State {
                root_name: name,
                len: 1,
                in_order: true,
                folds: Vec::new(),
                uncounted: 0,
                delivered: false,
            }),
            slots,
            failed: AtomicBool::new(false),
            slow: AtomicBool::new(false),
        };
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
