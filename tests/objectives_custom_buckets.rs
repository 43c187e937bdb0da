//! With custom buckets, an objective whose latency target is not one of
//! them (and that was not declared to the builder, which would have refused
//! to install) is said once, as a `tracing` warning naming the function, the
//! objective and the target. Its own binary: it installs the exporter and a
//! subscriber.
#![warn(clippy::pedantic)]

use trace_runtime::objective::{Latency, Objective, Percentile};
use trace_runtime::{trace, ExporterBuilder};
use trace_suite::log::LogBuffer;

const CHECKOUT: Objective = Objective::new("checkout").latency(Latency::Ms250, Percentile::P99);

#[trace(objective = CHECKOUT)]
fn pay() -> u32 {
    3
}

#[test]
fn a_target_that_is_not_a_bucket_is_said_once() {
    let buffer = LogBuffer::install_global();
    let _exporter = ExporterBuilder::new()
        .buckets(&[0.1, 1.0])
        .install()
        .expect("the only recorder of this test binary");
    assert_eq!(pay(), 3);
    assert_eq!(pay(), 3);
    let logged = buffer.take();
    let warnings: Vec<&str> = logged
        .lines()
        .filter(|l| l.contains("trace_runtime::objective"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logged}");
    assert!(warnings[0].contains("WARN"), "{logged}");
    assert!(warnings[0].contains("objective=\"checkout\""), "{logged}");
    assert!(warnings[0].contains("threshold_seconds=0.25"), "{logged}");
    assert!(warnings[0].contains("function=\"pay\""), "{logged}");
}
