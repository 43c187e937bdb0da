//! Local recorders (`metrics::with_local_recorder`) each receive exactly the
//! traced calls made under them: two recorders built one after the other at
//! the same stack address, and zero-sized recorders of different types, are
//! told apart; nested captures each get the calls made directly under them;
//! a call counts into the recorder current when it started, wherever it
//! ends. No global recorder is installed in this binary.
#![warn(clippy::pedantic)]

use std::sync::LazyLock;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::debugging::{DebuggingRecorder, Snapshotter};
use trace_runtime::trace;
use trace_suite::metrics::{call_line, capture, concurrent_line, duration_line, Snapshot, ROOT};

const MODULE: &str = module_path!();

#[trace]
fn counted_on_the_stack() -> u8 {
    1
}

/// Builds a recorder in this frame, makes `calls` calls under it, and
/// returns the recorder's address and what it recorded.
#[inline(never)]
fn calls_under_a_stack_recorder(calls: usize) -> (usize, Snapshot) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        for _ in 0..calls {
            assert_eq!(counted_on_the_stack(), 1);
        }
    });
    let mut snapshot = Snapshot::default();
    snapshot.fold(&snapshotter);
    (std::ptr::from_ref(&recorder).addr(), snapshot)
}

#[test]
fn recorders_built_one_after_the_other_at_one_address_each_get_their_own_calls() {
    let (first_at, first) = calls_under_a_stack_recorder(2);
    let (second_at, second) = calls_under_a_stack_recorder(3);
    // The situation under test: the second recorder reuses the first one's
    // place on the stack.
    assert_eq!(first_at, second_at);
    let f = "counted_on_the_stack";
    assert_eq!(first.call_lines(f), [call_line(f, MODULE, "ok", ROOT, 2)]);
    assert_eq!(second.call_lines(f), [call_line(f, MODULE, "ok", ROOT, 3)]);
    assert_eq!(second.duration_counts(f), [duration_line(f, MODULE, 3)]);
    assert_eq!(second.concurrent(f), [concurrent_line(f, MODULE, 0)]);
}

/// Declares a zero-sized recorder type that forwards to its own static
/// `DebuggingRecorder`.
macro_rules! zero_sized_recorder {
    ($name:ident, $inner:ident) => {
        static $inner: LazyLock<DebuggingRecorder> = LazyLock::new(DebuggingRecorder::new);

        struct $name;

        impl Recorder for $name {
            fn describe_counter(&self, key: KeyName, unit: Option<Unit>, text: SharedString) {
                $inner.describe_counter(key, unit, text);
            }
            fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, text: SharedString) {
                $inner.describe_gauge(key, unit, text);
            }
            fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, text: SharedString) {
                $inner.describe_histogram(key, unit, text);
            }
            fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
                $inner.register_counter(key, metadata)
            }
            fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
                $inner.register_gauge(key, metadata)
            }
            fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
                $inner.register_histogram(key, metadata)
            }
        }
    };
}

zero_sized_recorder!(IntoFirst, FIRST);
zero_sized_recorder!(IntoSecond, SECOND);

fn recorded(snapshotter: &Snapshotter) -> Snapshot {
    let mut recorded = Snapshot::default();
    recorded.fold(snapshotter);
    recorded
}

#[trace]
fn counted_zero_sized() -> u8 {
    2
}

#[test]
fn zero_sized_recorders_of_different_types_each_get_their_own_calls() {
    let (first, second) = (FIRST.snapshotter(), SECOND.snapshotter());
    metrics::with_local_recorder(&IntoFirst, || assert_eq!(counted_zero_sized(), 2));
    metrics::with_local_recorder(&IntoSecond, || {
        assert_eq!(counted_zero_sized(), 2);
        assert_eq!(counted_zero_sized(), 2);
    });
    let f = "counted_zero_sized";
    assert_eq!(
        recorded(&first).call_lines(f),
        [call_line(f, MODULE, "ok", ROOT, 1)]
    );
    assert_eq!(
        recorded(&second).call_lines(f),
        [call_line(f, MODULE, "ok", ROOT, 2)]
    );
}

#[trace]
fn nested_inner() -> u8 {
    3
}

#[trace]
fn nested_outer() -> u8 {
    nested_inner() + nested_inner()
}

#[test]
fn nested_captures_each_get_the_calls_made_directly_under_them() {
    let mut inner = Snapshot::default();
    let outer = capture(|| {
        assert_eq!(nested_outer(), 6);
        inner = capture(|| assert_eq!(nested_inner(), 3));
    });
    assert_eq!(
        outer.call_lines("nested_inner"),
        [call_line(
            "nested_inner",
            MODULE,
            "ok",
            ("nested_outer", MODULE),
            2
        )]
    );
    assert_eq!(
        inner.call_lines("nested_inner"),
        [call_line("nested_inner", MODULE, "ok", ROOT, 1)]
    );
    assert_eq!(inner.call_lines("nested_outer"), Vec::<String>::new());
}

#[trace]
async fn finished_elsewhere() -> u8 {
    tokio::task::yield_now().await;
    4
}

#[test]
fn a_call_counts_into_the_recorder_current_when_it_started() {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let mut future = Box::pin(finished_elsewhere());
    metrics::with_local_recorder(&recorder, || {
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
    });
    let f = "finished_elsewhere";
    let started = recorded(&snapshotter);
    assert_eq!(started.concurrent(f), [concurrent_line(f, MODULE, 1)]);
    // Ends on another thread, which has no local recorder.
    let ended = std::thread::spawn(move || {
        let mut cx = Context::from_waker(Waker::noop());
        future.as_mut().poll(&mut cx) == Poll::Ready(4)
    });
    assert!(ended.join().unwrap());
    let mut all = started;
    all.fold(&snapshotter);
    assert_eq!(all.call_lines(f), [call_line(f, MODULE, "ok", ROOT, 1)]);
    assert_eq!(all.concurrent(f), [concurrent_line(f, MODULE, 0)]);
    assert_eq!(all.duration_counts(f), [duration_line(f, MODULE, 1)]);
}
