//! What the exporter did, counted in the handle's [`ExportStats`] and
//! through the `metrics` facade, into whatever recorder the application
//! installed (trace-runtime's Prometheus exporter renders them).

use std::sync::atomic::{AtomicU64, Ordering};

/// Spans handed to the span exporter that it sent.
pub const EXPORTED: &str = "otlp_spans_exported_total";
/// Spans dropped, by `reason`: `queue_full` (the exporter thread could not
/// keep up, or the backend is down and the queue filled) or
/// `export_failed` (the exporter could not send them).
pub const DROPPED: &str = "otlp_spans_dropped_total";
/// Trees not exported because sampling left them out.
pub const SAMPLED_OUT: &str = "otlp_trees_sampled_out_total";

/// The running counts.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) exported: AtomicU64,
    pub(crate) dropped_full: AtomicU64,
    pub(crate) dropped_failed: AtomicU64,
    pub(crate) sampled_out: AtomicU64,
}

/// Adds `n` to `cell` and to the counter `name` (with `reason`, if any).
pub(crate) fn add(cell: &AtomicU64, n: u64, name: &'static str, reason: Option<&'static str>) {
    cell.fetch_add(n, Ordering::Relaxed);
    match reason {
        Some(reason) => metrics::counter!(name, "reason" => reason).increment(n),
        None => metrics::counter!(name).increment(n),
    }
}

/// Describes the counters to the recorder installed now.
pub(crate) fn describe() {
    metrics::describe_counter!(EXPORTED, "Spans of call trees sent to the OTLP backend.");
    metrics::describe_counter!(
        DROPPED,
        "Spans of call trees dropped: the export queue was full (queue_full) or the export failed (export_failed)."
    );
    metrics::describe_counter!(SAMPLED_OUT, "Call trees left out by sampling.");
}

/// A snapshot of what an exporter did since it was installed; see
/// [`Otlp::stats`](crate::Otlp::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// Spans the span exporter sent.
    pub exported: u64,
    /// Spans dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Spans dropped because the exporter failed to send them.
    pub dropped_export_failed: u64,
    /// Trees left out by sampling.
    pub sampled_out: u64,
}

impl Stats {
    pub(crate) fn snapshot(&self) -> ExportStats {
        let read = |cell: &AtomicU64| cell.load(Ordering::Relaxed);
        ExportStats {
            exported: read(&self.exported),
            dropped_queue_full: read(&self.dropped_full),
            dropped_export_failed: read(&self.dropped_failed),
            sampled_out: read(&self.sampled_out),
        }
    }
}
