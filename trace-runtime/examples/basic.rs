//! Sync traced calls, one request root, and its tree printed by a sink.
//!
//! `cargo run -p trace-runtime --example basic`

use trace_runtime::tree::{self, CallTree};
use trace_runtime::{instrument_all, trace};

struct Orders;

#[instrument_all]
impl Orders {
    fn total(&self, ids: &[u32]) -> Result<u32, String> {
        ids.iter().map(|&id| self.price(id)).sum()
    }

    fn price(&self, id: u32) -> Result<u32, String> {
        if id == 0 {
            Err("no order 0".to_owned())
        } else {
            Ok(id * 10)
        }
    }
}

#[trace]
fn report(total: u32) -> String {
    format!("total: {total}")
}

fn main() {
    tree::add_sink(|tree: &CallTree| print!("{tree}"));
    let line = trace_runtime::in_request("nightly report", || {
        let total = Orders.total(&[1, 2, 3]).unwrap_or(0);
        let _ = Orders.total(&[4, 0]);
        report(total)
    });
    println!("{line}");
}
