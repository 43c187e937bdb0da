//! Exact metric values and label sets after known call sequences, read back
//! through `metrics_util`'s `DebuggingRecorder`: ok calls, `Err` returns,
//! panics, cancelled futures, `#[instrument_all]` methods, caller labels,
//! histogram samples and the in-flight gauge. Each test records its calls
//! with a local recorder of its own (async ones on a current-thread runtime,
//! so every call runs under it); the one test of calls on many threads uses
//! the global recorder. Every test calls functions no other test calls.
#![warn(clippy::pedantic)]

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt as _;
use trace_runtime::{instrument_all, trace, TraceFutureExt as _};
use trace_suite::metrics::{
    call_line, capture, concurrent_line, current_thread, duration_line, global, install_global,
    so_far, ROOT,
};

const MODULE: &str = module_path!();

fn quiet_panics() {
    // The panics below are expected; keep the test output readable.
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let expected = info
                .payload()
                .downcast_ref::<&str>()
                .is_some_and(|m| m.starts_with("expected:"));
            if !expected {
                default(info);
            }
        }));
    });
}

mod ok_and_err {
    use super::trace;

    #[trace]
    pub fn plain_ok(x: u32) -> u32 {
        x + 1
    }

    #[trace]
    pub fn checked_half(x: u32) -> Result<u32, String> {
        if x.is_multiple_of(2) {
            Ok(x / 2)
        } else {
            Err(format!("{x} is odd"))
        }
    }

    #[trace]
    pub fn half_of_half(x: u32) -> Result<u32, String> {
        let half = checked_half(x)?;
        checked_half(half)
    }

    #[trace]
    pub fn find(x: u32) -> Option<u32> {
        (x > 0).then_some(x)
    }

    #[trace]
    pub async fn async_checked(x: u32) -> Result<u32, std::io::Error> {
        tokio::task::yield_now().await;
        if x == 0 {
            Err(std::io::Error::other("zero"))
        } else {
            Ok(x)
        }
    }
}

#[test]
fn ok_calls_count_as_ok_with_empty_caller_labels_at_the_root() {
    const M: &str = "metrics_recorder::ok_and_err";
    let m = capture(|| {
        for x in 0..3 {
            assert_eq!(ok_and_err::plain_ok(x), x + 1);
        }
    });
    assert_eq!(
        m.call_lines("plain_ok"),
        [call_line("plain_ok", M, "ok", ROOT, 3)]
    );
    assert_eq!(
        m.duration_counts("plain_ok"),
        [duration_line("plain_ok", M, 3)]
    );
    assert_eq!(
        m.concurrent("plain_ok"),
        [concurrent_line("plain_ok", M, 0)]
    );
}

#[test]
fn err_returns_are_errors_none_is_ok_and_question_mark_counts_once() {
    const M: &str = "metrics_recorder::ok_and_err";
    let m = capture(|| {
        // 8 -> 4 -> 2: two ok checked_half calls; 6 -> 3 -> Err: one ok, one
        // err; 5 -> Err at once through `?`: one err.
        assert_eq!(ok_and_err::half_of_half(8), Ok(2));
        assert_eq!(ok_and_err::half_of_half(6), Err("3 is odd".to_owned()));
        assert_eq!(ok_and_err::half_of_half(5), Err("5 is odd".to_owned()));
        assert_eq!(ok_and_err::find(0), None);
        assert_eq!(ok_and_err::find(4), Some(4));
    });
    assert_eq!(
        m.call_lines("half_of_half"),
        [
            call_line("half_of_half", M, "error", ROOT, 2),
            call_line("half_of_half", M, "ok", ROOT, 1),
        ]
    );
    let caller = ("half_of_half", M);
    assert_eq!(
        m.call_lines("checked_half"),
        [
            call_line("checked_half", M, "error", caller, 2),
            call_line("checked_half", M, "ok", caller, 3),
        ]
    );
    assert_eq!(
        m.duration_counts("checked_half"),
        [duration_line("checked_half", M, 5)]
    );
    assert_eq!(m.call_lines("find"), [call_line("find", M, "ok", ROOT, 2)]);
}

#[test]
fn async_err_returns_through_a_result_alias_are_errors() {
    const M: &str = "metrics_recorder::ok_and_err";
    let m = capture(|| {
        current_thread().block_on(async {
            assert!(ok_and_err::async_checked(0).await.is_err());
            assert_eq!(ok_and_err::async_checked(7).await.unwrap(), 7);
            assert_eq!(ok_and_err::async_checked(9).await.unwrap(), 9);
        });
    });
    assert_eq!(
        m.call_lines("async_checked"),
        [
            call_line("async_checked", M, "error", ROOT, 1),
            call_line("async_checked", M, "ok", ROOT, 2),
        ]
    );
    assert_eq!(
        m.duration_counts("async_checked"),
        [duration_line("async_checked", M, 3)]
    );
    assert_eq!(
        m.concurrent("async_checked"),
        [concurrent_line("async_checked", M, 0)]
    );
}

#[trace]
fn panics_midway(seen_in_flight: &mut Vec<String>) -> u32 {
    seen_in_flight.extend(so_far().concurrent("panics_midway"));
    panic!("expected: sync panic");
}

#[trace]
fn calls_a_panicking_fn(seen_in_flight: &mut Vec<String>) -> u32 {
    panics_midway(seen_in_flight) + 1
}

#[test]
fn panics_are_errors_for_every_call_they_unwind_through_and_leave_no_call_in_flight() {
    quiet_panics();
    let mut seen = Vec::new();
    let m = capture(|| {
        let payload =
            catch_unwind(AssertUnwindSafe(|| calls_a_panicking_fn(&mut seen))).unwrap_err();
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"expected: sync panic")
        );
        let _ = catch_unwind(AssertUnwindSafe(|| panics_midway(&mut seen))).unwrap_err();
    });

    // In flight while its body ran: 1 each time.
    assert_eq!(
        seen,
        [
            concurrent_line("panics_midway", MODULE, 1),
            concurrent_line("panics_midway", MODULE, 1),
        ]
    );
    assert_eq!(
        m.call_lines("panics_midway"),
        [
            call_line("panics_midway", MODULE, "error", ROOT, 1),
            call_line(
                "panics_midway",
                MODULE,
                "error",
                ("calls_a_panicking_fn", MODULE),
                1
            ),
        ]
    );
    assert_eq!(
        m.call_lines("calls_a_panicking_fn"),
        [call_line("calls_a_panicking_fn", MODULE, "error", ROOT, 1)]
    );
    assert_eq!(
        m.concurrent("panics_midway"),
        [concurrent_line("panics_midway", MODULE, 0)]
    );
    assert_eq!(
        m.concurrent("calls_a_panicking_fn"),
        [concurrent_line("calls_a_panicking_fn", MODULE, 0)]
    );
    assert_eq!(
        m.duration_counts("panics_midway"),
        [duration_line("panics_midway", MODULE, 2)]
    );
}

#[trace]
async fn async_panics_after_a_yield() -> u32 {
    tokio::task::yield_now().await;
    panic!("expected: async panic");
}

#[test]
fn async_panics_are_errors_not_cancellations() {
    quiet_panics();
    let m = capture(|| {
        current_thread().block_on(async {
            // The future is dropped only after the panic was caught: still an
            // error.
            let caught = AssertUnwindSafe(async_panics_after_a_yield())
                .catch_unwind()
                .await;
            assert!(caught.is_err());
            let spawned = tokio::spawn(async_panics_after_a_yield()).await;
            assert!(spawned.unwrap_err().is_panic());
        });
    });
    assert_eq!(
        m.call_lines("async_panics_after_a_yield"),
        [call_line(
            "async_panics_after_a_yield",
            MODULE,
            "error",
            ROOT,
            2
        )]
    );
    assert_eq!(
        m.concurrent("async_panics_after_a_yield"),
        [concurrent_line("async_panics_after_a_yield", MODULE, 0)]
    );
}

#[trace]
async fn waits_forever() -> u32 {
    std::future::pending::<()>().await;
    1
}

#[trace]
async fn never_polled() -> u32 {
    2
}

#[test]
fn a_future_polled_once_then_dropped_is_cancelled_and_leaves_the_gauge_at_zero() {
    let m = capture(|| {
        {
            let mut future = pin!(waits_forever());
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
            let now = so_far();
            assert_eq!(
                now.concurrent("waits_forever"),
                [concurrent_line("waits_forever", MODULE, 1)]
            );
            assert_eq!(now.call_lines("waits_forever"), Vec::<String>::new());
        }
        assert_eq!(waits_forever().now_or_never(), None);
        // A future dropped before its first poll never started: nothing at
        // all.
        drop(never_polled());
    });

    assert_eq!(
        m.call_lines("waits_forever"),
        [call_line("waits_forever", MODULE, "cancelled", ROOT, 2)]
    );
    assert_eq!(
        m.concurrent("waits_forever"),
        [concurrent_line("waits_forever", MODULE, 0)]
    );
    // Cancelled calls are timed up to the drop, like every other call.
    assert_eq!(
        m.duration_counts("waits_forever"),
        [duration_line("waits_forever", MODULE, 2)]
    );
    assert_eq!(m.call_lines("never_polled"), Vec::<String>::new());
    assert_eq!(m.duration_counts("never_polled"), Vec::<String>::new());
}

#[trace]
async fn sleeps_for(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[trace]
async fn quick_answer() -> u64 {
    tokio::task::yield_now().await;
    0
}

#[trace]
async fn races_a_sleeper() -> u64 {
    tokio::select! {
        slow = sleeps_for(60_000) => slow,
        quick = quick_answer() => quick,
    }
}

#[trace]
async fn sleeps_past_its_timeout() -> u64 {
    tokio::time::sleep(Duration::from_secs(30)).await;
    1
}

#[test]
fn select_losers_and_timeouts_are_cancelled_with_their_caller() {
    let m = capture(|| {
        current_thread().block_on(async {
            assert_eq!(races_a_sleeper().await, 0);
            assert_eq!(races_a_sleeper().await, 0);
            let timed_out =
                tokio::time::timeout(Duration::from_millis(20), sleeps_past_its_timeout());
            assert!(timed_out.await.is_err());
        });
    });

    let racer = ("races_a_sleeper", MODULE);
    assert_eq!(
        m.call_lines("sleeps_for"),
        [call_line("sleeps_for", MODULE, "cancelled", racer, 2)]
    );
    assert_eq!(
        m.call_lines("quick_answer"),
        [call_line("quick_answer", MODULE, "ok", racer, 2)]
    );
    assert_eq!(
        m.call_lines("races_a_sleeper"),
        [call_line("races_a_sleeper", MODULE, "ok", ROOT, 2)]
    );
    assert_eq!(
        m.call_lines("sleeps_past_its_timeout"),
        [call_line(
            "sleeps_past_its_timeout",
            MODULE,
            "cancelled",
            ROOT,
            1
        )]
    );
    for function in ["sleeps_for", "sleeps_past_its_timeout", "races_a_sleeper"] {
        assert_eq!(
            m.concurrent(function),
            [concurrent_line(function, MODULE, 0)]
        );
    }
    // The timed-out call ran for at least its timeout before it was dropped.
    let timed = m.durations("sleeps_past_its_timeout");
    assert_eq!(timed.len(), 1);
    assert!(timed[0] >= 0.020, "{timed:?}");
}

struct Rooms {
    fail_saves: bool,
}

#[instrument_all]
impl Rooms {
    async fn create_room(&self, name: &str) -> Result<usize, String> {
        Self::validate_room(name)?;
        self.save_room(name).await?;
        Ok(name.len())
    }

    fn validate_room(name: &str) -> Result<(), String> {
        if name.is_empty() {
            Err("empty name".to_owned())
        } else {
            Ok(())
        }
    }

    async fn save_room(&self, name: &str) -> Result<(), String> {
        tokio::task::yield_now().await;
        if self.fail_saves {
            Err(format!("cannot save {name}"))
        } else {
            Ok(())
        }
    }

    #[trace(name = "rooms.count")]
    fn count(&self) -> usize {
        usize::from(self.fail_saves)
    }

    #[trace(skip)]
    fn untraced(&self) -> bool {
        self.fail_saves
    }
}

#[test]
fn instrument_all_methods_are_labelled_type_method_with_method_callers() {
    let m = capture(|| {
        current_thread().block_on(async {
            let ok = Rooms { fail_saves: false };
            let failing = Rooms { fail_saves: true };
            assert_eq!(ok.create_room("lobby").await, Ok(5));
            assert_eq!(ok.create_room("").await, Err("empty name".to_owned()));
            assert_eq!(
                failing.create_room("attic").await,
                Err("cannot save attic".to_owned())
            );
            assert_eq!(failing.count(), 1);
            assert!(failing.untraced());
        });
    });

    let create = ("Rooms::create_room", MODULE);
    assert_eq!(
        m.call_lines("Rooms::create_room"),
        [
            call_line("Rooms::create_room", MODULE, "error", ROOT, 2),
            call_line("Rooms::create_room", MODULE, "ok", ROOT, 1),
        ]
    );
    assert_eq!(
        m.call_lines("Rooms::validate_room"),
        [
            call_line("Rooms::validate_room", MODULE, "error", create, 1),
            call_line("Rooms::validate_room", MODULE, "ok", create, 2),
        ]
    );
    assert_eq!(
        m.call_lines("Rooms::save_room"),
        [
            call_line("Rooms::save_room", MODULE, "error", create, 1),
            call_line("Rooms::save_room", MODULE, "ok", create, 1),
        ]
    );
    assert_eq!(
        m.call_lines("rooms.count"),
        [call_line("rooms.count", MODULE, "ok", ROOT, 1)]
    );
    assert_eq!(m.call_lines("Rooms::untraced"), Vec::<String>::new());
    assert_eq!(m.call_lines("untraced"), Vec::<String>::new());
    assert_eq!(
        m.duration_counts("Rooms::save_room"),
        [duration_line("Rooms::save_room", MODULE, 2)]
    );
}

mod callers {
    use super::trace;

    #[trace]
    pub fn leaf() -> u8 {
        1
    }

    #[trace]
    pub fn branch() -> u8 {
        leaf() + leaf()
    }

    #[trace]
    pub async fn async_leaf() -> u8 {
        tokio::task::yield_now().await;
        leaf()
    }

    #[trace]
    pub async fn spawner(propagate: bool) -> u8 {
        use trace_runtime::TraceFutureExt as _;
        let handle = if propagate {
            tokio::spawn(async_leaf().in_current_trace())
        } else {
            tokio::spawn(async_leaf())
        };
        handle.await.unwrap()
    }
}

#[test]
fn caller_labels_name_the_traced_parent_and_are_empty_for_roots() {
    const M: &str = "metrics_recorder::callers";
    let m = capture(|| {
        current_thread().block_on(async {
            assert_eq!(callers::branch(), 2);
            assert_eq!(callers::leaf(), 1);
            // Directly under a user-opened root there is no calling function.
            assert_eq!(
                trace_runtime::in_request("caller labels test", callers::leaf),
                1
            );
            assert_eq!(callers::async_leaf().in_request("GET /callers").await, 1);
            assert_eq!(callers::spawner(true).await, 1);
            assert_eq!(callers::spawner(false).await, 1);
        });
    });

    assert_eq!(
        m.call_lines("leaf"),
        [
            call_line("leaf", M, "ok", ROOT, 2),
            call_line("leaf", M, "ok", ("async_leaf", M), 3),
            call_line("leaf", M, "ok", ("branch", M), 2),
        ]
    );
    // Spawned with `in_current_trace`, the task's call has the spawner as
    // caller; spawned bare, it is a root of its own.
    assert_eq!(
        m.call_lines("async_leaf"),
        [
            call_line("async_leaf", M, "ok", ROOT, 2),
            call_line("async_leaf", M, "ok", ("spawner", M), 1),
        ]
    );
    assert_eq!(
        m.call_lines("spawner"),
        [call_line("spawner", M, "ok", ROOT, 2)]
    );
}

#[trace]
async fn sleeps_15ms() {
    tokio::time::sleep(Duration::from_millis(15)).await;
}

#[test]
fn the_histogram_gets_one_sample_per_call_in_seconds() {
    let m = capture(|| {
        current_thread().block_on(async {
            for _ in 0..4 {
                sleeps_15ms().await;
            }
        });
    });
    let samples = m.durations("sleeps_15ms");
    assert_eq!(samples.len(), 4);
    // Seconds, not milliseconds or nanoseconds.
    assert!(
        samples.iter().all(|s| (0.015..5.0).contains(s)),
        "{samples:?}"
    );
}

#[trace]
async fn hammered(i: u64) -> u64 {
    if i.is_multiple_of(3) {
        tokio::task::yield_now().await;
    }
    i
}

/// Counted by the global recorder: a local recorder sees only the calls on
/// its own thread, and these run on four.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_on_the_multi_thread_runtime_are_all_counted() {
    install_global();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(async {
                let mut sum = 0;
                for i in 0..500 {
                    sum += hammered(i).await;
                }
                sum
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), (0..500).sum::<u64>());
    }
    let m = global();
    assert_eq!(
        m.call_lines("hammered"),
        [call_line("hammered", MODULE, "ok", ROOT, 4000)]
    );
    assert_eq!(
        m.duration_counts("hammered"),
        [duration_line("hammered", MODULE, 4000)]
    );
    assert_eq!(
        m.concurrent("hammered"),
        [concurrent_line("hammered", MODULE, 0)]
    );
}
