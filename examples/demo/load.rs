//! The demo's built-in load generator: real HTTP requests to the demo's own
//! listener at a steady rate, a mix of listings, creations (some invalid or
//! duplicate), lookups and joins, with the response statuses tallied.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::dice::Dice;

const NAMES: &[&str] = &["lobby", "arena", "dungeon", "castle", "tavern", "harbour"];

/// Responses received, by status (0: the request itself failed).
#[derive(Default)]
pub struct Tally(Mutex<BTreeMap<u16, u64>>);

impl Tally {
    fn add(&self, status: u16) {
        *self.0.lock().unwrap().entry(status).or_default() += 1;
    }

    /// `142 requests: 200 ×80, 201 ×30, 409 ×12, …`.
    pub fn summary(&self) -> String {
        let counts = self.0.lock().unwrap();
        let total: u64 = counts.values().sum();
        let mut out = format!("{total} requests:");
        for (i, (status, n)) in counts.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            let status = if *status == 0 {
                "failed".to_owned()
            } else {
                status.to_string()
            };
            let _ = write!(out, "{sep}{status} ×{n}");
        }
        out
    }
}

/// Sends `rate` requests per second to `addr`, forever.
pub async fn run(addr: SocketAddr, rate: f64, tally: Arc<Tally>) {
    let dice = Dice::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    loop {
        tick.tick().await;
        let request = pick(&dice);
        let tally = Arc::clone(&tally);
        tokio::spawn(async move {
            let status = send(addr, &request).await.unwrap_or(0);
            tally.add(status);
        });
    }
}

/// One request of the mix, as raw HTTP.
fn pick(dice: &Dice) -> String {
    let (method, path, body) = match dice.below(10) {
        0..=3 => ("GET", "/rooms".to_owned(), String::new()),
        4..=6 => {
            let name = match dice.below(10) {
                0 => String::new(),
                1 => "no spaces allowed".to_owned(),
                _ => {
                    let base = NAMES[usize::try_from(dice.below(NAMES.len() as u64)).unwrap_or(0)];
                    format!("{base}-{}", dice.below(40))
                }
            };
            ("POST", "/rooms".to_owned(), name)
        }
        7 => (
            "GET",
            format!("/rooms/{}", dice.below(10) + 1),
            String::new(),
        ),
        _ => (
            "POST",
            format!("/rooms/{}/join", dice.below(10) + 1),
            String::new(),
        ),
    };
    format!(
        "{method} {path} HTTP/1.1\r\nHost: demo\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends one request and returns the response status.
async fn send(addr: SocketAddr, request: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let status = String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(status)
}
