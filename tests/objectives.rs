//! Objectives put their labels on a traced function's series, exactly as
//! the SLO rules select them: the counter gets `objective_name` and
//! `objective_percentile`, the histogram those and
//! `objective_latency_threshold` spelled as one of its buckets' `le`.
//! `#[instrument_all(objective = ...)]` passes it to every method, which may
//! name its own. Its own binary: it installs the exporter.
#![warn(clippy::pedantic)]

use trace_runtime::objective::{Latency, Objective, Percentile};
use trace_runtime::{instrument_all, trace, ExporterBuilder};
use trace_suite::prometheus;

const API: Objective = Objective::new("api")
    .success_rate(Percentile::P99_9)
    .latency(Latency::Ms250, Percentile::P99);

const BATCH: Objective = Objective::new("batch").latency(Latency::Ms1000, Percentile::P95);

#[trace(objective = API)]
fn find(id: u32) -> Result<u32, String> {
    if id == 0 {
        Err("no room 0".into())
    } else {
        Ok(id)
    }
}

struct Rooms;

#[instrument_all(objective = API)]
impl Rooms {
    fn list() -> Vec<u32> {
        vec![1, 2]
    }

    #[trace(objective = BATCH)]
    fn compact() {}
}

#[trace]
fn plain() {}

const MODULE: &str = module_path!();

#[test]
fn objective_labels_are_on_the_series_the_rules_select() {
    let exporter = ExporterBuilder::new()
        .service_name("slo")
        .objective(API)
        .objective(BATCH)
        .install()
        .expect("the only recorder of this test binary");
    assert_eq!(find(1), Ok(1));
    assert_eq!(find(0), Err("no room 0".into()));
    assert_eq!(Rooms::list(), [1, 2]);
    Rooms::compact();
    plain();
    let text = exporter.render();

    let site = |function: &str| {
        format!("service_name=\"slo\",function=\"{function}\",module=\"{MODULE}\"")
    };
    let calls = |function: &str, result: &str, objective: &str| {
        format!(
            "{},result=\"{result}\",caller_function=\"\",caller_module=\"\"{objective}",
            site(function)
        )
    };
    let api_calls = ",objective_name=\"api\",objective_percentile=\"99.9\"";
    for (function, result, objective, n) in [
        ("find", "ok", api_calls, 1.0),
        ("find", "error", api_calls, 1.0),
        ("Rooms::list", "ok", api_calls, 1.0),
        // A latency-only objective: the counter carries no objective labels.
        ("Rooms::compact", "ok", "", 1.0),
        ("plain", "ok", "", 1.0),
    ] {
        let labels = calls(function, result, objective);
        assert_eq!(
            prometheus::value(&text, "function_calls_total", &labels),
            Some(n),
            "{labels}\n{text}"
        );
    }
    let api_latency =
        ",objective_name=\"api\",objective_percentile=\"99\",objective_latency_threshold=\"0.25\"";
    let histogram = format!("{}{api_latency}", site("find"));
    let buckets = prometheus::buckets(&text, "function_calls_duration_seconds", &histogram);
    // The threshold is one of the series' own `le` values.
    assert!(
        buckets.iter().any(|(le, n)| le == "0.25" && *n == 2),
        "{buckets:?}\n{text}"
    );
    let batch = format!(
        "{},objective_name=\"batch\",objective_percentile=\"95\",objective_latency_threshold=\"1\"",
        site("Rooms::compact")
    );
    let buckets = prometheus::buckets(&text, "function_calls_duration_seconds", &batch);
    assert!(
        buckets.iter().any(|(le, _)| le == "1"),
        "{buckets:?}\n{text}"
    );
    // No objective, no objective labels.
    assert_eq!(
        prometheus::value(
            &text,
            "function_calls_duration_seconds_count",
            &site("plain")
        ),
        Some(1.0),
        "{text}"
    );
    prometheus::promtool_check(&text);
}

#[test]
fn a_local_recorder_sees_the_same_objective_labels() {
    let snapshot = trace_suite::metrics::capture(|| {
        assert_eq!(find(3), Ok(3));
    });
    let lines = snapshot.call_lines("find");
    assert!(
        lines.iter().any(|l| l.contains("objective_name=\"api\"")
            && l.contains("objective_percentile=\"99.9\"")
            && l.contains("result=\"ok\"")),
        "{lines:?}"
    );
    let histograms: Vec<_> = snapshot
        .histograms
        .keys()
        .filter(|(name, labels)| {
            name == "function_calls_duration_seconds" && labels["function"] == "find"
        })
        .collect();
    assert_eq!(histograms.len(), 1, "{histograms:?}");
    let labels = &histograms[0].1;
    assert_eq!(labels["objective_latency_threshold"], "0.25");
    assert_eq!(labels["objective_percentile"], "99");
}
