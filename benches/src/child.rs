//! What one child process measures. Each measurement runs in a fresh process
//! so that every contender gets its own global subscriber, collector and
//! recorder, and `getrusage(RUSAGE_SELF)` counts only its threads. The
//! result is one line of numbers on stdout.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use axum::Router;
use trace_runtime::exporter::Exporter;

use crate::http::{self, app, HttpPeer, Served};
use crate::peer::{Peer, Variant};
use crate::probe;
use crate::recorder;
use crate::workload::CALLS_PER_REQUEST;

/// Traced calls of the memory test.
pub const MEMORY_CALLS: u64 = 10_000_000;

/// Runs `request` for about `budget` (requests `0..n`, `n` a multiple of
/// 64) and returns the number of requests per second it managed, and `n`
/// (warms caches, thread-locals and handles).
fn calibrate(request: impl Fn(u64) -> u64, budget: Duration) -> (f64, u64) {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for i in 0..64 {
            black_box(request(black_box(done + i)));
        }
        done += 64;
    }
    #[allow(clippy::cast_precision_loss)]
    let rate = done as f64 / start.elapsed().as_secs_f64();
    (rate, done)
}

/// Requests needed to fill `window` at `rate` requests per second.
fn requests_for(window: Duration, rate: f64) -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (window.as_secs_f64() * rate) as u64;
    n.max(200)
}

#[allow(clippy::cast_precision_loss)]
fn per_request_ns(total: Duration, requests: u64) -> f64 {
    total.as_nanos() as f64 / requests as f64
}

/// Panics with the contender's message unless it did exactly its work
/// for `requests` requests (see [`Peer::check`]).
fn check(peer: Peer, metrics: &str, requests: u64) {
    if let Err(why) = peer.check(metrics, requests) {
        panic!("{} did not do its work: {why}", peer.key());
    }
}

/// Wall time on the calling thread and CPU time of the whole process per
/// request, in nanoseconds, of the one-site workload or (`sites`) of the
/// distinct-call-sites one. The CPU window also covers flushing the
/// contender's collector and draining the recorder's histogram samples.
/// Panics when the contender's check fails.
pub fn measure(peer: Peer, variant: Variant, window: Duration, sites: bool) -> [f64; 2] {
    let exporter = recorder::install(peer.keeps_stats());
    peer.setup();
    let request = if sites {
        peer.sites_request(variant)
            .unwrap_or_else(|| panic!("{} has no distinct-sites workload", peer.key()))
    } else {
        peer.request(variant)
    };
    let (rate, warm_up) = calibrate(request, window / 3);
    peer.flush();
    // Renders the metrics, which folds every queued histogram sample into
    // its buckets: the warm-up's deferred work stays out of the window.
    black_box(exporter.render());
    let requests = requests_for(window, rate);

    let cpu_start = probe::process_cpu();
    let start = Instant::now();
    for i in 0..requests {
        black_box(request(black_box(i)));
    }
    let wall = start.elapsed();
    peer.flush();
    let metrics = exporter.render();
    let cpu = probe::process_cpu() - cpu_start;

    check(peer, &metrics, warm_up + requests);
    [
        per_request_ns(wall, requests),
        per_request_ns(cpu, requests),
    ]
}

/// Growth of the resident set and of its peak, in bytes, over
/// [`MEMORY_CALLS`] traced calls (sync) with nobody scraping or flushing.
pub fn memory(peer: Peer) -> [f64; 2] {
    let exporter = recorder::install(peer.keeps_stats());
    peer.setup_for_memory();
    let request = peer.request(Variant::Sync);
    for i in 0..1_000 {
        black_box(request(black_box(i)));
    }
    let (rss_before, _) = probe::rss();
    let requests = MEMORY_CALLS.div_ceil(CALLS_PER_REQUEST);
    for i in 0..requests {
        black_box(request(black_box(i)));
    }
    let (rss_after, peak) = probe::rss();
    peer.flush();
    check(peer, &exporter.render(), 1_000 + requests);
    #[allow(clippy::cast_precision_loss)]
    let growth = [
        rss_after as f64 - rss_before as f64,
        peak as f64 - rss_before as f64,
    ];
    growth
}

/// Per request (sync), with `threads` threads running the same functions at
/// once: wall time on each thread (averaged over the threads) and process
/// CPU time, in nanoseconds; then the parallelism achieved (process CPU time
/// over the longest thread's wall time: 2.0 when two threads really ran side
/// by side the whole time, less when other processes took a core).
pub fn contention(peer: Peer, threads: usize, window: Duration) -> [f64; 3] {
    let exporter = recorder::install(peer.keeps_stats());
    peer.setup();
    let request = peer.request(Variant::Sync);
    let (rate, warm_up) = calibrate(request, window / 3);
    let requests = requests_for(window, rate);
    black_box(exporter.render());
    let barrier = Barrier::new(threads + 1);
    let mut cpu_start = Duration::ZERO;
    let walls: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    for i in 0..1_000 {
                        black_box(request(black_box(i)));
                    }
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..requests {
                        black_box(request(black_box(i)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        barrier.wait();
        cpu_start = probe::process_cpu();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    let cpu = probe::process_cpu() - cpu_start;
    peer.flush();
    check(
        peer,
        &exporter.render(),
        warm_up + (1_000 + requests) * threads as u64,
    );
    let total: Duration = walls.iter().sum();
    let calls = requests * threads as u64;
    let longest = walls.iter().max().copied().unwrap_or_default();
    [
        per_request_ns(total, calls),
        per_request_ns(cpu, calls),
        cpu.as_secs_f64() / longest.as_secs_f64().max(1e-9),
    ]
}

/// Wall time on the calling thread and CPU time of the whole process per
/// HTTP request of the mix, in nanoseconds. The CPU window also covers
/// rendering the metrics (which drains queued histogram samples). Panics
/// when the contender's check fails: the recorder or the log did not see
/// the requests.
pub fn measure_http(peer: HttpPeer, window: Duration) -> [f64; 2] {
    let (exporter, router) = http_setup(peer);
    let serve = |i| app::serve(&router, i);
    let (rate, warm_up) = calibrate(serve, window / 3);
    black_box(exporter.render());
    let requests = requests_for(window, rate);

    let cpu_start = probe::process_cpu();
    let start = Instant::now();
    for i in 0..requests {
        black_box(serve(black_box(i)));
    }
    let wall = start.elapsed();
    let metrics = exporter.render();
    let cpu = probe::process_cpu() - cpu_start;

    http_check(peer, &metrics, &[warm_up, requests]);
    [
        per_request_ns(wall, requests),
        per_request_ns(cpu, requests),
    ]
}

/// Serves `requests` requests through `peer`'s Router, for profilers
/// (`--child http-count PEER N` under callgrind): a fixed count, no timing,
/// and the same check as [`measure_http`].
pub fn serve_http(peer: HttpPeer, requests: u64) {
    let (exporter, router) = http_setup(peer);
    for i in 0..requests {
        black_box(app::serve(&router, black_box(i)));
    }
    http_check(peer, &exporter.render(), &[requests]);
}

/// The recorder and `peer`'s Router, its answers checked. Routes are made
/// into services once, as `axum::serve` does (through
/// `into_make_service`): an unfinished `Router<()>` turns each handler into
/// a service, and applies its layers, on every request.
fn http_setup(peer: HttpPeer) -> (Exporter, Router) {
    let exporter = http::install_recorder();
    let router = peer.setup().with_state(());
    app::check_answers(&router);
    (exporter, router)
}

/// Panics unless `peer` did its work for the check's requests and the
/// runs of `runs` requests each.
fn http_check(peer: HttpPeer, metrics: &str, runs: &[u64]) {
    let mut served = Served {
        found: app::CHECKED.0,
        missing: app::CHECKED.1,
    };
    for &n in runs {
        let (found, missing) = app::expected(n);
        served.found += found;
        served.missing += missing;
    }
    if let Err(why) = peer.check(metrics, served) {
        panic!("{} did not do its work: {why}", peer.key());
    }
}
