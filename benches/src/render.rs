//! The rendering-scaling check: what `CallTree::render` costs per node, and
//! how much text it writes per node, for a 1000-level chain (a recursive
//! traced function 999 calls deep under an `in_request` root: 1000 nodes,
//! the default node cap), a 500-level chain (to see whether the text per
//! node grows with the depth: linear output keeps it flat), and the 3-level
//! workload tree (an `in_request` root over the 111 calls: 112 nodes).
//! Trees go to a sink that renders each one, timing the call and keeping
//! the length of the text; logging is off, so nothing else renders them.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use trace_runtime::tree::CallTree;
use trace_runtime::TreeConfig;

use crate::peer::ours;
use crate::recorder;
use crate::workload::CALLS_PER_REQUEST;

/// Nodes of the chain: the root and 999 nested calls.
pub const CHAIN_NODES: u64 = 1000;

/// Nodes of the half chain: the root and 499 nested calls.
pub const HALF_CHAIN_NODES: u64 = 500;

/// Nodes of the workload tree: the root and 111 calls.
pub const TREE_NODES: u64 = CALLS_PER_REQUEST + 1;

/// Trees rendered, nodes in them, nanoseconds spent in `render`, and bytes
/// of text, since the last [`take`].
static TREES: AtomicU64 = AtomicU64::new(0);
static NODES: AtomicU64 = AtomicU64::new(0);
static NANOS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Calls itself until `depth` is 0: `depth + 1` nested traced calls.
#[trace_runtime::trace]
fn nested(depth: u64) -> u64 {
    if depth == 0 {
        black_box(0)
    } else {
        nested(black_box(depth - 1)).wrapping_add(1)
    }
}

fn chain(x: u64) -> u64 {
    trace_runtime::in_request("chain", || nested(black_box(CHAIN_NODES - 2)) ^ x)
}

fn half_chain(x: u64) -> u64 {
    trace_runtime::in_request("chain", || nested(black_box(HALF_CHAIN_NODES - 2)) ^ x)
}

fn tree(x: u64) -> u64 {
    trace_runtime::in_request("tree", || ours::root(x))
}

fn render_sink(tree: &CallTree) {
    let start = Instant::now();
    let text = tree.render();
    let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    TREES.fetch_add(1, Ordering::Relaxed);
    NODES.fetch_add(tree.iter().count() as u64, Ordering::Relaxed);
    NANOS.fetch_add(nanos, Ordering::Relaxed);
    BYTES.fetch_add(text.len() as u64, Ordering::Relaxed);
    black_box(text);
}

/// (trees, nodes, nanoseconds, bytes) since the last call.
fn take() -> [u64; 4] {
    [&TREES, &NODES, &NANOS, &BYTES].map(|a| a.swap(0, Ordering::Relaxed))
}

/// Renders trees of `shape` for about `window`; returns render nanoseconds
/// per node and bytes per node. Panics unless every request delivered one
/// tree of `nodes` nodes.
fn run(shape: fn(u64) -> u64, nodes: u64, window: Duration) -> [f64; 2] {
    for i in 0..20 {
        black_box(shape(i));
    }
    take();
    let start = Instant::now();
    let mut requests = 0;
    while start.elapsed() < window {
        black_box(shape(requests));
        requests += 1;
    }
    let [trees, seen, nanos, bytes] = take();
    assert!(
        trees == requests && seen == requests * nodes,
        "render sink saw {trees} trees of {seen} nodes for {requests} requests of {nodes} nodes"
    );
    #[allow(clippy::cast_precision_loss)]
    let per_node = |total: u64| total as f64 / seen as f64;
    [per_node(nanos), per_node(bytes)]
}

/// Render nanoseconds per node and bytes per node of the chain, of the
/// half chain, then of the workload tree, each for a third of `window`.
pub fn measure(window: Duration) -> [f64; 6] {
    let _exporter = recorder::install(false);
    TreeConfig::current().log(false).apply();
    trace_runtime::tree::add_sink(render_sink);
    let [chain_ns, chain_bytes] = run(chain, CHAIN_NODES, window / 3);
    let [half_ns, half_bytes] = run(half_chain, HALF_CHAIN_NODES, window / 3);
    let [tree_ns, tree_bytes] = run(tree, TREE_NODES, window / 3);
    [
        chain_ns,
        chain_bytes,
        half_ns,
        half_bytes,
        tree_ns,
        tree_bytes,
    ]
}
