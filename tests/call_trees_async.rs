//! Call trees of async code: nesting across `.await`, sync calls inside async
//! ones, `join!`, `select!` and `FuturesUnordered` siblings whose polls
//! interleave, async recursion, `in_request` roots, cancellation and panics.
#![warn(clippy::pedantic)]

use std::future::Future;
use std::pin::Pin;

use futures::stream::{FuturesUnordered, StreamExt as _};
use futures::FutureExt as _;
use insta::assert_snapshot;
use tokio::task::yield_now;
use trace_runtime::{instrument_all, trace, TraceFutureExt as _};
use trace_suite::{capture_trees, one_tree, render_normalised, take_trees};

#[trace]
async fn async_order(id: u32) -> u32 {
    let loaded = async_load(id).await;
    loaded + price_in_async(id)
}

#[trace]
async fn async_load(id: u32) -> u32 {
    yield_now().await;
    async_query(id).await
}

#[trace]
async fn async_query(id: u32) -> u32 {
    id
}

#[trace]
fn price_in_async(id: u32) -> u32 {
    id * 2
}

#[tokio::test]
async fn async_calls_and_sync_calls_inside_them_nest_under_their_caller() {
    capture_trees();
    assert_eq!(async_order(4).await, 12);
    // `busy` (time inside `poll`) shows for calls polled more than once.
    assert_snapshot!(render_normalised(&one_tree("async_order")), @r"
    async_order       <t>  busy <t>
      async_load      <t>  busy <t>
        async_query   <t>
      price_in_async  <t>
    ");
}

#[trace]
async fn join_parent() -> u32 {
    let (left, right) = tokio::join!(join_left(), join_right());
    left + right
}

#[trace]
async fn join_left() -> u32 {
    join_leaf_a().await + join_leaf_b().await
}

#[trace]
async fn join_right() -> u32 {
    join_leaf_c().await + join_leaf_d().await
}

// Each leaf stays open across a yield, so while one sibling's leaf is open the
// other sibling runs and opens its own: a depth counter or a single stack of
// open calls would put `join_leaf_c` under `join_leaf_a`.
#[trace]
async fn join_leaf_a() -> u32 {
    yield_now().await;
    1
}

#[trace]
async fn join_leaf_b() -> u32 {
    yield_now().await;
    2
}

#[trace]
async fn join_leaf_c() -> u32 {
    yield_now().await;
    3
}

#[trace]
async fn join_leaf_d() -> u32 {
    yield_now().await;
    4
}

#[tokio::test]
async fn join_siblings_whose_polls_interleave_keep_their_own_children() {
    capture_trees();
    assert_eq!(join_parent().await, 10);
    assert_snapshot!(render_normalised(&one_tree("join_parent")), @r"
    join_parent      <t>  busy <t>
      join_left      <t>  busy <t>
        join_leaf_a  <t>  busy <t>
        join_leaf_b  <t>  busy <t>
      join_right     <t>  busy <t>
        join_leaf_c  <t>  busy <t>
        join_leaf_d  <t>  busy <t>
    ");
}

#[trace]
async fn unordered_parent() -> Vec<u32> {
    let mut running: FuturesUnordered<_> = (1..=3).map(unordered_child).collect();
    let mut done = Vec::new();
    while let Some(n) = running.next().await {
        done.push(n);
    }
    done
}

#[trace]
async fn unordered_child(n: u32) -> u32 {
    for _ in 0..n {
        unordered_step(n).await;
    }
    n
}

#[trace]
async fn unordered_step(n: u32) {
    yield_now().await;
    let _ = n;
}

#[tokio::test]
async fn futures_unordered_children_keep_their_own_steps() {
    capture_trees();
    // The child with the fewest steps finishes first.
    assert_eq!(unordered_parent().await, vec![1, 2, 3]);
    assert_snapshot!(render_normalised(&one_tree("unordered_parent")), @r"
    unordered_parent    <t>  busy <t>
      unordered_child   <t>  busy <t>
        unordered_step  <t>  busy <t>
      unordered_child   <t>  busy <t>
        unordered_step  <t>  busy <t>
        unordered_step  <t>  busy <t>
      unordered_child   <t>  busy <t>
        unordered_step  <t>  busy <t>
        unordered_step  <t>  busy <t>
        unordered_step  <t>  busy <t>
    ");
}

#[trace]
async fn select_parent() -> &'static str {
    tokio::select! {
        biased;
        () = select_stalls() => "stalled",
        won = select_wins() => won,
    }
}

#[trace]
async fn select_stalls() {
    select_step().await;
    std::future::pending::<()>().await;
}

#[trace]
async fn select_step() {}

#[trace]
async fn select_wins() -> &'static str {
    yield_now().await;
    "won"
}

#[tokio::test]
async fn the_losing_select_branch_is_marked_cancelled() {
    capture_trees();
    assert_eq!(select_parent().await, "won");
    let tree = one_tree("select_parent");
    assert!(!tree.has_failure(), "a cancelled call is not a failure");
    assert_snapshot!(render_normalised(&tree), @r"
    select_parent    <t>  busy <t>
      select_stalls  <t>  busy <t>  cancelled
        select_step  <t>
      select_wins    <t>  busy <t>
    ");
}

#[trace]
async fn never_answers() -> u32 {
    select_step().await;
    std::future::pending().await
}

#[test]
fn a_dropped_request_future_marks_its_root_and_open_calls_cancelled() {
    capture_trees();
    // Polled once, then dropped.
    assert_eq!(
        never_answers().in_request("GET /hangs").now_or_never(),
        None
    );
    assert_snapshot!(render_normalised(&one_tree("GET /hangs")), @r"
    GET /hangs       <t>  busy <t>  cancelled
      never_answers  <t>  busy <t>  cancelled
        select_step  <t>
    ");
}

#[trace]
async fn async_countdown(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        Box::pin(async_countdown(n - 1)).await + 1
    }
}

#[trace]
fn boxed_countdown(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
    Box::pin(async move {
        yield_now().await;
        if n == 0 {
            0
        } else {
            boxed_countdown(n - 1).await + 1
        }
    })
}

#[tokio::test]
async fn async_recursion_nests_one_level_per_call() {
    capture_trees();
    assert_eq!(async_countdown(3).await, 3);
    assert_snapshot!(render_normalised(&one_tree("async_countdown")), @r"
    async_countdown        <t>
      async_countdown      <t>
        async_countdown    <t>
          async_countdown  <t>
    ");
    assert_eq!(boxed_countdown(2).await, 2);
    assert_snapshot!(render_normalised(&one_tree("boxed_countdown")), @r"
    boxed_countdown      <t>  busy <t>
      boxed_countdown    <t>  busy <t>
        boxed_countdown  <t>  busy <t>
    ");
}

struct Rooms {
    max_name: usize,
    disk_full: bool,
}

#[instrument_all]
impl Rooms {
    async fn create_room(&self, name: &str) -> Result<u32, String> {
        self.validate_room(name)?;
        yield_now().await;
        self.save_room(name).await
    }

    fn validate_room(&self, name: &str) -> Result<(), String> {
        if name.is_empty() || name.len() > self.max_name {
            Err("bad name".into())
        } else {
            Ok(())
        }
    }

    async fn save_room(&self, name: &str) -> Result<u32, String> {
        yield_now().await;
        if self.disk_full {
            Err(format!("disk full, {name} not saved"))
        } else {
            Ok(1)
        }
    }
}

#[trace]
async fn audit(what: &str) -> usize {
    what.len()
}

async fn get_rooms() -> usize {
    let rooms = Rooms {
        max_name: 16,
        disk_full: true,
    };
    assert!(rooms.create_room("lobby").await.is_err());
    audit("create_room").await
}

#[tokio::test]
async fn in_request_opens_a_named_root_for_a_future() {
    capture_trees();
    assert_eq!(get_rooms().in_request("GET /rooms async").await, 11);
    assert_snapshot!(render_normalised(&one_tree("GET /rooms async")), @r"
    GET /rooms async          <t>  busy <t>
      Rooms::create_room      <t>  busy <t>  err
        Rooms::validate_room  <t>
        Rooms::save_room      <t>  busy <t>  err
      audit                   <t>
    ");
}

#[trace]
async fn outer_handler() -> u32 {
    // A request opened inside another is a separate tree, and one node of
    // the outer tree links to it. Completing in one poll, it shows no
    // `busy` (it equals the wall time).
    async_query(1).in_request("POST /inner").await + async_query(2).await
}

#[tokio::test]
async fn in_request_inside_a_request_opens_a_separate_tree_linked_from_the_outer_one() {
    capture_trees();
    assert_eq!(outer_handler().await, 3);
    let outer = one_tree("outer_handler");
    let inner = one_tree("POST /inner");
    let link = outer.root().children().next().unwrap();
    assert_eq!(link.linked_tree(), Some(inner.id()));
    assert_eq!(inner.outer_tree(), Some(outer.id()));
    assert_eq!(link.name(), "POST /inner");
    assert!(link.wall() >= inner.root().wall());
    assert_eq!(
        outer.traced_calls(),
        2,
        "the linked request is not a traced call"
    );
    assert_snapshot!(render_normalised(&outer), @r"
        outer_handler  <t>
          POST /inner  <t>  linked tree <id>
          async_query  <t>
        ");
    assert_snapshot!(render_normalised(&inner), @r"
        POST /inner    <t>  tree <id> inside tree <id>
          async_query  <t>
        ");
}

#[trace]
async fn async_panic_outer() -> u32 {
    async_panic_step().await;
    async_panic_inner().await + 1
}

#[trace]
async fn async_panic_step() {
    yield_now().await;
}

#[trace]
async fn async_panic_inner() -> u32 {
    yield_now().await;
    panic!("boom in async_panic_inner")
}

#[trace]
async fn fresh_after_async_panic() -> u32 {
    async_panic_step().await;
    5
}

#[tokio::test]
async fn a_panic_in_a_nested_async_call_marks_it_and_leaves_no_stale_context() {
    capture_trees();
    // On the current-thread runtime the task panics on this very thread.
    let error = tokio::spawn(async_panic_outer()).await.unwrap_err();
    assert!(error.is_panic());
    assert_snapshot!(render_normalised(&one_tree("async_panic_outer")), @r"
    async_panic_outer    <t>  busy <t>  panic
      async_panic_step   <t>  busy <t>
      async_panic_inner  <t>  busy <t>  panic
    ");
    assert_eq!(fresh_after_async_panic().await, 5);
    assert_snapshot!(render_normalised(&one_tree("fresh_after_async_panic")), @r"
    fresh_after_async_panic  <t>  busy <t>
      async_panic_step       <t>  busy <t>
    ");
    assert!(take_trees("async_panic_outer").is_empty());
}

#[tokio::test]
async fn a_panic_inside_an_in_request_root_marks_the_root_panicked() {
    capture_trees();
    let request = async_panic_outer().in_request("PUT /panics");
    let error = tokio::spawn(request).await.unwrap_err();
    assert!(error.is_panic());
    assert_snapshot!(render_normalised(&one_tree("PUT /panics")), @r"
    PUT /panics            <t>  busy <t>  panic
      async_panic_outer    <t>  busy <t>  panic
        async_panic_step   <t>  busy <t>
        async_panic_inner  <t>  busy <t>  panic
    ");
}

#[test]
fn a_panic_caught_around_an_in_request_root_marks_the_root_panicked() {
    capture_trees();
    // `catch_unwind` stops the panic inside its own poll, so the request
    // future is dropped later, when nothing is unwinding any more.
    let request = std::panic::AssertUnwindSafe(async_panic_outer().in_request("PUT /caught"));
    let caught = futures::executor::block_on(request.catch_unwind());
    assert!(caught.is_err());
    assert_snapshot!(render_normalised(&one_tree("PUT /caught")), @r"
    PUT /caught            <t>  busy <t>  panic
      async_panic_outer    <t>  busy <t>  panic
        async_panic_step   <t>  busy <t>
        async_panic_inner  <t>  busy <t>  panic
    ");
}
