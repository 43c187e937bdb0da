//! A real Prometheus Pushgateway (Debian package `prometheus-pushgateway`)
//! started on 127.0.0.1 for one test and killed when it is dropped, and
//! the few HTTP exchanges the tests have with it.
//!
//! Without the binary the tests that need it are skipped with a note,
//! unless `REQUIRE_PUSHGATEWAY=1` (set by CI) makes that a failure.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary the Debian package installs.
const BINARY: &str = "prometheus-pushgateway";

/// How long the gateway may take to say it is ready.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// A running Pushgateway; killed on drop.
pub struct Pushgateway {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Pushgateway {
    /// Starts a gateway on a free port of 127.0.0.1, without persistence,
    /// and waits until `/-/ready` answers 200. `None` (with a note) when
    /// the binary is missing and `REQUIRE_PUSHGATEWAY` is not `1`.
    ///
    /// # Panics
    /// If the binary is missing and required, or the gateway does not
    /// become ready.
    #[must_use]
    pub fn start() -> Option<Pushgateway> {
        let required = std::env::var("REQUIRE_PUSHGATEWAY").is_ok_and(|v| v == "1");
        // A port freed just before use may be taken in between: try again.
        for _ in 0..3 {
            let port = free_port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let spawned = Command::new(BINARY)
                .arg(format!("--web.listen-address={addr}"))
                .arg("--persistence.file=")
                .arg("--log.level=warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn();
            let child = match spawned {
                Ok(child) => child,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => {
                    eprintln!(
                        "{BINARY} not found: test skipped (install the Debian package `prometheus-pushgateway`, or set REQUIRE_PUSHGATEWAY=1 to make this a failure)"
                    );
                    return None;
                }
                Err(err) => panic!("cannot run {BINARY} (REQUIRE_PUSHGATEWAY={required}): {err}"),
            };
            let mut gateway = Pushgateway { child, addr };
            if gateway.wait_ready() {
                return Some(gateway);
            }
        }
        panic!("{BINARY} did not become ready on 127.0.0.1 within {READY_WITHIN:?}, three times");
    }

    /// Whether it answered `/-/ready` before exiting or the deadline.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_WITHIN;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if matches!(exchange(self.addr, "GET", "/-/ready", ""), Ok((200, _))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `http://127.0.0.1:<port>`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway's own `/metrics`: every group's pushed series.
    ///
    /// # Panics
    /// If it does not answer 200.
    #[must_use]
    pub fn metrics(&self) -> String {
        let (status, body) = exchange(self.addr, "GET", "/metrics", "").expect("GET /metrics");
        assert_eq!(status, 200, "GET /metrics: {body}");
        body
    }

    /// Pushes `text` to `path` (`/metrics/job/...`) with `method`, as
    /// another pusher would; returns the status.
    ///
    /// # Panics
    /// If the gateway cannot be reached.
    #[must_use]
    pub fn push_raw(&self, method: &str, path: &str, text: &str) -> u16 {
        exchange(self.addr, method, path, text).expect("a push").0
    }
}

/// A port of 127.0.0.1 that was free a moment ago.
///
/// # Panics
/// If no port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("its address").port()
}

/// One HTTP/1.0 exchange: status and body.
fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_owned()))
}

/// Every sample of `name` in the Prometheus text `text`: its labels and
/// value (label values unescaped).
///
/// # Panics
/// On a malformed sample line of `name`.
#[must_use]
pub fn samples(text: &str, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let prefix = format!("{name}{{");
    text.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|rest| {
            let (labels, value) = parse_labels(rest);
            let value = value.trim().parse().expect("a sample value");
            (labels, value)
        })
        .collect()
}

/// Parses `a="x",b="y\"z"} rest` into the labels and `rest`.
fn parse_labels(mut rest: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let (name, after) = rest.split_once("=\"").expect("name=\"value\"");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (i, '"') => break i,
                (_, '\\') => match chars.next().expect("an escape").1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(name.to_owned(), value);
        rest = &after[end + 1..];
    }
}
