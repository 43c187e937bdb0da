//! Which trees are delivered (`TreeFilter`: slower than a threshold, failed,
//! with a slow call) and per-call slow thresholds (`#[trace(slow = "...")]`).
//!
//! Its own binary: the filter is global. The tests here take a lock so each
//! sees only its own filter.
#![warn(clippy::pedantic)]

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use insta::assert_snapshot;
use trace_runtime::{trace, tree::TreeFilter, TreeConfig};
use trace_suite::{capture_trees, one_tree, render_normalised, take_trees};

/// Holds the filter for one test; restores "deliver everything" when dropped.
struct FilterScope(#[allow(dead_code)] MutexGuard<'static, ()>);

fn with_filter(filter: TreeFilter) -> FilterScope {
    static LOCK: Mutex<()> = Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    capture_trees();
    TreeConfig::current().filter(filter).apply();
    FilterScope(guard)
}

impl Drop for FilterScope {
    fn drop(&mut self) {
        TreeConfig::current().filter(TreeFilter::default()).apply();
    }
}

#[trace]
fn filtered_step(pause_ms: u64) {
    std::thread::sleep(Duration::from_millis(pause_ms));
}

#[trace]
fn filtered_failure() -> Result<(), String> {
    Err("nope".into())
}

#[trace]
fn filtered_panic() {
    panic!("filtered_panic");
}

#[trace(slow = "50ms")]
fn maybe_slow(pause_ms: u64) {
    std::thread::sleep(Duration::from_millis(pause_ms));
}

#[trace(slow = "10s")]
fn never_slow() {}

/// Runs `work` as a request named `name`; its tree, if any, is delivered
/// before this returns (sync roots end on this thread).
fn run(name: &'static str, work: impl FnOnce()) {
    trace_runtime::in_request(name, work);
}

#[test]
fn the_default_filter_delivers_every_tree() {
    let _filter = with_filter(TreeFilter::default());
    run("default fast", || filtered_step(0));
    assert_eq!(take_trees("default fast").len(), 1);
}

#[test]
fn slower_than_delivers_only_requests_at_least_that_slow() {
    let _filter = with_filter(TreeFilter {
        slower_than: Some(Duration::from_millis(100)),
        ..TreeFilter::default()
    });
    run("slower fast", || filtered_step(0));
    run("slower failing", || drop(filtered_failure()));
    run("slower slow", || filtered_step(120));
    assert!(take_trees("slower fast").is_empty());
    assert!(take_trees("slower failing").is_empty());
    let tree = one_tree("slower slow");
    assert!(tree.root().wall() >= Duration::from_millis(100));
}

#[test]
fn failed_delivers_only_requests_with_an_err_or_a_panic() {
    let _filter = with_filter(TreeFilter {
        failed: true,
        ..TreeFilter::default()
    });
    run("failed ok", || filtered_step(0));
    run("failed err", || {
        filtered_step(0);
        drop(filtered_failure());
    });
    let panicked = std::panic::catch_unwind(|| run("failed panic", filtered_panic));
    assert!(panicked.is_err());
    assert!(take_trees("failed ok").is_empty());
    assert_snapshot!(render_normalised(&one_tree("failed err")), @r"
    failed err          <t>
      filtered_step     <t>
      filtered_failure  <t>  err
    ");
    assert_snapshot!(render_normalised(&one_tree("failed panic")), @r"
    failed panic      <t>  panic
      filtered_panic  <t>  panic
    ");
}

#[test]
fn slow_calls_delivers_only_requests_where_a_call_passed_its_threshold() {
    let _filter = with_filter(TreeFilter {
        slow_calls: true,
        ..TreeFilter::default()
    });
    run("slow-calls none", || {
        maybe_slow(0);
        never_slow();
    });
    run("slow-calls one", || {
        maybe_slow(0);
        maybe_slow(60);
        never_slow();
    });
    assert!(take_trees("slow-calls none").is_empty());
    let tree = one_tree("slow-calls one");
    assert!(tree.has_slow_call());
    assert_snapshot!(render_normalised(&tree), @r"
    slow-calls one  <t>
      maybe_slow    <t>
      maybe_slow    <t>  slow
      never_slow    <t>
    ");
}

#[test]
fn conditions_combine_with_or() {
    let _filter = with_filter(TreeFilter {
        slower_than: Some(Duration::from_millis(100)),
        failed: true,
        slow_calls: false,
    });
    run("or fast ok", || filtered_step(0));
    run("or fast err", || drop(filtered_failure()));
    run("or slow ok", || filtered_step(120));
    run("or slow call", || maybe_slow(60));
    assert!(take_trees("or fast ok").is_empty());
    assert!(take_trees("or slow call").is_empty());
    assert_eq!(take_trees("or fast err").len(), 1);
    assert_eq!(take_trees("or slow ok").len(), 1);
}

#[trace(slow = "50ms")]
async fn async_maybe_slow(pause_ms: u64) {
    if pause_ms == 0 {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    }
}

#[test]
fn slow_marks_apply_to_async_calls_by_wall_time() {
    use trace_runtime::TraceFutureExt as _;
    let _filter = with_filter(TreeFilter::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let request = async {
        async_maybe_slow(0).await;
        async_maybe_slow(60).await;
    };
    runtime.block_on(request.in_request("async slow marks"));
    let tree = one_tree("async slow marks");
    let slow: Vec<bool> = tree.root().children().map(|c| c.is_slow()).collect();
    assert_eq!(slow, [false, true]);
}
