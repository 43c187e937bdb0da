//! The single metrics recorder of every benchmark process, the same for all
//! contenders: this project's `ExporterBuilder::install()`, i.e.
//! metrics-exporter-prometheus's recorder with the
//! `function_calls_duration_seconds` buckets (the histogram name this project,
//! autometrics and the hand-written version share) and histogram upkeep on a
//! background thread every 100 ms. Installed once per process: the runtime
//! caches its handles per recorder.

use trace_runtime::{exporter::Exporter, ExporterBuilder};

/// Installs the recorder as the global one, keeping live statistics (over
/// a 60 s window) if `stats`.
pub fn install(stats: bool) -> Exporter {
    let builder = ExporterBuilder::new();
    let builder = if stats {
        builder.stats(std::time::Duration::from_secs(60))
    } else {
        builder
    };
    builder
        .install()
        .expect("the only recorder of this process")
}
