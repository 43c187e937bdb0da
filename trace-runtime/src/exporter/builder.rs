//! [`ExporterBuilder`]: validates the configuration, installs the Prometheus
//! recorder, serves `/metrics` or returns a handle, and keeps upkeep running.

use std::fmt;
use std::net::SocketAddr;
#[cfg(feature = "serve")]
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::exporter::error::ExportError;
#[cfg(feature = "serve")]
use crate::exporter::http;
use crate::metrics::{handles, histogram, names, service};
use crate::objective::Objective;
#[cfg(feature = "pages")]
use crate::pages::{RecentTrees, Retention};

/// How often histogram samples are folded into their buckets by default.
///
/// Traced calls keep their duration histograms in per-thread buckets, but
/// `metrics-exporter-prometheus` queues every sample of histograms recorded
/// through the facade by other code until upkeep drains it, so upkeep bounds
/// their memory when nobody scrapes.
pub const DEFAULT_UPKEEP: Duration = Duration::from_millis(100);

/// The address [`ExporterBuilder::serve`] listens on unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";

/// Configures and installs the Prometheus exporter. Call it once, early in
/// `main`; traced calls made before it are not lost from then on.
///
/// ```no_run
/// let exporter = trace_runtime::ExporterBuilder::new()
///     .service_name("rooms")
///     .version(env!("CARGO_PKG_VERSION"))
///     .listen("0.0.0.0:9000")
///     .serve()?;
/// println!("metrics on http://{}/metrics", exporter.local_addr().unwrap());
/// # Ok::<(), trace_runtime::exporter::ExportError>(())
/// ```
///
/// To mount the output in your own server instead, call
/// [`install`](ExporterBuilder::install) and return
/// [`Exporter::render`] from your `/metrics` handler.
#[derive(Clone, Debug)]
pub struct ExporterBuilder {
    listen: String,
    buckets: Vec<f64>,
    /// Buckets of other code's histograms, by name suffix.
    other_buckets: Vec<(String, Vec<f64>)>,
    service_name: Option<String>,
    /// The service name when none is set and `OTEL_SERVICE_NAME` is unset.
    package: Option<String>,
    version: String,
    /// `commit` and `branch` of `build_info`.
    commit: String,
    branch: String,
    upkeep: Duration,
    global_labels: Vec<(String, String)>,
    hooks: Hooks,
    /// Objectives whose latency targets must be buckets.
    objectives: Vec<Objective>,
    /// Whether each render appends the `process_*` families.
    process: bool,
    /// The tokio runtime whose metrics are set before each render.
    #[cfg(feature = "runtime")]
    runtime: Option<tokio::runtime::Handle>,
    /// What the trace page keeps, when it is on.
    #[cfg(feature = "pages")]
    pages: Option<Retention>,
    /// The recent window of the live statistics, when they are on.
    #[cfg(feature = "stats")]
    stats: Option<Duration>,
    /// Where to push the metrics, if anywhere.
    #[cfg(feature = "push")]
    pub(super) push: Option<super::push::PushGateway>,
}

/// Functions run before each render.
#[derive(Clone, Default)]
struct Hooks(Vec<Arc<dyn Fn() + Send + Sync>>);

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hooks", self.0.len())
    }
}

impl Hooks {
    fn run(&self) {
        for hook in &self.0 {
            hook();
        }
    }
}

impl Default for ExporterBuilder {
    fn default() -> Self {
        ExporterBuilder::new()
    }
}

/// The installed exporter: render the metrics text, or read the address it
/// serves on. Background threads keep running after it is dropped, except
/// the push thread, which pushes a last time when the last clone is.
#[derive(Clone, Debug)]
pub struct Exporter {
    handle: PrometheusHandle,
    hooks: Hooks,
    process: bool,
    local_addr: Option<SocketAddr>,
    #[cfg(feature = "pages")]
    recent: Option<Arc<RecentTrees>>,
    /// The push thread's handle, shared by the clones.
    #[cfg(feature = "push")]
    pub(super) push: Option<Arc<super::push::Pusher>>,
}

impl Exporter {
    /// The metrics in the Prometheus text format (content type
    /// [`CONTENT_TYPE`](crate::exporter::CONTENT_TYPE)), for a `/metrics`
    /// handler; runs the [`before_render`](ExporterBuilder::before_render)
    /// hooks first.
    #[must_use]
    pub fn render(&self) -> String {
        render(&self.handle, &self.hooks, self.process)
    }

    /// The address `/metrics` is served on, when started with
    /// [`serve`](ExporterBuilder::serve).
    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The trees the trace page shows, when
    /// [`trace_pages`](ExporterBuilder::trace_pages) turned it on: mount
    /// them in your own server too, with
    /// [`http::pages_router`](crate::http::pages_router) (cargo feature
    /// `axum`) or [`pages::traces_html`](crate::pages::traces_html).
    ///
    /// ```
    /// let exporter = trace_runtime::ExporterBuilder::new()
    ///     .trace_pages(trace_runtime::pages::Retention::default())
    ///     .install()?;
    /// assert!(exporter.recent_trees().is_some());
    /// # Ok::<(), trace_runtime::exporter::ExportError>(())
    /// ```
    #[cfg(feature = "pages")]
    #[must_use]
    pub fn recent_trees(&self) -> Option<&Arc<RecentTrees>> {
        self.recent.as_ref()
    }
}

impl ExporterBuilder {
    /// Defaults: listen on [`DEFAULT_LISTEN`], buckets
    /// [`DEFAULT_BUCKETS`](crate::metrics::DEFAULT_BUCKETS), service name from
    /// `OTEL_SERVICE_NAME` or each function's package, upkeep every
    /// [`DEFAULT_UPKEEP`].
    #[must_use]
    pub fn new() -> Self {
        ExporterBuilder {
            listen: DEFAULT_LISTEN.to_owned(),
            buckets: names::DEFAULT_BUCKETS.to_vec(),
            other_buckets: Vec::new(),
            service_name: None,
            package: None,
            version: String::new(),
            commit: String::new(),
            branch: String::new(),
            upkeep: DEFAULT_UPKEEP,
            global_labels: Vec::new(),
            hooks: Hooks::default(),
            objectives: Vec::new(),
            process: false,
            #[cfg(feature = "runtime")]
            runtime: None,
            #[cfg(feature = "pages")]
            pages: None,
            #[cfg(feature = "stats")]
            stats: None,
            #[cfg(feature = "push")]
            push: None,
        }
    }

    /// The `ip:port` to serve `/metrics` on; port 0 picks a free port.
    #[must_use]
    pub fn listen(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }

    /// Upper bounds, in seconds, of the `function_calls_duration_seconds`
    /// histogram buckets: finite, positive and strictly increasing.
    #[must_use]
    pub fn buckets(mut self, bounds: &[f64]) -> Self {
        self.buckets = bounds.to_vec();
        self
    }

    /// Upper bounds, in seconds (or the histogram's unit), of histograms
    /// that other code records through the `metrics` facade (yours, or an
    /// HTTP layer's) whose name ends with `suffix`: they are rendered as
    /// Prometheus histograms with these buckets instead of summaries. Same
    /// rules as [`buckets`](Self::buckets); may be called once per suffix.
    ///
    /// ```
    /// let builder = trace_runtime::ExporterBuilder::new()
    ///     .histogram_buckets("_request_duration_seconds", &[0.005, 0.05, 0.5, 5.0]);
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn histogram_buckets(mut self, suffix: impl Into<String>, bounds: &[f64]) -> Self {
        self.other_buckets.push((suffix.into(), bounds.to_vec()));
        self
    }

    /// The `service_name` label of every metric.
    #[must_use]
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Declares an objective used by traced functions, so that with custom
    /// [`buckets`](Self::buckets) a latency target that is not one of them
    /// is an error at install rather than a latency objective no rule can
    /// evaluate. (With the default buckets every target is a bucket.)
    ///
    /// ```
    /// use trace_runtime::objective::{Latency, Objective, Percentile};
    /// use trace_runtime::exporter::ExportError;
    ///
    /// const API: Objective = Objective::new("api").latency(Latency::Ms250, Percentile::P99);
    /// let err = trace_runtime::ExporterBuilder::new()
    ///     .buckets(&[0.1, 0.5, 1.0])
    ///     .objective(API)
    ///     .install()
    ///     .unwrap_err();
    /// assert!(matches!(err, ExportError::ObjectiveNotABucket { .. }));
    /// ```
    #[must_use]
    pub fn objective(mut self, objective: Objective) -> Self {
        self.objectives.push(objective);
        self
    }

    /// A label every series carries, such as `deployment="eu-1"`; a
    /// series' own label of the same name wins. `service_name` is one
    /// already: set it with [`service_name`](Self::service_name).
    ///
    /// ```
    /// let builder = trace_runtime::ExporterBuilder::new().global_label("deployment", "eu-1");
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn global_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.global_labels.push((name.into(), value.into()));
        self
    }

    /// Runs `hook` before each render, to bring gauges up to date (process
    /// memory, a pool's connections) just before they are read. Hooks run
    /// in the order added, on the rendering thread.
    ///
    /// ```
    /// let builder = trace_runtime::ExporterBuilder::new().before_render(|| {
    ///     metrics::gauge!("pool_connections_idle").set(4.0);
    /// });
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn before_render(mut self, hook: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks.0.push(Arc::new(hook));
        self
    }

    /// The package the service is built from: `name` is the service name
    /// unless [`service_name`](Self::service_name) or `OTEL_SERVICE_NAME`
    /// says otherwise, `version` the `version` of `build_info` unless
    /// [`version`](Self::version) does. [`exporter_builder!`](crate::exporter_builder)
    /// passes the calling package's.
    ///
    /// ```
    /// let builder = trace_runtime::ExporterBuilder::new()
    ///     .package(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn package(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.package = Some(name.into());
        if self.version.is_empty() {
            self.version = version.into();
        }
        self
    }

    /// The `version` label of `build_info`, usually `env!("CARGO_PKG_VERSION")`.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The `commit` and `branch` labels of `build_info`, to tell builds of
    /// one version apart. Fill them at build time, for example from a
    /// `build.rs` that runs `git` and prints
    /// `cargo:rustc-env=GIT_COMMIT=...` and `cargo:rustc-env=GIT_BRANCH=...`;
    /// [`exporter_builder!`](crate::exporter_builder) reads those two
    /// variables when they are set.
    ///
    /// ```
    /// let builder = trace_runtime::ExporterBuilder::new()
    ///     .commit_and_branch(option_env!("GIT_COMMIT").unwrap_or(""), "main");
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn commit_and_branch(
        mut self,
        commit: impl Into<String>,
        branch: impl Into<String>,
    ) -> Self {
        self.commit = commit.into();
        self.branch = branch.into();
        self
    }

    /// Appends the `process_*` families Prometheus users know to every
    /// render (cargo feature `process`): `process_cpu_seconds_total`
    /// (fractional), `process_resident_memory_bytes`,
    /// `process_virtual_memory_bytes`, `process_virtual_memory_max_bytes`,
    /// `process_open_fds`, `process_max_fds`, `process_threads` and
    /// `process_start_time_seconds`, read from the OS (`metrics-process`)
    /// when rendered, with the global labels. The CPU seconds and resident
    /// memory also go into the [`Snapshot`](crate::tree::Snapshot) logged
    /// with slow and failed requests' trees.
    ///
    /// ```
    /// let builder = trace_runtime::ExporterBuilder::new().process_metrics();
    /// # let _ = builder;
    /// ```
    #[cfg(feature = "process")]
    #[must_use]
    pub fn process_metrics(mut self) -> Self {
        self.process = true;
        self
    }

    /// Sets tokio's stable runtime metrics before each render (cargo
    /// feature `runtime`): `tokio_workers`, `tokio_alive_tasks`,
    /// `tokio_global_queue_depth` and `tokio_busy_ratio` (the workers' busy
    /// share since the previous render), and runs a probe task on the
    /// runtime that asks to wake every 100 ms and records how late it ran
    /// in the `tokio_event_loop_lag_seconds` histogram.
    /// The alive tasks and queue depth also go into the
    /// [`Snapshot`](crate::tree::Snapshot) logged with slow and failed
    /// requests' trees.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), trace_runtime::exporter::ExportError> {
    /// let exporter = trace_runtime::ExporterBuilder::new()
    ///     .runtime_metrics(tokio::runtime::Handle::current())
    ///     .serve()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "runtime")]
    #[must_use]
    pub fn runtime_metrics(mut self, handle: tokio::runtime::Handle) -> Self {
        self.hooks
            .0
            .push(Arc::new(super::runtime::hook(handle.clone())));
        self.runtime = Some(handle);
        self
    }

    /// Keeps the slowest and the failed recent request trees (cargo feature
    /// `pages`), as `retention` says, in a [`RecentTrees`] added as a tree
    /// sink at install, and serves them as the `/traces` page next to
    /// `/metrics` under [`serve`](Self::serve): each request expandable,
    /// its calls as bars on a time axis. With the cargo feature `stats`,
    /// `/stats` and `/stats.json` too (the statistics
    /// [`stats`](Self::stats) turns on).
    /// [`Exporter::recent_trees`] hands them to your own server.
    ///
    /// ```no_run
    /// use trace_runtime::pages::Retention;
    ///
    /// let exporter = trace_runtime::ExporterBuilder::new()
    ///     .trace_pages(Retention::default().slowest(50).failed(50))
    ///     .serve()?;
    /// println!("http://{}/traces", exporter.local_addr().unwrap());
    /// # Ok::<(), trace_runtime::exporter::ExportError>(())
    /// ```
    #[cfg(feature = "pages")]
    #[must_use]
    pub fn trace_pages(mut self, retention: Retention) -> Self {
        self.pages = Some(retention);
        self
    }

    /// Keeps live statistics per traced function and HTTP route, over the
    /// process's lifetime and over the last `window`, for
    /// [`stats::snapshot`](crate::stats::snapshot) (cargo feature `stats`).
    /// Each call then writes three more per-thread cells (see
    /// [`stats`](crate::stats) for what they cost); off unless called.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let exporter = trace_runtime::ExporterBuilder::new()
    ///     .stats(Duration::from_secs(60))
    ///     .install()?;
    /// # Ok::<(), trace_runtime::exporter::ExportError>(())
    /// ```
    ///
    /// Building fails with [`ExportError::StatsWindowTooShort`] for a
    /// window under [`stats::MIN_WINDOW`](crate::stats::MIN_WINDOW).
    #[cfg(feature = "stats")]
    #[must_use]
    pub fn stats(mut self, window: Duration) -> Self {
        self.stats = Some(window);
        self
    }

    /// How often samples of histograms recorded through the `metrics` facade
    /// are folded into buckets when nobody scrapes, which bounds their memory
    /// (default [`DEFAULT_UPKEEP`], at least 10 ms). Traced calls' own
    /// duration histograms queue nothing.
    #[must_use]
    pub fn upkeep_interval(mut self, every: Duration) -> Self {
        self.upkeep = every.max(Duration::from_millis(10));
        self
    }

    /// Installs the recorder and serves `/metrics` on the listen address from
    /// a background thread (cargo feature `serve`, on by default).
    ///
    /// The server is hyper's HTTP/1.1 on a single-threaded tokio runtime of
    /// its own, one task per connection, so slow or idle clients do not
    /// hold a scrape back. Its limits: 5 s to send a request head, 16 KiB
    /// for the head (longer ones get `431`), 60 s per connection, 64
    /// connections served at once (more wait in the listen backlog), and a
    /// failing `accept` (out of file descriptors) backs off up to a second.
    /// `GET` and `HEAD /metrics` answer `200`, other paths `404`, other
    /// methods `405` with `Allow: GET, HEAD`.
    ///
    /// # Errors
    /// [`ExportError`] for an unparsable or unavailable address, invalid
    /// buckets, an empty service name, or an already installed recorder.
    #[cfg(feature = "serve")]
    pub fn serve(self) -> Result<Exporter, ExportError> {
        let prometheus = self.validate()?;
        #[cfg(feature = "push")]
        let push = self.check_push()?;
        let addr: SocketAddr =
            self.listen
                .trim()
                .parse()
                .map_err(|_| ExportError::InvalidAddress {
                    input: self.listen.clone(),
                })?;
        let listener =
            TcpListener::bind(addr).map_err(|source| ExportError::Bind { addr, source })?;
        let local_addr = listener.local_addr().ok();
        let handle = self.install_recorder(prometheus)?;
        let serving = handle.clone();
        let hooks = self.hooks.clone();
        let process = self.process;
        let routes = http::Routes::new(move || render(&serving, &hooks, process));
        #[cfg(feature = "pages")]
        let recent = self.install_pages();
        #[cfg(feature = "pages")]
        let routes = routes.pages(recent.clone());
        std::thread::Builder::new()
            .name("trace-runtime-metrics".to_owned())
            .spawn(move || {
                // The listener is bound; nothing else can fail before the
                // server runs but the runtime's creation, which only a
                // resource-starved process sees.
                let _ = http::serve(listener, routes);
            })
            .map_err(ExportError::Thread)?;
        Ok(Exporter {
            #[cfg(feature = "push")]
            push: self.start_push(push, &handle)?,
            handle,
            hooks: self.hooks,
            process: self.process,
            local_addr,
            #[cfg(feature = "pages")]
            recent,
        })
    }

    /// Installs the recorder without serving: mount [`Exporter::render`] in
    /// your own server.
    ///
    /// # Errors
    /// [`ExportError`] for invalid buckets, an empty service name, or an
    /// already installed recorder.
    pub fn install(self) -> Result<Exporter, ExportError> {
        let prometheus = self.validate()?;
        #[cfg(feature = "push")]
        let push = self.check_push()?;
        let handle = self.install_recorder(prometheus)?;
        Ok(Exporter {
            #[cfg(feature = "push")]
            push: self.start_push(push, &handle)?,
            handle,
            #[cfg(feature = "pages")]
            recent: self.install_pages(),
            hooks: self.hooks,
            process: self.process,
            local_addr: None,
        })
    }

    /// The trace page's trees, added as a sink, when it is on; `validate`
    /// checked the retention.
    #[cfg(feature = "pages")]
    fn install_pages(&self) -> Option<Arc<RecentTrees>> {
        RecentTrees::install(self.pages?).ok()
    }

    #[cfg(feature = "push")]
    fn check_push(&self) -> Result<Option<super::push::CheckedPush>, ExportError> {
        self.push
            .as_ref()
            .map(super::push::PushGateway::check)
            .transpose()
    }

    /// Starts the push thread, rendering as a scrape would.
    #[cfg(feature = "push")]
    fn start_push(
        &self,
        push: Option<super::push::CheckedPush>,
        handle: &PrometheusHandle,
    ) -> Result<Option<Arc<super::push::Pusher>>, ExportError> {
        let Some(push) = push else {
            return Ok(None);
        };
        let (handle, hooks, process) = (handle.clone(), self.hooks.clone(), self.process);
        push.start(move || render(&handle, &hooks, process))
            .map(Some)
    }

    fn validate(&self) -> Result<PrometheusBuilder, ExportError> {
        #[cfg(feature = "stats")]
        if let Some(window) = self.stats.filter(|w| *w < crate::stats::MIN_WINDOW) {
            return Err(ExportError::StatsWindowTooShort { window });
        }
        check_bounds(&self.buckets).map_err(|bound| match bound {
            None => ExportError::EmptyBuckets,
            Some((index, value)) => ExportError::InvalidBucket { index, value },
        })?;
        for (suffix, bounds) in &self.other_buckets {
            check_bounds(bounds).map_err(|bound| ExportError::InvalidHistogramBuckets {
                suffix: suffix.clone(),
                bound,
            })?;
        }
        if self
            .service_name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty())
        {
            return Err(ExportError::EmptyServiceName);
        }
        for objective in &self.objectives {
            if let Some((latency, _)) = objective.latency_target() {
                // Exact: both sides are the same decimal literals.
                #[allow(clippy::float_cmp)]
                if !self.buckets.iter().any(|b| *b == latency.seconds()) {
                    return Err(ExportError::ObjectiveNotABucket {
                        objective: objective.name(),
                        threshold: latency.seconds(),
                    });
                }
            }
        }
        if let Some((name, _)) = self.global_labels.iter().find(|(n, _)| !is_label_name(n)) {
            return Err(ExportError::InvalidLabelName { name: name.clone() });
        }
        #[cfg(feature = "pages")]
        if let Some(retention) = self.pages {
            retention.check().map_err(ExportError::InvalidRetention)?;
        }
        let mut prometheus = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(names::DURATION_SECONDS.to_owned()),
                &self.buckets,
            )
            .map_err(|_| ExportError::EmptyBuckets)?;
        // The HTTP layer's histogram gets the call buckets unless a
        // `histogram_buckets` suffix covers it.
        let http = names::HTTP_REQUEST_DURATION_SECONDS;
        if !self
            .other_buckets
            .iter()
            .any(|(s, _)| http.ends_with(s.as_str()))
        {
            prometheus = prometheus
                .set_buckets_for_metric(Matcher::Full(http.to_owned()), &self.buckets)
                .map_err(|_| ExportError::EmptyBuckets)?;
        }
        #[cfg(feature = "runtime")]
        {
            prometheus = prometheus
                .set_buckets_for_metric(
                    Matcher::Full(super::runtime::LAG_SECONDS.to_owned()),
                    &self.buckets,
                )
                .map_err(|_| ExportError::EmptyBuckets)?;
        }
        for (name, value) in self.global_labels() {
            prometheus = prometheus.add_global_label(name, value);
        }
        for (suffix, bounds) in &self.other_buckets {
            prometheus = prometheus
                .set_buckets_for_metric(Matcher::Suffix(suffix.clone()), bounds)
                .map_err(|_| ExportError::InvalidHistogramBuckets {
                    suffix: suffix.clone(),
                    bound: None,
                })?;
        }
        Ok(prometheus)
    }

    /// The labels every series gets: the user's, then `service_name`
    /// unless the user gave one.
    fn global_labels(&self) -> Vec<(String, String)> {
        let mut labels = self.global_labels.clone();
        if !labels.iter().any(|(name, _)| name == "service_name") {
            let name = (self.service_name.clone())
                .or_else(service::from_env)
                .or_else(|| self.package.clone())
                .unwrap_or_else(|| service::UNKNOWN.to_owned());
            labels.push(("service_name".to_owned(), name));
        }
        labels
    }

    fn install_recorder(
        &self,
        prometheus: PrometheusBuilder,
    ) -> Result<PrometheusHandle, ExportError> {
        let recorder = prometheus.build_recorder();
        let handle = recorder.handle();
        // This exporter publishes call counts and in-flight gauges, and
        // renders duration histograms, from per-thread cells at every render,
        // so calls update no shared counter. No call site registers in
        // between, so none gets shared handles or the wrong service name.
        handles::install_published(|| {
            metrics::set_global_recorder(recorder)
                .map_err(|_| ExportError::RecorderAlreadyInstalled)?;
            #[cfg(feature = "stats")]
            if let Some(window) = self.stats {
                crate::stats::enable(window).map_err(ExportError::Thread)?;
            }
            histogram::configure(&self.buckets);
            handles::set_global_labels(self.global_labels());
            if let Some(name) = &self.service_name {
                service::set(name.clone());
            }
            if let Some(package) = &self.package {
                service::set_package(package.clone());
            }
            Ok(())
        })?;
        describe_and_announce(&self.version, &self.commit, &self.branch);
        #[cfg(feature = "runtime")]
        if let Some(handle) = &self.runtime {
            super::runtime::describe();
            super::runtime::spawn_probe(handle);
            crate::tree::snapshot::add_gauges(super::runtime::snapshot(handle.clone()));
        }
        #[cfg(feature = "process")]
        if self.process {
            crate::tree::snapshot::add_gauges(super::process::snapshot);
        }
        let upkeep = handle.clone();
        let every = self.upkeep;
        std::thread::Builder::new()
            .name("trace-runtime-upkeep".to_owned())
            .spawn(move || loop {
                std::thread::sleep(every);
                upkeep.run_upkeep();
            })
            .map_err(ExportError::Thread)?;
        Ok(handle)
    }
}

/// `Err(None)` for no bounds, `Err(Some((index, bound)))` for the first bound
/// that is not finite and positive, or not larger than the one before it.
fn check_bounds(bounds: &[f64]) -> Result<(), Option<(usize, f64)>> {
    if bounds.is_empty() {
        return Err(None);
    }
    for (index, &value) in bounds.iter().enumerate() {
        let increasing = index == 0 || value > bounds[index - 1];
        if !value.is_finite() || value <= 0.0 || !increasing {
            return Err(Some((index, value)));
        }
    }
    Ok(())
}

/// Whether `name` is a Prometheus label name a user may set.
pub(super) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// The metrics text: hooks first, then per-thread counts published.
fn render(handle: &PrometheusHandle, hooks: &Hooks, process: bool) -> String {
    hooks.run();
    handles::publish();
    let mut text = handle.render();
    handles::render_histograms(&mut text);
    #[cfg(feature = "process")]
    if process {
        super::process::render(&handles::global_label_text(), &mut text);
    }
    #[cfg(not(feature = "process"))]
    let _ = process;
    text
}

/// HELP lines for every metric, and `build_info 1`.
fn describe_and_announce(version: &str, commit: &str, branch: &str) {
    metrics::describe_counter!(
        names::CALLS_TOTAL,
        "Calls of traced functions, by result (ok, error, cancelled) and caller."
    );
    metrics::describe_gauge!(
        names::CONCURRENT,
        "Calls of traced functions currently in flight."
    );
    metrics::describe_counter!(
        names::HTTP_REQUESTS_TOTAL,
        "HTTP requests served, by method, route template and response status."
    );
    metrics::describe_histogram!(
        names::HTTP_REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "Duration of HTTP requests, from arrival to the response head."
    );
    metrics::describe_gauge!(
        names::HTTP_REQUESTS_IN_FLIGHT,
        "HTTP requests currently being served."
    );
    metrics::describe_gauge!(
        names::BUILD_INFO,
        "Build information of the service; the value is always 1."
    );
    metrics::gauge!(
        names::BUILD_INFO,
        "version" => version.to_owned(),
        "commit" => commit.to_owned(),
        "branch" => branch.to_owned(),
        "service_name" => service::resolve(None),
        "trace_runtime_version" => env!("CARGO_PKG_VERSION"),
    )
    .set(1.0);
}
