//! The calls of one request, collected while it runs and turned into a
//! [`CallTree`] when its last participant finishes.
//!
//! Nodes live in segments that never move (64 slots, then 128, 256, …, so a
//! request's memory follows its size, whatever the cap). Opening a call takes the
//! request's spin lock once, to claim a slot and link it under its parent;
//! closing writes only the call's own slot, without the lock, because each
//! slot's result has exactly one writer (the call) and is read only when the
//! request is dropped, after every participant has finished.
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
use crate::tree::{CallTree, NodeData};

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
    pub(crate) wall: Duration,
    pub(crate) busy: Option<Duration>,
    pub(crate) outcome: Outcome,
}

/// Written once when the call opens, under the lock.
struct Fixed {
    name: &'static str,
    module: &'static str,
    start: Instant,
}

/// The tree structure; only touched under the lock.
struct Links {
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// Written once by the call itself when it ends; `outcome: None` if it never did.
struct End {
    wall: Duration,
    busy: Option<Duration>,
    outcome: Option<Outcome>,
    slow: bool,
}

struct Slot {
    fixed: UnsafeCell<Fixed>,
    links: UnsafeCell<Links>,
    end: UnsafeCell<End>,
}

impl Slot {
    fn open(name: &'static str, module: &'static str, start: Instant) -> Slot {
        Slot {
            fixed: UnsafeCell::new(Fixed {
                name,
                module,
                start,
            }),
            links: UnsafeCell::new(Links {
                first_child: NONE,
                last_child: NONE,
                next_sibling: NONE,
            }),
            end: UnsafeCell::new(End {
                wall: Duration::ZERO,
                busy: None,
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
    total: Duration,
}

struct State {
    len: u32,
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
        unsafe { first.write(Slot::open("", module, started)) };
        segments[0].store(first, Ordering::Release);
        Request {
            root_name: name,
            started,
            cap,
            state: SpinLock::new(State {
                len: 1,
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
        // SAFETY: slot `index` is unused memory of a live segment, written here
        // in full under the lock before its index is handed out; `links` are
        // only accessed under the lock until the request drops.
        unsafe {
            let base = self.segments[segment].load(Ordering::Relaxed);
            base.add(offset)
                .write(Slot::open(site.name(), site.module(), start));
            let parent_links = &mut *self.slot(parent).links.get();
            if parent_links.last_child == NONE {
                parent_links.first_child = index;
            } else {
                (*self.slot(parent_links.last_child).links.get()).next_sibling = index;
            }
            parent_links.last_child = index;
        }
        drop(state);
        NodeId::Kept(index)
    }

    /// Records how the call in `node` ended. Each node is closed at most once,
    /// by the call that opened it.
    pub(crate) fn close(&self, node: NodeId, site: Option<&'static Callsite>, closing: &Closing) {
        let slow = site
            .and_then(Callsite::slow_nanos)
            .is_some_and(|limit| closing.wall.as_nanos() >= u128::from(limit));
        if slow {
            self.slow.store(true, Ordering::Relaxed);
        }
        if closing.outcome.is_failure() {
            self.failed.store(true, Ordering::Relaxed);
        }
        match node {
            NodeId::Kept(index) => {
                let end = End {
                    wall: closing.wall,
                    busy: closing.busy,
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
            fold.total += closing.wall;
        } else if state.folds.len() < MAX_FOLDS {
            state.folds.push(Fold {
                parent,
                name: site.name(),
                module: site.module(),
                calls: 1,
                failures: failed,
                total: closing.wall,
            });
        } else {
            state.uncounted += 1;
        }
    }

    /// The finished tree, nodes in depth-first pre-order.
    fn build_tree(&mut self) -> CallTree {
        let state = self.state.get_mut();
        let (len, uncounted) = (state.len, state.uncounted);
        let folds = std::mem::take(&mut state.folds);
        // Aggregates hang under their parent after its own children.
        let mut fold_first = Vec::new();
        let mut fold_next = vec![NONE; folds.len()];
        if !folds.is_empty() {
            fold_first = vec![NONE; len as usize];
            for (i, fold) in folds.iter().enumerate().rev() {
                fold_next[i] = fold_first[fold.parent as usize];
                fold_first[fold.parent as usize] = u32::try_from(i).unwrap_or(NONE);
            }
        }
        let first_fold = |node: u32| fold_first.get(node as usize).copied().unwrap_or(NONE);
        let mut nodes = Vec::with_capacity(len as usize + folds.len());
        nodes.push(self.node_data(0, 0));
        // (position in `nodes`, next child to visit, next aggregate to visit)
        let mut stack = vec![(0_usize, self.links(0).first_child, first_fold(0))];
        while let Some(&(pos, child, fold)) = stack.last() {
            let depth = u32::try_from(stack.len()).unwrap_or(u32::MAX);
            let top = stack.len() - 1;
            if child != NONE {
                stack[top].1 = self.links(child).next_sibling;
                nodes.push(self.node_data(child, depth));
                stack.push((
                    nodes.len() - 1,
                    self.links(child).first_child,
                    first_fold(child),
                ));
            } else if fold != NONE {
                stack[top].2 = fold_next[fold as usize];
                nodes.push(fold_data(&folds[fold as usize], depth));
            } else {
                nodes[pos].subtree = u32::try_from(nodes.len() - pos).unwrap_or(u32::MAX);
                stack.pop();
            }
        }
        CallTree::from_parts(nodes, uncounted)
    }

    fn links(&self, index: u32) -> &Links {
        // SAFETY: called only from `build_tree`, which has `&mut self`.
        unsafe { &*self.slot(index).links.get() }
    }

    fn node_data(&self, index: u32, depth: u32) -> NodeData {
        let slot = self.slot(index);
        // SAFETY: called only from `build_tree`, which has `&mut self`.
        let (fixed, end) = unsafe { (&*slot.fixed.get(), &*slot.end.get()) };
        NodeData {
            name: if index == 0 {
                self.root_name.clone()
            } else {
                Cow::Borrowed(fixed.name)
            },
            module: fixed.module,
            depth,
            subtree: 1,
            start: Some(fixed.start.saturating_duration_since(self.started)),
            wall: end.wall,
            busy: end.busy,
            outcome: end.outcome,
            slow: end.slow,
            calls: 1,
            failures: u64::from(end.outcome.is_some_and(Outcome::is_failure)),
        }
    }

    fn summary(&mut self) -> Summary {
        // SAFETY: `&mut self`: every call has ended.
        let root_wall = unsafe { (*self.slot(0).end.get()).wall };
        Summary {
            wall: root_wall,
            failed: *self.failed.get_mut(),
            slow: *self.slow.get_mut(),
        }
    }
}

fn fold_data(fold: &Fold, depth: u32) -> NodeData {
    NodeData {
        name: Cow::Borrowed(fold.name),
        module: fold.module,
        depth,
        subtree: 1,
        start: None,
        wall: fold.total,
        busy: None,
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
            let tree = self.build_tree();
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
