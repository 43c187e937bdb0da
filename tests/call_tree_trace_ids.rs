//! Distributed-trace ids of call trees: the `traceparent` a running call
//! reads (`context::current_traceparent`) names the trace and the span its
//! finished node reports (`CallTree::trace_id`, `CallNode::span_id`), in
//! sync trees, in async trees whose children ran concurrently (nodes
//! reordered when the tree is built), and for calls folded into aggregates
//! past the node cap.
#![warn(clippy::pedantic)]

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use trace_runtime::context::{current_traceparent, TraceParent};
use trace_runtime::tree::CallTree;
use trace_runtime::{trace, TraceFutureExt as _, TreeConfig};
use trace_suite::{capture_trees, wait_for_trees};

/// What each call saw while it ran, by its label.
static SEEN: Mutex<Vec<(&'static str, TraceParent)>> = Mutex::new(Vec::new());

fn record(name: &'static str) {
    let parent = current_traceparent().expect("inside a request");
    SEEN.lock().unwrap().push((name, parent));
}

fn seen_for(trace_id: [u8; 16]) -> Vec<(&'static str, TraceParent)> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(_, p)| p.trace_id == trace_id)
        .copied()
        .collect()
}

/// Each recorded `traceparent` carries the tree's trace id and the span id
/// of a node with the recording call's name; every span id is distinct.
fn assert_ids_match(tree: &CallTree, expected_records: usize) {
    let by_id: HashMap<[u8; 8], String> = tree
        .iter()
        .map(|n| (n.span_id(), n.name().to_owned()))
        .collect();
    assert_eq!(by_id.len(), tree.iter().count(), "span ids repeat");
    assert!(by_id.keys().all(|id| *id != [0; 8]));
    let seen = seen_for(tree.trace_id());
    assert_eq!(seen.len(), expected_records, "{seen:?}");
    for (name, parent) in seen {
        assert_eq!(parent.flags, 1, "sampled");
        assert_eq!(
            by_id.get(&parent.parent_id).map(String::as_str),
            Some(name),
            "{name} saw the span id of another node"
        );
    }
}

#[trace(name = "ids::leaf")]
fn leaf() {
    record("ids::leaf");
}

#[trace(name = "ids::branch")]
fn branch() {
    record("ids::branch");
    leaf();
    leaf();
}

#[trace(name = "ids::leaf_async")]
async fn leaf_async() {
    tokio::task::yield_now().await;
    record("ids::leaf_async");
}

#[trace(name = "ids::branch_async")]
async fn branch_async() {
    record("ids::branch_async");
    // Interleaved: nodes open out of pre-order, so the tree is rebuilt.
    tokio::join!(leaf_async(), leaf_async(), leaf_async());
    record("ids::branch_async");
}

#[test]
fn sync_calls_see_their_node_span_ids() {
    capture_trees();
    trace_runtime::in_request("ids sync", || {
        branch();
        branch();
    });
    let tree = &wait_for_trees("ids sync", 1)[0];
    assert_ids_match(tree, 6);
    assert_eq!(current_traceparent(), None, "outside any request");
}

#[test]
fn concurrent_async_children_see_their_node_span_ids() {
    capture_trees();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        branch_async().in_request("ids async").await;
    });
    let tree = &wait_for_trees("ids async", 1)[0];
    let names: Vec<&str> = tree.iter().map(|n| n.name()).collect();
    assert_eq!(
        names,
        [
            "ids async",
            "ids::branch_async",
            "ids::leaf_async",
            "ids::leaf_async",
            "ids::leaf_async"
        ]
    );
    assert_ids_match(tree, 5);
}

#[trace(name = "ids::folded")]
fn folded() {
    record("ids::folded");
}

#[test]
fn folded_calls_see_their_aggregate_span_id() {
    capture_trees();
    // Only this test in this binary opens more than 8 nodes.
    TreeConfig::current().max_nodes(8).apply();
    trace_runtime::in_request("ids folded", || {
        for _ in 0..20 {
            folded();
        }
    });
    TreeConfig::current()
        .max_nodes(trace_runtime::tree::DEFAULT_MAX_NODES)
        .apply();
    let tree = &wait_for_trees("ids folded", 1)[0];
    let aggregate = tree
        .iter()
        .find(trace_runtime::tree::CallNode::is_aggregate)
        .expect("an aggregate");
    let seen = seen_for(tree.trace_id());
    assert_eq!(seen.len(), 20);
    let on_aggregate = seen
        .iter()
        .filter(|(_, p)| p.parent_id == aggregate.span_id())
        .count();
    assert_eq!(u64::try_from(on_aggregate).unwrap(), aggregate.calls());
    assert_ids_match(tree, 20);
    let distinct: HashSet<[u8; 8]> = tree.iter().map(|n| n.span_id()).collect();
    assert_eq!(distinct.len(), tree.iter().count());
}
