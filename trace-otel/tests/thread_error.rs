//! When the exporter thread cannot start its runtime, `install` returns
//! [`ConfigError::Thread`] with a message that says what to fix, and
//! installs nothing. The runtime is made to fail the way it fails in
//! production: the process is out of file descriptors, so its I/O driver
//! cannot open its poller. A test binary of its own, as it lowers the whole
//! process's descriptor limit for a moment.
#![warn(clippy::pedantic)]

use std::fs::File;

use trace_otel::{ConfigError, OtlpBuilder};

/// The soft limit on open file descriptors.
fn descriptor_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    let done = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) };
    assert_eq!(done, 0, "getrlimit: {}", std::io::Error::last_os_error());
    limit
}

fn set_descriptor_limit(limit: libc::rlimit) {
    // SAFETY: `limit` is a valid `rlimit`, only read.
    let done = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) };
    assert_eq!(done, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

/// Runs `f` with every file descriptor the process may open in use.
fn without_free_descriptors<T>(f: impl FnOnce() -> T) -> T {
    let saved = descriptor_limit();
    let highest = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists the open descriptors")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .expect("stdin at least is open");
    set_descriptor_limit(libc::rlimit {
        rlim_cur: highest + 1,
        ..saved
    });
    // Fill the free numbers below the limit.
    let mut held = Vec::new();
    let exhausted = loop {
        match File::open("/dev/null") {
            Ok(file) => held.push(file),
            Err(why) => break why,
        }
    };
    assert_eq!(exhausted.raw_os_error(), Some(libc::EMFILE), "{exhausted}");
    let out = f();
    drop(held);
    set_descriptor_limit(saved);
    out
}

#[test]
fn an_exporter_thread_that_cannot_start_is_a_typed_error_that_says_what_to_fix() {
    let result = without_free_descriptors(|| {
        OtlpBuilder::new()
            .endpoint("http://127.0.0.1:9")
            .service_name("thread-error")
            .install()
    });
    let Err(err) = result else {
        panic!("the exporter started with no file descriptor to spare");
    };
    let ConfigError::Thread(why) = &err else {
        panic!("expected a thread error, got {err:?}");
    };
    assert_eq!(why.raw_os_error(), Some(libc::EMFILE), "{why}");
    let text = err.to_string();
    assert!(
        text.starts_with("the exporter thread could not be started: ")
            && text.contains("ulimit -n"),
        "{text}"
    );
    assert!(std::error::Error::source(&err).is_some());

    // With descriptors back, the same settings install.
    let otlp = OtlpBuilder::new()
        .endpoint("http://127.0.0.1:9")
        .service_name("thread-error")
        .install()
        .expect("installs once descriptors are free");
    otlp.shutdown();
}
