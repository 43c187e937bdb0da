//! A small game-rooms service, fully traced: an axum HTTP API over traced
//! services, Prometheus metrics on `/metrics`, one call tree per request
//! logged through `tracing-subscriber`, and a built-in load generator that
//! drives it.
//!
//! ```text
//! cargo run -p trace-demo                      # until Ctrl-C
//! cargo run -p trace-demo -- --duration 10     # or DEMO_DURATION_SECS=10
//! curl -s http://127.0.0.1:9000/metrics | grep function_calls_total
//! # and in a browser: http://127.0.0.1:9000/traces (or :8080/traces)
//! curl -s -H 'content-type: application/json' -d '{"name": "lobby"}' http://127.0.0.1:8080/rooms
//! ```
//!
//! Options: `--listen <ip:port>` (the service, default `127.0.0.1:8080`),
//! `--metrics-addr <ip:port>` (default `127.0.0.1:9000`), `--duration <secs>`,
//! `--rate <requests per second>` (the load generator, default 4; 0 turns it
//! off). Ctrl-C, like the end of `--duration`, stops the load generator,
//! lets the requests in flight finish, and prints a summary.
#![warn(clippy::pedantic)]

mod dice;
mod game;
mod listener;
mod load;
mod options;
mod routes;

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use trace_runtime::pages::Retention;
use trace_runtime::ExporterBuilder;

use crate::game::{AuditLog, GameService};
use crate::listener::TimeoutListener;
use crate::load::LoadGenerator;
use crate::routes::App;

/// A connection whose reads wait longer than this is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long requests in flight get to finish once the service stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

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
    let options = options::parse()?;
    // Call trees arrive as `tracing` events with target `trace_runtime::tree`.
    // Colours only on a terminal: piped to a file or `grep`, plain text.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    // Each tree ends with the request's summary: where its time went.
    trace_runtime::TreeConfig::current().summary(true).apply();

    let exporter = ExporterBuilder::new()
        .service_name("game-rooms")
        .version(env!("CARGO_PKG_VERSION"))
        .listen(&options.metrics_addr)
        .process_metrics()
        .runtime_metrics(tokio::runtime::Handle::current())
        .stats(std::time::Duration::from_secs(60))
        .trace_pages(Retention::default())
        .serve()?;
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", options.listen))?;
    let service_addr = listener.local_addr()?;
    if let Some(metrics_addr) = exporter.local_addr() {
        println!("metrics on http://{metrics_addr}/metrics");
        println!("traces on http://{metrics_addr}/traces");
    }
    println!("game rooms on http://{service_addr}/rooms");

    let app = Arc::new(App {
        game: GameService::new(),
        audit: AuditLog::new(),
    });
    let router = routes::router(app, exporter.clone());
    let (stop_serving, serving_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(TimeoutListener::new(listener, READ_TIMEOUT), router)
            .with_graceful_shutdown(async {
                let _ = serving_stopped.await;
            })
            .await
    });
    let load = (options.rate > 0.0).then(|| LoadGenerator::start(service_addr, options.rate));

    let stopped_by = tokio::select! {
        () = sleep_or_forever(options.duration) => "--duration ended",
        signal = tokio::signal::ctrl_c() => {
            signal.map_err(|err| format!("cannot wait for Ctrl-C: {err}"))?;
            "Ctrl-C"
        }
    };
    println!("stopping ({stopped_by}); Ctrl-C again to stop at once");
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });

    // Stop sending and let the generator's requests finish, then stop
    // serving: open connections finish the request they are on and close.
    let tally = match load {
        Some(load) => Some(load.stop().await),
        None => None,
    };
    let _ = stop_serving.send(());
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(result)) => result?,
        Ok(Err(panicked)) => return Err(panicked.into()),
        Err(_) => println!("requests still open after {SHUTDOWN_GRACE:?}: not waiting for them"),
    }

    if let Some(tally) = tally {
        println!("load generator: {}", tally.summary());
    }
    let metrics = exporter.render();
    for (title, family) in [
        ("requests by route and status:", "http_requests_total{"),
        ("calls by function and result:", "function_calls_total{"),
    ] {
        println!("{title}");
        for line in metrics.lines() {
            if line.starts_with(family) && !line.ends_with(" 0") {
                println!("  {line}");
            }
        }
    }
    Ok(())
}

async fn sleep_or_forever(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}
