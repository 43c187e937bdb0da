//! Fixtures shared by the workspace's integration tests and examples.
//!
//! - [`capture`]: a global tree sink that keeps every finished call tree by
//!   root name, so each test reads back only its own requests' trees.
//! - [`normalise`]: a tree's text rendering with durations replaced by `<t>`,
//!   stable enough for `insta` snapshots, and checked for alignment.
//! - [`metrics`]: a closure's traced calls recorded by a fresh local
//!   `DebuggingRecorder` (or, where a test needs it, by the global one of
//!   [`recorder`]), read back as a [`Snapshot`](snapshot::Snapshot).
//! - [`recorder`]: one global `DebuggingRecorder` per test binary, read back
//!   as running totals that parallel tests cannot reset for each other.
//! - [`snapshot`]: what a debugging recorder recorded, read back by function
//!   as sample lines, counts per result, gauges and histogram samples.
//! - [`prometheus`]: bucket and sample values read back from rendered
//!   Prometheus text.
//! - [`http`]: a real axum server on 127.0.0.1 and a hyper client.
//! - [`log`]: a shared buffer for a `fmt` subscriber's output.
//! - [`raw_http`]: one hand-written HTTP/1.1 exchange, for any request line.
//! - [`html`]: the trace page's requests and rows read back, with each
//!   bar's place, from the server's HTML or a browser's DOM.
//! - [`pushgateway`]: a real Prometheus Pushgateway started for one test.
//! - [`json`]: a minimal JSON reader, to parse [`CallTree::to_json`] output
//!   back and compare it with the tree it came from.
//!
//! [`CallTree::to_json`]: trace_runtime::tree::CallTree::to_json

pub mod capture;
pub mod html;
pub mod http;
pub mod json;
pub mod log;
pub mod metrics;
pub mod normalise;
pub mod prometheus;
pub mod pushgateway;
pub mod raw_http;
pub mod recorder;
pub mod snapshot;

pub use capture::{capture_trees, one_tree, take_trees, wait_for_trees};
pub use normalise::{json_normalised, outline, render_normalised, words_normalised};
