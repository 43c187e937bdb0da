//! The HTTP section: the overhead per request of an HTTP instrumentation
//! layer on the same axum `Router` ([`app`]), each contender in a child
//! process of its own with the shared recorder ([`install_recorder`]).

pub mod app;
pub mod axum_prometheus;
pub mod event_only;
pub mod ours;
pub mod tower_trace;

use axum::Router;
use trace_runtime::exporter::Exporter;
use trace_runtime::ExporterBuilder;

pub use crate::check::{expect_count, sample_sum};

/// One HTTP contender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpPeer {
    /// The Router with no layer: the baseline.
    Bare,
    /// axum-prometheus's `PrometheusMetricLayer`.
    AxumPrometheus,
    /// tower-http's `TraceLayer::new_for_http()` under tracing-tree.
    TraceLayerTree,
    /// This project's HTTP layer: a call tree (rendered and logged) and
    /// HTTP metrics per request.
    Ours,
    /// Same layer, the tree delivered to a no-op sink, not logged.
    OursDelivered,
    /// Same layer with trees switched off: HTTP metrics only.
    OursMetricsOnly,
    /// Not a contender: a layer emitting only our logged row's event.
    EventOnly,
}

/// Requests a child served, by answer: `200`, then `404`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Served {
    /// `GET /rooms/7`.
    pub found: u64,
    /// The unmatched path.
    pub missing: u64,
}

impl Served {
    /// Every request.
    pub fn total(self) -> u64 {
        self.found + self.missing
    }
}

impl HttpPeer {
    /// Every contender, baseline first, in table order.
    pub const ALL: [HttpPeer; 7] = [
        HttpPeer::Bare,
        HttpPeer::AxumPrometheus,
        HttpPeer::TraceLayerTree,
        HttpPeer::Ours,
        HttpPeer::OursDelivered,
        HttpPeer::OursMetricsOnly,
        HttpPeer::EventOnly,
    ];

    /// The command-line name.
    pub fn key(self) -> &'static str {
        match self {
            HttpPeer::Bare => "bare",
            HttpPeer::AxumPrometheus => "axum-prometheus",
            HttpPeer::TraceLayerTree => "trace-layer-tree",
            HttpPeer::Ours => "ours",
            HttpPeer::OursDelivered => "ours-delivered",
            HttpPeer::OursMetricsOnly => "ours-metrics",
            HttpPeer::EventOnly => "event-only",
        }
    }

    /// Parses [`HttpPeer::key`].
    pub fn from_key(key: &str) -> Option<HttpPeer> {
        HttpPeer::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The row label of the results table.
    pub fn label(self) -> &'static str {
        match self {
            HttpPeer::Bare => "bare axum Router (baseline)",
            HttpPeer::AxumPrometheus => "axum-prometheus PrometheusMetricLayer",
            HttpPeer::TraceLayerTree => {
                "tower-http TraceLayer::new_for_http() + tracing-tree (to a counting sink)"
            }
            HttpPeer::Ours => {
                "trace-runtime http::TraceLayer: tree + HTTP metrics, tree logged by a fmt layer \
                 (to a counting sink)"
            }
            HttpPeer::OursDelivered => {
                "trace-runtime http::TraceLayer, tree to a no-op sink, not logged (not a goal)"
            }
            HttpPeer::OursMetricsOnly => {
                "trace-runtime http::TraceLayer, trees off: HTTP metrics only (not a goal)"
            }
            HttpPeer::EventOnly => {
                "not a contender: a layer emitting only the logged row's fmt event, the \
                 subscriber's share (to a counting sink)"
            }
        }
    }

    /// Installs what the contender needs (a subscriber) and returns the
    /// Router with its layer. Called once per process, after the recorder.
    pub fn setup(self) -> Router {
        match self {
            HttpPeer::Bare => app::router(),
            HttpPeer::AxumPrometheus => axum_prometheus::router(),
            HttpPeer::TraceLayerTree => tower_trace::setup(),
            HttpPeer::Ours => ours::setup(ours::Mode::Logged),
            HttpPeer::OursDelivered => ours::setup(ours::Mode::Delivered),
            HttpPeer::OursMetricsOnly => ours::setup(ours::Mode::MetricsOnly),
            HttpPeer::EventOnly => event_only::setup(),
        }
    }

    /// Checks that the contender did its work for the requests `served`,
    /// from the rendered metrics and what was written; the error says what
    /// is missing.
    pub fn check(self, metrics: &str, served: Served) -> Result<(), String> {
        match self {
            HttpPeer::Bare => Ok(()),
            HttpPeer::AxumPrometheus => axum_prometheus::check(metrics, served),
            HttpPeer::TraceLayerTree => tower_trace::check(served),
            HttpPeer::Ours => ours::check(ours::Mode::Logged, metrics, served),
            HttpPeer::OursDelivered => ours::check(ours::Mode::Delivered, metrics, served),
            HttpPeer::OursMetricsOnly => ours::check(ours::Mode::MetricsOnly, metrics, served),
            HttpPeer::EventOnly => event_only::check(served),
        }
    }
}

/// The recorder of every HTTP child, the same for all contenders: the
/// bench's usual one (`ExporterBuilder::new().install()`), with
/// axum-prometheus's request-duration buckets so that its histogram is a
/// Prometheus histogram, as its own `PrometheusMetricLayer::pair()` would
/// make it, and not a summary.
pub fn install_recorder() -> Exporter {
    ExporterBuilder::new()
        .histogram_buckets(
            ::axum_prometheus::AXUM_HTTP_REQUESTS_DURATION_SECONDS,
            ::axum_prometheus::utils::SECONDS_DURATION_BUCKETS,
        )
        .install()
        .expect("the only recorder of this process")
}
