//! The parent process: runs every measurement in a child process, peers
//! interleaved in rounds (each contender once per round, the order rotated
//! every round), and keeps the median of the per-round figures.

use std::process::Command;

use crate::http::HttpPeer;
use crate::peer::{Peer, Variant};
use crate::workload::CALLS_PER_REQUEST;

/// How long and how often to measure.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Rounds of the overhead and contention measurements.
    pub rounds: usize,
    /// Measured window of one child, in milliseconds.
    pub window_ms: u64,
    /// Run the 10-million-call memory test.
    pub memory: bool,
    /// Run the two-thread contention test.
    pub contention: bool,
    /// Run `compile_time.sh` for the dev and release profiles.
    pub compile_time: bool,
    /// Run the per-call overhead measurements (sync and async).
    pub overhead: bool,
    /// Run the per-HTTP-request section.
    pub http: bool,
}

/// Per-call overhead of one contender in one variant, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overhead {
    /// On the calling thread.
    pub wall: f64,
    /// All threads of the process.
    pub cpu: f64,
}

/// Runs this executable as a child with `args`; returns the numbers it prints.
fn child(args: &[String]) -> Vec<f64> {
    let exe = std::env::current_exe().expect("path of the bench binary");
    let output = Command::new(exe)
        .arg("--child")
        .args(args)
        .output()
        .expect("spawn a child measurement");
    assert!(
        output.status.success(),
        "child {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(|n| n.parse().expect("a number"))
        .collect()
}

/// The median; the mean of the two middle values for an even count.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// Medians of per-round (wall, cpu) figures.
fn summarise(rounds: &[(f64, f64)]) -> Overhead {
    Overhead {
        wall: median(&mut rounds.iter().map(|r| r.0).collect::<Vec<_>>()),
        cpu: median(&mut rounds.iter().map(|r| r.1).collect::<Vec<_>>()),
    }
}

/// `peers` rotated left by `round`.
fn rotated<P: Copy>(peers: &[P], round: usize) -> Vec<P> {
    let mut order = peers.to_vec();
    order.rotate_left(round % peers.len());
    order
}

#[allow(clippy::cast_precision_loss)]
fn per_call(peer_ns: f64, baseline_ns: f64) -> f64 {
    (peer_ns - baseline_ns) / CALLS_PER_REQUEST as f64
}

/// The overhead measurements.
#[derive(Clone, Debug)]
pub struct Overheads {
    /// Per-call overhead of every contender, sync and async.
    pub peers: Vec<(Peer, [Overhead; 2])>,
    /// Median time per request of the uninstrumented baseline (ns).
    pub baseline: [Overhead; 2],
}

/// Per-call overhead of every contender, sync and async: in each round,
/// (time per request - uninstrumented time per request in that round) / 111,
/// then the median over rounds.
pub fn overheads(settings: &Settings) -> Overheads {
    let variants = [Variant::Sync, Variant::Async];
    // samples[peer][variant] = per-round (wall, cpu) overheads
    let mut samples = vec![[Vec::new(), Vec::new()]; Peer::ALL.len()];
    let mut baselines = [Vec::new(), Vec::new()];
    for round in 0..settings.rounds {
        for (v, variant) in variants.into_iter().enumerate() {
            eprintln!(
                "overhead: round {}/{} {}",
                round + 1,
                settings.rounds,
                variant.key()
            );
            let mut raw = vec![[0.0; 2]; Peer::ALL.len()];
            for peer in rotated(&Peer::ALL, round) {
                let args = [
                    "measure".to_owned(),
                    peer.key().to_owned(),
                    variant.key().to_owned(),
                    settings.window_ms.to_string(),
                ];
                let numbers = child(&args);
                assert_eq!(
                    numbers[2] > 0.0,
                    peer.emits_metrics(),
                    "{} filled {} function_calls_total series",
                    peer.key(),
                    numbers[2]
                );
                let index = Peer::ALL.iter().position(|p| *p == peer).unwrap_or(0);
                raw[index] = [numbers[0], numbers[1]];
            }
            let baseline = raw[0];
            baselines[v].push(baseline);
            for (index, figures) in raw.iter().enumerate() {
                samples[index][v].push((
                    per_call(figures[0], baseline[0]),
                    per_call(figures[1], baseline[1]),
                ));
            }
        }
    }
    let pairs = |rounds: &[[f64; 2]]| rounds.iter().map(|r| (r[0], r[1])).collect::<Vec<_>>();
    Overheads {
        peers: Peer::ALL
            .iter()
            .zip(samples)
            .map(|(peer, per_variant)| {
                (
                    *peer,
                    [summarise(&per_variant[0]), summarise(&per_variant[1])],
                )
            })
            .collect(),
        baseline: [
            summarise(&pairs(&baselines[0])),
            summarise(&pairs(&baselines[1])),
        ],
    }
}

/// Resident-set growth and peak growth, in MiB, over ten million calls.
pub fn memory() -> Vec<(Peer, [f64; 2])> {
    // Everyone but the uninstrumented baseline, which comes first.
    Peer::ALL[1..]
        .iter()
        .map(|peer| {
            eprintln!("memory: {}", peer.key());
            let numbers = child(&["memory".to_owned(), peer.key().to_owned()]);
            let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
            (*peer, [mib(numbers[0]), mib(numbers[1])])
        })
        .collect()
}

/// Contenders of the contention test; the baseline comes first.
pub const CONTENTION_PEERS: [Peer; 4] = [
    Peer::None,
    Peer::OursFull,
    Peer::OursMetrics,
    Peer::HandWritten,
];

/// The contention figures of one contender.
#[derive(Clone, Copy, Debug)]
pub struct Contention {
    /// Per-call overhead with one thread, then with two.
    pub overhead: [Overhead; 2],
    /// Parallelism the two-thread runs achieved (2.0 at best).
    pub parallelism: f64,
}

/// Per-call overhead with one thread and with two threads calling the same
/// functions at once, medians over rounds.
pub fn contention(settings: &Settings) -> Vec<(Peer, Contention)> {
    let mut samples = vec![[Vec::new(), Vec::new()]; CONTENTION_PEERS.len()];
    let mut parallelism = vec![Vec::new(); CONTENTION_PEERS.len()];
    for round in 0..settings.rounds {
        eprintln!("contention: round {}/{}", round + 1, settings.rounds);
        for (t, threads) in [1usize, 2].into_iter().enumerate() {
            let mut raw = [[0.0; 2]; CONTENTION_PEERS.len()];
            for peer in rotated(&CONTENTION_PEERS, round) {
                let args = [
                    "contention".to_owned(),
                    peer.key().to_owned(),
                    threads.to_string(),
                    settings.window_ms.to_string(),
                ];
                let index = CONTENTION_PEERS
                    .iter()
                    .position(|p| *p == peer)
                    .unwrap_or(0);
                let numbers = child(&args);
                raw[index] = [numbers[0], numbers[1]];
                if threads == 2 {
                    parallelism[index].push(numbers[2]);
                }
            }
            for (index, figures) in raw.iter().enumerate() {
                samples[index][t].push((
                    per_call(figures[0], raw[0][0]),
                    per_call(figures[1], raw[0][1]),
                ));
            }
        }
    }
    CONTENTION_PEERS
        .iter()
        .zip(samples)
        .zip(parallelism)
        .map(|((peer, [one, two]), mut parallel)| {
            let figures = Contention {
                overhead: [summarise(&one), summarise(&two)],
                parallelism: median(&mut parallel),
            };
            (*peer, figures)
        })
        .collect()
}

/// The HTTP section's measurements.
#[derive(Clone, Debug)]
pub struct HttpOverheads {
    /// Overhead per request above the bare Router, every contender but the
    /// baseline, in table order.
    pub peers: Vec<(HttpPeer, Overhead)>,
    /// Median time per request of the bare Router (ns).
    pub baseline: Overhead,
}

/// Overhead per HTTP request of every layer: in each round, time per
/// request minus the bare Router's in that round, then the median over
/// rounds.
pub fn http_overheads(settings: &Settings) -> HttpOverheads {
    let mut samples = vec![Vec::new(); HttpPeer::ALL.len()];
    let mut baselines = Vec::new();
    for round in 0..settings.rounds {
        eprintln!("http: round {}/{}", round + 1, settings.rounds);
        let mut raw = [(0.0, 0.0); HttpPeer::ALL.len()];
        for peer in rotated(&HttpPeer::ALL, round) {
            let numbers = child(&[
                "http".to_owned(),
                peer.key().to_owned(),
                settings.window_ms.to_string(),
            ]);
            let index = HttpPeer::ALL.iter().position(|p| *p == peer).unwrap_or(0);
            raw[index] = (numbers[0], numbers[1]);
        }
        let baseline = raw[0];
        baselines.push(baseline);
        for (index, (wall, cpu)) in raw.iter().enumerate() {
            samples[index].push((wall - baseline.0, cpu - baseline.1));
        }
    }
    HttpOverheads {
        peers: HttpPeer::ALL
            .iter()
            .zip(&samples)
            .skip(1)
            .map(|(peer, rounds)| (*peer, summarise(rounds)))
            .collect(),
        baseline: summarise(&baselines),
    }
}
