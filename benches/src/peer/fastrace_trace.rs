//! fastrace's `#[trace]`, with a root span per request and a reporter that
//! drops what its collector thread hands over, or without a root span (its
//! off switch: every span is a no-op).

use fastrace::collector::{Config, Reporter, SpanContext};
use fastrace::prelude::SpanRecord;
use fastrace::Span;

crate::workload::tree_workload!(#[fastrace::trace]);

/// Receives the finished spans on fastrace's collector thread and drops them.
struct Discard;

impl Reporter for Discard {
    fn report(&mut self, spans: Vec<SpanRecord>) {
        std::hint::black_box(spans);
    }
}

/// Starts fastrace's global collector with the default configuration.
pub fn setup() {
    fastrace::set_reporter(Discard, Config::default());
}

/// One sync request under a fresh root span.
pub fn rooted_sync(x: u64) -> u64 {
    let span = Span::root("request", SpanContext::random());
    let _parent = span.set_local_parent();
    root(x)
}

/// One async request under a fresh root span.
pub fn rooted_async(x: u64) -> u64 {
    let span = Span::root("request", SpanContext::random());
    let _parent = span.set_local_parent();
    crate::exec::block_on(root_async(x))
}

/// Hands every queued span to the reporter (inside the measured window, so
/// the collector's work counts).
pub fn flush() {
    fastrace::flush();
}
