//! This project: `#[trace_runtime::trace]` on every function, run in full
//! (metrics + call tree + context), metrics-only (`TreeConfig::collect(false)`)
//! or switched off (`set_enabled(false)`).

use trace_runtime::tree::CallTree;

crate::workload::tree_workload!(#[trace_runtime::trace]);

/// Which run-time configuration of the runtime is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Metrics, call trees and context.
    Full,
    /// Trees switched off: metrics (with caller labels) only.
    MetricsOnly,
    /// Instrumentation switched off at run time.
    Off,
}

/// Configures the runtime for `mode`. Finished trees go to a sink that only
/// looks at them and logging is off, so the tree is built and delivered
/// but no terminal I/O is measured.
pub fn setup(mode: Mode) {
    trace_runtime::TreeConfig::current().log(false).apply();
    trace_runtime::tree::add_sink(|tree: &CallTree| {
        std::hint::black_box(tree.call_count());
    });
    match mode {
        Mode::Full => {}
        Mode::MetricsOnly => trace_runtime::TreeConfig::current().collect(false).apply(),
        Mode::Off => trace_runtime::set_enabled(false),
    }
}
