//! The tree sink that feeds the exporter, and [`Otlp`], the handle to it.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use trace_runtime::tree::{CallTree, TreeSink};

use crate::queue::Queue;
use crate::sampling::Sampling;
use crate::stats::{self, ExportStats, Stats};

/// What the sink, the handle and the exporter thread share.
pub(crate) struct Shared {
    pub(crate) queue: Arc<Queue>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) sampling: Sampling,
    pub(crate) worker: Mutex<Option<JoinHandle<()>>>,
}

/// Added with `trace_runtime::tree::add_sink`: samples each delivered tree
/// and queues the kept ones, on the delivering thread; conversion and
/// export happen on the exporter thread.
pub(crate) struct OtlpSink(pub(crate) Arc<Shared>);

impl TreeSink for OtlpSink {
    fn on_tree(&self, tree: &CallTree) {
        let shared = &self.0;
        // Fixes the tree's ids and clock anchor on the delivered tree itself,
        // so every sink (and the copy queued here) sees the same ones.
        let _ = (tree.trace_id(), tree.started_at());
        if !shared.sampling.keeps(tree) {
            stats::add(&shared.stats.sampled_out, 1, stats::SAMPLED_OUT, None);
            return;
        }
        let spans = tree.iter().count();
        if !shared.queue.push(tree.clone(), spans) {
            stats::add(
                &shared.stats.dropped_full,
                spans as u64,
                stats::DROPPED,
                Some("queue_full"),
            );
        }
    }
}

/// The running exporter, from [`OtlpBuilder::install`](crate::OtlpBuilder::install).
/// Dropping it leaves the exporter running; [`shutdown`](Self::shutdown)
/// exports what is queued and stops it.
///
/// ```
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
///
/// #[trace_runtime::trace]
/// fn work() {}
///
/// let spans = InMemorySpanExporter::default();
/// let otlp = trace_otel::OtlpBuilder::new().install_with_exporter(spans.clone())?;
/// trace_runtime::in_request("job", work);
/// assert!(otlp.flush());
/// let names: Vec<_> = spans.get_finished_spans().unwrap().into_iter().map(|s| s.name).collect();
/// assert_eq!(names, ["job", "work"]);
/// assert_eq!(otlp.stats().exported, 2);
/// otlp.shutdown();
/// # trace_runtime::tree::clear_sinks();
/// # Ok::<(), trace_otel::ConfigError>(())
/// ```
pub struct Otlp {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Otlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Otlp")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Otlp {
    /// Exports every tree queued now and waits for the exporter to finish
    /// with them (at most 10 seconds); `false` if it did not in time, or
    /// after [`shutdown`](Self::shutdown).
    #[must_use = "false means the spans may not have been sent yet"]
    pub fn flush(&self) -> bool {
        self.shared.queue.flush(Duration::from_secs(10))
    }

    /// What the exporter did so far: spans exported and dropped, trees
    /// sampled out.
    #[must_use]
    pub fn stats(&self) -> ExportStats {
        self.shared.stats.snapshot()
    }

    /// Exports what is queued, stops the exporter thread and waits for it;
    /// trees delivered afterwards are not exported.
    pub fn shutdown(self) {
        self.shared.queue.shut_down();
        let worker = self
            .shared
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker {
            let _ = worker.join();
        }
    }
}
