//! Spawned work: with the propagation helpers it nests under the call that
//! spawned it while the spawner's request runs; without them it starts a
//! root of its own and never joins the spawner's tree. A request's tree is
//! delivered when the request's own work ends, whatever it spawned.
#![warn(clippy::pedantic)]

use std::sync::mpsc;

use insta::assert_snapshot;
use tokio::task::yield_now;
use trace_runtime::{context::TraceContext, trace, TraceFutureExt as _};
use trace_suite::{capture_trees, one_tree, render_normalised, take_trees};

#[trace]
async fn spawner() -> u32 {
    // Suspends once whatever the spawned work does, so `busy` always shows.
    yield_now().await;
    let first = trace_runtime::context::spawn(spawned_task(1))
        .await
        .unwrap();
    let second = tokio::spawn(spawned_task(2).in_current_trace())
        .await
        .unwrap();
    first + second
}

#[trace]
async fn spawned_task(n: u32) -> u32 {
    yield_now().await;
    spawned_step(n).await
}

#[trace]
async fn spawned_step(n: u32) -> u32 {
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_spawned_with_the_helpers_nest_under_the_spawner() {
    capture_trees();
    assert_eq!(tokio::spawn(spawner()).await.unwrap(), 3);
    assert_snapshot!(render_normalised(&one_tree("spawner")), @r"
    spawner           <t>  busy <t>
      spawned_task    <t>  busy <t>
        spawned_step  <t>
      spawned_task    <t>  busy <t>
        spawned_step  <t>
    ");
}

#[trace]
async fn plain_spawner() -> u32 {
    // Suspends once whatever the spawned work does, so `busy` always shows.
    yield_now().await;
    tokio::spawn(plain_spawned()).await.unwrap()
}

#[trace]
async fn plain_spawned() -> u32 {
    yield_now().await;
    spawned_step(7).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_spawned_without_the_helpers_is_a_root_of_its_own() {
    capture_trees();
    assert_eq!(plain_spawner().await, 7);
    assert_snapshot!(render_normalised(&one_tree("plain_spawner")), @"plain_spawner  <t>  busy <t>");
    assert_snapshot!(render_normalised(&one_tree("plain_spawned")), @r"
    plain_spawned   <t>  busy <t>
      spawned_step  <t>
    ");
}

#[trace]
fn blocking_work(n: u32) -> u32 {
    blocking_step(n)
}

#[trace]
fn blocking_step(n: u32) -> u32 {
    n + 1
}

#[trace]
async fn blocking_spawner() -> u32 {
    // Suspends once whatever the spawned work does, so `busy` always shows.
    yield_now().await;
    let traced = trace_runtime::context::spawn_blocking(|| blocking_work(1))
        .await
        .unwrap();
    let plain = tokio::task::spawn_blocking(|| blocking_step(10))
        .await
        .unwrap();
    traced + plain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_blocking_nests_with_the_helper_and_not_without() {
    capture_trees();
    assert_eq!(blocking_spawner().await, 13);
    assert_snapshot!(render_normalised(&one_tree("blocking_spawner")), @r"
    blocking_spawner   <t>  busy <t>
      blocking_work    <t>
        blocking_step  <t>
    ");
    assert_snapshot!(render_normalised(&one_tree("blocking_step")), @"blocking_step  <t>");
}

#[trace]
fn thread_spawner() -> u32 {
    // Joined one by one, so the children's order is known.
    let helper = trace_runtime::context::spawn_thread(|| thread_work(1))
        .join()
        .unwrap();
    let context = TraceContext::current();
    let with_context = std::thread::spawn(move || context.run(|| thread_work(2)));
    let with_context = with_context.join().unwrap();
    let plain = std::thread::spawn(|| thread_step(100)).join().unwrap();
    helper + with_context + plain
}

#[trace]
fn thread_work(n: u32) -> u32 {
    thread_step(n)
}

#[trace]
fn thread_step(n: u32) -> u32 {
    n
}

#[test]
fn threads_nest_with_spawn_thread_or_a_trace_context_and_not_without() {
    capture_trees();
    assert_eq!(thread_spawner(), 103);
    assert_snapshot!(render_normalised(&one_tree("thread_spawner")), @r"
    thread_spawner   <t>
      thread_work    <t>
        thread_step  <t>
      thread_work    <t>
        thread_step  <t>
    ");
    assert_snapshot!(render_normalised(&one_tree("thread_step")), @"thread_step  <t>");
}

#[trace]
fn detached_parent(go: mpsc::Receiver<()>) -> std::thread::JoinHandle<()> {
    let (started, wait_started) = mpsc::channel();
    // Not joined by this call: the thread outlives it.
    let worker = trace_runtime::context::spawn_thread(move || detached_worker(&started, &go));
    wait_started.recv().unwrap();
    worker
}

#[trace]
fn detached_worker(started: &mpsc::Sender<()>, go: &mpsc::Receiver<()>) {
    detached_child();
    started.send(()).unwrap();
    go.recv().unwrap();
    detached_child();
}

#[trace]
fn detached_child() {}

#[test]
fn a_tree_is_delivered_when_its_root_ends_with_spawned_work_still_running() {
    capture_trees();
    let (go, wait) = mpsc::channel();
    let worker = detached_parent(wait);
    // The root has returned; the worker still runs, blocked on `go`.
    let tree = one_tree("detached_parent");
    assert_snapshot!(render_normalised(&tree), @r"
    detached_parent     <t>
      detached_worker   <t>  unfinished
        detached_child  <t>
    ");
    // Calls the worker makes after the delivery start trees of their own.
    go.send(()).unwrap();
    worker.join().unwrap();
    assert_snapshot!(render_normalised(&one_tree("detached_child")), @"detached_child  <t>");
    assert!(take_trees("detached_parent").is_empty());
    assert!(take_trees("detached_worker").is_empty());
}

#[trace]
async fn context_outside_any_call() -> u32 {
    spawned_step(3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagating_an_empty_context_starts_a_root_as_usual() {
    capture_trees();
    // Captured outside any traced call: the spawned call is its own root.
    let handle = trace_runtime::context::spawn(context_outside_any_call());
    assert_eq!(handle.await.unwrap(), 3);
    assert_snapshot!(render_normalised(&one_tree("context_outside_any_call")), @r"
    context_outside_any_call  <t>
      spawned_step            <t>
    ");
}
