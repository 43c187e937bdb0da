//! Async traced calls in one request: `join!`, a spawned task that joins the
//! tree, and the tree logged as a `tracing` event.
//!
//! `cargo run -p trace-runtime --example async_request`

use std::time::Duration;

use trace_runtime::{trace, TraceFutureExt as _};

#[trace]
async fn load_profile(user: u32) -> String {
    tokio::time::sleep(Duration::from_millis(2)).await;
    format!("user {user}")
}

#[trace]
async fn load_rooms(user: u32) -> Vec<u32> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    vec![user, user + 1]
}

#[trace]
async fn audit(what: String) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    drop(what);
}

#[trace]
async fn handle(user: u32) -> usize {
    let (profile, rooms) = tokio::join!(load_profile(user), load_rooms(user));
    // Runs on another worker thread, in this request's tree.
    trace_runtime::context::spawn(audit(profile))
        .await
        .unwrap_or_default();
    rooms.len()
}

#[tokio::main]
async fn main() {
    // Trees arrive as `tracing` events with target `trace_runtime::tree`.
    // Colours only on a terminal: piped to a file or `grep`, plain text.
    tracing_subscriber::fmt()
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let rooms = handle(7).in_request("GET /users/7/rooms").await;
    println!("{rooms} rooms");
}
