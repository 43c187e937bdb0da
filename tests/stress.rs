//! Thousands of concurrent requests never mix: on the multi-thread runtime
//! (and on plain threads) every tree holds exactly its own request's calls,
//! whose shape depends on the request's id, and the per-function call counts
//! the metrics recorder saw equal the calls made, per caller.
//!
//! Its own binary: it installs the global metrics recorder.
#![warn(clippy::pedantic)]

use std::collections::BTreeMap;
use tokio::task::yield_now;
use trace_runtime::{trace, TraceFutureExt as _};
use trace_suite::{capture_trees, one_tree, outline, recorder};

const REQUESTS: u32 = 5000;

/// `(function, caller_function, result)`: one `function_calls_total` series
/// without its constant labels.
type Edge = (String, String, String);

/// `function_calls_total` summed by [`Edge`], for functions whose name starts
/// with `prefix`; zero counts left out.
///
/// Read from the shared recorder's running totals, which both tests of this
/// binary add to.
fn calls_by_edge(prefix: &str) -> BTreeMap<Edge, u64> {
    recorder::with_totals(|totals| {
        let mut by_edge = BTreeMap::new();
        for ((name, labels), count) in &totals.counters {
            let label = |key: &str| labels.get(key).cloned().unwrap_or_default();
            let function = label("function");
            if name == trace_runtime::metrics::CALLS_TOTAL
                && function.starts_with(prefix)
                && *count > 0
            {
                let edge = (function, label("caller_function"), label("result"));
                *by_edge.entry(edge).or_default() += count;
            }
        }
        by_edge
    })
}

#[trace]
async fn stress_handle(id: u32) -> u32 {
    yield_now().await;
    let (down, fan) = tokio::join!(stress_descend(id % 4), stress_fan(id % 3));
    let spawned = if id.is_multiple_of(7) {
        trace_runtime::context::spawn(stress_spawned(id))
            .await
            .unwrap()
    } else {
        0
    };
    down + fan + spawned + stress_sync(id)
}

#[trace]
async fn stress_descend(depth: u32) -> u32 {
    yield_now().await;
    if depth == 0 {
        0
    } else {
        Box::pin(stress_descend(depth - 1)).await + 1
    }
}

#[trace]
async fn stress_fan(leaves: u32) -> u32 {
    let mut sum = 0;
    for i in 0..leaves {
        sum += stress_leaf(i).await;
    }
    sum
}

#[trace]
async fn stress_leaf(i: u32) -> u32 {
    yield_now().await;
    i
}

#[trace]
async fn stress_spawned(id: u32) -> u32 {
    yield_now().await;
    stress_leaf(id).await
}

#[trace]
fn stress_sync(id: u32) -> u32 {
    id
}

/// What `stress_handle(id)` returns.
fn expected_result(id: u32) -> u32 {
    let fan: u32 = (0..id % 3).sum();
    let spawned = if id.is_multiple_of(7) { id } else { 0 };
    id % 4 + fan + spawned + id
}

/// The `(depth, name)` outline of request `id`'s tree.
fn expected_outline(id: u32) -> Vec<(usize, String)> {
    let mut nodes = vec![(0, format!("req-{id}")), (1, "stress_handle".to_owned())];
    for level in 0..=id % 4 {
        nodes.push((2 + level as usize, "stress_descend".to_owned()));
    }
    nodes.push((2, "stress_fan".to_owned()));
    for _ in 0..id % 3 {
        nodes.push((3, "stress_leaf".to_owned()));
    }
    if id.is_multiple_of(7) {
        nodes.push((2, "stress_spawned".to_owned()));
        nodes.push((3, "stress_leaf".to_owned()));
    }
    nodes.push((2, "stress_sync".to_owned()));
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_concurrent_async_requests_keep_their_own_trees_and_counts() {
    recorder::install();
    capture_trees();
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|id| tokio::spawn(stress_handle(id).in_request(format!("req-{id}"))))
        .collect();
    for (id, task) in (0..REQUESTS).zip(tasks) {
        assert_eq!(task.await.unwrap(), expected_result(id), "request {id}");
    }

    let mut nodes = 0;
    for id in 0..REQUESTS {
        let tree = one_tree(&format!("req-{id}"));
        assert_eq!(outline(&tree), expected_outline(id), "tree of req-{id}");
        assert!(!tree.has_failure());
        nodes += tree.iter().count() - 1;
    }

    let sum = |f: &dyn Fn(u32) -> u64| (0..REQUESTS).map(f).sum::<u64>();
    let descend_top = u64::from(REQUESTS);
    let descend_nested = sum(&|id| u64::from(id % 4));
    let fan_leaves = sum(&|id| u64::from(id % 3));
    let spawned = sum(&|id| u64::from(id.is_multiple_of(7)));
    let edge = |function: &str, caller: &str, count: u64| {
        (
            (function.to_owned(), caller.to_owned(), "ok".to_owned()),
            count,
        )
    };
    let expected: BTreeMap<_, _> = [
        edge("stress_handle", "", u64::from(REQUESTS)),
        edge("stress_descend", "stress_handle", descend_top),
        edge("stress_descend", "stress_descend", descend_nested),
        edge("stress_fan", "stress_handle", u64::from(REQUESTS)),
        edge("stress_leaf", "stress_fan", fan_leaves),
        edge("stress_leaf", "stress_spawned", spawned),
        edge("stress_spawned", "stress_handle", spawned),
        edge("stress_sync", "stress_handle", u64::from(REQUESTS)),
    ]
    .into_iter()
    .collect();
    assert_eq!(calls_by_edge("stress_"), expected);
    // Every call counted in the metrics is in exactly one tree.
    let counted: u64 = expected.values().sum();
    assert_eq!(nodes as u64, counted);
}

#[trace]
fn sync_handle(id: u32) -> u32 {
    sync_descend(id % 5) + sync_leaf(id)
}

#[trace]
fn sync_descend(depth: u32) -> u32 {
    if depth == 0 {
        0
    } else {
        sync_descend(depth - 1) + sync_leaf(depth)
    }
}

#[trace]
fn sync_leaf(n: u32) -> u32 {
    n
}

/// The outline of `sync_descend(depth)` called at tree level `level`.
fn descend_outline(depth: u32, level: usize, out: &mut Vec<(usize, String)>) {
    out.push((level, "sync_descend".to_owned()));
    if depth > 0 {
        descend_outline(depth - 1, level + 1, out);
        out.push((level + 1, "sync_leaf".to_owned()));
    }
}

#[test]
fn concurrent_sync_requests_on_plain_threads_keep_their_own_trees_and_counts() {
    const THREADS: u32 = 8;
    const PER_THREAD: u32 = 250;
    recorder::install();
    capture_trees();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..PER_THREAD {
                    let id = t * PER_THREAD + i;
                    let depth = id % 5;
                    let handled =
                        trace_runtime::in_request(format!("sync-req-{id}"), || sync_handle(id));
                    assert_eq!(handled, depth * (depth + 1) / 2 + id);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for id in 0..THREADS * PER_THREAD {
        let mut expected = vec![(0, format!("sync-req-{id}")), (1, "sync_handle".to_owned())];
        descend_outline(id % 5, 2, &mut expected);
        expected.push((2, "sync_leaf".to_owned()));
        let got = outline(&one_tree(&format!("sync-req-{id}")));
        assert_eq!(got, expected, "tree of sync-req-{id}");
    }
    let total = THREADS * PER_THREAD;
    let levels: u64 = (0..total).map(|id| u64::from(id % 5)).sum();
    let ok = |function: &str, caller: &str, count: u64| {
        (
            (function.to_owned(), caller.to_owned(), "ok".to_owned()),
            count,
        )
    };
    let expected: BTreeMap<_, _> = [
        ok("sync_handle", "", u64::from(total)),
        ok("sync_descend", "sync_handle", u64::from(total)),
        ok("sync_descend", "sync_descend", levels),
        ok("sync_leaf", "sync_handle", u64::from(total)),
        ok("sync_leaf", "sync_descend", levels),
    ]
    .into_iter()
    .collect();
    assert_eq!(calls_by_edge("sync_"), expected);
}
