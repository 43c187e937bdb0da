//! A global `DebuggingRecorder` for the metrics tests, read back as sample
//! lines such as `function_calls_total{caller_function="",…,result="ok"} 2`.
//!
//! The recorder and its running totals are `trace_suite::recorder`; this
//! module formats them. Each test reads only the series of the functions it
//! calls, whose names are unique to it.
// Each test binary that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::fmt::Write as _;

pub use trace_suite::recorder::install;
use trace_suite::recorder::{with_totals, Series};

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

/// Every non-zero `function_calls_total` series of `function`, as sorted
/// sample lines with all labels.
pub fn calls(function: &str) -> Vec<String> {
    with_totals(|t| {
        t.counters
            .iter()
            .filter(|(s, n)| **n > 0 && is_of(s, "function_calls_total", function))
            .map(|(s, n)| line(s, &n.to_string()))
            .collect()
    })
}

/// The `function_calls_concurrent` series of `function`, as sample lines.
pub fn concurrent(function: &str) -> Vec<String> {
    with_totals(|t| {
        t.gauges
            .iter()
            .filter(|(s, _)| is_of(s, "function_calls_concurrent", function))
            .map(|(s, v)| line(s, &v.to_string()))
            .collect()
    })
}

/// The `function_calls_duration_seconds` series of `function`, each with the
/// number of samples recorded in it.
pub fn duration_counts(function: &str) -> Vec<String> {
    with_totals(|t| {
        t.histograms
            .iter()
            .filter(|(s, _)| is_of(s, "function_calls_duration_seconds", function))
            .map(|(s, v)| line(s, &format!("samples={}", v.len())))
            .collect()
    })
}

/// Every sample of `function_calls_duration_seconds` for `function`.
pub fn durations(function: &str) -> Vec<f64> {
    with_totals(|t| {
        t.histograms
            .iter()
            .filter(|(s, _)| is_of(s, "function_calls_duration_seconds", function))
            .flat_map(|(_, v)| v.iter().copied())
            .collect()
    })
}

/// Expected sample line of `function_calls_total` (labels in sorted order).
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
pub fn concurrent_line(function: &str, module: &str, value: i32) -> String {
    format!(
        "function_calls_concurrent{{function=\"{function}\",module=\"{module}\",service_name=\"{SERVICE}\"}} {value}"
    )
}

/// Expected line of [`duration_counts`].
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
