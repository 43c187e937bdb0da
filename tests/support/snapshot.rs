//! What a `DebuggingRecorder` recorded, folded into totals, and read back by
//! function: sample lines such as
//! `function_calls_total{caller_function="",…,result="ok"} 2`, call counts
//! per result, label sets, gauges and histogram samples.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use metrics_util::debugging::{DebugValue, Snapshotter};
use metrics_util::MetricKind;

/// The labels of one series, sorted by name.
pub type Labels = BTreeMap<String, String>;

/// A metric name and its labels.
pub type Series = (String, Labels);

/// Everything a recorder recorded.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Counter totals.
    pub counters: BTreeMap<Series, u64>,
    /// Gauge values.
    pub gauges: BTreeMap<Series, f64>,
    /// Every histogram sample.
    pub histograms: BTreeMap<Series, Vec<f64>>,
}

impl Snapshot {
    /// Folds what `snapshotter` recorded since it was last read into the
    /// totals. A debugging snapshot resets counters and gauges and drains
    /// histograms, so nothing is counted twice; gauges only move by
    /// increments under a debugging recorder, so their folded sum is their
    /// current value.
    pub fn fold(&mut self, snapshotter: &Snapshotter) {
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let (kind, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            let series = (key.name().to_owned(), labels);
            match (kind, value) {
                (MetricKind::Counter, DebugValue::Counter(n)) => {
                    *self.counters.entry(series).or_default() += n;
                }
                (MetricKind::Gauge, DebugValue::Gauge(v)) => {
                    *self.gauges.entry(series).or_default() += v.into_inner();
                }
                (MetricKind::Histogram, DebugValue::Histogram(values)) => {
                    let all = self.histograms.entry(series).or_default();
                    all.extend(values.into_iter().map(f64::from));
                }
                _ => {}
            }
        }
    }

    /// Every non-zero `function_calls_total` series of `function`, as sorted
    /// sample lines with all labels.
    #[must_use]
    pub fn call_lines(&self, function: &str) -> Vec<String> {
        self.counters
            .iter()
            .filter(|(s, n)| **n > 0 && is_of(s, "function_calls_total", function))
            .map(|(s, n)| line(s, &n.to_string()))
            .collect()
    }

    /// `function_calls_total` for `function`, per `result` label, summed over
    /// callers, zeros left out: e.g. `[("error", 1), ("ok", 2)]`.
    #[must_use]
    pub fn calls(&self, function: &str) -> Vec<(String, u64)> {
        let mut by_result: BTreeMap<String, u64> = BTreeMap::new();
        for ((name, labels), n) in &self.counters {
            if name == "function_calls_total" && labels["function"] == function {
                *by_result.entry(labels["result"].clone()).or_default() += n;
            }
        }
        by_result.into_iter().filter(|(_, n)| *n > 0).collect()
    }

    /// The label sets of the `function_calls_total` series of `function`.
    #[must_use]
    pub fn call_labels(&self, function: &str) -> Vec<Labels> {
        self.counters
            .keys()
            .filter(|(name, labels)| {
                name == "function_calls_total" && labels["function"] == function
            })
            .map(|(_, labels)| labels.clone())
            .collect()
    }

    /// The `function_calls_concurrent` series of `function`, as sample lines.
    #[must_use]
    pub fn concurrent(&self, function: &str) -> Vec<String> {
        self.gauges
            .iter()
            .filter(|(s, _)| is_of(s, "function_calls_concurrent", function))
            .map(|(s, v)| line(s, &v.to_string()))
            .collect()
    }

    /// The `function_calls_duration_seconds` series of `function`, each with
    /// the number of samples recorded in it.
    #[must_use]
    pub fn duration_counts(&self, function: &str) -> Vec<String> {
        self.histograms
            .iter()
            .filter(|(s, _)| is_of(s, "function_calls_duration_seconds", function))
            .map(|(s, v)| line(s, &format!("samples={}", v.len())))
            .collect()
    }

    /// Every sample of `function_calls_duration_seconds` for `function`.
    #[must_use]
    pub fn durations(&self, function: &str) -> Vec<f64> {
        self.histograms
            .iter()
            .filter(|(s, _)| is_of(s, "function_calls_duration_seconds", function))
            .flat_map(|(_, v)| v.iter().copied())
            .collect()
    }
}

fn line((name, labels): &Series, value: &str) -> String {
    let mut out = format!("{name}{{");
    for (i, (key, val)) in labels.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(out, "{sep}{key}=\"{val}\"");
    }
    let _ = write!(out, "}} {value}");
    out
}

fn is_of(series: &Series, metric: &str, function: &str) -> bool {
    series.0 == metric && series.1.get("function").map(String::as_str) == Some(function)
}

/// The common expectation of [`Snapshot::calls`]: `n` calls, all `ok`.
#[must_use]
pub fn ok(n: u64) -> Vec<(String, u64)> {
    vec![("ok".to_owned(), n)]
}

/// Expected sample line of `function_calls_total` (labels in sorted order).
#[must_use]
pub fn call_line(
    function: &str,
    module: &str,
    result: &str,
    caller: (&str, &str),
    value: u64,
) -> String {
    format!(
        "function_calls_total{{caller_function=\"{}\",caller_module=\"{}\",function=\"{function}\",module=\"{module}\",result=\"{result}\",service_name=\"{SERVICE}\"}} {value}",
        caller.0, caller.1
    )
}

/// Expected sample line of `function_calls_concurrent`.
#[must_use]
pub fn concurrent_line(function: &str, module: &str, value: i32) -> String {
    format!(
        "function_calls_concurrent{{function=\"{function}\",module=\"{module}\",service_name=\"{SERVICE}\"}} {value}"
    )
}

/// Expected line of [`Snapshot::duration_counts`].
#[must_use]
pub fn duration_line(function: &str, module: &str, samples: usize) -> String {
    format!(
        "function_calls_duration_seconds{{function=\"{function}\",module=\"{module}\",service_name=\"{SERVICE}\"}} samples={samples}"
    )
}

/// The `service_name` of functions defined in this package, with no exporter
/// configuring one: the package name.
pub const SERVICE: &str = env!("CARGO_PKG_NAME");

/// No caller: the call was a request root.
pub const ROOT: (&str, &str) = ("", "");
