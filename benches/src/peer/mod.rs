//! The contenders, each a module with the same workload, and one enum that
//! sets each up and runs one request of it.

pub mod autometrics_fn;
pub mod fastrace_trace;
pub mod hand_written;
pub mod metered_impl;
pub mod none;
pub mod otlp;
pub mod ours;
pub mod ours_err;
pub mod sites;
pub mod tracing_instrument;

use crate::exec::block_on;
use crate::workload::CALLS_PER_REQUEST;

/// One request of a workload: request number in, a value the optimiser
/// must keep out.
pub type Request = fn(u64) -> u64;

/// One contender (a library, or this project in one of its modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// No instrumentation: the baseline.
    None,
    /// tracing `#[instrument]`, registry + a no-op layer.
    Tracing,
    /// tracing `#[instrument]` + tracing-tree.
    TracingTree,
    /// fastrace `#[trace]` under a root span.
    FastraceRoot,
    /// fastrace `#[trace]` without a root span.
    FastraceNoRoot,
    /// autometrics `#[autometrics]`, `metrics` backend.
    Autometrics,
    /// metered `#[measure]`.
    Metered,
    /// quanta clock + cached `metrics` handles, by hand.
    HandWritten,
    /// This project's default path: trees rendered and logged by a fmt
    /// subscriber.
    OursLogged,
    /// This project: metrics + tree + context, trees delivered to a sink,
    /// not rendered.
    OursBuilt,
    /// [`Peer::OursBuilt`] with live statistics on
    /// (`ExporterBuilder::stats`).
    OursStats,
    /// [`Peer::OursBuilt`] on calls returning `Result` (always `Ok`).
    OursResult,
    /// [`Peer::OursResult`] under `#[trace(err)]`.
    OursErr,
    /// This project with trees switched off.
    OursMetrics,
    /// This project switched off at run time.
    OursOff,
    /// This project's trees exported by trace-otel, spans dropped by a
    /// no-op exporter.
    OursOtlpDiscard,
    /// The same, exported over OTLP/HTTP to a receiver in the process.
    OursOtlpLocal,
    /// The same, the OTLP backend down (connection refused).
    OursOtlpDown,
}

/// Whether a request runs the sync or the async functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Plain functions.
    Sync,
    /// `async fn`s, driven by [`block_on`].
    Async,
}

impl Variant {
    /// The command-line name.
    pub fn key(self) -> &'static str {
        match self {
            Variant::Sync => "sync",
            Variant::Async => "async",
        }
    }

    /// Parses [`Variant::key`].
    pub fn from_key(key: &str) -> Option<Variant> {
        [Variant::Sync, Variant::Async]
            .into_iter()
            .find(|v| v.key() == key)
    }
}

impl Peer {
    /// Every contender, baseline first, in table order.
    pub const ALL: [Peer; 18] = [
        Peer::None,
        Peer::OursLogged,
        Peer::Tracing,
        Peer::TracingTree,
        Peer::FastraceRoot,
        Peer::Autometrics,
        Peer::Metered,
        Peer::HandWritten,
        Peer::FastraceNoRoot,
        Peer::OursBuilt,
        Peer::OursStats,
        Peer::OursResult,
        Peer::OursErr,
        Peer::OursMetrics,
        Peer::OursOff,
        Peer::OursOtlpDiscard,
        Peer::OursOtlpLocal,
        Peer::OursOtlpDown,
    ];

    /// The command-line name.
    pub fn key(self) -> &'static str {
        match self {
            Peer::None => "none",
            Peer::Tracing => "tracing",
            Peer::TracingTree => "tracing-tree",
            Peer::FastraceRoot => "fastrace-root",
            Peer::FastraceNoRoot => "fastrace-no-root",
            Peer::Autometrics => "autometrics",
            Peer::Metered => "metered",
            Peer::HandWritten => "hand-written",
            Peer::OursLogged => "ours-logged",
            Peer::OursBuilt => "ours-built",
            Peer::OursStats => "ours-stats",
            Peer::OursResult => "ours-result",
            Peer::OursErr => "ours-err",
            Peer::OursMetrics => "ours-metrics",
            Peer::OursOff => "ours-off",
            Peer::OursOtlpDiscard => "ours-otlp-discard",
            Peer::OursOtlpLocal => "ours-otlp-local",
            Peer::OursOtlpDown => "ours-otlp-down",
        }
    }

    /// Parses [`Peer::key`].
    pub fn from_key(key: &str) -> Option<Peer> {
        Peer::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The row label of the results table.
    pub fn label(self) -> &'static str {
        match self {
            Peer::None => "uninstrumented (baseline)",
            Peer::Tracing => "tracing #[instrument(skip_all)], registry + no-op layer",
            Peer::TracingTree => {
                "tracing #[instrument(skip_all)] + tracing-tree (to a counting io::sink)"
            }
            Peer::FastraceRoot => "fastrace #[trace], root span + collector",
            Peer::FastraceNoRoot => "fastrace #[trace], no root span (its off switch)",
            Peer::Autometrics => "autometrics #[autometrics] (metrics-0_24 backend)",
            Peer::Metered => "metered #[measure] (HitCount, InFlight, ResponseTime)",
            Peer::HandWritten => "hand-written: quanta + cached metrics handles",
            Peer::OursLogged => {
                "trace-runtime #[trace], default path: trees rendered + logged by fmt \
                 (to a counting io::sink)"
            }
            Peer::OursBuilt => {
                "trace-runtime #[trace], trees built, not rendered (to a sink taking the data)"
            }
            Peer::OursStats => {
                "trace-runtime #[trace], trees built, not rendered, + live stats \
                 (ExporterBuilder::stats)"
            }
            Peer::OursResult => "trace-runtime #[trace], trees built, calls returning Ok(..)",
            Peer::OursErr => "trace-runtime #[trace(err)], trees built, calls returning Ok(..)",
            Peer::OursMetrics => "trace-runtime #[trace], trees off (metrics only)",
            Peer::OursOff => "trace-runtime #[trace], set_enabled(false)",
            Peer::OursOtlpDiscard => {
                "trace-runtime #[trace] + trace-otel, trees built, spans made and dropped \
                 by a no-op exporter"
            }
            Peer::OursOtlpLocal => {
                "trace-runtime #[trace] + trace-otel, OTLP/HTTP to a local receiver \
                 (in process, CPU counted)"
            }
            Peer::OursOtlpDown => {
                "trace-runtime #[trace] + trace-otel, OTLP backend down (spans dropped, counted)"
            }
        }
    }

    /// Installs what the contender needs (subscriber, collector, switches).
    /// Called once per process, after the shared metrics recorder.
    pub fn setup(self) {
        match self {
            Peer::Tracing => tracing_instrument::setup_silent(),
            Peer::TracingTree => tracing_instrument::setup_tree(),
            Peer::FastraceRoot | Peer::FastraceNoRoot => fastrace_trace::setup(),
            Peer::OursLogged => ours::setup(ours::Mode::Logged),
            Peer::OursBuilt => ours::setup(ours::Mode::Built),
            Peer::OursStats => ours::setup(ours::Mode::BuiltStats),
            Peer::OursResult | Peer::OursErr => ours::setup(ours::Mode::Built),
            Peer::OursMetrics => ours::setup(ours::Mode::MetricsOnly),
            Peer::OursOff => ours::setup(ours::Mode::Off),
            Peer::OursOtlpDiscard => otlp::setup(otlp::Target::Discard, false),
            Peer::OursOtlpLocal => otlp::setup(otlp::Target::Local, false),
            Peer::OursOtlpDown => otlp::setup(otlp::Target::Down, true),
            Peer::None | Peer::Autometrics | Peer::Metered | Peer::HandWritten => {}
        }
    }

    /// [`setup`](Self::setup) for the memory section: the OTLP rows with
    /// the default bounded queue, as a service would run them.
    pub fn setup_for_memory(self) {
        match self.otlp_target() {
            Some(target) => otlp::setup(target, true),
            None => self.setup(),
        }
    }

    /// The function running one request (111 traced calls) of `variant`.
    pub fn request(self, variant: Variant) -> Request {
        match variant {
            Variant::Sync => match self {
                Peer::None => none::root,
                Peer::Tracing | Peer::TracingTree => tracing_instrument::root,
                Peer::FastraceRoot => fastrace_trace::rooted_sync,
                Peer::FastraceNoRoot => fastrace_trace::root,
                Peer::Autometrics => autometrics_fn::root,
                Peer::Metered => metered_impl::request_sync,
                Peer::HandWritten => hand_written::root,
                Peer::OursResult => ours_err::plain_sync,
                Peer::OursErr => ours_err::err_sync,
                Peer::OursLogged
                | Peer::OursBuilt
                | Peer::OursStats
                | Peer::OursMetrics
                | Peer::OursOff
                | Peer::OursOtlpDiscard
                | Peer::OursOtlpLocal
                | Peer::OursOtlpDown => ours::root,
            },
            Variant::Async => match self {
                Peer::None => |x| block_on(none::root_async(x)),
                Peer::Tracing | Peer::TracingTree => {
                    |x| block_on(tracing_instrument::root_async(x))
                }
                Peer::FastraceRoot => fastrace_trace::rooted_async,
                Peer::FastraceNoRoot => |x| block_on(fastrace_trace::root_async(x)),
                Peer::Autometrics => |x| block_on(autometrics_fn::root_async(x)),
                Peer::Metered => metered_impl::request_async,
                Peer::HandWritten => |x| block_on(hand_written::root_async(x)),
                Peer::OursResult => ours_err::plain_async,
                Peer::OursErr => ours_err::err_async,
                Peer::OursLogged
                | Peer::OursBuilt
                | Peer::OursStats
                | Peer::OursMetrics
                | Peer::OursOff
                | Peer::OursOtlpDiscard
                | Peer::OursOtlpLocal
                | Peer::OursOtlpDown => |x| block_on(ours::root_async(x)),
            },
        }
    }

    /// Where the OTLP rows' spans go.
    fn otlp_target(self) -> Option<otlp::Target> {
        match self {
            Peer::OursOtlpDiscard => Some(otlp::Target::Discard),
            Peer::OursOtlpLocal => Some(otlp::Target::Local),
            Peer::OursOtlpDown => Some(otlp::Target::Down),
            _ => None,
        }
    }

    /// Whether the process's exporter keeps live statistics for this
    /// contender.
    pub fn keeps_stats(self) -> bool {
        self.ours_mode().is_some_and(ours::Mode::stats)
    }

    /// The mode of this project's rows.
    fn ours_mode(self) -> Option<ours::Mode> {
        match self {
            Peer::OursLogged => Some(ours::Mode::Logged),
            Peer::OursBuilt => Some(ours::Mode::Built),
            Peer::OursStats => Some(ours::Mode::BuiltStats),
            Peer::OursResult | Peer::OursErr => Some(ours::Mode::Built),
            Peer::OursMetrics => Some(ours::Mode::MetricsOnly),
            Peer::OursOff => Some(ours::Mode::Off),
            _ => None,
        }
    }

    /// The function running one request of the distinct-call-sites
    /// workload ([`sites`]), for the contenders that run it.
    pub fn sites_request(self, variant: Variant) -> Option<Request> {
        let (sync, asynch): (Request, Request) = match self {
            Peer::None => (sites::none::request, sites::none::request_async),
            Peer::HandWritten => (
                sites::hand_written::request,
                sites::hand_written::request_async,
            ),
            Peer::OursLogged
            | Peer::OursBuilt
            | Peer::OursStats
            | Peer::OursMetrics
            | Peer::OursOff => (sites::ours::request, sites::ours::request_async),
            _ => return None,
        };
        Some(match variant {
            Variant::Sync => sync,
            Variant::Async => asynch,
        })
    }

    /// Checks, after `requests` requests (warm-up included) and a
    /// [`flush`](Peer::flush), that the contender did exactly its work:
    /// `metrics` is the rendered text of the shared recorder. Contenders
    /// that record nothing (the baseline, tracing's no-op layer, fastrace
    /// without a root) have nothing to count but fastrace's reporter, which
    /// must have received nothing.
    pub fn check(self, metrics: &str, requests: u64) -> Result<(), String> {
        let calls = requests * CALLS_PER_REQUEST;
        if let Some(mode) = self.ours_mode() {
            return ours::check(mode, metrics, requests, calls);
        }
        if let Some(target) = self.otlp_target() {
            crate::check::metrics_count(metrics, calls, crate::check::Histograms::Exact)?;
            return otlp::check(target, requests, CALLS_PER_REQUEST);
        }
        match self {
            Peer::TracingTree => tracing_instrument::check_tree(requests, calls),
            Peer::FastraceRoot => {
                fastrace_trace::check(requests * (CALLS_PER_REQUEST + 1), CALLS_PER_REQUEST + 1)
            }
            Peer::FastraceNoRoot => fastrace_trace::check(0, 0),
            Peer::Autometrics | Peer::HandWritten => {
                crate::check::metrics_count(metrics, calls, crate::check::Histograms::Bucket)
            }
            Peer::Metered => metered_impl::check(calls),
            _ => Ok(()),
        }
    }

    /// Finishes the contender's deferred work (fastrace's collector queue);
    /// runs inside the measured window.
    pub fn flush(self) {
        if matches!(self, Peer::FastraceRoot | Peer::FastraceNoRoot) {
            fastrace_trace::flush();
        }
        if self.otlp_target().is_some() {
            otlp::flush();
        }
    }
}
