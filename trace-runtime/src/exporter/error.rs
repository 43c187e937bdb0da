//! Configuration errors of the exporter, and failed pushes to a
//! Pushgateway, each saying what to fix.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// Why [`ExporterBuilder`](crate::ExporterBuilder) could not start, or why
/// a push to a Pushgateway failed (the `Push*` variants, cargo feature
/// `push`).
///
/// ```
/// let err = trace_runtime::ExporterBuilder::new()
///     .listen("localhost:http")
///     .serve()
///     .unwrap_err();
/// assert!(matches!(err, trace_runtime::exporter::ExportError::InvalidAddress { .. }));
/// assert!(err.to_string().contains("127.0.0.1:9000"));
/// // `Debug` says the same, so `main() -> Result<(), Box<dyn Error>>` prints
/// // what to fix rather than the enum.
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[non_exhaustive]
pub enum ExportError {
    /// The listen address is not an `ip:port` socket address.
    InvalidAddress {
        /// The address as given.
        input: String,
    },
    /// The listen address could not be bound (in use, or not permitted).
    Bind {
        /// The address that was tried.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The histogram bucket list is empty.
    EmptyBuckets,
    /// A bucket bound is not finite and positive, or not larger than the one
    /// before it.
    InvalidBucket {
        /// Position of the offending bound.
        index: usize,
        /// The offending bound.
        value: f64,
    },
    /// The buckets given with
    /// [`histogram_buckets`](crate::ExporterBuilder::histogram_buckets) for
    /// `suffix` are empty (`bound: None`) or have an invalid bound.
    InvalidHistogramBuckets {
        /// The histogram name suffix they were given for.
        suffix: String,
        /// Position and value of the first offending bound.
        bound: Option<(usize, f64)>,
    },
    /// The service name is empty.
    EmptyServiceName,
    /// An [objective](crate::ExporterBuilder::objective)'s latency target
    /// is not one of the histogram's buckets.
    ObjectiveNotABucket {
        /// The objective's name.
        objective: &'static str,
        /// Its latency target, in seconds.
        threshold: f64,
    },
    /// The [statistics](crate::ExporterBuilder::stats) window is shorter
    /// than [`MIN_WINDOW`](crate::stats::MIN_WINDOW).
    #[cfg(feature = "stats")]
    StatsWindowTooShort {
        /// The window as given.
        window: std::time::Duration,
    },
    /// A [global label](crate::ExporterBuilder::global_label) name is not a
    /// Prometheus label name.
    InvalidLabelName {
        /// The name as given.
        name: String,
    },
    /// The [`trace_pages`](crate::ExporterBuilder::trace_pages) retention
    /// has a setting out of its bounds.
    #[cfg(feature = "pages")]
    InvalidRetention(crate::pages::RetentionError),
    /// A global `metrics` recorder was installed before; there can only be one.
    RecorderAlreadyInstalled,
    /// The exporter's background thread could not be started.
    Thread(std::io::Error),
    /// The [push gateway](crate::exporter::PushGateway)'s URL is not an
    /// `http://` base URL.
    InvalidPushUrl {
        /// The URL as given, without any password.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The push gateway's URL is `https://`, which this crate cannot push
    /// to: it bundles no TLS stack.
    PushNeedsTls {
        /// The URL as given, without any password.
        url: String,
    },
    /// A grouping label of the push gateway (or its job) is unusable.
    InvalidGroupingLabel {
        /// The label's name (`job` for the job name).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The basic-authentication user name contains `:`, which the scheme
    /// cannot carry.
    InvalidBasicAuth,
    /// The push could not be sent: no connection (nothing listens, a name
    /// that does not resolve, a connect timeout), or it broke off.
    PushRequest {
        /// The endpoint pushed to.
        url: String,
        /// The client's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The gateway did not answer the push within the push timeout.
    PushTimeout {
        /// The endpoint pushed to.
        url: String,
        /// How long was waited.
        after: Duration,
    },
    /// The gateway answered the push with a status other than 2xx.
    PushRejected {
        /// The endpoint pushed to.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body (at most 1 KiB), trimmed.
        body: String,
    },
    /// [`flush`](crate::exporter::Exporter::flush) or
    /// [`shutdown`](crate::exporter::Exporter::shutdown) on an exporter built without
    /// a push gateway.
    PushNotConfigured,
    /// [`flush`](crate::exporter::Exporter::flush) after
    /// [`shutdown`](crate::exporter::Exporter::shutdown): the push thread has stopped.
    PushStopped,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::InvalidAddress { input } => write!(
                f,
                "invalid listen address {input:?}: give an IP address and port such as \"127.0.0.1:9000\" or \"[::1]:9000\""
            ),
            ExportError::Bind { addr, source } if source.kind() == std::io::ErrorKind::AddrInUse => write!(
                f,
                "cannot listen on {addr}: the address is already in use; stop the other process or choose another port with `.listen(...)`"
            ),
            ExportError::Bind { addr, source } => write!(
                f,
                "cannot listen on {addr}: {source}; choose another address with `.listen(...)`"
            ),
            ExportError::EmptyBuckets => write!(
                f,
                "histogram buckets are empty: give at least one upper bound in seconds, e.g. `.buckets(&[0.01, 0.1, 1.0])`"
            ),
            ExportError::InvalidBucket { index, value } => {
                let rule = if !value.is_finite() {
                    "bounds must be finite numbers of seconds"
                } else if *value <= 0.0 {
                    "bounds must be positive"
                } else {
                    "each bound must be larger than the one before it; sort the list and drop repeats"
                };
                write!(f, "histogram bucket {index} ({value}) is invalid: {rule}")
            }
            ExportError::InvalidHistogramBuckets { suffix, bound: None } => write!(
                f,
                "histogram buckets for `*{suffix}` are empty: give at least one upper bound"
            ),
            ExportError::InvalidHistogramBuckets {
                suffix,
                bound: Some((index, value)),
            } => write!(
                f,
                "histogram bucket {index} ({value}) for `*{suffix}` is invalid: bounds must be finite, positive and strictly increasing"
            ),
            ExportError::EmptyServiceName => write!(
                f,
                "service name is empty: pass a non-empty name to `.service_name(...)` or leave it unset"
            ),
            ExportError::ObjectiveNotABucket { objective, threshold } => write!(
                f,
                "objective {objective:?} has a latency target of {threshold} s, which is not one of the histogram buckets: add {threshold} to `.buckets(...)`"
            ),
            #[cfg(feature = "stats")]
            ExportError::StatsWindowTooShort { window } => write!(
                f,
                "the statistics window of {window:?} is too short: use at least {:?}, e.g. `.stats(Duration::from_secs(60))`",
                crate::stats::MIN_WINDOW
            ),
            ExportError::InvalidLabelName { name } => write!(
                f,
                "invalid label name {name:?}: use letters, digits and underscores, not starting with a digit or `__`, e.g. \"deployment\""
            ),
            #[cfg(feature = "pages")]
            ExportError::InvalidRetention(err) => write!(f, "invalid trace page retention: {err}"),
            ExportError::RecorderAlreadyInstalled => write!(
                f,
                "a global metrics recorder is already installed: build the exporter once, before any other recorder"
            ),
            ExportError::Thread(err) => write!(f, "cannot start the exporter thread: {err}"),
            ExportError::InvalidPushUrl { .. }
            | ExportError::PushNeedsTls { .. }
            | ExportError::InvalidGroupingLabel { .. }
            | ExportError::InvalidBasicAuth
            | ExportError::PushRequest { .. }
            | ExportError::PushTimeout { .. }
            | ExportError::PushRejected { .. }
            | ExportError::PushNotConfigured
            | ExportError::PushStopped => self.fmt_push(f),
        }
    }
}

impl ExportError {
    /// The messages of the push gateway's variants.
    fn fmt_push(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::InvalidPushUrl { input, reason } => write!(
                f,
                "invalid push gateway URL {input:?}: {reason}; give the gateway's base URL, such as \"http://127.0.0.1:9091\""
            ),
            ExportError::PushNeedsTls { url } => write!(
                f,
                "cannot push to {url:?}: https needs TLS, which trace-runtime does not bundle; push over http:// (a gateway on this host or network, or a local TLS-terminating proxy in front of it)"
            ),
            ExportError::InvalidGroupingLabel { name, reason } => write!(
                f,
                "invalid push gateway grouping label {name:?}: {reason}; use letters, digits and underscores, not starting with a digit or `__`, each name once"
            ),
            ExportError::InvalidBasicAuth => write!(
                f,
                "invalid basic authentication: the user name contains ':', which basic authentication cannot carry; choose a user name without it"
            ),
            ExportError::PushRequest { url, source } => {
                write!(f, "cannot push to {url}: {source}")?;
                let mut cause = source.source();
                while let Some(err) = cause {
                    write!(f, ": {err}")?;
                    cause = err.source();
                }
                write!(f, "; check that the push gateway runs there and that the URL is right")
            }
            ExportError::PushTimeout { url, after } => write!(
                f,
                "the push gateway at {url} did not answer within {after:?}: check that it is up and reachable, or allow longer with `PushGateway::timeout(...)`"
            ),
            ExportError::PushRejected { url, status, body } => {
                write!(f, "the push gateway at {url} refused the push with status {status}")?;
                if !body.is_empty() {
                    write!(f, " ({})", body.escape_debug())?;
                }
                let hint = match status {
                    401 | 403 => "check the user and password given to `PushGateway::basic_auth(...)`",
                    404 | 405 => "check the URL: give the gateway's base URL, such as \"http://127.0.0.1:9091\", without /metrics/job/...",
                    400 => "it did not accept the metrics or the grouping key; its answer says which",
                    _ => "check the gateway's logs",
                };
                write!(f, "; {hint}")
            }
            ExportError::PushNotConfigured => write!(
                f,
                "no push gateway is configured: add `.push_gateway(PushGateway::new(url, job))` to the ExporterBuilder before calling flush() or shutdown()"
            ),
            ExportError::PushStopped => write!(
                f,
                "the exporter has stopped pushing: call flush() before shutdown(), not after"
            ),
            // The other variants are written by `Display::fmt` itself.
            _ => Ok(()),
        }
    }
}

/// The same message as `Display`, so an error returned from `main` reads
/// as what to fix.
impl fmt::Debug for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExportError::Bind { source, .. } | ExportError::Thread(source) => Some(source),
            ExportError::PushRequest { source, .. } => Some(&**source),
            #[cfg(feature = "pages")]
            ExportError::InvalidRetention(err) => Some(err),
            _ => None,
        }
    }
}
