//! Prometheus export: one builder that installs the recorder and either serves
//! `/metrics` itself or hands back an [`Exporter`] whose
//! [`render`](Exporter::render) output you mount in your own server.

mod builder;
mod error;
#[cfg(feature = "serve")]
mod http;

pub use builder::{Exporter, ExporterBuilder, DEFAULT_LISTEN, DEFAULT_UPKEEP};
pub use error::ExportError;
