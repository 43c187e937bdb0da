//! `ExporterBuilder::runtime_metrics(handle)` sets tokio's stable runtime
//! metrics before each render and keeps an event-loop lag probe running.
//! Its own binary: it installs the exporter.
#![warn(clippy::pedantic)]

use std::time::Duration;

use trace_runtime::ExporterBuilder;
use trace_suite::prometheus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_gauges_and_the_lag_probe_are_rendered() {
    let exporter = ExporterBuilder::new()
        .service_name("rt")
        .runtime_metrics(tokio::runtime::Handle::current())
        .install()
        .expect("the only recorder of this test binary");
    let first = exporter.render();
    // Busy workers for a while: two tasks spinning 150 ms each.
    let spinners: Vec<_> = (0..2)
        .map(|_| {
            tokio::spawn(async {
                let until = std::time::Instant::now() + Duration::from_millis(150);
                while std::time::Instant::now() < until {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(450)).await;
    for spinner in spinners {
        spinner.await.unwrap();
    }
    let text = exporter.render();
    let value = |name: &str| {
        prometheus::value(&text, name, "service_name=\"rt\"")
            .unwrap_or_else(|| panic!("no {name}\n{text}"))
    };
    assert_eq!(value("tokio_workers").to_string(), "2");
    // This test's task and the probe, at least.
    assert!(value("tokio_alive_tasks") >= 1.0, "{text}");
    assert!(value("tokio_global_queue_depth") >= 0.0);
    // Set from the second render on: the spinners kept workers busy.
    assert!(!first.contains("tokio_busy_ratio{"), "{first}");
    let busy = value("tokio_busy_ratio");
    assert!((0.05..=1.0).contains(&busy), "busy ratio {busy}");
    // The probe wakes every 100 ms: four lags in 450 ms, at least two when
    // the machine is loaded.
    let lags = value("tokio_event_loop_lag_seconds_count");
    assert!(lags >= 2.0, "{lags} probes\n{text}");
    assert!(
        text.contains("# TYPE tokio_event_loop_lag_seconds histogram\n"),
        "{text}"
    );
    prometheus::promtool_check(&text);

    // Both workers blocked for 300 ms (a sleep where an `.await` belonged):
    // the probe wakes about that late, a spike above the 0.1 s bucket.
    let lag_sum = |text: &str| value_in(text, "tokio_event_loop_lag_seconds_sum");
    let before = lag_sum(&text);
    let blockers: Vec<_> = (0..2)
        .map(|_| tokio::spawn(async { std::thread::sleep(Duration::from_millis(300)) }))
        .collect();
    for blocker in blockers {
        blocker.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    let text = exporter.render();
    let spike = lag_sum(&text) - before;
    assert!(spike >= 0.15, "lag grew by {spike} s only\n{text}");
    let buckets = prometheus::buckets(&text, "tokio_event_loop_lag_seconds", "service_name=\"rt\"");
    let at_most = |le: &str| {
        buckets
            .iter()
            .find(|(bound, _)| bound == le)
            .map_or_else(|| panic!("no le={le} bucket in {buckets:?}"), |(_, n)| *n)
    };
    let count = at_most("+Inf");
    assert!(
        at_most("0.1") < count,
        "no lag sample above 100 ms: {buckets:?}"
    );
}

fn value_in(text: &str, name: &str) -> f64 {
    prometheus::value(text, name, "service_name=\"rt\"")
        .unwrap_or_else(|| panic!("no {name}\n{text}"))
}
