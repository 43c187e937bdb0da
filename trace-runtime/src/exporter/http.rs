//! A minimal blocking HTTP/1.1 server for `GET /metrics`, on its own thread.
//!
//! Scrapes are rare and small, so one thread serving one connection at a time
//! (with short timeouts, so a stalled client cannot block it for long) is all
//! `/metrics` needs, and it keeps an HTTP stack out of the dependency tree.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `GET /metrics` on `listener`, with the text `metrics_text` returns,
/// until the process exits.
pub(crate) fn serve(listener: &TcpListener, metrics_text: &impl Fn() -> String) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        // A failed exchange concerns only that client.
        let _ = respond(stream, metrics_text);
    }
}

fn respond(stream: TcpStream, metrics_text: &impl Fn() -> String) -> std::io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers up to the blank line.
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics_text(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "try /metrics\n".to_owned()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_owned(),
        ),
    };
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
