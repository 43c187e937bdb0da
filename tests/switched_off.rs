//! The run-time switch (`set_enabled`): switched off, traced calls of every
//! shape record no metrics and no call tree; switched back on, they record
//! again. An async call keeps the state it started with when the switch
//! flips while it is suspended. The switch is global, so these tests take
//! turns. Each test records its calls with a local recorder of its own; the
//! futures run on the test's thread (`block_on`, or polled by hand).
#![warn(clippy::pedantic)]

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use futures::executor::block_on;
use tokio::task::yield_now;
use trace_runtime::{set_enabled, trace};
use trace_suite::capture::{capture_trees, take_trees};
use trace_suite::metrics::{call_line, capture, so_far, ROOT};

const MODULE: &str = module_path!();

/// Holds the switch for one test and turns it back on afterwards.
struct Switch(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Switch {
    fn take() -> Switch {
        static TURN: Mutex<()> = Mutex::new(());
        capture_trees();
        Switch(TURN.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        set_enabled(true);
    }
}

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[trace]
fn sync_leaf(x: u32) -> u32 {
    x + 1
}

#[trace]
fn sync_root(x: u32) -> u32 {
    sync_leaf(x) * 2
}

#[trace]
async fn async_leaf(x: u32) -> u32 {
    yield_now().await;
    x + 1
}

#[trace]
async fn async_root(x: u32) -> u32 {
    async_leaf(x).await * 2
}

#[trace]
fn future_root(x: u32) -> impl Future<Output = u32> {
    async move { async_leaf(x).await * 3 }
}

#[test]
fn switched_off_calls_record_nothing_and_switched_on_they_record_again() {
    let _switch = Switch::take();
    capture(|| {
        set_enabled(false);
        assert!(!trace_runtime::is_enabled());
        assert_eq!(sync_root(1), 4);
        assert_eq!(block_on(async_root(1)), 4);
        assert_eq!(block_on(future_root(1)), 6);
        for function in [
            "sync_root",
            "sync_leaf",
            "async_root",
            "async_leaf",
            "future_root",
        ] {
            assert_eq!(
                so_far().call_lines(function),
                Vec::<String>::new(),
                "{function}"
            );
            assert!(take_trees(function).is_empty(), "{function}");
        }

        set_enabled(true);
        assert_eq!(sync_root(1), 4);
        assert_eq!(block_on(async_root(1)), 4);
        assert_eq!(block_on(future_root(1)), 6);
        assert_eq!(
            so_far().call_lines("sync_root"),
            [call_line("sync_root", MODULE, "ok", ROOT, 1)]
        );
        assert_eq!(
            so_far().call_lines("sync_leaf"),
            [call_line(
                "sync_leaf",
                MODULE,
                "ok",
                ("sync_root", MODULE),
                1
            )]
        );
        assert_eq!(
            so_far().call_lines("async_root"),
            [call_line("async_root", MODULE, "ok", ROOT, 1)]
        );
        assert_eq!(
            so_far().call_lines("future_root"),
            [call_line("future_root", MODULE, "ok", ROOT, 1)]
        );
        assert_eq!(
            so_far().call_lines("async_leaf"),
            [
                call_line("async_leaf", MODULE, "ok", ("async_root", MODULE), 1),
                call_line("async_leaf", MODULE, "ok", ("future_root", MODULE), 1),
            ]
        );
        for root in ["sync_root", "async_root", "future_root"] {
            let trees = take_trees(root);
            assert_eq!(trees.len(), 1, "{root}");
            assert_eq!(trees[0].call_count(), 2, "{root}");
        }
    });
}

#[trace]
async fn started_on(x: u32) -> u32 {
    yield_now().await;
    x
}

#[trace]
async fn started_off(x: u32) -> u32 {
    yield_now().await;
    x
}

#[trace]
fn future_started_off(x: u32) -> impl Future<Output = u32> {
    async move {
        yield_now().await;
        x
    }
}

#[test]
fn an_async_call_keeps_the_state_it_started_with() {
    let _switch = Switch::take();

    capture(|| {
        set_enabled(true);
        let mut on = pin!(started_on(7));
        assert!(poll_once(on.as_mut()).is_pending());
        set_enabled(false);
        assert_eq!(poll_once(on.as_mut()), Poll::Ready(7));
        assert_eq!(
            so_far().call_lines("started_on"),
            [call_line("started_on", MODULE, "ok", ROOT, 1)]
        );
        assert_eq!(take_trees("started_on").len(), 1);

        let mut off = pin!(started_off(8));
        let mut future_off = pin!(future_started_off(9));
        assert!(poll_once(off.as_mut()).is_pending());
        assert!(poll_once(future_off.as_mut()).is_pending());
        set_enabled(true);
        assert_eq!(poll_once(off.as_mut()), Poll::Ready(8));
        assert_eq!(poll_once(future_off.as_mut()), Poll::Ready(9));
        for function in ["started_off", "future_started_off"] {
            assert_eq!(
                so_far().call_lines(function),
                Vec::<String>::new(),
                "{function}"
            );
            assert!(take_trees(function).is_empty(), "{function}");
        }
    });
}
