//! tracing's `#[instrument]` (default options) under a global registry,
//! with either a layer that does nothing or tracing-tree's indented tree
//! written to `io::sink` (formatting measured, terminal I/O not).

use tracing::Subscriber;
use tracing_subscriber::layer::{Layer, SubscriberExt};

crate::workload::tree_workload!(#[tracing::instrument]);

/// A layer that receives every span and records nothing.
struct Silent;

impl<S: Subscriber> Layer<S> for Silent {}

/// Installs `registry + Silent` as the global subscriber.
pub fn setup_silent() {
    let subscriber = tracing_subscriber::registry().with(Silent);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
}

/// Installs `registry + tracing_tree::HierarchicalLayer` writing to a sink.
pub fn setup_tree() {
    let layer = tracing_tree::HierarchicalLayer::new(2).with_writer(std::io::sink);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
}
