//! Prometheus export: one builder that installs the recorder and either serves
//! `/metrics` itself or hands back an [`Exporter`] whose
//! [`render`](Exporter::render) output you mount in your own server; with
//! the cargo feature `push`, it can also push to a Prometheus Pushgateway.

mod builder;
mod error;
#[cfg(feature = "serve")]
mod http;
#[cfg(feature = "process")]
mod process;
#[cfg(feature = "push")]
mod push;
#[cfg(feature = "runtime")]
mod runtime;

pub use builder::{Exporter, ExporterBuilder, DEFAULT_LISTEN, DEFAULT_UPKEEP};
pub use error::ExportError;
#[cfg(feature = "push")]
pub use push::{
    PushGateway, PushMethod, DEFAULT_CONNECT_TIMEOUT, DEFAULT_PUSH_INTERVAL, DEFAULT_PUSH_TIMEOUT,
    MIN_PUSH_INTERVAL,
};

/// The content type of [`Exporter::render`]'s output, the Prometheus text
/// format, for a `/metrics` handler's `Content-Type` header.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
