//! `/metrics` under hostile and heavy clients, on a real server over
//! 127.0.0.1: idle and dripping connections do not hold a scrape back, an
//! endless header is cut off without growing the process, 200 concurrent
//! scrapes all answer, and `HEAD` answers without a body.
//!
//! Its own binary: it installs the exporter (a global recorder).
#![warn(clippy::pedantic)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use trace_runtime::ExporterBuilder;

fn metrics_addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        ExporterBuilder::new()
            .listen("127.0.0.1:0")
            .service_name("limits-test")
            .serve()
            .expect("serve on a free port")
            .local_addr()
            .expect("serve() reports its address")
    })
}

/// One `GET` (or `HEAD`) of `/metrics` on a fresh connection: the status
/// line, the lower-cased headers, and the body.
fn scrape(method: &str) -> (String, Vec<String>, Vec<u8>) {
    let mut stream = TcpStream::connect(metrics_addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "{method} /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let body = response[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let headers = lines.map(str::to_ascii_lowercase).collect();
    (status, headers, body)
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[test]
fn idle_and_dripping_clients_do_not_delay_a_scrape() {
    scrape("GET");
    let idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(metrics_addr()).unwrap())
        .collect();
    let dripping = std::thread::spawn(|| {
        let mut stream = TcpStream::connect(metrics_addr()).unwrap();
        for byte in b"GET /metrics HTTP/1.1\r\n" {
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (status, _, body) = scrape("GET");
    let took = started.elapsed();
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(!body.is_empty());
    assert!(
        took < Duration::from_millis(100),
        "the scrape took {took:?}"
    );
    drop(idle);
    dripping.join().unwrap();
}

#[test]
fn an_endless_header_is_cut_off_without_growing_the_process() {
    scrape("GET");
    let before = resident_kib();
    let mut stream = TcpStream::connect(metrics_addr()).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nX-Endless: ")
        .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0_usize;
    // 100 MiB without a newline, or until the server hangs up.
    while sent < 100 * 1024 * 1024 {
        if stream.write_all(&chunk).is_err() {
            break;
        }
        sent += chunk.len();
    }
    let grown = resident_kib().saturating_sub(before);
    assert!(
        sent < 100 * 1024 * 1024,
        "the server read all 100 MiB of one header line"
    );
    assert!(grown < 10 * 1024, "resident set grew by {grown} KiB");
    // And it still serves.
    assert_eq!(scrape("GET").0, "HTTP/1.1 200 OK");
}

#[test]
fn two_hundred_concurrent_scrapes_all_answer() {
    scrape("GET");
    let scrapers: Vec<_> = (0..200)
        .map(|_| std::thread::spawn(|| scrape("GET").0))
        .collect();
    for scraper in scrapers {
        assert_eq!(scraper.join().unwrap(), "HTTP/1.1 200 OK");
    }
}

#[test]
fn head_answers_200_without_a_body() {
    let (status, headers, body) = scrape("HEAD");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains(&"content-type: text/plain; version=0.0.4; charset=utf-8".to_owned()),
        "{headers:?}"
    );
    assert!(body.is_empty(), "{} body bytes", body.len());
}
