//! Custom buckets from `ExporterBuilder::buckets` shape the rendered
//! `function_calls_duration_seconds` histogram: its `le` bounds, which
//! bucket each call lands in, and an exact `_sum`; those from
//! `histogram_buckets` make other code's histograms real histograms.
#![warn(clippy::pedantic)]

use std::time::Duration;

use trace_runtime::{trace, ExporterBuilder};
use trace_suite::prometheus;

const MODULE: &str = module_path!();

#[trace]
fn buckets_fast() -> u32 {
    1
}

#[trace]
fn buckets_slow() {
    std::thread::sleep(Duration::from_millis(30));
}

fn labels(function: &str) -> String {
    format!("service_name=\"buckets-svc\",function=\"{function}\",module=\"{MODULE}\"")
}

fn buckets(text: &str, function: &str) -> Vec<(String, u64)> {
    prometheus::buckets(text, "function_calls_duration_seconds", &labels(function))
}

fn sum(text: &str, function: &str) -> f64 {
    prometheus::value(
        text,
        "function_calls_duration_seconds_sum",
        &labels(function),
    )
    .expect("a sum line")
}

#[test]
fn configured_buckets_decide_where_each_call_lands() {
    let exporter = ExporterBuilder::new()
        .service_name("buckets-svc")
        .buckets(&[0.02, 10.0])
        .histogram_buckets("_request_seconds", &[0.1, 1.0])
        .install()
        .expect("the only recorder of this test binary");
    assert_eq!(buckets_fast(), 1);
    assert_eq!(buckets_fast(), 1);
    buckets_slow();
    // Recorded by other code through the facade: a histogram by its suffix,
    // a summary without one; both get the `service_name` label.
    metrics::histogram!("user_request_seconds", "route" => "/x").record(0.5);
    metrics::histogram!("user_other_seconds").record(0.5);
    let text = exporter.render();
    assert_eq!(
        prometheus::buckets(
            &text,
            "user_request_seconds",
            "service_name=\"buckets-svc\",route=\"/x\""
        ),
        [
            ("0.1".to_owned(), 0),
            ("1".to_owned(), 1),
            ("+Inf".to_owned(), 1)
        ],
        "{text}"
    );
    assert!(
        text.contains("# TYPE user_request_seconds histogram\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE user_other_seconds summary\n"),
        "{text}"
    );
    let expect = |pairs: [(&str, u64); 3]| -> Vec<(String, u64)> {
        pairs.iter().map(|(le, n)| ((*le).to_owned(), *n)).collect()
    };
    // A call that returns at once is well under 20 ms.
    assert_eq!(
        buckets(&text, "buckets_fast"),
        expect([("0.02", 2), ("10", 2), ("+Inf", 2)]),
        "{text}"
    );
    // A 30 ms sleep is over 20 ms and under 10 s.
    assert_eq!(
        buckets(&text, "buckets_slow"),
        expect([("0.02", 0), ("10", 1), ("+Inf", 1)]),
        "{text}"
    );
    let slow = sum(&text, "buckets_slow");
    assert!((0.03..10.0).contains(&slow), "sum {slow}");
    assert!(sum(&text, "buckets_fast") < 0.04, "{text}");
    assert_eq!(
        text.matches("# TYPE function_calls_duration_seconds histogram\n")
            .count(),
        1,
        "one family\n{text}"
    );
}
