//! This project per HTTP request: a call tree rendered and logged through a
//! `tracing_subscriber` fmt layer (formatted, then discarded by a counting
//! sink, like tracing-tree's output), with the library's exporter as the
//! recorder.
//!
//! PROVISIONAL until `trace_runtime::http::TraceLayer` lands: an
//! `axum::middleware::from_fn` that runs the rest of the request under
//! `in_request("METHOD route")` and nothing else, so no HTTP metrics yet.

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use trace_runtime::TraceFutureExt as _;
use tracing_subscriber::layer::SubscriberExt;

use super::{app, counting, Served};

/// The row label of the results table.
pub const LABEL: &str =
    "trace-runtime, PROVISIONAL from_fn + in_request (tree only, no HTTP metrics yet)";

/// Runs the request as the root of a call tree named `METHOD route`.
async fn in_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let name = format!("{} {}", request.method(), route);
    next.run(request).in_request(name).await
}

/// Installs the fmt subscriber the trees are logged to; returns the Router
/// with the layer.
pub fn setup() -> Router {
    let layer = tracing_subscriber::fmt::layer().with_writer(counting::make);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
    app::router().layer(middleware::from_fn(in_request))
}

/// A tree was logged for every request.
pub fn check(_metrics: &str, served: Served) -> Result<(), String> {
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
