//! Prometheus export: one builder that installs the recorder and either serves
//! `/metrics` itself or hands back an [`Exporter`] whose
//! [`render`](Exporter::render) output you mount in your own server.

mod builder;
mod error;
#[cfg(feature = "serve")]
mod http;
#[cfg(feature = "process")]
mod process;
#[cfg(feature = "runtime")]
mod runtime;

pub use builder::{Exporter, ExporterBuilder, DEFAULT_LISTEN, DEFAULT_UPKEEP};
pub use error::ExportError;

/// The content type of [`Exporter::render`]'s output, the Prometheus text
/// format, for a `/metrics` handler's `Content-Type` header.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
