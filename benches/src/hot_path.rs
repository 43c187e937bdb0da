//! A small binary for profilers (`valgrind --tool=callgrind`, `perf`): runs
//! this project's workload (111 traced calls per request) in one mode for N
//! requests and prints the time per traced call.
//!
//! `hot_path-<hash> [full|metrics|off] [requests] [sync|async]`; under
//! `cargo bench` it runs 20 000 sync requests in full mode.

mod exec;
#[path = "peer/ours.rs"]
mod ours;
mod recorder;
mod workload;

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize, default: &'static str| args.get(i).map_or(default, String::as_str);
    let mode = match arg(0, "full") {
        "full" => ours::Mode::Full,
        "metrics" => ours::Mode::MetricsOnly,
        "off" => ours::Mode::Off,
        other => panic!("unknown mode {other}: full, metrics or off"),
    };
    let requests: u64 = arg(1, "20000").parse().expect("a request count");
    let request: fn(u64) -> u64 = match arg(2, "sync") {
        "sync" => ours::root,
        "async" => |x| exec::block_on(ours::root_async(x)),
        other => panic!("unknown variant {other}: sync or async"),
    };
    let exporter = recorder::install();
    ours::setup(mode);
    for i in 0..100 {
        black_box(request(black_box(i)));
    }
    let start = Instant::now();
    for i in 0..requests {
        black_box(request(black_box(i)));
    }
    let wall = start.elapsed();
    std::hint::black_box(recorder::drain(&exporter));
    #[allow(clippy::cast_precision_loss)]
    let per_call = wall.as_nanos() as f64 / (requests * workload::CALLS_PER_REQUEST) as f64;
    println!(
        "trace-runtime {mode:?} {}: {requests} requests, {per_call:.1} ns per traced call \
         (body included)",
        arg(2, "sync")
    );
}
