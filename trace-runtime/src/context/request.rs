//! The calls of one request, collected while it runs and turned into a
//! [`CallTree`] when its last participant finishes.
//!
//! Nodes live in segments that never move (64 slots, then 128, 256, …, so a
//! request's memory follows its size, whatever the cap). Opening a call takes the
//! request's spin lock once, to claim a slot and write its parent and depth
//! into it; closing writes only the call's own slot, without the lock, because
//! each slot's result has exactly one writer (the call) and is read only when
//! the request is dropped, after every participant has finished.
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
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::time::Duration;

use crate::call::outcome::Outcome;
use crate::callsite::Callsite;
use crate::clock::Instant;
use crate::config;
use crate::context::spin::SpinLock;
use crate::segments::{locate, segment_len, SEGMENTS};
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

/// Written once when the call opens, under the lock; immutable afterwards.
struct Fixed {
    name: &'static str,
    module: &'static str,
    start: Instant,
    parent: u32,
    depth: u32,
}

/// Written once by the call itself when it ends; `outcome: None` if it never did.
struct End {
    wall_nanos: u64,
    busy_nanos: u64,
    outcome: Option<Outcome>,
    slow: bool,
}

struct Slot {
    fixed: Fixed,
    end: UnsafeCell<End>,
}

impl Slot {
    fn open(site: (&'static str, &'static str), start: Instant, parent: u32, depth: u32) -> Slot {
        Slot {
            fixed: Fixed {
                name: site.0,
                module: site.1,
                start,
                parent,
                depth,
            },
            end: UnsafeCell::new(End {
                wall_nanos: 0,
                busy_nanos: NO_TIME,
                outcome: None,
                slow: false,
            }),
        }
    }
}

struct Fold {
    parent: u32,
    name: &'static str,
    module: &'static str,
    calls: u64,
    failures: u64,
    total_nanos: u64,
}

struct State {
    len: u32,
    /// Whether node order so far is pre-order.
    in_order: bool,
    folds: Vec<Fold>,
    uncounted: u64,
}

/// One request's call tree under construction.
pub(crate) struct Request {
    root_name: Cow<'static, str>,
    started: Instant,
    cap: u32,
    state: SpinLock<State>,
    segments: [AtomicPtr<Slot>; SEGMENTS],
    failed: AtomicBool,
    slow: AtomicBool,
}

/// A segment of `len` slots, left uninitialised: each slot is written in
/// full by `open` before its index is handed out.
fn alloc_segment(len: usize) -> *mut Slot {
    let segment: Box<[MaybeUninit<Slot>]> = Box::new_uninit_slice(len);
    Box::into_raw(segment).cast::<Slot>()
}

impl Request {
    /// A request whose root node (index 0) is named `name` and is open.
    pub(crate) fn new(name: Cow<'static, str>, module: &'static str, started: Instant) -> Request {
        let cap = u32::try_from(config::max_nodes()).unwrap_or(u32::MAX - 1);
        let segments: [AtomicPtr<Slot>; SEGMENTS] =
            std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut()));
        let first = alloc_segment(segment_len(0));
        // SAFETY: `first` points to `segment_len(0)` slots nobody else sees yet.
        unsafe { first.write(Slot::open(("", module), started, NONE, 0)) };
        segments[0].store(first, Ordering::Release);
        Request {
            root_name: name,
            started,
            cap,
            state: SpinLock::new(State {
                len: 1,
                in_order: true,
                folds: Vec::new(),
                uncounted: 0,
            }),
            segments,
            failed: AtomicBool::new(false),
            slow: AtomicBool::new(false),
        }
    }

    /// The slot of a node that has been opened.
    #[inline]
    fn slot(&self, index: u32) -> &Slot {
        let (segment, offset) = locate(index as usize);
        let base = self.segments[segment].load(Ordering::Acquire);
        // SAFETY: node `index` was handed out after its segment was stored,
        // and segments live as long as the request.
        unsafe { &*base.add(offset) }
    }

    /// Opens a child of `parent` for a call of `site` that started at `start`.
    pub(crate) fn open(&self, parent: NodeId, site: &'static Callsite, start: Instant) -> NodeId {
        let parent = match parent {
            NodeId::Kept(p) => p,
            folded @ NodeId::Folded(_) => return folded,
        };
        let mut state = self.state.lock();
        let index = state.len;
        if index >= self.cap {
            return NodeId::Folded(parent);
        }
        let (segment, offset) = locate(index as usize);
        if offset == 0 {
            self.segments[segment].store(alloc_segment(segment_len(segment)), Ordering::Release);
        }
        state.len += 1;
        let parent_depth = self.slot(parent).fixed.depth;
        if state.in_order {
            state.in_order = self.is_on_path_to(parent, parent_depth, index - 1);
        }
        // SAFETY: slot `index` is unused memory of a live segment, written here
        // in full under the lock before its index is handed out.
        unsafe {
            let base = self.segments[segment].load(Ordering::Relaxed);
            base.add(offset).write(Slot::open(
                (site.name(), site.module()),
                start,
                parent,
                parent_depth + 1,
            ));
        }
        drop(state);
        NodeId::Kept(index)
    }

    /// Whether `ancestor` (at `depth`) is `node` or one of its ancestors: a
    /// node opened under `ancestor` right after `node` keeps pre-order.
    #[inline]
    fn is_on_path_to(&self, ancestor: u32, depth: u32, mut node: u32) -> bool {
        loop {
            let fixed = &self.slot(node).fixed;
            if fixed.depth <= depth {
                return node == ancestor;
            }
            node = fixed.parent;
        }
    }

    /// Records how the call in `node` ended. Each node is closed at most once,
    /// by the call that opened it.
    pub(crate) fn close(&self, node: NodeId, site: Option<&'static Callsite>, closing: &Closing) {
        let slow = site
            .and_then(Callsite::slow_nanos)
            .is_some_and(|limit| closing.wall_nanos >= limit);
        if slow {
            self.slow.store(true, Ordering::Relaxed);
        }
        if closing.outcome.is_failure() {
            self.failed.store(true, Ordering::Relaxed);
        }
        match node {
            NodeId::Kept(index) => {
                let end = End {
                    wall_nanos: closing.wall_nanos,
                    busy_nanos: closing.busy_nanos.unwrap_or(NO_TIME),
                    outcome: Some(closing.outcome),
                    slow,
                };
                // SAFETY: only the call that opened `index` writes its `end`,
                // once; it is read only by `Drop`, after every call has ended.
                unsafe { *self.slot(index).end.get() = end };
            }
            NodeId::Folded(parent) => {
                let Some(site) = site else { return };
                self.fold(parent, site, closing);
            }
        }
    }

    #[cold]
    fn fold(&self, parent: u32, site: &'static Callsite, closing: &Closing) {
        let failed = u64::from(closing.outcome.is_failure());
        let mut state = self.state.lock();
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

    /// The finished tree, nodes in depth-first pre-order.
    fn build_tree(&mut self, root_name: Cow<'static, str>) -> CallTree {
        let state = self.state.get_mut();
        let (len, uncounted, in_order) = (state.len, state.uncounted, state.in_order);
        let folds = std::mem::take(&mut state.folds);
        let nodes = if in_order && folds.is_empty() {
            self.nodes_in_order(len)
        } else {
            self.nodes_gathered(len, &folds)
        };
        CallTree::from_parts(root_name, nodes, uncounted)
    }

    /// The nodes when their order is already pre-order: one pass, then
    /// subtree sizes added up from the leaves.
    fn nodes_in_order(&self, len: u32) -> Vec<NodeData> {
        let mut nodes: Vec<NodeData> = (0..len).map(|index| self.node_data(index)).collect();
        for index in (1..len).rev() {
            let parent = self.slot(index).fixed.parent as usize;
            let subtree = nodes[index as usize].subtree;
            nodes[parent].subtree += subtree;
        }
        nodes
    }

    /// The nodes in any order: children gathered per parent (in the order
    /// they opened), aggregates after each parent's own children, then a
    /// depth-first walk.
    fn nodes_gathered(&self, len: u32, folds: &[Fold]) -> Vec<NodeData> {
        // Children of node p: child_list[child_start[p]..child_start[p + 1]].
        let mut child_start = vec![0_u32; len as usize + 1];
        for index in 1..len {
            child_start[self.slot(index).fixed.parent as usize + 1] += 1;
        }
        for p in 0..len as usize {
            child_start[p + 1] += child_start[p];
        }
        let mut fill = child_start.clone();
        let mut child_list = vec![0_u32; len.saturating_sub(1) as usize];
        for index in 1..len {
            let parent = self.slot(index).fixed.parent as usize;
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
        nodes.push(self.node_data(0));
        // (position in `nodes`, next entry of child_list, its end, next aggregate)
        let mut stack = vec![(0_usize, child_start[0], child_start[1], fold_first[0])];
        while let Some(&(pos, child, end, fold)) = stack.last() {
            let depth = u32::try_from(stack.len()).unwrap_or(u32::MAX);
            let top = stack.len() - 1;
            if child < end {
                stack[top].1 += 1;
                let index = child_list[child as usize];
                nodes.push(self.node_data(index));
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

    fn node_data(&self, index: u32) -> NodeData {
        let slot = self.slot(index);
        // SAFETY: called only from `build_tree`, which has `&mut self`.
        let end = unsafe { &*slot.end.get() };
        NodeData {
            name: slot.fixed.name,
            module: slot.fixed.module,
            depth: slot.fixed.depth,
            subtree: 1,
            start_ticks: slot.fixed.start.ticks_since(self.started),
            wall_nanos: end.wall_nanos,
            busy_nanos: end.busy_nanos,
            outcome: end.outcome,
            slow: end.slow,
            calls: 1,
            failures: u64::from(end.outcome.is_some_and(Outcome::is_failure)),
        }
    }

    fn summary(&mut self) -> Summary {
        // SAFETY: `&mut self`: every call has ended.
        let root_wall = Duration::from_nanos(unsafe { (*self.slot(0).end.get()).wall_nanos });
        Summary {
            wall: root_wall,
            failed: *self.failed.get_mut(),
            slow: *self.slow.get_mut(),
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

impl Drop for Request {
    fn drop(&mut self) {
        let summary = self.summary();
        if sink::wants(&summary) {
            let root_name = std::mem::take(&mut self.root_name);
            let tree = self.build_tree(root_name);
            sink::dispatch(&tree);
        }
        for (segment, base) in self.segments.iter_mut().enumerate() {
            let base = *base.get_mut();
            if !base.is_null() {
                // SAFETY: allocated by `alloc_segment` as a boxed slice of
                // `segment_len` possibly uninitialised slots (`Slot` has no
                // drop glue).
                drop(unsafe {
                    Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                        base.cast::<MaybeUninit<Slot>>(),
                        segment_len(segment),
                    ))
                });
            }
        }
    }
}
