//! 10,000 concurrent requests on the multi-thread runtime in which calls are
//! cancelled (timeouts, `select!` losers, aborted tasks, whole aborted
//! requests), panic (caught), or fail, chosen per request from its id: every
//! tree matches its request's expected outline, `function_calls_total`
//! equals the calls made per function and result, and every
//! `function_calls_concurrent` reads 0 afterwards.
//!
//! Its own binary: it installs a global metrics recorder, since the calls
//! run on every worker thread.
#![warn(clippy::pedantic)]

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;
use tokio::sync::oneshot;
use tokio::task::yield_now;
use trace_runtime::{trace, tree::CallNode, Outcome, TraceFutureExt as _};
use trace_suite::{capture_trees, wait_for_trees};

const REQUESTS: u32 = 10_000;
const PANIC_MESSAGE: &str = "stress: a call that panics";

/// What a request does besides its first call, chosen from its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Plain,
    Timeout,
    SelectLoser,
    CaughtPanic,
    AbortedChild,
    AbortedRequest,
}

impl Mode {
    fn of(id: u32) -> Mode {
        // splitmix64: ids next to each other get unrelated modes.
        let mut z = u64::from(id).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        match (z ^ (z >> 31)) % 6 {
            0 => Mode::Plain,
            1 => Mode::Timeout,
            2 => Mode::SelectLoser,
            3 => Mode::CaughtPanic,
            4 => Mode::AbortedChild,
            _ => Mode::AbortedRequest,
        }
    }
}

/// Requests that also fail with `Err` at the end.
fn fails(id: u32) -> bool {
    id % 10 == 3 && Mode::of(id) != Mode::AbortedRequest
}

#[trace]
async fn sc_root(id: u32, started: oneshot::Sender<()>) -> Result<u32, String> {
    sc_leaf().await;
    match Mode::of(id) {
        Mode::Plain => {
            tokio::join!(sc_leaf(), sc_leaf());
        }
        Mode::Timeout => {
            let timed_out = tokio::time::timeout(Duration::from_millis(1), sc_stuck()).await;
            assert!(timed_out.is_err());
        }
        Mode::SelectLoser => {
            tokio::select! {
                biased;
                () = sc_slow_leaf() => {}
                () = sc_stuck() => unreachable!("never completes"),
            }
        }
        Mode::CaughtPanic => {
            let caught = AssertUnwindSafe(sc_panics()).catch_unwind().await;
            assert!(caught.is_err());
        }
        Mode::AbortedChild => {
            let (child_started, wait) = oneshot::channel();
            let child = trace_runtime::context::spawn(sc_stuck_after_signal(child_started));
            wait.await.unwrap();
            child.abort();
            assert!(child.await.unwrap_err().is_cancelled());
        }
        Mode::AbortedRequest => sc_stuck_after_signal(started).await,
    }
    if fails(id) {
        sc_fails().await?;
    }
    Ok(id)
}

#[trace]
async fn sc_leaf() {
    yield_now().await;
}

/// Yields once, so a `select!` sibling after it is polled (and started).
#[trace]
async fn sc_slow_leaf() {
    yield_now().await;
}

#[trace]
async fn sc_stuck() {
    std::future::pending::<()>().await;
}

#[trace]
async fn sc_stuck_after_signal(started: oneshot::Sender<()>) {
    let _ = started.send(());
    std::future::pending::<()>().await;
}

#[trace]
async fn sc_panics() {
    yield_now().await;
    panic!("{PANIC_MESSAGE}");
}

#[trace]
async fn sc_fails() -> Result<(), String> {
    yield_now().await;
    Err("failed on purpose".to_owned())
}

/// `(depth, name, outcome)` of every node, depth first.
fn outline(node: CallNode<'_>, out: &mut Vec<(usize, String, Option<Outcome>)>) {
    out.push((node.depth(), node.name().to_owned(), node.outcome()));
    for child in node.children() {
        outline(child, out);
    }
}

fn expected_outline(id: u32) -> Vec<(usize, String, Option<Outcome>)> {
    let ok = Some(Outcome::Ok);
    let cancelled = Some(Outcome::Cancelled);
    let mode = Mode::of(id);
    let root_outcome = match mode {
        Mode::AbortedRequest => cancelled,
        _ if fails(id) => Some(Outcome::Error),
        _ => ok,
    };
    let mut out = vec![
        (
            0,
            format!("stress-{id}"),
            if mode == Mode::AbortedRequest {
                cancelled
            } else {
                ok
            },
        ),
        (1, "sc_root".to_owned(), root_outcome),
        (2, "sc_leaf".to_owned(), ok),
    ];
    let mut child = |name: &str, outcome| out.push((2, name.to_owned(), outcome));
    match mode {
        Mode::Plain => {
            child("sc_leaf", ok);
            child("sc_leaf", ok);
        }
        Mode::Timeout => child("sc_stuck", cancelled),
        Mode::SelectLoser => {
            child("sc_slow_leaf", ok);
            child("sc_stuck", cancelled);
        }
        Mode::CaughtPanic => child("sc_panics", Some(Outcome::Panic)),
        Mode::AbortedChild | Mode::AbortedRequest => child("sc_stuck_after_signal", cancelled),
    }
    if fails(id) {
        child("sc_fails", Some(Outcome::Error));
    }
    out
}

/// `function_calls_total` the requests must have produced, by (function, result).
fn expected_calls() -> BTreeMap<(String, String), u64> {
    let mut calls = BTreeMap::new();
    let mut add = |function: &str, result: &str| {
        *calls
            .entry((function.to_owned(), result.to_owned()))
            .or_insert(0) += 1;
    };
    for id in 0..REQUESTS {
        let mode = Mode::of(id);
        add(
            "sc_root",
            match mode {
                Mode::AbortedRequest => "cancelled",
                _ if fails(id) => "error",
                _ => "ok",
            },
        );
        add("sc_leaf", "ok");
        match mode {
            Mode::Plain => {
                add("sc_leaf", "ok");
                add("sc_leaf", "ok");
            }
            Mode::Timeout => add("sc_stuck", "cancelled"),
            Mode::SelectLoser => {
                add("sc_slow_leaf", "ok");
                add("sc_stuck", "cancelled");
            }
            Mode::CaughtPanic => add("sc_panics", "error"),
            Mode::AbortedChild | Mode::AbortedRequest => {
                add("sc_stuck_after_signal", "cancelled");
            }
        }
        if fails(id) {
            add("sc_fails", "error");
        }
    }
    calls
}

#[test]
fn cancelled_panicking_and_failing_calls_are_counted_and_traced_exactly() {
    trace_suite::metrics::install_global();
    capture_trees();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let ours = info
            .payload()
            .downcast_ref::<String>()
            .is_some_and(|m| m == PANIC_MESSAGE);
        if !ours {
            quiet(info);
        }
    }));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut requests = Vec::new();
        for id in 0..REQUESTS {
            let (started, wait) = oneshot::channel();
            let task = tokio::spawn(sc_root(id, started).in_request(format!("stress-{id}")));
            requests.push((id, task, wait));
        }
        for (id, task, started) in requests {
            if Mode::of(id) == Mode::AbortedRequest {
                started.await.unwrap();
                task.abort();
                assert!(task.await.unwrap_err().is_cancelled());
            } else {
                let expected = if fails(id) {
                    Err("failed on purpose".to_owned())
                } else {
                    Ok(id)
                };
                assert_eq!(task.await.unwrap(), expected);
            }
        }
    });

    for id in 0..REQUESTS {
        let trees = wait_for_trees(&format!("stress-{id}"), 1);
        assert_eq!(trees.len(), 1, "request {id}");
        let mut seen = Vec::new();
        outline(trees[0].root(), &mut seen);
        assert_eq!(
            seen,
            expected_outline(id),
            "request {id} ({:?})",
            Mode::of(id)
        );
    }

    let recorded = trace_suite::metrics::global();
    let label = |labels: &trace_suite::snapshot::Labels, name: &str| {
        labels.get(name).cloned().unwrap_or_default()
    };
    let mut calls = BTreeMap::new();
    for ((name, labels), n) in &recorded.counters {
        let function = label(labels, "function");
        if name == "function_calls_total" && function.starts_with("sc_") {
            *calls
                .entry((function, label(labels, "result")))
                .or_insert(0) += n;
        }
    }
    let mut in_flight = BTreeMap::new();
    for ((name, labels), value) in &recorded.gauges {
        let function = label(labels, "function");
        if name == "function_calls_concurrent" && function.starts_with("sc_") {
            *in_flight.entry(function).or_insert(0.0) += value;
        }
    }
    calls.retain(|_, n| *n > 0);
    assert_eq!(calls, expected_calls());
    assert_eq!(in_flight.len(), 7, "{in_flight:?}");
    for (function, value) in &in_flight {
        assert!(value.abs() < f64::EPSILON, "{function} in flight: {value}");
    }
}
