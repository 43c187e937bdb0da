//! The span data made from trees, through the SDK's in-memory exporter:
//! calls folded past the node cap as one span with their count, error text
//! and fields, a panic's status, a cancelled call's attribute, and
//! sampling at ratio 0 that still keeps the failed tree.
#![warn(clippy::pedantic)]

use std::time::Duration;

use opentelemetry::trace::Status;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use trace_otel::Sampling;
use trace_runtime::{trace, TraceFutureExt as _, TreeConfig};

#[trace(name = "spans::folded")]
fn folded() -> u32 {
    1
}

#[trace(name = "spans::boom")]
fn boom() {
    panic!("this test wants a panic");
}

#[trace(name = "spans::never")]
async fn never() {
    std::future::pending::<()>().await;
}

#[trace(name = "spans::fails", err, fields(code))]
fn fails(code: u32) -> Result<(), String> {
    Err(format!("code {code} refused"))
}

fn attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv: &&KeyValue| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

#[test]
fn aggregates_panics_cancellations_and_sampling() {
    let memory = InMemorySpanExporter::default();
    let otlp = trace_otel::OtlpBuilder::new()
        .sampling(Sampling {
            ratio: 0.0,
            ..Sampling::default()
        })
        .scheduled_delay(Duration::from_millis(10))
        .install_with_exporter(memory.clone())
        .unwrap();
    // Kept although the ratio is 0: a call fails.
    TreeConfig::current().max_nodes(4).apply();
    trace_runtime::in_request("folds", || {
        let _ = fails(7);
        (0..20).map(|_| folded()).sum::<u32>()
    });
    TreeConfig::current()
        .max_nodes(trace_runtime::tree::DEFAULT_MAX_NODES)
        .apply();
    // Kept: a panic is a failure.
    let _ = std::panic::catch_unwind(|| trace_runtime::in_request("panics", boom));
    // Left out by the ratio: a cancelled call is not a failure.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(
        async {
            let _ = tokio::time::timeout(Duration::from_millis(1), never()).await;
        }
        .in_request("cancels"),
    );
    assert!(otlp.flush());
    let spans = memory.get_finished_spans().unwrap();

    let roots: Vec<&str> = spans
        .iter()
        .filter(|s| s.parent_span_id == opentelemetry::trace::SpanId::INVALID)
        .map(|s| s.name.as_ref())
        .collect();
    assert_eq!(roots, ["folds", "panics"]);
    assert_eq!(otlp.stats().sampled_out, 1, "the cancelled tree");

    // Past the cap (4 nodes: the root, fails and two calls), the other 18
    // calls are one span with their count, within the root.
    let folds = named(&spans, "spans::folded");
    let aggregate = folds
        .iter()
        .find(|s| attribute(s, "trace_runtime.aggregate").is_some())
        .expect("an aggregate span");
    assert_eq!(folds.len(), 3, "two calls and the aggregate");
    assert_eq!(
        attribute(aggregate, "trace_runtime.calls"),
        Some(&Value::I64(18))
    );
    assert_eq!(
        attribute(aggregate, "trace_runtime.failures"),
        Some(&Value::I64(0))
    );
    let root = named(&spans, "folds")[0];
    assert_eq!(aggregate.parent_span_id, root.span_context.span_id());
    assert!(aggregate.start_time >= root.start_time && aggregate.end_time <= root.end_time);
    // `err` and `fields(...)`: the error text is the status description,
    // the field an attribute.
    let failed = named(&spans, "spans::fails")[0];
    assert_eq!(failed.status, Status::error("code 7 refused"));
    assert_eq!(attribute(failed, "code"), Some(&Value::from("7")));
    assert!(
        attribute(root, "trace_runtime.tree_id").is_some(),
        "the root names its tree"
    );

    let panicked = named(&spans, "spans::boom")[0];
    assert_eq!(panicked.status, Status::error("panic"));
    assert_eq!(named(&spans, "panics")[0].status, Status::error("panic"));
    assert!(named(&spans, "spans::never").is_empty(), "sampled out");

    // With every tree kept, the cancelled call carries its attribute.
    otlp.shutdown();
    trace_runtime::tree::clear_sinks();
    let memory = InMemorySpanExporter::default();
    let otlp = trace_otel::OtlpBuilder::new()
        .scheduled_delay(Duration::from_millis(10))
        .install_with_exporter(memory.clone())
        .unwrap();
    runtime.block_on(
        async {
            let _ = tokio::time::timeout(Duration::from_millis(1), never()).await;
        }
        .in_request("cancels again"),
    );
    assert!(otlp.flush());
    let spans = memory.get_finished_spans().unwrap();
    let cancelled = named(&spans, "spans::never");
    assert_eq!(cancelled.len(), 1, "{spans:#?}");
    assert_eq!(
        attribute(cancelled[0], "trace_runtime.cancelled"),
        Some(&Value::Bool(true))
    );
    assert_eq!(cancelled[0].status, Status::Unset);
    assert!(attribute(cancelled[0], "trace_runtime.busy_ns").is_some());
    otlp.shutdown();
}
