//! The backend is down (it accepts connections and never answers): memory
//! stays flat over many traced calls, because the queue is bounded, and
//! every span is accounted for: dropped because the queue was full, or
//! because its export failed; none exported.
#![warn(clippy::pedantic)]

use std::net::TcpListener;
use std::time::Duration;

use trace_runtime::trace;

/// Calls per request, the root included.
const SPANS_PER_TREE: u64 = 100;
/// 10 000 requests of 100 calls: a million calls (the peers
/// bench runs ten million in release, `-- --only memory`).
const REQUESTS: u64 = 10_000;

#[trace]
fn leaf(x: u64) -> u64 {
    x.wrapping_mul(3)
}

fn request(i: u64) {
    trace_runtime::in_request("backend down", || {
        (0..SPANS_PER_TREE - 1).fold(i, |acc, x| acc ^ leaf(x))
    });
}

/// Resident memory of this process, in bytes (Linux `/proc/self/statm`).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn memory_stays_flat_and_drops_are_counted() {
    // Accepts (the kernel's backlog) and never answers: each export waits
    // for its timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    let otlp = trace_otel::OtlpBuilder::new()
        .endpoint(endpoint)
        .max_queue_spans(1_000)
        .batch_size(500)
        .scheduled_delay(Duration::from_millis(10))
        .timeout(Duration::from_millis(100))
        .install()
        .unwrap();
    trace_runtime::TreeConfig::current().log(false).apply();
    for i in 0..200 {
        request(i);
    }
    let before = resident_bytes();
    for i in 0..REQUESTS {
        request(i);
    }
    let after = resident_bytes();
    assert!(otlp.flush(), "the exporter thread finished its attempts");
    let stats = otlp.stats();
    let total = (200 + REQUESTS) * SPANS_PER_TREE;
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert_eq!(stats.sampled_out, 0, "{stats:?}");
    assert_eq!(
        stats.dropped_queue_full + stats.dropped_export_failed,
        total,
        "every span dropped and counted once: {stats:?}"
    );
    assert!(stats.dropped_queue_full > 0, "the queue filled: {stats:?}");
    assert!(stats.dropped_export_failed > 0, "exports failed: {stats:?}");
    // Each tree kept would hold about 10 KiB: unbounded, this is ~100 MiB.
    let growth = after.saturating_sub(before);
    assert!(
        growth < 4 << 20,
        "resident memory grew by {growth} bytes over {total} calls"
    );
    otlp.shutdown();
    drop(silent);
}
