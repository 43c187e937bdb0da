//! A task spawned with the propagation helpers that outlives its request (a
//! cache refresher, a subscription loop) neither holds the request's tree
//! back nor keeps its memory: 10,000 requests that each leave such a task
//! running deliver 10,000 trees at once, and the memory they leave behind
//! is within a fixed bound per request of what the same tasks cost when
//! spawned with plain `tokio::spawn`.
//!
//! Its own binary: it counts every byte allocated through a global allocator.
#![warn(clippy::pedantic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use trace_runtime::{trace, tree::CallTree, TraceFutureExt as _};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to `System`, only counting sizes on the way.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size().cast_signed(), Ordering::Relaxed);
        // SAFETY: as the caller guarantees for `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size().cast_signed(), Ordering::Relaxed);
        // SAFETY: as the caller guarantees for `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const REQUESTS: usize = 10_000;
/// What a delivered request may still hold while its spawned task runs, on
/// top of the task itself.
const BOUND_PER_REQUEST: isize = 1024;

static DELIVERED: AtomicUsize = AtomicUsize::new(0);

#[trace]
async fn refresh_forever(started: oneshot::Sender<()>) {
    refresh_once().await;
    let _ = started.send(());
    loop {
        tokio::time::sleep(Duration::from_hours(1)).await;
        refresh_once().await;
    }
}

#[trace]
async fn refresh_once() {}

#[trace]
async fn handle_traced() {
    // A tree of a few dozen nodes, so a tree kept alive would show.
    for _ in 0..40 {
        refresh_once().await;
    }
    let (started, wait) = oneshot::channel();
    drop(trace_runtime::context::spawn(refresh_forever(started)));
    // The task runs as a child of this request before the request ends.
    wait.await.unwrap();
}

async fn refresh_forever_plain(started: oneshot::Sender<()>) {
    let _ = started.send(());
    loop {
        tokio::time::sleep(Duration::from_hours(1)).await;
    }
}

async fn handle_plain() {
    for _ in 0..40 {
        refresh_once().await;
    }
    let (started, wait) = oneshot::channel();
    drop(tokio::spawn(refresh_forever_plain(started)));
    wait.await.unwrap();
}

fn wait_for_delivered(count: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while DELIVERED.load(Ordering::Relaxed) < count {
        assert!(
            Instant::now() < deadline,
            "{} of {count} trees delivered after 5 s",
            DELIVERED.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Live bytes after running `requests` requests of `handle` as roots named
/// `request-…`, once their trees are delivered.
fn growth(runtime: &tokio::runtime::Runtime, traced: bool) -> isize {
    let before = LIVE.load(Ordering::Relaxed);
    let delivered_before = DELIVERED.load(Ordering::Relaxed);
    runtime.block_on(async {
        let tasks: Vec<_> = (0..REQUESTS)
            .map(|_| {
                if traced {
                    tokio::spawn(handle_traced().in_request("request"))
                } else {
                    tokio::spawn(handle_plain().in_request("request"))
                }
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    wait_for_delivered(delivered_before + REQUESTS);
    LIVE.load(Ordering::Relaxed) - before
}

#[test]
fn requests_leaving_spawned_tasks_running_deliver_their_trees_and_free_them() {
    trace_runtime::tree::add_sink(|tree: &CallTree| {
        if tree.root().name() == "request" {
            DELIVERED.fetch_add(1, Ordering::Relaxed);
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    // Warm up: lazily allocated state (call sites, thread-locals, timers).
    growth(&runtime, true);
    growth(&runtime, false);

    let plain = growth(&runtime, false);
    let traced = growth(&runtime, true);
    let requests = isize::try_from(REQUESTS).unwrap();
    let per_request = (traced - plain) / requests;
    eprintln!(
        "plain tokio::spawn: {plain} bytes, with trace_runtime::context::spawn: {traced} bytes, \
         {per_request} more per request"
    );
    assert!(
        per_request <= BOUND_PER_REQUEST,
        "each request still holds {per_request} bytes more than its plain task"
    );
}
