//! tracing's `#[instrument(skip_all)]` under a global registry, with either
//! a layer that does nothing or tracing-tree's indented tree written to a
//! counting `io::sink` (formatting measured, terminal I/O not). `skip_all`:
//! the spans record no arguments, like every other contender (by default
//! `#[instrument]` formats `x: u64` into a field of every span).

use tracing::Subscriber;
use tracing_subscriber::layer::{Layer, SubscriberExt};

use crate::check;
use crate::counting;

crate::workload::tree_workload!(#[tracing::instrument(skip_all)]);

/// A layer that receives every span and records nothing.
struct Silent;

impl<S: Subscriber> Layer<S> for Silent {}

/// Installs `registry + Silent` as the global subscriber.
pub fn setup_silent() {
    let subscriber = tracing_subscriber::registry().with(Silent);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
}

/// Installs `registry + tracing_tree::HierarchicalLayer` writing to a
/// counting sink.
pub fn setup_tree() {
    let layer = tracing_tree::HierarchicalLayer::new(2)
        .with_ansi(false)
        .with_writer(counting::make);
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("no subscriber installed yet");
}

/// tracing-tree wrote at least once per request, a byte per call at least.
pub fn check_tree(requests: u64, calls: u64) -> Result<(), String> {
    check::wrote("tracing-tree", requests, calls)
}
