//! axum-prometheus 0.10: `PrometheusMetricLayer` (a request counter, a
//! duration histogram and an in-flight gauge per method and endpoint)
//! recording through the `metrics` facade into the shared recorder.

use axum::Router;
use axum_prometheus::{PrometheusMetricLayer, AXUM_HTTP_REQUESTS_TOTAL};

use super::{app, expect_count, sample_sum, Served};

/// The Router with the layer. `PrometheusMetricLayer::new()` installs no
/// recorder of its own (`pair()` would build and install one, with an
/// upkeep task on a tokio runtime); it records into the one installed.
pub fn router() -> Router {
    app::router().layer(PrometheusMetricLayer::new())
}

/// Its request counter holds every request served.
pub fn check(metrics: &str, served: Served) -> Result<(), String> {
    let found = sample_sum(
        metrics,
        AXUM_HTTP_REQUESTS_TOTAL,
        &[("endpoint", app::ROUTE), ("status", "200")],
    );
    expect_count(
        &format!("{AXUM_HTTP_REQUESTS_TOTAL} for {} 200", app::ROUTE),
        found,
        served.found,
    )?;
    let all = sample_sum(metrics, AXUM_HTTP_REQUESTS_TOTAL, &[]);
    expect_count(AXUM_HTTP_REQUESTS_TOTAL, all, served.total())
}
