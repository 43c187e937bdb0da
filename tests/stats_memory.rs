//! Live statistics take memory per function, not per call: ten million
//! calls leave the resident set where a hundred thousand left it. Its own
//! binary: it installs the exporter, and nothing else allocates meanwhile.
#![warn(clippy::pedantic)]

use std::time::Duration;

use trace_runtime::{trace, ExporterBuilder};

#[trace]
fn tiny(i: u64) -> Result<u64, u64> {
    if i.is_multiple_of(7) {
        Err(i)
    } else {
        Ok(i)
    }
}

/// Resident memory, in bytes, from `/proc/self/statm`.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn ten_million_calls_keep_the_statistics_memory_flat() {
    ExporterBuilder::new()
        .stats(Duration::from_millis(300))
        .install()
        .unwrap();
    let mut i = 0_u64;
    let mut calls = |n: u64| {
        for _ in 0..n {
            let _ = std::hint::black_box(tiny(std::hint::black_box(i)));
            i += 1;
        }
    };
    calls(100_000);
    // Ticks have taken the window's totals a few times by now.
    std::thread::sleep(Duration::from_millis(400));
    let _ = trace_runtime::stats::snapshot();
    let before = resident();
    calls(10_000_000);
    std::thread::sleep(Duration::from_millis(400));
    let stats = trace_runtime::stats::snapshot();
    let after = resident();
    let tiny = stats.functions.iter().find(|f| f.name == "tiny").unwrap();
    assert_eq!(tiny.lifetime.count, 10_100_000);
    assert_eq!(tiny.lifetime.errors, 10_100_000_u64.div_ceil(7));
    let grown = after.saturating_sub(before);
    assert!(
        grown < 512 * 1024,
        "resident memory grew by {grown} bytes over 10 million calls"
    );
}
