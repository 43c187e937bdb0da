//! When the process runs out of file descriptors, `/metrics`'s accept loop
//! backs off instead of spinning (every `accept` fails at once with
//! `EMFILE` while connections wait in the backlog), and serves again once
//! descriptors are free. Its own test binary: it lowers the process's
//! descriptor limit.
#![warn(clippy::pedantic)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use trace_runtime::ExporterBuilder;

/// User plus system CPU time of the whole process, all threads.
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` writes a `rusage` into the zeroed value it is
    // given and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &raw mut usage), 0);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.unsigned_abs())
            + Duration::from_micros(t.tv_usec.unsigned_abs())
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn set_open_files_limit(soft: u64) -> u64 {
    // SAFETY: `getrlimit`/`setrlimit` read and write one `rlimit` value.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit), 0);
        let previous = limit.rlim_cur;
        limit.rlim_cur = soft.min(limit.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit), 0);
        previous
    }
}

fn is_out_of_descriptors(err: &std::io::Error) -> bool {
    err.raw_os_error() == Some(libc::EMFILE)
}

fn scrape_status(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn out_of_file_descriptors_the_accept_loop_backs_off_then_serves_again() {
    let exporter = ExporterBuilder::new()
        .listen("127.0.0.1:0")
        .serve()
        .expect("the only recorder of this test binary");
    let addr = exporter.local_addr().unwrap();
    assert!(scrape_status(addr).ends_with("200 OK"));

    // Few enough descriptors that the server accepts far fewer than its 64
    // connections before running out (then it would wait for a permit, not
    // call accept).
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    let previous = set_open_files_limit(open + 30);
    let mut clients = Vec::new();
    // Fill every descriptor, then make sure the last connection is one the
    // server could not accept: no descriptor is left for it.
    loop {
        match TcpStream::connect(addr) {
            Ok(client) => clients.push(client),
            Err(err) if is_out_of_descriptors(&err) => {
                clients.pop();
                match TcpStream::connect(addr) {
                    Ok(client) => clients.push(client),
                    Err(err) if is_out_of_descriptors(&err) => continue,
                    Err(err) => panic!("connect: {err}"),
                }
                let probe = TcpStream::connect(addr);
                if probe.as_ref().is_err_and(is_out_of_descriptors) {
                    break;
                }
                clients.extend(probe.ok());
            }
            Err(err) => panic!("connect: {err}"),
        }
        assert!(clients.len() < 1000, "the descriptor limit did not hold");
    }

    // The server now fails every accept; over a second and a half, a spinning
    // loop burns about that much CPU, a backing-off one almost none.
    std::thread::sleep(Duration::from_millis(300));
    let before = process_cpu();
    std::thread::sleep(Duration::from_millis(1500));
    let burnt = process_cpu().saturating_sub(before);
    assert!(
        burnt < Duration::from_millis(150),
        "{burnt:?} of CPU in 1.5 s while out of descriptors"
    );

    drop(clients);
    set_open_files_limit(previous);
    // Within the longest back-off (1 s), a scrape is answered again.
    assert!(scrape_status(addr).ends_with("200 OK"));
}
