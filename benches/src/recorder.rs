//! The single metrics recorder of every benchmark process, the same for all
//! contenders: this project's `ExporterBuilder::install()`, i.e.
//! metrics-exporter-prometheus's recorder with the
//! `function_calls_duration_seconds` buckets (the histogram name this project,
//! autometrics and the hand-written version share) and histogram upkeep on a
//! background thread every 100 ms. Installed once per process: the runtime
//! caches its handles per recorder.

use trace_runtime::{exporter::Exporter, ExporterBuilder};

/// Installs the recorder as the global one.
pub fn install() -> Exporter {
    ExporterBuilder::new()
        .install()
        .expect("the only recorder of this process")
}

/// Renders the metrics, which folds every queued histogram sample into its
/// buckets: the deferred work of the calls just measured. Returns how many
/// `function_calls_total` series there are with a non-zero value, which
/// shows whether the contender recorded anything.
pub fn drain(exporter: &Exporter) -> usize {
    exporter
        .render()
        .lines()
        .filter(|line| line.starts_with("function_calls_total{") && !line.ends_with(" 0"))
        .count()
}
