//! [`OtlpBuilder`]: where spans go and which trees are exported.

use std::cell::Cell;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SpanExporter;
use opentelemetry_sdk::Resource;

use crate::error::ConfigError;
use crate::queue::Queue;
use crate::sampling::Sampling;
use crate::sink::{Otlp, OtlpSink, Shared};
use crate::stats::{self, Stats};
use crate::worker::Worker;

/// The endpoint when neither the builder nor `OTEL_EXPORTER_OTLP_*` names one.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4318/v1/traces";

const DEFAULT_QUEUE_SPANS: usize = 2048;
const DEFAULT_BATCH: usize = 512;
const DEFAULT_DELAY: Duration = Duration::from_secs(5);

/// Configures and installs the exporter of call trees as OpenTelemetry
/// spans. What is not set in code is read from the standard variables:
///
/// | setting | in code | variable | default |
/// |---|---|---|---|
/// | endpoint | [`endpoint`](Self::endpoint) | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` | [`DEFAULT_ENDPOINT`] |
/// | headers, timeout, compression | [`timeout`](Self::timeout) | `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`, `_TIMEOUT`, `_COMPRESSION` | none, 10 s, none |
/// | `service.name` | [`service_name`](Self::service_name) | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | `unknown_service` |
/// | sampling ratio | [`sample_ratio`](Self::sample_ratio) | `OTEL_TRACES_SAMPLER` (`always_on`, `always_off`, `traceidratio`, `parentbased_*`) and `OTEL_TRACES_SAMPLER_ARG` | 1 |
/// | queue, in spans | [`max_queue_spans`](Self::max_queue_spans) | `OTEL_BSP_MAX_QUEUE_SIZE` | 2048 |
/// | batch, in spans | [`batch_size`](Self::batch_size) | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | 512 |
/// | export delay | [`scheduled_delay`](Self::scheduled_delay) | `OTEL_BSP_SCHEDULE_DELAY` (ms) | 5 s |
///
/// ```no_run
/// let otlp = trace_otel::OtlpBuilder::new()
///     .service_name("rooms")
///     .sample_ratio(0.1) // and every failed or slow tree
///     .install()?;
/// # drop(otlp);
/// # Ok::<(), trace_otel::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until `install`"]
pub struct OtlpBuilder {
    endpoint: Option<String>,
    timeout: Option<Duration>,
    service_name: Option<String>,
    sampling: Option<Sampling>,
    ratio: Option<f64>,
    max_queue_spans: Option<usize>,
    batch_size: Option<usize>,
    delay: Option<Duration>,
}

impl OtlpBuilder {
    /// A builder with nothing set: everything from the variables or the
    /// defaults.
    pub fn new() -> Self {
        OtlpBuilder::default()
    }

    /// The OTLP/HTTP endpoint: a base such as `http://127.0.0.1:4318`
    /// (`/v1/traces` is appended) or the full URL. Overrides the variables.
    /// Plain `http://` only: no TLS client is built in.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// How long one export request may take; overrides
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The `service.name` resource attribute; overrides `OTEL_SERVICE_NAME`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Which trees are exported (default: [`Sampling::default`], all).
    pub fn sampling(mut self, sampling: Sampling) -> Self {
        self.sampling = Some(sampling);
        self
    }

    /// The head-sampling ratio, 0 to 1, keeping failed and slow trees
    /// whatever it is (unless [`sampling`](Self::sampling) says otherwise).
    pub fn sample_ratio(mut self, ratio: f64) -> Self {
        self.ratio = Some(ratio);
        self
    }

    /// The most spans waiting for export; trees that do not fit are dropped
    /// and their spans counted in `otlp_spans_dropped_total{reason="queue_full"}`.
    pub fn max_queue_spans(mut self, spans: usize) -> Self {
        self.max_queue_spans = Some(spans);
        self
    }

    /// The most spans per export request; a batch this full is sent without
    /// waiting for the delay.
    pub fn batch_size(mut self, spans: usize) -> Self {
        self.batch_size = Some(spans);
        self
    }

    /// How long queued spans may wait for a fuller batch.
    pub fn scheduled_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Builds the OTLP/HTTP exporter (protobuf), starts the exporter thread
    /// and adds the tree sink (`trace_runtime::tree::add_sink`).
    ///
    /// # Errors
    /// An invalid setting or variable, an endpoint the exporter rejects, or
    /// a thread that could not start; each error says what to fix.
    pub fn install(self) -> Result<Otlp, ConfigError> {
        let endpoint = self.resolved_endpoint();
        let timeout = self.timeout;
        self.start(move || {
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary);
            if let Some(endpoint) = endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let Some(timeout) = timeout {
                builder = builder.with_timeout(timeout);
            }
            builder
                .build()
                .map_err(|why| ConfigError::Exporter(why.to_string()))
        })
    }

    /// As [`install`](Self::install), with another span exporter (one that
    /// discards or keeps spans in tests, or another protocol).
    ///
    /// # Errors
    /// An invalid setting or variable, or a thread that could not start.
    pub fn install_with_exporter<E>(self, exporter: E) -> Result<Otlp, ConfigError>
    where
        E: SpanExporter + 'static,
    {
        self.start(move || Ok(exporter))
    }

    /// The endpoint to give the exporter: ours, else none when a variable
    /// names one (the exporter reads it), else the default.
    fn resolved_endpoint(&self) -> Option<String> {
        if let Some(url) = &self.endpoint {
            let trimmed = url.trim_end_matches('/');
            let has_path = trimmed
                .split_once("://")
                .is_some_and(|(_, rest)| rest.contains('/'));
            return Some(if has_path {
                trimmed.to_owned()
            } else {
                format!("{trimmed}/v1/traces")
            });
        }
        let set = |name| std::env::var(name).is_ok_and(|v| !v.is_empty());
        if set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || set("OTEL_EXPORTER_OTLP_ENDPOINT") {
            None
        } else {
            Some(DEFAULT_ENDPOINT.to_owned())
        }
    }

    fn resolved_sampling(&self) -> Result<Sampling, ConfigError> {
        let mut sampling = self.sampling.unwrap_or_default();
        match self.ratio {
            Some(ratio) => sampling.ratio = ratio,
            None if self.sampling.is_none() => {
                if let Some(ratio) = env_ratio()? {
                    sampling.ratio = ratio;
                }
            }
            None => {}
        }
        if !(0.0..=1.0).contains(&sampling.ratio) {
            return Err(ConfigError::InvalidRatio {
                value: sampling.ratio,
            });
        }
        Ok(sampling)
    }

    fn resource(&self) -> Result<Resource, ConfigError> {
        let builder = Resource::builder();
        Ok(match &self.service_name {
            Some(name) if name.is_empty() => return Err(ConfigError::EmptyServiceName),
            Some(name) => builder.with_service_name(name.clone()),
            None => builder,
        }
        .build())
    }

    /// Checks the settings, starts the exporter thread with the exporter
    /// `build_exporter` builds there, and adds the sink.
    fn start<E, F>(self, build_exporter: F) -> Result<Otlp, ConfigError>
    where
        E: SpanExporter + 'static,
        F: FnOnce() -> Result<E, ConfigError> + Send + 'static,
    {
        let sampling = self.resolved_sampling()?;
        let max_spans = positive(
            self.max_queue_spans,
            "OTEL_BSP_MAX_QUEUE_SIZE",
            DEFAULT_QUEUE_SPANS,
            "the queue size",
        )?;
        let batch = positive(
            self.batch_size,
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            DEFAULT_BATCH,
            "the batch size",
        )?
        .min(max_spans);
        let delay = match self.delay {
            Some(delay) => delay,
            None => env_number("OTEL_BSP_SCHEDULE_DELAY", "a delay in milliseconds")?
                .map_or(DEFAULT_DELAY, |ms| {
                    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
                }),
        };
        let resource = self.resource()?;
        let queue = Arc::new(Queue::new(max_spans, batch));
        let stats = Arc::new(Stats::default());
        let (started, ready) = std::sync::mpsc::sync_channel(1);
        let thread = ThreadParts {
            queue: Arc::clone(&queue),
            stats: Arc::clone(&stats),
            resource,
            delay,
            batch,
        };
        let worker = std::thread::Builder::new()
            .name("trace-otel exporter".to_owned())
            .spawn(move || thread.run(build_exporter, &started))
            .map_err(ConfigError::Thread)?;
        match ready.recv() {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                let _ = worker.join();
                return Err(why);
            }
            Err(_) => {
                let _ = worker.join();
                return Err(ConfigError::Thread(std::io::Error::other(
                    "the exporter thread stopped while starting",
                )));
            }
        }
        stats::describe();
        let shared = Arc::new(Shared {
            queue,
            stats,
            sampling,
            worker: Mutex::new(Some(worker)),
        });
        trace_runtime::tree::add_sink(OtlpSink(Arc::clone(&shared)));
        Ok(Otlp { shared })
    }
}

/// What the exporter thread starts with.
struct ThreadParts {
    queue: Arc<Queue>,
    stats: Arc<Stats>,
    resource: Resource,
    delay: Duration,
    batch: usize,
}

impl ThreadParts {
    /// On the exporter thread: builds its runtime and the exporter (inside
    /// the runtime, as a client may need it), says whether that worked on
    /// `started`, then exports until shut down.
    fn run<E, F>(self, build_exporter: F, started: &SyncSender<Result<(), ConfigError>>)
    where
        E: SpanExporter + 'static,
        F: FnOnce() -> Result<E, ConfigError>,
    {
        let parts = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ConfigError::Thread)
            .and_then(|runtime| {
                let exporter = {
                    let _inside = runtime.enter();
                    build_exporter()
                };
                exporter.map(|exporter| (runtime, exporter))
            });
        let (runtime, mut exporter) = match parts {
            Ok(parts) => {
                let _ = started.send(Ok(()));
                parts
            }
            Err(why) => {
                let _ = started.send(Err(why));
                return;
            }
        };
        exporter.set_resource(&self.resource);
        Worker {
            exporter,
            queue: self.queue,
            stats: self.stats,
            runtime,
            delay: self.delay,
            batch: self.batch,
            failing: Cell::new(0),
        }
        .run();
    }
}

/// `set`, else the variable `name` (a positive integer), else `default`.
fn positive(
    set: Option<usize>,
    name: &'static str,
    default: usize,
    setting: &'static str,
) -> Result<usize, ConfigError> {
    let value = match set {
        Some(value) => value,
        None => env_number(name, "a positive integer")?.unwrap_or(default),
    };
    if value == 0 {
        return Err(ConfigError::ZeroSize { setting });
    }
    Ok(value)
}

/// The variable `name` as a non-negative integer, if set.
fn env_number(name: &'static str, expected: &'static str) -> Result<Option<usize>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ConfigError::InvalidEnv {
                    name,
                    value,
                    expected,
                })
        }
        _ => Ok(None),
    }
}

/// The ratio `OTEL_TRACES_SAMPLER` (and `_ARG`) give, if set.
fn env_ratio() -> Result<Option<f64>, ConfigError> {
    let Ok(sampler) = std::env::var("OTEL_TRACES_SAMPLER") else {
        return Ok(None);
    };
    let arg = || -> Result<f64, ConfigError> {
        let value = std::env::var("OTEL_TRACES_SAMPLER_ARG").unwrap_or_else(|_| "1".to_owned());
        value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or(ConfigError::InvalidEnv {
                name: "OTEL_TRACES_SAMPLER_ARG",
                value,
                expected: "a ratio from 0 to 1",
            })
    };
    match sampler.trim() {
        "" => Ok(None),
        "always_on" | "parentbased_always_on" => Ok(Some(1.0)),
        "always_off" | "parentbased_always_off" => Ok(Some(0.0)),
        "traceidratio" | "parentbased_traceidratio" => arg().map(Some),
        _ => Err(ConfigError::InvalidEnv {
            name: "OTEL_TRACES_SAMPLER",
            value: sampler,
            expected: "always_on, always_off, traceidratio or their parentbased_ forms",
        }),
    }
}
