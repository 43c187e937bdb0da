//! The calls of one request, collected while it runs and turned into a
//! [`CallTree`] when its last participant finishes.
//!
//! Memory is bounded: past the configured node cap, further calls are folded
//! into one aggregate per (kept ancestor, function), shown as
//! `name ×N total …`; past a second cap even those are only counted.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::Instant;

use crate::call::outcome::Outcome;
use crate::callsite::Callsite;
use crate::config;
use crate::tree::{sink, CallNode, CallTree};

/// Most distinct (ancestor, function) aggregates a request keeps.
const MAX_FOLDS: usize = 256;

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

struct Node {
    name: &'static str,
    module: &'static str,
    parent: u32,
    start: Duration,
    wall: Duration,
    busy: Option<Duration>,
    outcome: Option<Outcome>,
    slow: bool,
}

struct Fold {
    parent: u32,
    name: &'static str,
    module: &'static str,
    calls: u64,
    failures: u64,
    total: Duration,
}

struct Nodes {
    list: Vec<Node>,
    folds: Vec<Fold>,
    uncounted: u64,
}

/// One request's call tree under construction.
pub(crate) struct Request {
    root_name: Cow<'static, str>,
    started: Instant,
    cap: usize,
    nodes: Mutex<Nodes>,
}

impl Request {
    /// A request whose root node (index 0) is named `name` and is open.
    pub(crate) fn new(name: Cow<'static, str>, module: &'static str, started: Instant) -> Request {
        let root = Node {
            name: "",
            module,
            parent: 0,
            start: Duration::ZERO,
            wall: Duration::ZERO,
            busy: None,
            outcome: None,
            slow: false,
        };
        Request {
            root_name: name,
            started,
            cap: config::max_nodes(),
            nodes: Mutex::new(Nodes {
                list: vec![root],
                folds: Vec::new(),
                uncounted: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Nodes> {
        // A panic never happens while the lock is held; recover anyway.
        self.nodes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a child of `parent` for a call of `site` that started at `start`.
    pub(crate) fn open(&self, parent: NodeId, site: &'static Callsite, start: Instant) -> NodeId {
        let parent = match parent {
            NodeId::Kept(p) => p,
            folded @ NodeId::Folded(_) => return folded,
        };
        let mut nodes = self.lock();
        if nodes.list.len() >= self.cap {
            return NodeId::Folded(parent);
        }
        let index = u32::try_from(nodes.list.len()).unwrap_or(u32::MAX);
        nodes.list.push(Node {
            name: site.name(),
            module: site.module(),
            parent,
            start: start.saturating_duration_since(self.started),
            wall: Duration::ZERO,
            busy: None,
            outcome: None,
            slow: false,
        });
        NodeId::Kept(index)
    }

    /// Records how the call in `node` ended.
    pub(crate) fn close(&self, node: NodeId, site: Option<&'static Callsite>, closing: &Closing) {
        let slow = site
            .and_then(Callsite::slow_nanos)
            .is_some_and(|limit| closing.wall.as_nanos() >= u128::from(limit));
        let mut nodes = self.lock();
        match node {
            NodeId::Kept(index) => {
                if let Some(n) = nodes.list.get_mut(index as usize) {
                    n.wall = closing.wall;
                    n.busy = closing.busy;
                    n.outcome = Some(closing.outcome);
                    n.slow |= slow;
                }
            }
            NodeId::Folded(parent) => {
                let Some(site) = site else { return };
                let failed = u64::from(closing.outcome.is_failure());
                if let Some(fold) = nodes
                    .folds
                    .iter_mut()
                    .find(|f| f.parent == parent && std::ptr::eq(f.name, site.name()))
                {
                    fold.calls += 1;
                    fold.failures += failed;
                    fold.total += closing.wall;
                } else if nodes.folds.len() < MAX_FOLDS {
                    nodes.folds.push(Fold {
                        parent,
                        name: site.name(),
                        module: site.module(),
                        calls: 1,
                        failures: failed,
                        total: closing.wall,
                    });
                } else {
                    nodes.uncounted += 1;
                }
            }
        }
    }

    /// Builds the finished tree.
    fn to_tree(&self) -> CallTree {
        let nodes = self.lock();
        let count = nodes.list.len();
        let mut children: Vec<Vec<CallNode>> = (0..count).map(|_| Vec::new()).collect();
        for fold in nodes.folds.iter().rev() {
            if let Some(list) = children.get_mut(fold.parent as usize) {
                list.push(CallNode {
                    name: Cow::Borrowed(fold.name),
                    module: fold.module,
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
                    children: Vec::new(),
                });
            }
        }
        // Children always have larger indices than their parents, so a
        // reverse walk finishes every child list before its parent is built.
        let mut built: Vec<Option<CallNode>> = (0..count).map(|_| None).collect();
        for index in (0..count).rev() {
            let node = &nodes.list[index];
            let mut own = std::mem::take(&mut children[index]);
            own.reverse();
            let name = if index == 0 {
                self.root_name.clone()
            } else {
                Cow::Borrowed(node.name)
            };
            let failures = u64::from(node.outcome.is_some_and(Outcome::is_failure));
            let call = CallNode {
                name,
                module: node.module,
                start: Some(node.start),
                wall: node.wall,
                busy: node.busy,
                outcome: node.outcome,
                slow: node.slow,
                calls: 1,
                failures,
                children: own,
            };
            if index == 0 {
                built[0] = Some(call);
            } else {
                children[node.parent as usize].push(call);
            }
        }
        let root = built[0]
            .take()
            .unwrap_or_else(|| CallNode::empty(self.root_name.clone()));
        CallTree {
            root,
            uncounted: nodes.uncounted,
        }
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if sink::wants_trees() {
            sink::dispatch(&self.to_tree());
        }
    }
}
