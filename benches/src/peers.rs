//! `cargo bench -p trace-benches --bench peers`: this project against its
//! peers on the same workload in one run. Prints the per-call overhead table
//! (wall and all-in CPU, sync and async), distinct call sites, rendering
//! scaling, memory, contention, compile-time and per-HTTP-request figures,
//! and the goals they meet.
//!
//! Options (after `--`): `--rounds N` (default 5), `--window-ms N` (measured
//! window per child, default 300), `--quick` (2 rounds of 100 ms, no memory
//! or compile-time test), `--skip-memory`, `--skip-contention`,
//! `--skip-compile-time`, `--skip-http`, `--skip-sites`, `--skip-render`,
//! and `--only SECTIONS` to run only the comma-separated sections named
//! (`overhead`, `sites`, `render`, `memory`, `contention`, `compile-time`,
//! `http`), e.g. `--only http`.

mod check;
mod child;
mod compile_time;
mod counting;
mod exec;
mod http;
mod peer;
mod probe;
mod recorder;
mod render;
mod report;
mod runner;
mod workload;

use std::time::Duration;

use http::HttpPeer;
use peer::{Peer, Variant};
use runner::Settings;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        run_child(&args[1..]);
        return;
    }
    let settings = parse(&args);
    eprintln!("{settings:?}");
    let overheads = settings.overhead.then(|| runner::overheads(&settings));
    let memory = settings.memory.then(runner::memory);
    let contention = settings.contention.then(|| runner::contention(&settings));
    let sites = settings.sites.then(|| runner::sites(&settings));
    let render = settings.render.then(|| runner::render(&settings));
    let http = settings.http.then(|| runner::http_overheads(&settings));
    let compile = settings.compile_time.then(|| {
        eprintln!("compile time: dev, then release");
        [compile_time::measure(false), compile_time::measure(true)]
    });

    println!(
        "\n## trace-runtime vs peers: {} rounds of {} ms per contender, median; {}\n",
        settings.rounds,
        settings.window_ms,
        cpu_model()
    );
    if let Some(results) = &overheads {
        report::overheads(results);
    }
    if let Some(rows) = &sites {
        report::sites(rows);
    }
    if let Some(figures) = &render {
        report::render(figures);
    }
    if let Some(rows) = &memory {
        report::memory(rows);
    }
    if let Some(rows) = &contention {
        report::contention(rows);
    }
    if let Some(results) = &http {
        report::http(results);
    }
    if let Some(profiles) = &compile {
        report::compile_time(profiles);
    }
    report::goals(&report::Results {
        overheads: overheads.as_ref(),
        sites: sites.as_deref(),
        render: render.as_ref(),
        memory: memory.as_deref(),
        contention: contention.as_deref(),
        compile: compile.as_ref(),
        http: http.as_ref(),
    });
}

/// The sections `--only` can name.
const SECTIONS: [&str; 7] = [
    "overhead",
    "sites",
    "render",
    "memory",
    "contention",
    "compile-time",
    "http",
];

fn parse(args: &[String]) -> Settings {
    let mut settings = Settings {
        rounds: 5,
        window_ms: 300,
        memory: true,
        contention: true,
        compile_time: true,
        overhead: true,
        http: true,
        sites: true,
        render: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            args.next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--rounds" => settings.rounds = usize::try_from(number("--rounds")).unwrap_or(1).max(1),
            "--window-ms" => settings.window_ms = number("--window-ms").max(10),
            "--quick" => {
                settings.rounds = 2;
                settings.window_ms = 100;
                settings.memory = false;
                settings.compile_time = false;
            }
            "--skip-memory" => settings.memory = false,
            "--skip-contention" => settings.contention = false,
            "--skip-compile-time" => settings.compile_time = false,
            "--skip-http" => settings.http = false,
            "--skip-sites" => settings.sites = false,
            "--skip-render" => settings.render = false,
            "--only" => {
                let list = args.next().expect("--only needs a list of sections");
                let only: Vec<&str> = list.split(',').collect();
                for section in &only {
                    assert!(
                        SECTIONS.contains(section),
                        "unknown section {section}; sections: {}",
                        SECTIONS.join(", ")
                    );
                }
                let wanted = |name: &str| only.contains(&name);
                settings.overhead = wanted("overhead");
                settings.memory = wanted("memory");
                settings.contention = wanted("contention");
                settings.compile_time = wanted("compile-time");
                settings.http = wanted("http");
                settings.sites = wanted("sites");
                settings.render = wanted("render");
            }
            other => panic!("unknown option {other}; see the top of benches/src/peers.rs"),
        }
    }
    settings
}

/// Runs one measurement (see [`child`]) and prints its numbers.
fn run_child(args: &[String]) {
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    let millis = |i: usize| Duration::from_millis(arg(i).parse().expect("window in ms"));
    if arg(0) == "http" {
        let peer =
            HttpPeer::from_key(arg(1)).unwrap_or_else(|| panic!("unknown HTTP peer {}", arg(1)));
        print_numbers(&child::measure_http(peer, millis(2)));
        return;
    }
    if arg(0) == "http-count" {
        let peer =
            HttpPeer::from_key(arg(1)).unwrap_or_else(|| panic!("unknown HTTP peer {}", arg(1)));
        child::serve_http(peer, arg(2).parse().expect("a request count"));
        return;
    }
    if arg(0) == "render" {
        print_numbers(&render::measure(millis(1)));
        return;
    }
    let peer = Peer::from_key(arg(1)).unwrap_or_else(|| panic!("unknown peer {}", arg(1)));
    let numbers: Vec<f64> = match arg(0) {
        "measure" => {
            let variant = Variant::from_key(arg(2)).expect("sync or async");
            let sites = match arg(4) {
                "" => false,
                "sites" => true,
                other => panic!("unknown workload {other}"),
            };
            child::measure(peer, variant, millis(3), sites).to_vec()
        }
        "memory" => child::memory(peer).to_vec(),
        "contention" => {
            let threads = arg(2).parse().expect("thread count");
            child::contention(peer, threads, millis(3)).to_vec()
        }
        other => panic!("unknown child mode {other}"),
    };
    print_numbers(&numbers);
}

/// The child's answer: one line of numbers on stdout.
fn print_numbers(numbers: &[f64]) {
    let line: Vec<String> = numbers.iter().map(|n| format!("{n:.3}")).collect();
    println!("{}", line.join(" "));
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map_or("unknown CPU", |rest| {
            rest.trim_start_matches([' ', '\t', ':'])
        });
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cores} × {model}, load average at the end {}",
        load.join(" ")
    )
}
