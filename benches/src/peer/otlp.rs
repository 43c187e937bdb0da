//! This project with `trace-otel` on: the trees-built mode (no log), each
//! tree handed to the OTLP sink, its spans made on the exporter thread and
//! exported by one of three exporters: a no-op one that counts and drops
//! the spans (as fastrace's row drops its spans), the real OTLP/HTTP
//! exporter to a receiver in the same process (a hyper server that reads
//! each request body and answers 200; its CPU counts in the all-in figure),
//! or the real exporter to a backend that is down (connection refused:
//! every export fails, spans are dropped and counted).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use trace_otel::{Otlp, OtlpBuilder};
use trace_runtime::TreeConfig;

use crate::check;

/// Where the spans go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A no-op exporter: counted, dropped.
    Discard,
    /// OTLP/HTTP to a receiver in this process.
    Local,
    /// OTLP/HTTP to a closed port.
    Down,
}

/// Spans the no-op exporter received.
static DISCARDED: AtomicU64 = AtomicU64::new(0);
/// Request bodies the local receiver read.
static RECEIVED: AtomicU64 = AtomicU64::new(0);
static OTLP: OnceLock<Otlp> = OnceLock::new();
/// Whether the queue is the default one (the memory section), so spans may
/// be dropped when the exporter thread falls behind.
static BOUNDED: OnceLock<bool> = OnceLock::new();

/// Room for every span of a measured window (the exporter thread may fall
/// behind, and catches up in the flush inside the window), as fastrace's
/// collector queues without a bound.
const ROOMY_QUEUE: usize = 16 << 20;

#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        DISCARDED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        std::hint::black_box(batch);
        Ok(())
    }
}

/// Configures the runtime and installs the exporter for `target`; with
/// `bounded`, the default queue (2048 spans) whatever the target.
pub fn setup(target: Target, bounded: bool) {
    let _ = BOUNDED.set(bounded);
    let queue = if bounded { 2048 } else { ROOMY_QUEUE };
    TreeConfig::current().log(false).apply();
    let builder = OtlpBuilder::new()
        .service_name("bench")
        .scheduled_delay(Duration::from_millis(100));
    let otlp = match target {
        Target::Discard => builder
            .max_queue_spans(queue)
            .install_with_exporter(Discard),
        Target::Local => builder
            .max_queue_spans(queue)
            .endpoint(format!("http://{}", receiver()))
            .install(),
        Target::Down => {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            let addr = closed.local_addr().expect("its address");
            drop(closed);
            // The default queue: what a service would run with.
            builder.endpoint(format!("http://{addr}")).install()
        }
    };
    let otlp = otlp.unwrap_or_else(|why| panic!("OTLP exporter: {why}"));
    let _ = OTLP.set(otlp);
}

/// Waits until the exporter thread has exported (or failed to) every tree
/// queued: inside the measured window, so its work counts.
pub fn flush() {
    if let Some(otlp) = OTLP.get() {
        // A backlog of millions of spans takes more than one flush's 10 s.
        let flushed = (0..30).any(|_| otlp.flush());
        assert!(flushed, "the OTLP exporter did not flush in 5 minutes");
    }
}

/// After `requests` requests of `spans_per_request` calls: every span
/// exported (no-op, local), or dropped and counted (down; and with the
/// default queue, whatever the exporter thread could not keep up with);
/// none sampled out.
pub fn check(target: Target, requests: u64, spans_per_request: u64) -> Result<(), String> {
    let stats = OTLP.get().ok_or("no OTLP exporter")?.stats();
    let total = requests * spans_per_request;
    if stats.sampled_out != 0 {
        return Err(format!("{} trees sampled out", stats.sampled_out));
    }
    #[allow(clippy::cast_precision_loss)]
    let dropped = (stats.dropped_queue_full + stats.dropped_export_failed) as f64;
    if BOUNDED.get() == Some(&true) && target != Target::Down {
        #[allow(clippy::cast_precision_loss)]
        return check::expect_count(
            "spans exported or dropped",
            stats.exported as f64 + dropped,
            total,
        );
    }
    #[allow(clippy::cast_precision_loss)]
    match target {
        Target::Discard => {
            check::expect_count("spans exported", stats.exported as f64, total)?;
            check::expect_count(
                "spans the no-op exporter got",
                DISCARDED.load(Ordering::Relaxed) as f64,
                total,
            )
        }
        Target::Local => {
            check::expect_count("spans exported", stats.exported as f64, total)?;
            if RECEIVED.load(Ordering::Relaxed) == 0 {
                return Err("the local receiver got no request".to_owned());
            }
            Ok(())
        }
        Target::Down => check::expect_count(
            "spans dropped (queue full or export failed)",
            dropped,
            total,
        ),
    }
}

/// Starts the local receiver (once) on its own thread; its address.
fn receiver() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().expect("its address");
        listener.set_nonblocking(true).expect("non-blocking");
        std::thread::Builder::new()
            .name("otlp receiver".to_owned())
            .spawn(move || serve(listener))
            .expect("the receiver thread");
        addr
    })
}

fn serve(listener: std::net::TcpListener) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(answer);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

async fn answer(request: Request<Incoming>) -> Result<Response<Empty<Bytes>>, Infallible> {
    if let Ok(body) = request.into_body().collect().await {
        std::hint::black_box(body.to_bytes());
        RECEIVED.fetch_add(1, Ordering::Relaxed);
    }
    Ok(Response::new(Empty::new()))
}
