//! The circuit-breaker example (`trace-runtime/examples/circuit_breaker.rs`)
//! run under a local `DebuggingRecorder`: the breaker's state gauge,
//! transitions and retries are exactly what its scenario implies, next to
//! the traced calls' counts, and each check's tree shows the retries and
//! the rejections as failed `CircuitBreaker::reject` nodes.
#![warn(clippy::pedantic)]

#[path = "../trace-runtime/examples/circuit_breaker.rs"]
#[allow(dead_code, unreachable_pub)]
mod circuit_breaker;

use std::collections::BTreeMap;

use circuit_breaker::StockError::{Rejected, Unavailable};
use insta::assert_snapshot;
use trace_suite::metrics::{capture, Snapshot};
use trace_suite::{capture_trees, render_normalised, wait_for_trees};

/// The value of every series of `name`, keyed by the values of `keys`.
fn by_labels(
    values: &BTreeMap<(String, BTreeMap<String, String>), f64>,
    name: &str,
    keys: &[&str],
) -> BTreeMap<Vec<String>, f64> {
    values
        .iter()
        .filter(|((n, _), _)| n == name)
        .map(|((_, labels), v)| (keys.iter().map(|k| labels[*k].clone()).collect(), *v))
        .collect()
}

fn counters(snapshot: &Snapshot) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    #[allow(clippy::cast_precision_loss)] // small counts
    snapshot
        .counters
        .iter()
        .map(|(series, n)| (series.clone(), *n as f64))
        .collect()
}

fn keyed(pairs: &[(&[&str], f64)]) -> BTreeMap<Vec<String>, f64> {
    pairs
        .iter()
        .map(|(k, v)| (k.iter().map(|s| (*s).to_owned()).collect(), *v))
        .collect()
}

#[test]
fn the_breaker_opens_rejects_half_opens_and_closes_with_exact_metrics_and_trees() {
    capture_trees();
    let mut results = Vec::new();
    let snapshot =
        capture(|| circuit_breaker::run(|at, result| results.push((at, result.clone()))));

    // Down from 200 to 600 ms, 3 failures open it, 250 ms of cooldown.
    assert_eq!(
        results,
        [
            (0, Ok(0)),
            (100, Ok(10)),
            (200, Err(Unavailable)), // 3 attempts: the third opens it
            (300, Err(Rejected)),
            (400, Err(Rejected)),
            (500, Err(Unavailable)), // half-open trial fails: open again
            (600, Err(Rejected)),
            (700, Err(Rejected)),
            (800, Ok(80)), // half-open trial succeeds: closed
            (900, Ok(90)),
        ]
    );

    let counters = counters(&snapshot);
    assert_eq!(
        by_labels(
            &counters,
            "circuit_breaker_transitions_total",
            &["breaker", "from", "to"]
        ),
        keyed(&[
            (&["inventory", "closed", "open"], 1.0),
            (&["inventory", "half_open", "closed"], 1.0),
            (&["inventory", "half_open", "open"], 1.0),
            (&["inventory", "open", "half_open"], 2.0),
        ])
    );
    assert_eq!(
        by_labels(&counters, "retries_total", &["operation"]),
        keyed(&[(&["Inventory::fetch"], 2.0)])
    );
    assert_eq!(
        by_labels(
            &snapshot.gauges,
            "circuit_breaker_state",
            &["breaker", "state"]
        ),
        keyed(&[
            (&["inventory", "closed"], 1.0),
            (&["inventory", "half_open"], 0.0),
            (&["inventory", "open"], 0.0),
        ])
    );
    let calls = |function| snapshot.calls(function);
    let ok_err = |ok: u64, err: u64| vec![("error".to_owned(), err), ("ok".to_owned(), ok)];
    assert_eq!(calls("StockService::check"), ok_err(4, 6));
    // 2 + 3 + 1 + 2 attempts reached the inventory.
    assert_eq!(calls("Inventory::fetch"), ok_err(4, 4));
    assert_eq!(
        calls("CircuitBreaker::reject"),
        vec![("error".to_owned(), 4)]
    );

    let trees: Vec<String> = wait_for_trees("StockService::check", 10)
        .iter()
        .map(render_normalised)
        .collect();
    assert_snapshot!(trees.join("--\n"), @r"
        StockService::check  <t>
          Inventory::fetch   <t>
        --
        StockService::check  <t>
          Inventory::fetch   <t>
        --
        StockService::check  <t>  err
          Inventory::fetch   <t>  err
          Inventory::fetch   <t>  err
          Inventory::fetch   <t>  err
        --
        StockService::check       <t>  err
          CircuitBreaker::reject  <t>  err
        --
        StockService::check       <t>  err
          CircuitBreaker::reject  <t>  err
        --
        StockService::check  <t>  err
          Inventory::fetch   <t>  err
        --
        StockService::check       <t>  err
          CircuitBreaker::reject  <t>  err
        --
        StockService::check       <t>  err
          CircuitBreaker::reject  <t>  err
        --
        StockService::check  <t>
          Inventory::fetch   <t>
        --
        StockService::check  <t>
          Inventory::fetch   <t>
        ");
}
