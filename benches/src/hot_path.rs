//! A small binary for profilers (`valgrind --tool=callgrind`, `perf`): runs
//! this project's workload (111 traced calls per request) in one mode for N
//! requests and prints the time per traced call.
//!
//! `hot_path-<hash> [logged|full|metrics|off|bare] [requests]
//! [sync|async|sync-result|async-result|sync-err|async-err]`
//! (`-result`: the same calls returning `Ok(..)` under `#[trace]`, `-err`
//! under `#[trace(err)]`):
//! `logged` is the default path (trees rendered and logged by a fmt
//! subscriber to a counting sink), `full` trees built and delivered to a
//! sink, not rendered; `stats` the same with live statistics on; `bare`
//! runs the same functions without the attribute, the baseline the other
//! modes' counts are compared with. Under `cargo bench` it runs 20 000 sync
//! requests in full mode.

#[allow(
    dead_code,
    reason = "shared with `peers`; this binary checks only our rows"
)]
mod check;
mod counting;
mod exec;
#[path = "peer/none.rs"]
mod none;
#[path = "peer/ours.rs"]
mod ours;
mod recorder;
mod workload;

/// The workload returning `Result` (always `Ok`), under `#[trace]` and
/// under `#[trace(err)]`.
#[path = "peer/ours_err.rs"]
mod ours_err;

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize, default: &'static str| args.get(i).map_or(default, String::as_str);
    let (mode, bare) = match arg(0, "full") {
        "logged" => (ours::Mode::Logged, false),
        "full" => (ours::Mode::Built, false),
        "stats" => (ours::Mode::BuiltStats, false),
        "metrics" => (ours::Mode::MetricsOnly, false),
        "off" => (ours::Mode::Off, false),
        "bare" => (ours::Mode::Off, true),
        other => panic!("unknown mode {other}: logged, full, stats, metrics, off or bare"),
    };
    let requests: u64 = arg(1, "20000").parse().expect("a request count");
    let request: fn(u64) -> u64 = match (arg(2, "sync"), bare) {
        ("sync", false) => ours::root,
        ("async", false) => |x| exec::block_on(ours::root_async(x)),
        ("sync", true) => none::root,
        ("async", true) => |x| exec::block_on(none::root_async(x)),
        ("sync-result", false) => ours_err::plain_sync,
        ("async-result", false) => ours_err::plain_async,
        ("sync-err", false) => ours_err::err_sync,
        ("async-err", false) => ours_err::err_async,
        (other, _) => panic!("unknown variant {other}: sync or async"),
    };
    let exporter = recorder::install(mode.stats());
    ours::setup(mode);
    for i in 0..100 {
        black_box(request(black_box(i)));
    }
    let start = Instant::now();
    for i in 0..requests {
        black_box(request(black_box(i)));
    }
    let wall = start.elapsed();
    let metrics = exporter.render();
    if !bare {
        let done = 100 + requests;
        if let Err(why) = ours::check(mode, &metrics, done, done * workload::CALLS_PER_REQUEST) {
            panic!("trace-runtime {mode:?} did not do its work: {why}");
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let per_call = wall.as_nanos() as f64 / (requests * workload::CALLS_PER_REQUEST) as f64;
    let mode = if bare {
        "bare".to_owned()
    } else {
        format!("{mode:?}")
    };
    println!(
        "trace-runtime {mode} {}: {requests} requests, {per_call:.1} ns per traced call \
         (body included)",
        arg(2, "sync")
    );
}
