//! With the `off` feature the macros expand to the bare item: nothing is
//! recorded and async futures are exactly the size of the untraced ones.
//!
//! Run with `cargo test -p trace-runtime --features off --test static_off`.
#![cfg(feature = "off")]

use metrics_util::debugging::DebuggingRecorder;
use trace_runtime::{instrument_all, trace};

#[trace]
fn add(a: u32, b: u32) -> u32 {
    a + b
}

#[trace(name = "renamed")]
async fn traced_async(x: u64) -> u64 {
    tokio::task::yield_now().await;
    x * 2
}

async fn untraced_async(x: u64) -> u64 {
    tokio::task::yield_now().await;
    x * 2
}

struct Service;

#[instrument_all]
impl Service {
    fn get(&self) -> u8 {
        1
    }

    #[trace(skip)]
    fn skipped(&self) -> u8 {
        2
    }
}

#[test]
fn records_nothing_and_adds_nothing() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        assert_eq!(add(1, 2), 3);
        assert_eq!(Service.get() + Service.skipped(), 3);
        let value = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(traced_async(4));
        assert_eq!(value, 8);
    });
    assert!(snapshotter.snapshot().into_vec().is_empty());
    assert_eq!(
        std::mem::size_of_val(&traced_async(1)),
        std::mem::size_of_val(&untraced_async(1))
    );
}
