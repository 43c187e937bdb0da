//! The trace context does not depend on one executor: the same trees come out
//! of tokio's current-thread and multi-thread runtimes (where futures move
//! between workers), `futures::executor::block_on`, plain threads, and a
//! future polled by hand on one thread and then another.
#![warn(clippy::pedantic)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::future::Future as _;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use insta::assert_snapshot;
use tokio::task::yield_now;
use trace_runtime::{trace, TraceFutureExt as _};
use trace_suite::{capture_trees, one_tree, outline, render_normalised, take_trees};

#[trace]
async fn exec_handler(n: u32) -> u32 {
    let (a, b) = tokio::join!(exec_left(n), exec_right(n));
    a + b + exec_sync(n)
}

#[trace]
async fn exec_left(n: u32) -> u32 {
    yield_now().await;
    exec_leaf(n).await
}

#[trace]
async fn exec_right(n: u32) -> u32 {
    exec_leaf(n + 1).await
}

#[trace]
async fn exec_leaf(n: u32) -> u32 {
    yield_now().await;
    n
}

#[trace]
fn exec_sync(n: u32) -> u32 {
    n
}

/// The normalised tree of `exec_handler` run as the request `root`, whichever
/// executor ran it.
fn expected(root: &str) -> String {
    let rows = [
        (root, "  busy <t>"),
        ("  exec_handler", "  busy <t>"),
        ("    exec_left", "  busy <t>"),
        ("      exec_leaf", "  busy <t>"),
        ("    exec_right", "  busy <t>"),
        ("      exec_leaf", "  busy <t>"),
        ("    exec_sync", ""),
    ];
    let width = rows
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap();
    let mut out = String::new();
    for (name, marks) in rows {
        writeln!(out, "{name:<width$}  <t>{marks}").unwrap();
    }
    out
}

#[test]
fn tokio_current_thread_runtime() {
    capture_trees();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = runtime.block_on(exec_handler(1).in_request("exec ct"));
    assert_eq!(out, 4);
    assert_eq!(render_normalised(&one_tree("exec ct")), expected("exec ct"));
}

#[test]
fn futures_block_on() {
    capture_trees();
    let out = futures::executor::block_on(exec_handler(2).in_request("exec fb"));
    assert_eq!(out, 7);
    assert_eq!(render_normalised(&one_tree("exec fb")), expected("exec fb"));
}

#[test]
fn plain_threads_each_with_their_own_requests() {
    capture_trees();
    let threads: Vec<_> = (0..4_u32)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    let name = format!("thr {t}-{i}");
                    let out = futures::executor::block_on(exec_handler(i).in_request(name));
                    assert_eq!(out, 3 * i + 1);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for t in 0..4 {
        for i in 0..25 {
            let name = format!("thr {t}-{i}");
            assert_eq!(render_normalised(&one_tree(&name)), expected(&name));
        }
    }
}

/// Sums 20 leaves, noting each worker thread it was polled on.
#[trace]
async fn hopping() -> (u32, usize) {
    let mut threads = HashSet::new();
    let mut sum = 0;
    for n in 0..20 {
        threads.insert(std::thread::current().id());
        sum += exec_leaf(n).await;
    }
    (sum, threads.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_multi_thread_runtime_with_futures_moving_between_workers() {
    capture_trees();
    // Enough concurrent requests that idle workers steal tasks from busy ones.
    let tasks: Vec<_> = (0..200_u32)
        .map(|i| {
            tokio::spawn(async move {
                let hops = hopping().in_request(format!("mt {i}")).await;
                let out = exec_handler(i).in_request(format!("mt handler {i}")).await;
                assert_eq!(out, 3 * i + 1);
                hops
            })
        })
        .collect();
    let mut moved = 0;
    for task in tasks {
        let (sum, threads) = task.await.unwrap();
        assert_eq!(sum, 190);
        moved += usize::from(threads > 1);
    }
    for i in 0..200 {
        let shape = outline(&one_tree(&format!("mt {i}")));
        assert_eq!(shape.len(), 22, "root, hopping and its 20 leaves");
        assert_eq!(shape[1], (1, "hopping".to_owned()));
        assert!(shape[2..]
            .iter()
            .all(|node| *node == (2, "exec_leaf".to_owned())));
        let name = format!("mt handler {i}");
        assert_eq!(render_normalised(&one_tree(&name)), expected(&name));
    }
    // Scheduling decides how many moved, so this is shown, not asserted.
    eprintln!("{moved} of 200 requests were polled on more than one worker");
}

#[trace]
async fn polled_by_hand() -> u32 {
    exec_leaf(1).await + exec_leaf(2).await
}

#[trace]
fn sync_on_the_first_thread() -> u32 {
    exec_sync(3)
}

#[test]
fn a_future_polled_on_one_thread_then_another_keeps_its_tree_and_leaves_no_context_behind() {
    capture_trees();
    let mut future = Box::pin(polled_by_hand());
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(future.as_mut().poll(&mut cx).is_pending());
    // The suspended call is not current on this thread any more.
    assert_eq!(sync_on_the_first_thread(), 3);
    assert_snapshot!(render_normalised(&one_tree("sync_on_the_first_thread")), @r"
    sync_on_the_first_thread  <t>
      exec_sync               <t>
    ");
    let out = std::thread::spawn(move || {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
        }
    })
    .join()
    .unwrap();
    assert_eq!(out, 3);
    assert_snapshot!(render_normalised(&one_tree("polled_by_hand")), @r"
    polled_by_hand  <t>  busy <t>
      exec_leaf     <t>  busy <t>
      exec_leaf     <t>  busy <t>
    ");
    assert!(take_trees("exec_leaf").is_empty(), "no leaf became a root");
}
