//! Not a contender: a layer that does nothing but emit, per response, the
//! event our logged row emits (`call tree tree_id=N tree=…`, with a
//! one-line tree of the same length written beforehand), through the same
//! `tracing_subscriber` fmt layer to the same counting sink. Its cost is
//! the floor of any layer that logs a line per request through that
//! subscriber: the subscriber's share of our logged row, out of our code.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use tower::util::MapResponseLayer;
use tracing_subscriber::layer::SubscriberExt;

use crate::counting;

use super::{app, Served};

/// The text our layer logs for `GET /rooms/7` (its root's line).
const TREE: &str = "\nGET /rooms/{id}  12.34µs  status 200";

/// The events' ids, as our trees number theirs.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Installs the subscriber our logged row uses; returns the Router with
/// the event-only layer.
pub fn setup() -> Router {
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(counting::make);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
    app::router().layer(MapResponseLayer::new(|response| {
        let tree_id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        tracing::info!(target: "trace_runtime::tree", tree_id, tree = %TREE, "call tree");
        response
    }))
}

/// One line written per request.
pub fn check(served: Served) -> Result<(), String> {
    let (writes, bytes) = counting::written();
    if writes == served.total() && bytes > 0 {
        Ok(())
    } else {
        Err(format!(
            "the fmt layer wrote {writes} times ({bytes} bytes) for {} requests",
            served.total()
        ))
    }
}
