//! A circuit breaker with retries around a flaky dependency: the traced
//! calls next to the breaker's own metrics through the `metrics` facade
//! (a state gauge, a transitions counter, a retry counter), and every
//! rejection a failed `CircuitBreaker::reject` node in the request's tree.
//!
//! `cargo run -p trace-runtime --example circuit_breaker`
//!
//! Ten stock checks 100 ms apart on a simulated clock, against an inventory
//! service that is down from 200 ms to 600 ms: the breaker opens after
//! three failures in a row, rejects calls for 250 ms, lets one trial call
//! through (half-open), opens again while the outage lasts, and closes on
//! the first trial that succeeds.

use std::sync::{Mutex, PoisonError};

use trace_runtime::tree::{self, CallTree};
use trace_runtime::{instrument_all, ExporterBuilder};

/// Consecutive failures that open the breaker.
pub const FAILURE_THRESHOLD: u32 = 3;
/// How long the breaker stays open before a trial call, in milliseconds.
pub const COOLDOWN_MS: u64 = 250;
/// Attempts per stock check, the first one included.
pub const MAX_ATTEMPTS: u32 = 3;

/// The breaker's state, as the `state` label of `circuit_breaker_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are rejected until the cooldown is over.
    Open { since_ms: u64 },
    /// One trial call goes through; its outcome closes or reopens.
    HalfOpen,
}

impl State {
    fn label(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open { .. } => "open",
            State::HalfOpen => "half_open",
        }
    }
}

/// The breaker refused the call.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Which breaker.
    pub breaker: &'static str,
}

/// Why a stock check failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StockError {
    /// The inventory failed on every attempt made.
    Unavailable,
    /// The breaker was open.
    Rejected,
}

/// The inventory service was down.
#[derive(Debug, PartialEq, Eq)]
pub struct Unavailable;

struct Breaker {
    state: State,
    failures: u32,
}

/// A circuit breaker named by the `breaker` label of its metrics.
pub struct CircuitBreaker {
    name: &'static str,
    inner: Mutex<Breaker>,
}

#[instrument_all]
impl CircuitBreaker {
    #[trace(skip)]
    pub fn new(name: &'static str) -> Self {
        let breaker = CircuitBreaker {
            name,
            inner: Mutex::new(Breaker {
                state: State::Closed,
                failures: 0,
            }),
        };
        breaker.set_state_gauge(State::Closed);
        breaker
    }

    /// `Ok` when a call may go through at `now_ms`, the rejection (a
    /// failed, traced `reject` call) otherwise.
    #[trace(skip)]
    pub fn admit(&self, now_ms: u64) -> Result<(), Rejected> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match inner.state {
            State::Open { since_ms } if now_ms < since_ms + COOLDOWN_MS => {
                drop(inner);
                self.reject()
            }
            State::Open { .. } => {
                self.transition(&mut inner, State::HalfOpen);
                Ok(())
            }
            State::Closed | State::HalfOpen => Ok(()),
        }
    }

    /// A rejected call: always `Err`, so the tree marks it and
    /// `function_calls_total{function="CircuitBreaker::reject"}` counts it.
    pub fn reject(&self) -> Result<(), Rejected> {
        Err(Rejected { breaker: self.name })
    }

    /// Records the outcome of a call that was admitted at `now_ms`.
    #[trace(skip)]
    pub fn record(&self, ok: bool, now_ms: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if ok {
            inner.failures = 0;
            if inner.state == State::HalfOpen {
                self.transition(&mut inner, State::Closed);
            }
            return;
        }
        inner.failures += 1;
        if inner.state == State::HalfOpen || inner.failures >= FAILURE_THRESHOLD {
            self.transition(&mut inner, State::Open { since_ms: now_ms });
        }
    }

    /// Whether the breaker is open.
    #[trace(skip)]
    pub fn is_open(&self) -> bool {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(inner.state, State::Open { .. })
    }

    #[trace(skip)]
    fn transition(&self, inner: &mut Breaker, to: State) {
        let from = inner.state;
        inner.state = to;
        inner.failures = 0;
        metrics::counter!(
            "circuit_breaker_transitions_total",
            "breaker" => self.name,
            "from" => from.label(),
            "to" => to.label(),
        )
        .increment(1);
        self.set_state_gauge(to);
    }

    /// One series per state, 1 for the current one and 0 for the others.
    #[trace(skip)]
    fn set_state_gauge(&self, current: State) {
        for state in [State::Closed, State::Open { since_ms: 0 }, State::HalfOpen] {
            let value = if state.label() == current.label() {
                1.0
            } else {
                0.0
            };
            metrics::gauge!("circuit_breaker_state", "breaker" => self.name, "state" => state.label())
                .set(value);
        }
    }
}

/// The flaky dependency: down from `down_from_ms` until `down_until_ms`.
pub struct Inventory {
    pub down_from_ms: u64,
    pub down_until_ms: u64,
}

#[instrument_all]
impl Inventory {
    pub fn fetch(&self, item: u32, now_ms: u64) -> Result<u32, Unavailable> {
        if (self.down_from_ms..self.down_until_ms).contains(&now_ms) {
            Err(Unavailable)
        } else {
            Ok(item * 10)
        }
    }
}

/// The caller: retries failed fetches while the breaker stays closed.
pub struct StockService {
    pub inventory: Inventory,
    pub breaker: CircuitBreaker,
}

#[instrument_all]
impl StockService {
    pub fn check(&self, item: u32, now_ms: u64) -> Result<u32, StockError> {
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                metrics::counter!("retries_total", "operation" => "Inventory::fetch").increment(1);
            }
            self.breaker
                .admit(now_ms)
                .map_err(|_: Rejected| StockError::Rejected)?;
            let fetched = self.inventory.fetch(item, now_ms);
            self.breaker.record(fetched.is_ok(), now_ms);
            if let Ok(stock) = fetched {
                return Ok(stock);
            }
            if self.breaker.is_open() {
                break; // no retry into an open breaker
            }
        }
        Err(StockError::Unavailable)
    }
}

/// The scenario: ten checks 100 ms apart on the simulated clock, the
/// inventory down from 200 ms to 600 ms; `each` sees every check's time
/// and result as it ends.
pub fn run(mut each: impl FnMut(u64, &Result<u32, StockError>)) {
    let service = StockService {
        inventory: Inventory {
            down_from_ms: 200,
            down_until_ms: 600,
        },
        breaker: CircuitBreaker::new("inventory"),
    };
    for item in 0..10_u32 {
        let now_ms = u64::from(item) * 100;
        each(now_ms, &service.check(item, now_ms));
    }
}

#[allow(dead_code)] // the test of this example calls `run` only
fn main() -> Result<(), trace_runtime::exporter::ExportError> {
    let exporter = ExporterBuilder::new()
        .service_name("circuit-breaker-example")
        .install()?;
    // Each check's tree, printed when it ends.
    tree::add_sink(|tree: &CallTree| print!("{tree}"));
    run(|now_ms, result| println!("-> check at {now_ms} ms: {result:?}\n"));
    for line in exporter.render().lines() {
        let ours = ["circuit_breaker_", "retries_total{"]
            .iter()
            .any(|p| line.starts_with(p));
        if ours {
            println!("{line}");
        }
    }
    Ok(())
}
