//! Why the exporter could not start, each error saying what to fix.

use std::fmt;

/// Why [`OtlpBuilder::install`](crate::OtlpBuilder::install) could not start.
///
/// ```
/// let err = trace_otel::OtlpBuilder::new().sample_ratio(1.5).install().unwrap_err();
/// assert!(matches!(err, trace_otel::ConfigError::InvalidRatio { .. }));
/// assert!(err.to_string().contains("between 0 and 1"));
/// // `Debug` says the same, so `main() -> Result<(), Box<dyn Error>>` prints
/// // what to fix rather than the enum.
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[non_exhaustive]
pub enum ConfigError {
    /// The head-sampling ratio is not a number from 0 to 1.
    InvalidRatio {
        /// The ratio as given.
        value: f64,
    },
    /// An environment variable holds a value this exporter cannot use.
    InvalidEnv {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// The queue or the batch size is zero.
    ZeroSize {
        /// Which setting.
        setting: &'static str,
    },
    /// The service name is empty.
    EmptyServiceName,
    /// The OTLP exporter rejected its configuration (endpoint, headers,
    /// timeout, compression; set in code or in `OTEL_EXPORTER_OTLP_*`).
    Exporter(String),
    /// The exporter thread or its runtime could not be started.
    Thread(std::io::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::InvalidRatio { value } => write!(
                f,
                "sampling ratio {value} is invalid: give a number between 0 and 1 to `.sample_ratio(...)` (1 keeps every tree)"
            ),
            ConfigError::InvalidEnv {
                name,
                value,
                expected,
            } => write!(
                f,
                "environment variable {name}={value:?} is invalid: expected {expected}; fix or unset it"
            ),
            ConfigError::ZeroSize { setting } => write!(
                f,
                "{setting} is 0: give at least 1 (the defaults are 2048 queued spans and batches of 512)"
            ),
            ConfigError::EmptyServiceName => write!(
                f,
                "service name is empty: pass a non-empty name to `.service_name(...)` or leave it unset (OTEL_SERVICE_NAME is read then)"
            ),
            ConfigError::Exporter(why) => write!(
                f,
                "the OTLP exporter cannot be built: {why}; check `.endpoint(...)` and the OTEL_EXPORTER_OTLP_* variables"
            ),
            ConfigError::Thread(why) => write!(
                f,
                "the exporter thread could not be started: {why}; the process is short of threads, memory or file descriptors: raise its limits (`ulimit -u`, `ulimit -n`) or free some"
            ),
        }
    }
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Thread(why) => Some(why),
            _ => None,
        }
    }
}
