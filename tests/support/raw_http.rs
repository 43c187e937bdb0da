//! One HTTP/1.1 exchange over a fresh TCP connection, written by hand so
//! that a test can send any request line, well-formed or not.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends `head` (a request line, then any header lines, without the final
/// blank line) to `addr` with `Host` and `Connection: close` added, and
/// returns the status code, the header lines (lower-cased) and the body.
///
/// # Panics
/// If the connection fails, no whole answer arrives within 10 seconds, or
/// the answer is not UTF-8.
#[must_use]
pub fn exchange(addr: SocketAddr, head: &str) -> (u16, Vec<String>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{head}\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).expect("a UTF-8 answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().expect("a status code");
    let headers = lines.map(str::to_ascii_lowercase).collect();
    (status, headers, body.to_owned())
}
