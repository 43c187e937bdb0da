//! The Prometheus text that `ExporterBuilder::install()` renders: exact
//! `function_calls_total` sample lines, a real histogram with the default
//! buckets, the in-flight gauge, `build_info 1`, and `promtool check metrics`
//! accepting all of it.
//!
//! `promtool` comes with the Debian package `prometheus`. Without it the
//! promtool check is reported and skipped, unless `REQUIRE_PROMTOOL=1` (set by
//! `.ci/run`), which makes its absence a failure.
#![warn(clippy::pedantic)]

use std::future::Future;
use std::panic::catch_unwind;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use trace_runtime::{
    exporter::Exporter, instrument_all, metrics::DEFAULT_BUCKETS, trace, ExporterBuilder,
};
use trace_suite::prometheus;

const MODULE: &str = module_path!();
const SERVICE: &str = "prom-text-svc";
const VERSION: &str = "1.2.3";

fn exporter() -> &'static Exporter {
    static EXPORTER: OnceLock<Exporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        ExporterBuilder::new()
            .service_name(SERVICE)
            .version(VERSION)
            .commit_and_branch("0123abc", "main")
            .install()
            .expect("the only recorder of this test binary")
    })
}

/// `function_calls_total` sample line, labels in the order the exporter
/// writes them.
fn total(function: &str, result: &str, caller: &str, value: u64) -> String {
    let caller_module = if caller.is_empty() { "" } else { MODULE };
    format!(
        "function_calls_total{{service_name=\"{SERVICE}\",function=\"{function}\",module=\"{MODULE}\",result=\"{result}\",caller_function=\"{caller}\",caller_module=\"{caller_module}\"}} {value}"
    )
}

fn labels(function: &str) -> String {
    format!("service_name=\"{SERVICE}\",function=\"{function}\",module=\"{MODULE}\"")
}

/// The rendered sample lines of `metric` for `function`, sorted.
fn samples(text: &str, metric: &str, function: &str) -> Vec<String> {
    let prefix = format!("{metric}{{service_name=\"{SERVICE}\",function=\"{function}\",");
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[trace]
fn text_leaf(x: u32) -> Result<u32, String> {
    if x == 0 {
        Err("zero".to_owned())
    } else {
        Ok(x)
    }
}

#[trace]
fn text_parent() -> u32 {
    text_leaf(1).unwrap_or(0) + text_leaf(0).unwrap_or(0) + text_leaf(2).unwrap_or(0)
}

#[trace]
fn text_panics() -> u32 {
    panic!("text_panics: expected");
}

#[trace]
async fn text_pending() {
    std::future::pending::<()>().await;
}

struct TextStore {
    item: Option<u8>,
}

#[instrument_all]
impl TextStore {
    fn get(&self) -> Option<u8> {
        self.item
    }
}

#[test]
fn counters_render_as_exact_sample_lines_for_every_result_and_caller() {
    let exporter = exporter();
    assert_eq!(text_parent(), 3);
    assert_eq!(text_parent(), 3);
    assert_eq!(text_leaf(0), Err("zero".to_owned()));
    assert!(catch_unwind(text_panics).is_err());
    assert_eq!(TextStore { item: None }.get(), None);
    {
        let mut future = pin!(text_pending());
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
    }

    let text = exporter.render();
    // Every (caller, result) pair a function was called with is a series,
    // and all three results of a pair are exported from its first call on.
    assert_eq!(
        samples(&text, "function_calls_total", "text_leaf"),
        sorted(vec![
            total("text_leaf", "ok", "text_parent", 4),
            total("text_leaf", "error", "text_parent", 2),
            total("text_leaf", "cancelled", "text_parent", 0),
            total("text_leaf", "ok", "", 0),
            total("text_leaf", "error", "", 1),
            total("text_leaf", "cancelled", "", 0),
        ]),
        "{text}"
    );
    assert_eq!(
        samples(&text, "function_calls_total", "text_parent"),
        sorted(vec![
            total("text_parent", "ok", "", 2),
            total("text_parent", "error", "", 0),
            total("text_parent", "cancelled", "", 0),
        ])
    );
    assert_eq!(
        samples(&text, "function_calls_total", "text_panics"),
        sorted(vec![
            total("text_panics", "ok", "", 0),
            total("text_panics", "error", "", 1),
            total("text_panics", "cancelled", "", 0),
        ])
    );
    assert_eq!(
        samples(&text, "function_calls_total", "text_pending"),
        sorted(vec![
            total("text_pending", "ok", "", 0),
            total("text_pending", "error", "", 0),
            total("text_pending", "cancelled", "", 1),
        ])
    );
    assert_eq!(
        samples(&text, "function_calls_total", "TextStore::get"),
        sorted(vec![
            total("TextStore::get", "ok", "", 1),
            total("TextStore::get", "error", "", 0),
            total("TextStore::get", "cancelled", "", 0),
        ])
    );
    for function in ["text_leaf", "text_panics", "text_pending"] {
        assert_eq!(
            samples(&text, "function_calls_concurrent", function),
            [format!(
                "function_calls_concurrent{{{}}} 0",
                labels(function)
            )]
        );
    }
}

#[trace]
async fn text_sleeps_30ms() {
    tokio::time::sleep(Duration::from_millis(30)).await;
}

#[trace]
fn text_returns_at_once() -> u32 {
    1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durations_render_as_a_histogram_with_the_default_buckets() {
    let exporter = exporter();
    for _ in 0..3 {
        text_sleeps_30ms().await;
    }
    let text = exporter.render();
    assert!(text.contains("# TYPE function_calls_duration_seconds histogram\n"));
    assert!(!text.contains("summary"));

    let labels = labels("text_sleeps_30ms");
    let buckets = prometheus::buckets(&text, "function_calls_duration_seconds", &labels);
    let mut expected_bounds: Vec<String> = DEFAULT_BUCKETS.iter().map(f64::to_string).collect();
    expected_bounds.push("+Inf".to_owned());
    let bounds: Vec<&str> = buckets.iter().map(|(le, _)| le.as_str()).collect();
    assert_eq!(
        bounds,
        [
            "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
            "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5", "7.5", "10", "+Inf"
        ]
    );
    assert_eq!(bounds, expected_bounds);

    // Each call slept 30 ms: none fits the buckets up to 25 ms; all fit in 10 s.
    let count = |le: &str| buckets.iter().find(|(b, _)| b == le).unwrap().1;
    for le in ["0.0001", "0.001", "0.005", "0.01", "0.025"] {
        assert_eq!(count(le), 0, "le={le}\n{text}");
    }
    assert_eq!(count("10"), 3);
    assert_eq!(count("+Inf"), 3);
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert!(text.contains(&format!(
        "function_calls_duration_seconds_count{{{labels}}} 3\n"
    )));

    // A call that returns at once lands below a millisecond, not in the
    // 5 ms bucket where the autometrics defaults would put it.
    for _ in 0..100 {
        std::hint::black_box(text_returns_at_once());
    }
    let text = exporter.render();
    let fast = prometheus::buckets(
        &text,
        "function_calls_duration_seconds",
        &self::labels("text_returns_at_once"),
    );
    let fast_count = |le: &str| fast.iter().find(|(b, _)| b == le).unwrap().1;
    assert_eq!(fast_count("0.001"), 100, "{fast:?}");
    let sum =
        prometheus::value(&text, "function_calls_duration_seconds_sum", &labels).expect("sum line");
    assert!((0.09..30.0).contains(&sum), "sum {sum}");
}

#[trace]
async fn text_in_flight() {
    std::future::pending::<()>().await;
}

#[test]
fn the_in_flight_gauge_counts_running_calls_and_returns_to_zero() {
    let exporter = exporter();
    let gauge = |value: u32| {
        [format!(
            "function_calls_concurrent{{{}}} {value}",
            labels("text_in_flight")
        )]
    };
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut first = Box::pin(text_in_flight());
    let mut second = Box::pin(text_in_flight());
    assert_eq!(first.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(second.as_mut().poll(&mut cx), Poll::Pending);
    let text = exporter.render();
    assert_eq!(
        samples(&text, "function_calls_concurrent", "text_in_flight"),
        gauge(2)
    );
    drop(first);
    let text = exporter.render();
    assert_eq!(
        samples(&text, "function_calls_concurrent", "text_in_flight"),
        gauge(1)
    );
    drop(second);
    let text = exporter.render();
    assert_eq!(
        samples(&text, "function_calls_concurrent", "text_in_flight"),
        gauge(0)
    );
}

#[trace]
fn text_for_build_info() -> u32 {
    4
}

#[test]
fn build_info_is_one_with_version_commit_branch_and_service_name() {
    let exporter = exporter();
    // A call, so every family has a series to describe.
    assert_eq!(text_for_build_info(), 4);
    let text = exporter.render();
    // trace-runtime shares this workspace's version.
    let expected = format!(
        "build_info{{service_name=\"{SERVICE}\",version=\"{VERSION}\",commit=\"0123abc\",branch=\"main\",trace_runtime_version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("build_info"))
        .collect();
    assert_eq!(lines, [expected.as_str()]);
    for (family, kind) in [
        ("function_calls_total", "counter"),
        ("function_calls_duration_seconds", "histogram"),
        ("function_calls_concurrent", "gauge"),
        ("build_info", "gauge"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} {kind}\n")),
            "{family}"
        );
        assert!(text.contains(&format!("# HELP {family} ")), "{family}");
    }
}

#[trace]
fn text_for_promtool() -> u32 {
    5
}

#[test]
fn promtool_accepts_the_rendered_text() {
    let exporter = exporter();
    // Some of every family, so there is something to check.
    assert_eq!(text_for_promtool(), 5);
    let text = exporter.render();
    assert!(text.contains("function_calls_duration_seconds_bucket{"));

    prometheus::promtool_check(&text);
}

#[trace]
fn text_threaded(x: u64) -> Result<u64, u64> {
    if x.is_multiple_of(10) {
        Err(x)
    } else {
        Ok(x)
    }
}

#[trace]
async fn text_hops(x: u64) -> u64 {
    tokio::task::yield_now().await;
    x
}

/// Under this exporter calls count in per-thread cells published at render:
/// counts made on threads that have exited, on live threads, and by async
/// calls that start on one worker and end on another all add up exactly.
#[test]
fn counts_from_many_threads_add_up_exactly_at_render() {
    let exporter = exporter();
    // 4 threads that exit before the render.
    let exited: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..1000 {
                    let _ = text_threaded(t * 1000 + i);
                }
            })
        })
        .collect();
    for handle in exited {
        handle.join().unwrap();
    }
    // 2 threads still alive at the render.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Arc::new(std::sync::Mutex::new(release_rx));
    let live: Vec<_> = (0..2)
        .map(|_| {
            let done = done_tx.clone();
            let release = std::sync::Arc::clone(&release_rx);
            std::thread::spawn(move || {
                for i in 1..=500 {
                    let _ = text_threaded(i);
                }
                done.send(()).unwrap();
                let _ = release.lock().unwrap().recv();
            })
        })
        .collect();
    done_rx.recv().unwrap();
    done_rx.recv().unwrap();
    // Async calls hopping between the workers of a multi-thread runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..200).map(|i| tokio::spawn(text_hops(i))).collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let text = exporter.render();
    // 4000 calls with 400 errors, plus 2 × 500 calls with 2 × 50 errors.
    assert_eq!(
        samples(&text, "function_calls_total", "text_threaded"),
        sorted(vec![
            total("text_threaded", "cancelled", "", 0),
            total("text_threaded", "error", "", 500),
            total("text_threaded", "ok", "", 4500),
        ])
    );
    assert_eq!(
        samples(&text, "function_calls_total", "text_hops"),
        sorted(vec![
            total("text_hops", "cancelled", "", 0),
            total("text_hops", "error", "", 0),
            total("text_hops", "ok", "", 200),
        ])
    );
    assert_eq!(
        samples(&text, "function_calls_concurrent", "text_hops"),
        vec![format!(
            "function_calls_concurrent{{{}}} 0",
            labels("text_hops")
        )]
    );
    drop(release_tx);
    for handle in live {
        handle.join().unwrap();
    }
    drop(runtime);
}

#[trace(name = "text_shared")]
fn text_shared_first() {}

#[trace(name = "text_shared")]
fn text_shared_second() {}

#[trace(name = "text_shared_caller")]
fn text_shared_caller_first() {
    text_shared_first();
}

#[trace(name = "text_shared_caller")]
fn text_shared_caller_second() {
    text_shared_first();
}

#[test]
fn functions_with_the_same_labels_count_into_one_series() {
    let exporter = exporter();
    for _ in 0..2 {
        text_shared_first();
    }
    for _ in 0..3 {
        text_shared_second();
    }
    text_shared_caller_first();
    for _ in 0..4 {
        text_shared_caller_second();
    }
    let text = exporter.render();
    let mut calls = samples(&text, "function_calls_total", "text_shared");
    calls.retain(|line| !line.ends_with(" 0"));
    assert_eq!(
        calls,
        [
            total("text_shared", "ok", "", 5),
            total("text_shared", "ok", "text_shared_caller", 5),
        ]
    );
    let labels = labels("text_shared");
    assert_eq!(
        samples(
            &text,
            "function_calls_duration_seconds_count",
            "text_shared"
        ),
        [format!(
            "function_calls_duration_seconds_count{{{labels}}} 10"
        )]
    );
    assert_eq!(
        samples(
            &text,
            "function_calls_duration_seconds_bucket",
            "text_shared"
        )
        .len(),
        DEFAULT_BUCKETS.len() + 1,
        "one series, not one per function\n{text}"
    );
}

#[trace]
fn text_local_or_global() -> u32 {
    7
}

/// Every `function_calls_total` line of `text_local_or_global`, rooted, with
/// `ok` calls.
fn local_or_global_totals(ok: u64) -> Vec<String> {
    sorted(vec![
        total("text_local_or_global", "cancelled", "", 0),
        total("text_local_or_global", "error", "", 0),
        total("text_local_or_global", "ok", "", ok),
    ])
}

#[test]
fn calls_under_a_local_recorder_go_to_it_and_not_to_the_exporter() {
    let exporter = exporter();
    let function = "text_local_or_global";
    assert_eq!(text_local_or_global(), 7);
    let local = trace_suite::metrics::capture(|| {
        for _ in 0..3 {
            assert_eq!(text_local_or_global(), 7);
        }
        // Rendering under a local recorder still publishes the exporter's
        // own counts.
        let text = exporter.render();
        assert_eq!(
            samples(&text, "function_calls_total", function),
            local_or_global_totals(1)
        );
    });
    assert_eq!(text_local_or_global(), 7);
    assert_eq!(local.calls(function), trace_suite::metrics::ok(3));
    let text = exporter.render();
    assert_eq!(
        samples(&text, "function_calls_total", function),
        local_or_global_totals(2)
    );
    assert_eq!(
        prometheus::value(
            &text,
            "function_calls_duration_seconds_count",
            &labels(function)
        ),
        Some(2.0)
    );
}
