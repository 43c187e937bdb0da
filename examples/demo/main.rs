//! A small game-rooms service, fully traced: it serves HTTP on tokio, exports
//! Prometheus metrics on `/metrics`, logs one call tree per request through
//! `tracing-subscriber`, and drives itself with a built-in load generator.
//!
//! ```text
//! cargo run --example demo                      # until Ctrl-C
//! cargo run --example demo -- --duration 10     # or DEMO_DURATION_SECS=10
//! curl -s http://127.0.0.1:9000/metrics | grep function_calls_total
//! curl -s -d lobby http://127.0.0.1:8080/rooms  # create a room yourself
//! ```
//!
//! Options: `--listen <ip:port>` (the service, default `127.0.0.1:8080`),
//! `--metrics-addr <ip:port>` (default `127.0.0.1:9000`), `--duration <secs>`,
//! `--rate <requests per second>` (the load generator, default 4; 0 turns it
//! off).
#![warn(clippy::pedantic)]

mod dice;
mod game;
mod http;
mod load;

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use trace_runtime::ExporterBuilder;

use crate::game::{AuditLog, GameService};
use crate::http::App;

const USAGE: &str =
    "usage: demo [--listen IP:PORT] [--metrics-addr IP:PORT] [--duration SECS] [--rate PER_SEC]";

struct Options {
    listen: String,
    metrics_addr: String,
    duration: Option<Duration>,
    rate: f64,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        listen: "127.0.0.1:8080".to_owned(),
        metrics_addr: trace_runtime::exporter::DEFAULT_LISTEN.to_owned(),
        duration: None,
        rate: 4.0,
    };
    if let Ok(secs) = std::env::var("DEMO_DURATION_SECS") {
        options.duration = Some(seconds(&secs)?);
    }
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--listen" => options.listen = value,
            "--metrics-addr" => options.metrics_addr = value,
            "--duration" => options.duration = Some(seconds(&value)?),
            "--rate" => {
                options.rate = value
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                    .ok_or_else(|| format!("--rate {value:?}: give requests per second"))?;
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("duration {value:?}: give a number of seconds"))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("demo: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let options = options()?;
    // Call trees arrive as `tracing` events with target `trace_runtime::tree`.
    // Colours only on a terminal: piped to a file or `grep`, plain text.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();

    let exporter = ExporterBuilder::new()
        .service_name("game-rooms")
        .version(env!("CARGO_PKG_VERSION"))
        .listen(&options.metrics_addr)
        .serve()?;
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", options.listen))?;
    let service_addr = listener.local_addr()?;
    if let Some(metrics_addr) = exporter.local_addr() {
        println!("metrics on http://{metrics_addr}/metrics");
    }
    println!("game rooms on http://{service_addr}/rooms");

    let app = Arc::new(App {
        game: GameService::new(),
        audit: AuditLog::new(),
    });
    tokio::spawn(http::serve(listener, app));
    let tally = Arc::new(load::Tally::default());
    let load = (options.rate > 0.0)
        .then(|| tokio::spawn(load::run(service_addr, options.rate, Arc::clone(&tally))));

    match options.duration {
        Some(duration) => tokio::time::sleep(duration).await,
        // Ctrl-C ends the process.
        None => std::future::pending().await,
    }
    // Stop sending, and let the requests in flight finish.
    if let Some(load) = load {
        load.abort();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("load generator: {}", tally.summary());
    println!("calls by function and result:");
    for line in exporter.render().lines() {
        if line.starts_with("function_calls_total{") && !line.ends_with(" 0") {
            println!("  {line}");
        }
    }
    Ok(())
}
