//! The exporter thread: takes queued trees, turns them into span data and
//! hands it to the span exporter in batches, on a current-thread tokio
//! runtime of its own (the OTLP exporter's HTTP client is hyper). Counts
//! what it exported and what the exporter failed to send.
//!
//! It does the job of the SDK's `BatchSpanProcessor` for whole trees: the
//! unit delivered is a tree, so the queue is bounded in spans but filled a
//! tree at a time, one lock per tree on the delivering thread rather than
//! one channel send per span, and the spans dropped are counted exactly (the
//! SDK processor keeps its count private).

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::convert;
use crate::queue::Queue;
use crate::stats::{self, Stats};

/// What the exporter thread works with.
pub(crate) struct Worker<E> {
    pub(crate) exporter: E,
    pub(crate) queue: Arc<Queue>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) delay: Duration,
    pub(crate) batch: usize,
    /// Failed exports in a row: the first of a run is logged, and the
    /// recovery.
    pub(crate) failing: Cell<u64>,
}

impl<E: SpanExporter> Worker<E> {
    /// Runs until the queue is shut down and drained.
    pub(crate) fn run(self) {
        let scope = convert::scope();
        let mut batch: Vec<SpanData> = Vec::with_capacity(self.batch);
        loop {
            let taken = self.queue.take(self.delay);
            for tree in &taken.trees {
                convert::spans(tree, &scope, &mut batch);
                while batch.len() >= self.batch {
                    let rest = batch.split_off(self.batch);
                    self.export(std::mem::replace(&mut batch, rest));
                }
            }
            drop(taken.trees);
            if !batch.is_empty() {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(self.batch));
                self.export(full);
            }
            self.queue.finished(taken.ticket);
            if taken.shutdown {
                break;
            }
        }
        if let Err(why) = self.exporter.shutdown() {
            tracing::debug!(target: "trace_otel", error = %why, "span exporter shutdown failed");
        }
    }

    fn export(&self, spans: Vec<SpanData>) {
        let count = spans.len() as u64;
        match self.runtime.block_on(self.exporter.export(spans)) {
            Ok(()) => {
                stats::add(&self.stats.exported, count, stats::EXPORTED, None);
                if self.failing.replace(0) > 0 {
                    tracing::info!(target: "trace_otel", "spans are being exported again");
                }
            }
            Err(why) => {
                stats::add(
                    &self.stats.dropped_failed,
                    count,
                    stats::DROPPED,
                    Some("export_failed"),
                );
                if self.failing.replace(self.failing.get() + 1) == 0 {
                    tracing::warn!(
                        target: "trace_otel",
                        error = %why,
                        spans = count,
                        "span export failed; dropping spans until it works again (counted in {})",
                        stats::DROPPED
                    );
                }
            }
        }
    }
}
