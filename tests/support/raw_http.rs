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
    // A server may answer and close before reading a long request (a head
    // over its limit gets 431 at once): then the rest of the write fails
    // with a broken pipe or a reset, and the answer is still there to read.
    let request = format!("{head}\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if let Err(err) = stream.write_all(request.as_bytes()) {
        assert!(
            matches!(
                err.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "writing the request: {err}"
        );
    }
    let mut response = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
            // A reset after the answer (the server closed with our request
            // unread) ends it like a close.
            Err(err)
                if err.kind() == std::io::ErrorKind::ConnectionReset && !response.is_empty() =>
            {
                break
            }
            Err(err) => panic!("reading the answer: {err}"),
        }
    }
    let response = String::from_utf8(response).expect("a UTF-8 answer");
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().expect("a status code");
    let headers = lines.map(str::to_ascii_lowercase).collect();
    (status, headers, body.to_owned())
}
