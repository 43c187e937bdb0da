//! Pushing to a Prometheus Pushgateway, for batch jobs that end before
//! anyone scrapes them (cargo feature `push`).
//!
//! [`ExporterBuilder::push_gateway`] takes a [`PushGateway`]: where to
//! push, under which grouping key, how often and how. The exporter then
//! pushes the same text a scrape would get on the interval, from a thread
//! of its own with a single-threaded tokio runtime (no runtime is needed
//! from you), and once more when the job ends: on
//! [`Exporter::shutdown`], which says whether that push failed, or when
//! the last clone of the [`Exporter`] is dropped, which logs a failure as
//! a `tracing` warning.

mod client;
mod url;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hyper::header::HeaderValue;

use super::builder::{is_label_name, Exporter, ExporterBuilder};
use super::error::ExportError;
pub(crate) use worker::Pusher;

/// How often the metrics are pushed unless told otherwise.
///
/// ```
/// # use trace_runtime::exporter::{PushGateway, DEFAULT_PUSH_INTERVAL};
/// let twice_as_often = PushGateway::new("http://127.0.0.1:9091", "job").interval(DEFAULT_PUSH_INTERVAL / 2);
/// # let _ = twice_as_often;
/// ```
pub const DEFAULT_PUSH_INTERVAL: Duration = Duration::from_secs(10);

/// How long one push may take in all (connecting, sending, the answer)
/// unless told otherwise.
///
/// ```
/// # use trace_runtime::exporter::{PushGateway, DEFAULT_PUSH_TIMEOUT};
/// let patient = PushGateway::new("http://127.0.0.1:9091", "job").timeout(DEFAULT_PUSH_TIMEOUT * 3);
/// # let _ = patient;
/// ```
pub const DEFAULT_PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to the gateway may take unless told otherwise.
///
/// ```
/// # use trace_runtime::exporter::{PushGateway, DEFAULT_CONNECT_TIMEOUT};
/// let gateway = PushGateway::new("http://127.0.0.1:9091", "job").connect_timeout(DEFAULT_CONNECT_TIMEOUT / 4);
/// # let _ = gateway;
/// ```
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The shortest push interval: shorter ones are raised to it.
///
/// ```
/// # use trace_runtime::exporter::{PushGateway, MIN_PUSH_INTERVAL};
/// assert!(MIN_PUSH_INTERVAL.as_millis() > 0);
/// let gateway = PushGateway::new("http://127.0.0.1:9091", "job").interval(std::time::Duration::ZERO);
/// # let _ = gateway;
/// ```
pub const MIN_PUSH_INTERVAL: Duration = Duration::from_millis(100);

/// How the Pushgateway treats a push (see its documentation).
///
/// ```
/// use trace_runtime::exporter::{PushGateway, PushMethod};
///
/// let gateway = PushGateway::new("http://127.0.0.1:9091", "nightly_report")
///     .method(PushMethod::Post);
/// # let _ = gateway;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushMethod {
    /// `PUT`: the push replaces every metric of its grouping key, so the
    /// gateway holds exactly what the job rendered last (the default).
    #[default]
    Put,
    /// `POST`: the push replaces only the metric families it carries;
    /// families others pushed under the same grouping key stay.
    Post,
}

/// Where and how to push: the gateway's base URL, the grouping key (`job`,
/// then [`instance`](Self::instance) and other
/// [`grouping_label`](Self::grouping_label)s), the interval, the HTTP
/// method, basic authentication and timeouts. Checked when the exporter is
/// installed, so mistakes come back as an [`ExportError`].
///
/// Values are written into the URL as the Pushgateway expects:
/// percent-encoded, or in its `@base64` form when they contain a `/` (or
/// are empty). Only `http://` gateways are supported: this crate bundles no
/// TLS stack (so it never depends on a crypto provider being installed),
/// and an `https://` URL is [`ExportError::PushNeedsTls`].
///
/// ```no_run
/// use std::time::Duration;
/// use trace_runtime::exporter::{PushGateway, PushMethod};
///
/// # fn main() -> Result<(), trace_runtime::exporter::ExportError> {
/// let exporter = trace_runtime::ExporterBuilder::new()
///     .service_name("nightly-report")
///     .push_gateway(
///         PushGateway::new("http://127.0.0.1:9091", "nightly_report")
///             .instance("worker-1")
///             .grouping_label("shard", "eu/west") // sent as shard@base64/ZXUvd2VzdA==
///             .interval(Duration::from_secs(15))
///             .method(PushMethod::Put)
///             .basic_auth("pusher", "secret")
///             .timeout(Duration::from_secs(5)),
///     )
///     .install()?;
/// // ... the job's traced work ...
/// exporter.shutdown()?; // the final push; Err says why it failed
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PushGateway {
    url: String,
    job: String,
    labels: Vec<(String, String)>,
    interval: Duration,
    method: PushMethod,
    basic_auth: Option<(String, String)>,
    timeout: Duration,
    connect_timeout: Duration,
}

/// Leaves the password out.
impl std::fmt::Debug for PushGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushGateway")
            .field("url", &self.url)
            .field("job", &self.job)
            .field("labels", &self.labels)
            .field("interval", &self.interval)
            .field("method", &self.method)
            .field("user", &self.basic_auth.as_ref().map(|(user, _)| user))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl PushGateway {
    /// Pushes to the gateway at `url` (its base URL, such as
    /// `http://127.0.0.1:9091`, maybe with a path prefix, without
    /// `/metrics/job/...`) under `job`, every [`DEFAULT_PUSH_INTERVAL`],
    /// with `PUT`, each push within [`DEFAULT_PUSH_TIMEOUT`].
    ///
    /// ```
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup");
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn new(url: impl Into<String>, job: impl Into<String>) -> Self {
        PushGateway {
            url: url.into(),
            job: job.into(),
            labels: Vec::new(),
            interval: DEFAULT_PUSH_INTERVAL,
            method: PushMethod::Put,
            basic_auth: None,
            timeout: DEFAULT_PUSH_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// The `instance` grouping label, to keep the pushes of several
    /// machines running the same job apart.
    ///
    /// ```
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup")
    ///     .instance("db-2");
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn instance(self, instance: impl Into<String>) -> Self {
        self.grouping_label("instance", instance)
    }

    /// One more label of the grouping key, after `job`, in the order added.
    /// The gateway sets it on every metric of the push, over the metric's
    /// own label of that name.
    ///
    /// ```
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup")
    ///     .grouping_label("volume", "/srv/data");
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn grouping_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// How often to push while the job runs (default
    /// [`DEFAULT_PUSH_INTERVAL`], at least [`MIN_PUSH_INTERVAL`]). The job's
    /// end always pushes once more, however short it ran.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup")
    ///     .interval(Duration::from_secs(30));
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn interval(mut self, every: Duration) -> Self {
        self.interval = every.max(MIN_PUSH_INTERVAL);
        self
    }

    /// `PUT` (the default) or `POST`; see [`PushMethod`].
    ///
    /// ```
    /// use trace_runtime::exporter::{PushGateway, PushMethod};
    /// let gateway = PushGateway::new("http://127.0.0.1:9091", "backup").method(PushMethod::Post);
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn method(mut self, method: PushMethod) -> Self {
        self.method = method;
        self
    }

    /// HTTP basic authentication (an `Authorization: Basic` header on each
    /// push). The user name may not contain `:`. Sent in the clear over
    /// `http://`: use it on a trusted network, or behind a local
    /// TLS-terminating proxy.
    ///
    /// ```
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup")
    ///     .basic_auth("pusher", std::env::var("PUSH_PASSWORD").unwrap_or_default());
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic_auth = Some((user.into(), password.into()));
        self
    }

    /// How long one push may take in all, from connecting to the end of the
    /// answer (default [`DEFAULT_PUSH_TIMEOUT`]): a gateway that is down or
    /// hangs makes [`Exporter::shutdown`] return an error within about
    /// this long (twice it, if a push on the interval was under way).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup")
    ///     .timeout(Duration::from_secs(2));
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long connecting may take (default [`DEFAULT_CONNECT_TIMEOUT`],
    /// and never more than [`timeout`](Self::timeout)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let gateway = trace_runtime::exporter::PushGateway::new("http://127.0.0.1:9091", "backup")
    ///     .connect_timeout(Duration::from_millis(500));
    /// # let _ = gateway;
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The checked configuration, ready to start.
    pub(super) fn check(&self) -> Result<CheckedPush, ExportError> {
        let invalid = |name: &str, reason: &'static str| ExportError::InvalidGroupingLabel {
            name: name.to_owned(),
            reason,
        };
        if self.job.is_empty() {
            return Err(invalid("job", "the job name is empty"));
        }
        for (i, (name, _)) in self.labels.iter().enumerate() {
            if name == "job" {
                return Err(invalid(name, "the job is given to `PushGateway::new`"));
            }
            if !is_label_name(name) {
                return Err(invalid(name, "it is not a Prometheus label name"));
            }
            if self.labels[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(invalid(name, "it is given twice"));
            }
        }
        let endpoint = url::endpoint(&self.url, &self.job, &self.labels)?;
        let authorization = match &self.basic_auth {
            Some((user, _)) if user.contains(':') => return Err(ExportError::InvalidBasicAuth),
            Some((user, password)) => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{password}").as_bytes());
                let mut value = HeaderValue::try_from(format!("Basic {token}"))
                    .map_err(|_| ExportError::InvalidBasicAuth)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let method = match self.method {
            PushMethod::Put => hyper::Method::PUT,
            PushMethod::Post => hyper::Method::POST,
        };
        let gateway = client::Gateway::new(
            endpoint,
            method,
            authorization,
            self.connect_timeout.min(self.timeout),
            self.timeout,
        );
        Ok(CheckedPush {
            gateway,
            interval: self.interval,
            timeout: self.timeout,
        })
    }
}

/// A [`PushGateway`] whose configuration was checked, not yet started.
pub(crate) struct CheckedPush {
    gateway: client::Gateway,
    interval: Duration,
    timeout: Duration,
}

impl CheckedPush {
    /// Starts pushing `render()`'s text.
    pub(super) fn start(
        self,
        render: impl Fn() -> String + Send + 'static,
    ) -> Result<Arc<Pusher>, ExportError> {
        Pusher::start(self.gateway, self.interval, self.timeout, render).map(Arc::new)
    }
}

impl ExporterBuilder {
    /// Pushes the metrics to a Prometheus Pushgateway (cargo feature
    /// `push`): on `gateway`'s interval while the job runs, and once more
    /// at its end, on [`Exporter::shutdown`] or when the last clone of the
    /// exporter is dropped. Works with [`install`](Self::install) (push
    /// only) and with [`serve`](Self::serve) (push and serve).
    ///
    /// ```no_run
    /// use trace_runtime::exporter::PushGateway;
    ///
    /// #[trace_runtime::trace]
    /// fn archive(day: u32) -> Result<(), String> { Ok(()) }
    ///
    /// fn main() -> Result<(), Box<dyn std::error::Error>> {
    ///     let exporter = trace_runtime::ExporterBuilder::new()
    ///         .push_gateway(PushGateway::new("http://127.0.0.1:9091", "archive").instance("host-1"))
    ///         .install()?;
    ///     for day in 1..=7 {
    ///         archive(day)?;
    ///     }
    ///     exporter.shutdown()?; // or let `exporter` drop at the end of main
    ///     Ok(())
    /// }
    /// ```
    #[must_use]
    pub fn push_gateway(mut self, gateway: PushGateway) -> Self {
        self.push = Some(gateway);
        self
    }
}

impl Exporter {
    /// Pushes the metrics now and waits for the gateway's answer, bounded
    /// by the push timeout; the interval pushes go on.
    ///
    /// ```no_run
    /// # fn run(exporter: &trace_runtime::exporter::Exporter) -> Result<(), trace_runtime::exporter::ExportError> {
    /// exporter.flush()?; // e.g. after each stage of a long job
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`ExportError::PushRequest`] when the gateway cannot be reached,
    /// [`ExportError::PushTimeout`] when it does not answer in time,
    /// [`ExportError::PushRejected`] when it refuses the push,
    /// [`ExportError::PushStopped`] after [`shutdown`](Self::shutdown), and
    /// [`ExportError::PushNotConfigured`] without
    /// [`push_gateway`](ExporterBuilder::push_gateway).
    pub fn flush(&self) -> Result<(), ExportError> {
        self.push
            .as_ref()
            .ok_or(ExportError::PushNotConfigured)?
            .flush()
    }

    /// Stops pushing on the interval and pushes a last time, waiting for
    /// the gateway's answer (at most about twice the push timeout). Call it
    /// at the end of the job, or let the last clone of the exporter drop;
    /// `std::process::exit` runs no destructor, so call it before that. A
    /// second call returns `Ok(())` without pushing.
    ///
    /// ```no_run
    /// # fn run(exporter: trace_runtime::exporter::Exporter) {
    /// if let Err(err) = exporter.shutdown() {
    ///     eprintln!("metrics not pushed: {err}");
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`flush`](Self::flush), except that it is not
    /// [`PushStopped`](ExportError::PushStopped).
    pub fn shutdown(&self) -> Result<(), ExportError> {
        self.push
            .as_ref()
            .ok_or(ExportError::PushNotConfigured)?
            .shutdown()
    }
}
