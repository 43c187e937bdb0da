//! This project per HTTP request: `trace_runtime::http::TraceLayer::new()`
//! (a call tree per request, and `http_requests_total`,
//! `http_request_duration_seconds` and `http_requests_in_flight`) into the
//! library's exporter.
//!
//! The measured row ([`Mode::Logged`]) renders each tree and logs it
//! through a `tracing_subscriber` fmt layer (formatted, then discarded by a
//! counting sink, like tracing-tree's output). Two more rows, outside the
//! goals, show where the time goes: the tree built and handed to a no-op
//! sink but not logged, and trees switched off (HTTP metrics only).

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use trace_runtime::http::{TraceLayer, HTTP_REQUESTS_TOTAL, UNMATCHED};
use trace_runtime::tree::CallTree;
use trace_runtime::TreeConfig;
use tracing_subscriber::layer::SubscriberExt;

use crate::counting;

use super::{app, expect_count, sample_sum, Served};

/// Which run-time configuration of the layer is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Trees rendered and logged through a fmt layer: the measured row.
    Logged,
    /// Trees built and delivered to a no-op sink, not logged.
    Delivered,
    /// Trees switched off (`TreeConfig::collect(false)`): metrics only.
    MetricsOnly,
}

/// Trees the no-op sink of [`Mode::Delivered`] received.
static DELIVERED: AtomicU64 = AtomicU64::new(0);

/// Configures the runtime and the subscriber for `mode`; returns the
/// Router with the layer.
pub fn setup(mode: Mode) -> Router {
    match mode {
        Mode::Logged => {
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(counting::make);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber)
                .expect("no subscriber installed yet");
        }
        Mode::Delivered => {
            TreeConfig::current().log(false).apply();
            trace_runtime::tree::add_sink(|tree: &CallTree| {
                std::hint::black_box(tree.call_count());
                DELIVERED.fetch_add(1, Ordering::Relaxed);
            });
        }
        Mode::MetricsOnly => TreeConfig::current().collect(false).apply(),
    }
    app::router().layer(TraceLayer::new())
}

/// `http_requests_total` holds every request served, and (but for
/// [`Mode::MetricsOnly`]) every request's tree was logged or delivered.
pub fn check(mode: Mode, metrics: &str, served: Served) -> Result<(), String> {
    for (route, status, want) in [
        (app::ROUTE, "200", served.found),
        (UNMATCHED, "404", served.missing),
    ] {
        let got = sample_sum(
            metrics,
            HTTP_REQUESTS_TOTAL,
            &[("method", "GET"), ("route", route), ("status", status)],
        );
        expect_count(
            &format!("{HTTP_REQUESTS_TOTAL} for {route} {status}"),
            got,
            want,
        )?;
    }
    match mode {
        Mode::Logged => {
            let (writes, bytes) = counting::written();
            if writes >= served.total() && bytes > 0 {
                Ok(())
            } else {
                Err(format!(
                    "the fmt layer wrote {writes} times ({bytes} bytes) for {} requests",
                    served.total()
                ))
            }
        }
        Mode::Delivered => {
            #[allow(clippy::cast_precision_loss)]
            let trees = DELIVERED.load(Ordering::Relaxed) as f64;
            expect_count("trees delivered", trees, served.total())
        }
        Mode::MetricsOnly => Ok(()),
    }
}
