//! tower-http 0.7's `TraceLayer::new_for_http()` (a span per request, an
//! event at its start and one at its response, all at `DEBUG`) under a
//! `tracing_subscriber` registry with `tracing_tree::HierarchicalLayer`,
//! like the tracing-tree row of the call-tree section: the output is
//! formatted and then discarded by a counting sink.

use axum::Router;
use tower_http::trace::TraceLayer;
use tracing_subscriber::layer::SubscriberExt;

use crate::counting;

use super::{app, Served};

/// Installs the subscriber; returns the Router with the layer.
pub fn setup() -> Router {
    let layer = tracing_tree::HierarchicalLayer::new(2)
        .with_ansi(false)
        .with_writer(counting::make);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
    app::router().layer(TraceLayer::new_for_http())
}

/// tracing-tree wrote at least once per request.
pub fn check(served: Served) -> Result<(), String> {
    let (writes, bytes) = counting::written();
    if writes >= served.total() && bytes > 0 {
        Ok(())
    } else {
        Err(format!(
            "tracing-tree wrote {writes} times ({bytes} bytes) for {} requests",
            served.total()
        ))
    }
}
