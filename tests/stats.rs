//! Live statistics (`ExporterBuilder::stats`, `stats::snapshot`): exact
//! counts per outcome, quantiles within the stated error of the true ones,
//! the recent window expiring, HTTP routes, calls from many threads, and
//! the JSON form. Its own binary: it installs the exporter, with a short
//! window (600 ms, ticking every 100 ms).
#![warn(clippy::pedantic)]

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use trace_runtime::http::TraceLayer;
use trace_runtime::stats::{self, FunctionStats, Stats, RELATIVE_ERROR};
use trace_runtime::{trace, ExporterBuilder};
use trace_suite::http::send;

const WINDOW: Duration = Duration::from_millis(600);

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        ExporterBuilder::new()
            .service_name("stats")
            .stats(WINDOW)
            .install()
            .expect("the only recorder of this test binary");
    });
}

fn function(stats: &Stats, name: &str) -> FunctionStats {
    stats
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name} in {stats:#?}"))
        .clone()
}

fn spin(duration: Duration) {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[trace]
fn work(micros: u64) -> Result<(), String> {
    spin(Duration::from_micros(micros));
    if micros.is_multiple_of(1_000) {
        Err(format!("{micros} is round"))
    } else {
        Ok(())
    }
}

#[trace]
async fn pending_forever() {
    std::future::pending::<()>().await;
}

/// The `q` quantile by nearest rank.
fn nearest_rank(sorted: &[Duration], q: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[test]
fn counts_are_exact_and_quantiles_within_the_stated_error() {
    install();
    // 200 calls of 50 µs .. 10 ms, every 20th an error; each call's own
    // time lies between its spin and what the caller measured around it,
    // so each order statistic of the recorded times lies between those of
    // the spins and those of the outer measurements.
    let mut spins = Vec::new();
    let mut outer = Vec::new();
    for i in 1..=200_u64 {
        let micros = i * 50;
        let start = Instant::now();
        let _ = work(micros);
        outer.push(start.elapsed());
        spins.push(Duration::from_micros(micros));
    }
    // Three cancelled calls: futures polled once, then dropped.
    let waker = std::task::Waker::noop();
    for _ in 0..3 {
        let mut call = Box::pin(pending_forever());
        assert!(call
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker))
            .is_pending());
    }
    spins.sort();
    outer.sort();

    let stats = stats::snapshot();
    assert_eq!(stats.window, WINDOW);
    let work = function(&stats, "work");
    assert_eq!(work.module, "stats");
    let lifetime = &work.lifetime;
    assert_eq!(
        (lifetime.count, lifetime.errors, lifetime.cancelled),
        (200, 10, 0)
    );
    let cancelled = function(&stats, "pending_forever").lifetime;
    assert_eq!((cancelled.count, cancelled.cancelled), (3, 3));
    let total: Duration = spins.iter().sum();
    let outer_total: Duration = outer.iter().sum();
    assert!(lifetime.sum >= total && lifetime.sum <= outer_total);
    assert_eq!(lifetime.mean, Some(lifetime.sum / 200));

    let within = |name: &str, estimate: Option<Duration>, low: Duration, high: Duration| {
        let estimate = estimate.unwrap().as_secs_f64();
        let low = low.as_secs_f64() * (1.0 - RELATIVE_ERROR);
        let high = high.as_secs_f64() * (1.0 + RELATIVE_ERROR);
        assert!(
            (low..=high).contains(&estimate),
            "{name}: {estimate} not in {low}..={high}"
        );
    };
    within("min", lifetime.min, spins[0], outer[0]);
    within("max", lifetime.max, spins[199], outer[199]);
    for (q, estimate) in [
        (0.50, lifetime.p50),
        (0.90, lifetime.p90),
        (0.95, lifetime.p95),
        (0.99, lifetime.p99),
    ] {
        within(
            &format!("p{q}"),
            estimate,
            nearest_rank(&spins, q),
            nearest_rank(&outer, q),
        );
    }
    // The 200 calls took about a second: the window holds the latest ones.
    assert!(work.recent.count < 200 && work.recent.count > 0, "{work:?}");
}

#[trace]
fn burst() {}

#[test]
fn the_recent_window_forgets_old_calls_and_the_lifetime_does_not() {
    install();
    for _ in 0..5 {
        burst();
    }
    let now = function(&stats::snapshot(), "burst");
    assert_eq!((now.lifetime.count, now.recent.count), (5, 5));
    assert!(now.recent.p50.is_some());
    // One window and two ticks later, the calls have left the window.
    std::thread::sleep(WINDOW + Duration::from_millis(250));
    let later = function(&stats::snapshot(), "burst");
    assert_eq!((later.lifetime.count, later.recent.count), (5, 0));
    assert_eq!(later.recent.p50, None);
    burst();
    burst();
    let again = function(&stats::snapshot(), "burst");
    assert_eq!((again.lifetime.count, again.recent.count), (7, 2));
}

#[trace]
fn from_threads() {}

#[test]
fn calls_from_many_threads_add_up() {
    install();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..2_500 {
                    from_threads();
                }
            });
        }
    });
    // Threads that exited left their counts behind.
    let counted = function(&stats::snapshot(), "from_threads").lifetime;
    assert_eq!(counted.count, 10_000);
}

async fn ok() -> &'static str {
    "ok"
}

async fn unavailable() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_routes_have_their_own_statistics() {
    install();
    let app = Router::new()
        .route("/ok/{id}", get(ok))
        .route("/down", get(unavailable))
        .layer(TraceLayer::new());
    let addr = trace_suite::http::serve(app).await;
    for path in ["/ok/1", "/ok/2", "/ok/3", "/down"] {
        assert!(send(addr, "GET", path, &[]).await.is_some());
    }
    let stats = stats::snapshot();
    let route = |name: &str| {
        stats
            .routes
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no {name} in {:#?}", stats.routes))
            .lifetime
            .clone()
    };
    let ok = route("GET /ok/{id}");
    assert_eq!((ok.count, ok.errors), (3, 0));
    let down = route("GET /down");
    assert_eq!((down.count, down.errors), (1, 1));
    assert!(stats.functions.iter().all(|f| !f.name.starts_with("GET ")));
}

#[trace]
fn serialised(fail: bool) -> Result<(), ()> {
    if fail {
        Err(())
    } else {
        Ok(())
    }
}

#[test]
fn the_json_form_carries_every_number() {
    install();
    for fail in [false, true, false] {
        let _ = serialised(fail);
    }
    let stats = stats::snapshot();
    let json: serde_json::Value = serde_json::from_str(&stats.to_json()).unwrap();
    assert_eq!(json["window_seconds"], 0.6);
    assert!((json["relative_error"].as_f64().unwrap() - 1.0 / 128.0).abs() < 1e-12);
    let work = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "serialised")
        .unwrap();
    let expected = function(&stats, "serialised");
    assert_eq!((expected.lifetime.count, expected.lifetime.errors), (3, 1));
    assert_eq!(work["module"], "stats");
    assert_eq!(work["lifetime"]["count"], expected.lifetime.count);
    assert_eq!(work["lifetime"]["errors"], expected.lifetime.errors);
    assert_eq!(
        work["lifetime"]["p99_seconds"].as_f64(),
        expected.lifetime.p99.map(|d| d.as_secs_f64())
    );
    assert_eq!(
        work["recent"]["sum_seconds"].as_f64(),
        Some(expected.recent.sum.as_secs_f64())
    );
}

#[test]
fn a_window_too_short_is_a_typed_error() {
    let err = ExporterBuilder::new()
        .stats(Duration::from_millis(5))
        .install()
        .unwrap_err();
    assert!(
        err.to_string().contains("too short: use at least 60ms"),
        "{err}"
    );
}
