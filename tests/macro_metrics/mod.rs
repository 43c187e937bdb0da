//! Metrics of the macro tests, read back by function label.
//!
//! The recorder and its running totals are `trace_suite::recorder`; each test
//! reads only the labels of the functions it calls (all distinct).
// Each test binary that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::collections::BTreeMap;

use trace_suite::recorder::with_totals;
pub use trace_suite::recorder::{install, Labels};

/// `function_calls_total` for `function`, per `result` label, summed over
/// callers: e.g. `[("error", 1), ("ok", 2)]`.
pub fn calls(function: &str) -> Vec<(String, u64)> {
    let mut by_result: BTreeMap<String, u64> = BTreeMap::new();
    with_totals(|totals| {
        for ((name, labels), n) in &totals.counters {
            if name == "function_calls_total" && labels["function"] == function {
                *by_result.entry(labels["result"].clone()).or_default() += n;
            }
        }
    });
    by_result.into_iter().filter(|(_, n)| *n > 0).collect()
}

/// Shorthand for the common expectation: `n` calls, all `ok`.
pub fn ok(n: u64) -> Vec<(String, u64)> {
    vec![("ok".to_owned(), n)]
}

/// The label sets of `function_calls_total` series for `function`.
pub fn call_labels(function: &str) -> Vec<Labels> {
    with_totals(|totals| {
        totals
            .counters
            .keys()
            .filter(|(name, labels)| {
                name == "function_calls_total" && labels["function"] == function
            })
            .map(|(_, labels)| labels.clone())
            .collect()
    })
}

/// Every `function_calls_duration_seconds` value recorded for `function`.
pub fn durations(function: &str) -> Vec<f64> {
    with_totals(|totals| {
        totals
            .histograms
            .iter()
            .filter(|((name, labels), _)| {
                name == "function_calls_duration_seconds" && labels["function"] == function
            })
            .flat_map(|(_, values)| values.iter().copied())
            .collect()
    })
}
