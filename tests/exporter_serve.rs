//! `ExporterBuilder::serve()` on a free port: `/metrics` fetched over a TCP
//! connection carries the traced calls in the Prometheus text format; other
//! paths get 404, other methods 405 with `Allow`.
#![warn(clippy::pedantic)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use trace_runtime::{trace, ExporterBuilder};

const MODULE: &str = module_path!();

fn metrics_addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let exporter = ExporterBuilder::new()
            .listen("127.0.0.1:0")
            .service_name("serve-test")
            .version("9.9.9")
            .serve()
            .expect("serve on a free port");
        let addr = exporter.local_addr().expect("serve() reports its address");
        assert!(addr.ip().is_loopback());
        assert_ne!(addr.port(), 0, "port 0 is replaced by the bound port");
        addr
    })
}

/// Sends `request` (a request line and headers, ending in the blank line)
/// with `Connection: close`, and returns the status line, the headers
/// (names lower-cased) and the body.
fn exchange(request: &str) -> (String, Vec<String>, String) {
    let mut stream = TcpStream::connect(metrics_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (line, rest) = request.split_once("\r\n").expect("a request line");
    write!(stream, "{line}\r\nConnection: close\r\n{rest}").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete head");
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let headers: Vec<String> = lines
        .map(|h| match h.split_once(": ") {
            Some((name, value)) => format!("{}: {value}", name.to_ascii_lowercase()),
            None => h.to_owned(),
        })
        .collect();
    let length: usize = headers
        .iter()
        .find_map(|h| h.strip_prefix("content-length: "))
        .expect("Content-Length header")
        .parse()
        .unwrap();
    assert_eq!(length, body.len(), "Content-Length matches the body");
    (status, headers, body.to_owned())
}

#[trace]
fn served_call(fail: bool) -> Result<(), &'static str> {
    if fail {
        Err("asked to")
    } else {
        Ok(())
    }
}

#[test]
fn get_metrics_serves_the_calls_made_so_far() {
    metrics_addr();
    for fail in [false, false, true] {
        let _ = served_call(fail);
    }
    let (status, headers, body) =
        exchange("GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains(&"content-type: text/plain; version=0.0.4; charset=utf-8".to_owned()),
        "{headers:?}"
    );
    let labels =
        format!("service_name=\"serve-test\",function=\"served_call\",module=\"{MODULE}\"");
    for line in [
        format!(
            "function_calls_total{{{labels},result=\"ok\",caller_function=\"\",caller_module=\"\"}} 2"
        ),
        format!(
            "function_calls_total{{{labels},result=\"error\",caller_function=\"\",caller_module=\"\"}} 1"
        ),
        format!("function_calls_duration_seconds_count{{{labels}}} 3"),
        format!("function_calls_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 3"),
        format!("function_calls_concurrent{{{labels}}} 0"),
        format!(
            "build_info{{service_name=\"serve-test\",version=\"9.9.9\",commit=\"\",branch=\"\",trace_runtime_version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line}\n{body}");
    }
}

#[test]
fn a_query_string_is_ignored() {
    let (status, _, body) = exchange("GET /metrics?x=1 HTTP/1.1\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("# TYPE build_info gauge\n"), "{body}");
}

#[test]
fn other_paths_are_not_found() {
    let (status, _, body) = exchange("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    assert_eq!(body, "try /metrics\n");
}

#[test]
fn other_methods_are_not_allowed() {
    let (status, headers, body) = exchange("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert!(
        headers.contains(&"allow: GET, HEAD".to_owned()),
        "{headers:?}"
    );
    assert_eq!(body, "GET or HEAD only\n");
}

#[test]
fn a_second_exporter_cannot_replace_the_first() {
    metrics_addr();
    let err = ExporterBuilder::new()
        .listen("127.0.0.1:0")
        .serve()
        .unwrap_err();
    assert!(
        matches!(
            err,
            trace_runtime::exporter::ExportError::RecorderAlreadyInstalled
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("already installed"), "{err}");
}
