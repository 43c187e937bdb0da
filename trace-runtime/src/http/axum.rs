//! Serving `/metrics` from an axum router.

use axum::http::header::CONTENT_TYPE;
use axum::routing::{get, MethodRouter};

use crate::exporter::{self, Exporter};

/// A route serving `exporter`'s metrics (`GET` and `HEAD`), for
/// `Router::route("/metrics", ...)`; [`TraceLayer`](super::TraceLayer)
/// leaves `/metrics` out of its own metrics and trees.
///
/// ```
/// use axum::Router;
///
/// # fn app(exporter: trace_runtime::exporter::Exporter) -> Router {
/// Router::new().route("/metrics", trace_runtime::http::metrics_route(exporter))
/// # }
/// ```
pub fn metrics_route<S>(exporter: Exporter) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move || {
        let text = exporter.render();
        async move { ([(CONTENT_TYPE, exporter::CONTENT_TYPE)], text) }
    })
}
