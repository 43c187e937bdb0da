//! fastrace's `#[trace]`, with a root span per request and a reporter that
//! counts and drops what its collector thread hands over, or without a root
//! span (its off switch: every span is a no-op).

use std::sync::atomic::{AtomicU64, Ordering};

use fastrace::collector::{Config, Reporter, SpanContext};
use fastrace::prelude::SpanRecord;
use fastrace::Span;

use crate::check;

crate::workload::tree_workload!(#[fastrace::trace]);

/// Spans the reporter received.
static REPORTED: AtomicU64 = AtomicU64::new(0);

/// Receives the finished spans on fastrace's collector thread, counts them
/// and drops them.
struct Discard;

impl Reporter for Discard {
    fn report(&mut self, spans: Vec<SpanRecord>) {
        REPORTED.fetch_add(spans.len() as u64, Ordering::Relaxed);
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

/// After a flush, the reporter received `spans` spans (a root span and
/// one per call per request with a root; none without). fastrace's
/// thread-local sender keeps what does not fit its channel (10 240
/// messages) queued on the calling thread until its next send: when the
/// reporter is short, one more rooted request at a time sends the queue on
/// (each adding its own spans to the count), flushed, until it is empty.
pub fn check(spans: u64, spans_per_request: u64) -> Result<(), String> {
    let reported = || REPORTED.load(Ordering::Relaxed);
    let mut expected = spans;
    let mut before = reported();
    while spans_per_request > 0 && before < expected {
        std::hint::black_box(rooted_sync(0));
        expected += spans_per_request;
        flush();
        let now = reported();
        if now == before {
            break;
        }
        before = now;
    }
    #[allow(clippy::cast_precision_loss)]
    let got = reported() as f64;
    check::expect_count("spans reported", got, expected)
}
