#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![warn(clippy::pedantic)]

mod builder;
mod convert;
mod error;
pub mod propagate;
mod queue;
mod sampling;
mod sink;
mod stats;
mod worker;

pub use builder::{OtlpBuilder, DEFAULT_ENDPOINT};
pub use error::ConfigError;
pub use sampling::Sampling;
pub use sink::Otlp;
pub use stats::{ExportStats, DROPPED, EXPORTED, SAMPLED_OUT};
