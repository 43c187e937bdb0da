//! `ExporterBuilder::push_gateway`: batch jobs pushing to a real
//! Prometheus Pushgateway (started by each test on 127.0.0.1, see
//! `support/pushgateway.rs`), gateways that are down or hang, and the
//! request itself (method, grouping key, basic auth) seen by a stand-in
//! hyper server.
//!
//! Each batch job is a child process (this test binary, running the
//! ignored `batch_job` test), because a process installs one exporter and
//! the job's end is what is tested: it pushes, then exits. The job says
//! what happened on lines starting with `RESULT `.
#![warn(clippy::pedantic)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trace_runtime::exporter::{ExportError, PushGateway, PushMethod};
use trace_runtime::{trace, ExporterBuilder};
use trace_suite::pushgateway::{free_port, samples, Pushgateway};

/// The longest any batch job may run before the test calls it hung.
const JOB_DEADLINE: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------- the job

#[trace]
fn batch_step(fail: bool) -> Result<u32, String> {
    if fail {
        Err("bad record".to_owned())
    } else {
        Ok(1)
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_ms(name: &str, default: u64) -> Duration {
    Duration::from_millis(env(name).map_or(default, |v| v.parse().expect("milliseconds")))
}

fn env_count(name: &str) -> usize {
    env(name).map_or(0, |v| v.parse().expect("a count"))
}

/// The variant of an error, for the parent to match on.
fn variant(err: &ExportError) -> &'static str {
    match err {
        ExportError::PushRequest { .. } => "PushRequest",
        ExportError::PushTimeout { .. } => "PushTimeout",
        ExportError::PushRejected { .. } => "PushRejected",
        ExportError::PushStopped => "PushStopped",
        ExportError::PushNotConfigured => "PushNotConfigured",
        _ => "other",
    }
}

fn outcome(result: &Result<(), ExportError>) -> String {
    match result {
        Ok(()) => "ok".to_owned(),
        Err(err) => format!("{} {err}", variant(err)),
    }
}

/// A batch job configured by `PUSH_*` variables: makes `PUSH_OK` and
/// `PUSH_ERR` traced calls, optionally waits for a line on stdin and makes
/// `PUSH_MORE` more, then ends by `PUSH_END` (`shutdown` or `drop`).
#[test]
#[ignore = "a child process of the other tests of this file (PUSH_URL set)"]
fn batch_job() {
    let Some(url) = env("PUSH_URL") else {
        eprintln!("batch_job is run by the other tests of this file, with PUSH_URL set");
        return;
    };
    let mut gateway = PushGateway::new(url, env("PUSH_JOB").expect("PUSH_JOB"))
        .interval(env_ms("PUSH_INTERVAL_MS", 60_000))
        .timeout(env_ms("PUSH_TIMEOUT_MS", 5_000));
    for pair in env("PUSH_LABELS").unwrap_or_default().split(';') {
        if let Some((name, value)) = pair.split_once('=') {
            gateway = gateway.grouping_label(name, value);
        }
    }
    if env("PUSH_METHOD").as_deref() == Some("post") {
        gateway = gateway.method(PushMethod::Post);
    }
    if let (Some(user), Some(password)) = (env("PUSH_USER"), env("PUSH_PASSWORD")) {
        gateway = gateway.basic_auth(user, password);
    }
    let exporter = ExporterBuilder::new()
        .service_name("push-test")
        .push_gateway(gateway)
        .install()
        .expect("the only exporter of this process");
    for _ in 0..env_count("PUSH_OK") {
        let _ = batch_step(false);
    }
    for _ in 0..env_count("PUSH_ERR") {
        let _ = batch_step(true);
    }
    if env("PUSH_WAIT").is_some() {
        println!("RESULT waiting");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).expect("stdin");
        for _ in 0..env_count("PUSH_MORE") {
            let _ = batch_step(false);
        }
    }
    let start = Instant::now();
    if env("PUSH_END").as_deref() == Some("shutdown") {
        let result = exporter.shutdown();
        let took = start.elapsed().as_millis();
        println!("RESULT shutdown {took} {}", outcome(&result));
        println!("RESULT flush-after {}", outcome(&exporter.flush()));
        println!("RESULT shutdown-again {}", outcome(&exporter.shutdown()));
    } else {
        drop(exporter);
        println!("RESULT dropped {}", start.elapsed().as_millis());
    }
}

// ------------------------------------------------------------- the parent

/// A running batch job.
struct Job {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    started: Instant,
}

impl Job {
    /// Starts the job with `vars` (name, value).
    fn start(vars: &[(&str, &str)]) -> Job {
        let mut command = Command::new(std::env::current_exe().expect("this test binary"));
        command
            .args([
                "--exact",
                "batch_job",
                "--ignored",
                "--nocapture",
                "--quiet",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in vars {
            command.env(name, value);
        }
        let started = Instant::now();
        let mut child = command.spawn().expect("spawn the batch job");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(result) = line.strip_prefix("RESULT ") {
                    let _ = send.send(result.to_owned());
                }
            }
        });
        Job {
            stdin: child.stdin.take(),
            child,
            lines,
            started,
        }
    }

    /// The next `RESULT` line.
    fn next_line(&self) -> String {
        self.lines
            .recv_timeout(JOB_DEADLINE)
            .expect("the batch job printed a result in time")
    }

    /// Waits for the job to exit (killing it past [`JOB_DEADLINE`]) and
    /// returns its remaining `RESULT` lines and how long it ran.
    fn finish(mut self) -> (Vec<String>, Duration) {
        drop(self.stdin.take());
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the batch job") {
                assert!(status.success(), "the batch job failed: {status}");
                break;
            }
            if self.started.elapsed() > JOB_DEADLINE {
                let _ = self.child.kill();
                panic!("the batch job hung for {JOB_DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let ran = self.started.elapsed();
        (self.lines.try_iter().collect(), ran)
    }
}

/// Runs a job to its end.
fn run_job(vars: &[(&str, &str)]) -> (Vec<String>, Duration) {
    Job::start(vars).finish()
}

/// `function_calls_total` of `batch_step` in the group of `job`, per
/// `result`, with each series' grouping labels checked to be `grouping`.
fn pushed_calls(text: &str, job: &str, grouping: &[(&str, &str)]) -> BTreeMap<String, f64> {
    let mut calls = BTreeMap::new();
    for (labels, value) in samples(text, "function_calls_total") {
        if labels.get("job").map(String::as_str) != Some(job) || labels["function"] != "batch_step"
        {
            continue;
        }
        for (name, expected) in grouping {
            assert_eq!(
                labels.get(*name).map(String::as_str),
                Some(*expected),
                "{labels:?}"
            );
        }
        assert_eq!(labels["service_name"], "push-test", "{labels:?}");
        let previous = calls.insert(labels["result"].clone(), value);
        assert!(previous.is_none(), "two series for one result: {labels:?}");
    }
    calls
}

/// Calls per result: `ok` and `error` as given, and `cancelled`, which the
/// exporter renders at 0 for every traced function.
fn counts(ok: f64, error: f64) -> BTreeMap<String, f64> {
    [("cancelled", 0.0), ("error", error), ("ok", ok)]
        .into_iter()
        .map(|(r, n)| (r.to_owned(), n))
        .collect()
}

/// The group's `push_time_seconds` and `push_failure_time_seconds`.
fn push_times(text: &str, job: &str) -> (f64, f64) {
    let of = |name: &str| {
        let found: Vec<f64> = samples(text, name)
            .into_iter()
            .filter(|(labels, _)| labels["job"] == job)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(found.len(), 1, "one {name} for job {job}:\n{text}");
        found[0]
    };
    (of("push_time_seconds"), of("push_failure_time_seconds"))
}

#[test]
fn a_job_shorter_than_the_interval_leaves_its_exact_counts_when_dropped() {
    let Some(gateway) = Pushgateway::start() else {
        return;
    };
    let url = gateway.url();
    let (lines, ran) = run_job(&[
        ("PUSH_URL", &url),
        ("PUSH_JOB", "nightly_import"),
        (
            "PUSH_LABELS",
            "instance=worker 1 (é);shard=eu/west;note=a?b#c%d+e",
        ),
        ("PUSH_INTERVAL_MS", "60000"),
        ("PUSH_OK", "3"),
        ("PUSH_ERR", "2"),
        ("PUSH_END", "drop"),
    ]);
    assert!(
        ran < Duration::from_mins(1),
        "ran {ran:?}, longer than the interval"
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("dropped "), "{lines:?}");
    let text = gateway.metrics();
    for line in text
        .lines()
        .filter(|l| l.starts_with("function_calls_total{"))
    {
        eprintln!("in the gateway: {line}");
    }
    let grouping = [
        ("instance", "worker 1 (é)"),
        ("shard", "eu/west"),
        ("note", "a?b#c%d+e"),
    ];
    assert_eq!(
        pushed_calls(&text, "nightly_import", &grouping),
        counts(3.0, 2.0),
        "\n{text}"
    );
    let (pushed, failed) = push_times(&text, "nightly_import");
    assert!(pushed > 0.0 && failed == 0.0, "{pushed} {failed}");
}

#[test]
fn shutdown_pushes_once_more_and_then_flush_is_refused() {
    let Some(gateway) = Pushgateway::start() else {
        return;
    };
    let url = gateway.url();
    let (lines, _) = run_job(&[
        ("PUSH_URL", &url),
        ("PUSH_JOB", "backup"),
        ("PUSH_LABELS", "instance=db-2"),
        ("PUSH_OK", "4"),
        ("PUSH_END", "shutdown"),
    ]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("shutdown ") && lines[0].ends_with(" ok"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("flush-after PushStopped "),
        "{lines:?}"
    );
    assert_eq!(lines[2], "shutdown-again ok");
    let text = gateway.metrics();
    assert_eq!(
        pushed_calls(&text, "backup", &[("instance", "db-2")]),
        counts(4.0, 0.0),
        "\n{text}"
    );
}

#[test]
fn a_long_job_pushes_on_the_interval_and_at_its_end() {
    let Some(gateway) = Pushgateway::start() else {
        return;
    };
    let url = gateway.url();
    let mut job = Job::start(&[
        ("PUSH_URL", &url),
        ("PUSH_JOB", "long_job"),
        ("PUSH_INTERVAL_MS", "200"),
        ("PUSH_OK", "2"),
        ("PUSH_WAIT", "1"),
        ("PUSH_MORE", "1"),
        ("PUSH_END", "drop"),
    ]);
    assert_eq!(job.next_line(), "waiting");
    // The job is still running: only the interval can have pushed.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pushed = pushed_calls(&gateway.metrics(), "long_job", &[]);
        if pushed == counts(2.0, 0.0) {
            break;
        }
        assert!(Instant::now() < deadline, "no interval push: {pushed:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        job.child.try_wait().unwrap().is_none(),
        "the job ended early"
    );
    writeln!(job.stdin.as_mut().unwrap(), "go").unwrap();
    let (lines, _) = job.finish();
    assert!(lines[0].starts_with("dropped "), "{lines:?}");
    assert_eq!(
        pushed_calls(&gateway.metrics(), "long_job", &[]),
        counts(3.0, 0.0)
    );
}

#[test]
fn post_keeps_the_groups_other_families_and_put_replaces_them() {
    let Some(gateway) = Pushgateway::start() else {
        return;
    };
    let url = gateway.url();
    let group = "/metrics/job/report/instance/r1";
    let other = |text: &str| {
        samples(text, "other_pusher_total")
            .into_iter()
            .filter(|(labels, _)| labels["job"] == "report")
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        gateway.push_raw(
            "PUT",
            group,
            "# TYPE other_pusher_total counter\nother_pusher_total 7\n"
        ),
        200
    );
    let vars = |method, calls| {
        vec![
            ("PUSH_URL", url.clone()),
            ("PUSH_JOB", "report".to_owned()),
            ("PUSH_LABELS", "instance=r1".to_owned()),
            ("PUSH_METHOD", method),
            ("PUSH_OK", calls),
            ("PUSH_END", "shutdown".to_owned()),
        ]
    };
    let run = |vars: Vec<(&str, String)>| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (lines, _) = run_job(&vars);
        assert!(lines[0].ends_with(" ok"), "{lines:?}");
    };
    run(vars("post".to_owned(), "1".to_owned()));
    let text = gateway.metrics();
    assert_eq!(other(&text), [7.0], "POST keeps other families:\n{text}");
    assert_eq!(
        pushed_calls(&text, "report", &[("instance", "r1")]),
        counts(1.0, 0.0)
    );
    run(vars("put".to_owned(), "2".to_owned()));
    let text = gateway.metrics();
    assert_eq!(
        other(&text),
        Vec::<f64>::new(),
        "PUT replaces the group:\n{text}"
    );
    assert_eq!(
        pushed_calls(&text, "report", &[("instance", "r1")]),
        counts(2.0, 0.0)
    );
}

/// `(variant and message, milliseconds)` of a job's `shutdown` line.
fn shutdown_line(lines: &[String]) -> (String, u128) {
    let rest = lines[0].strip_prefix("shutdown ").expect("a shutdown line");
    let (ms, outcome) = rest.split_once(' ').expect("ms and outcome");
    (outcome.to_owned(), ms.parse().expect("ms"))
}

#[test]
fn a_gateway_nobody_listens_on_makes_shutdown_fail_at_once() {
    let port = free_port().to_string();
    let url = format!("http://127.0.0.1:{port}");
    let (lines, ran) = run_job(&[
        ("PUSH_URL", &url),
        ("PUSH_JOB", "down"),
        ("PUSH_OK", "1"),
        ("PUSH_END", "shutdown"),
    ]);
    let (outcome, ms) = shutdown_line(&lines);
    eprintln!("shutdown against a closed port: {ms} ms, {outcome}");
    assert!(outcome.starts_with("PushRequest "), "{outcome}");
    assert!(
        outcome.contains(&format!("cannot push to {url}/metrics/job/down: "))
            && outcome.contains("Connection refused")
            && outcome
                .ends_with("check that the push gateway runs there and that the URL is right"),
        "{outcome}"
    );
    assert!(ms < 2_000, "{ms} ms");
    assert!(ran < Duration::from_secs(10), "{ran:?}");
}

/// A listener that accepts connections and never answers; they stay open
/// until the test process ends.
struct Silent {
    addr: SocketAddr,
}

fn silent_gateway() -> Silent {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    Silent { addr }
}

#[test]
fn a_gateway_that_never_answers_makes_shutdown_and_drop_return_in_bounded_time() {
    let silent = silent_gateway();
    let url = format!("http://{}", silent.addr);
    let vars = |end| {
        [
            ("PUSH_URL", url.as_str()),
            ("PUSH_JOB", "hung"),
            ("PUSH_TIMEOUT_MS", "500"),
            ("PUSH_OK", "1"),
            ("PUSH_END", end),
        ]
    };
    let (lines, _) = run_job(&vars("shutdown"));
    let (outcome, ms) = shutdown_line(&lines);
    eprintln!("shutdown against a silent gateway: {ms} ms, {outcome}");
    assert_eq!(
        outcome,
        format!(
            "PushTimeout the push gateway at {url}/metrics/job/hung did not answer within 500ms: check that it is up and reachable, or allow longer with `PushGateway::timeout(...)`"
        )
    );
    assert!((500..2_500).contains(&ms), "{ms} ms");
    // Dropping the exporter instead: the job still ends, after the timeout.
    let (lines, ran) = run_job(&vars("drop"));
    let dropped: u128 = lines[0].strip_prefix("dropped ").unwrap().parse().unwrap();
    eprintln!("drop against a silent gateway: {dropped} ms, job ran {ran:?}");
    assert!((500..2_500).contains(&dropped), "{dropped} ms");
}

/// What the stand-in gateway saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: String,
}

/// A hyper server on 127.0.0.1 that records every request and answers 200
/// when it carries `Authorization: <expected>`, 401 otherwise.
fn recording_gateway(expected: &'static str) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    use http_body_util::{BodyExt as _, Full};
    use hyper::body::Bytes;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let record = Arc::clone(&record);
                            async move {
                                let header = |name| {
                                    request.headers().get(name).map(
                                        |v: &hyper::header::HeaderValue| {
                                            v.to_str().unwrap().to_owned()
                                        },
                                    )
                                };
                                let authorization = header(hyper::header::AUTHORIZATION);
                                let content_type = header(hyper::header::CONTENT_TYPE);
                                let method = request.method().to_string();
                                let path = request.uri().to_string();
                                let body = request.into_body().collect().await.unwrap().to_bytes();
                                let allowed = authorization.as_deref() == Some(expected);
                                record.lock().unwrap().push(Seen {
                                    method,
                                    path,
                                    authorization,
                                    content_type,
                                    body: String::from_utf8_lossy(&body).into_owned(),
                                });
                                let mut response = hyper::Response::new(Full::new(
                                    Bytes::from_static(b"bad credentials\n"),
                                ));
                                if allowed {
                                    *response.body_mut() = Full::new(Bytes::new());
                                } else {
                                    *response.status_mut() = hyper::StatusCode::UNAUTHORIZED;
                                }
                                Ok::<_, std::convert::Infallible>(response)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    (addr, seen)
}

#[test]
fn the_push_carries_basic_auth_the_grouping_key_and_the_metrics_text() {
    // base64 of "pusher:s3cret:x" (a password may contain ':').
    const EXPECTED: &str = "Basic cHVzaGVyOnMzY3JldDp4";
    let (addr, seen) = recording_gateway(EXPECTED);
    let url = format!("http://{addr}/gw/");
    let job = |password, method| {
        run_job(&[
            ("PUSH_URL", url.as_str()),
            ("PUSH_JOB", "audit"),
            ("PUSH_LABELS", "instance=a b;shard=eu/west"),
            ("PUSH_METHOD", method),
            ("PUSH_USER", "pusher"),
            ("PUSH_PASSWORD", password),
            ("PUSH_OK", "2"),
            ("PUSH_END", "shutdown"),
        ])
        .0
    };
    let lines = job("s3cret:x", "post");
    assert!(lines[0].ends_with(" ok"), "{lines:?}");
    let lines = job("wrong", "put");
    let (outcome, _) = shutdown_line(&lines);
    assert_eq!(
        outcome,
        format!(
            "PushRejected the push gateway at http://{addr}/gw/metrics/job/audit/instance/a%20b/shard@base64/ZXUvd2VzdA== refused the push with status 401 (bad credentials); check the user and password given to `PushGateway::basic_auth(...)`"
        )
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let path = "/gw/metrics/job/audit/instance/a%20b/shard@base64/ZXUvd2VzdA==";
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", path)
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("PUT", path)
    );
    assert_eq!(seen[0].authorization.as_deref(), Some(EXPECTED));
    assert_ne!(seen[1].authorization.as_deref(), Some(EXPECTED));
    assert_eq!(
        seen[0].content_type.as_deref(),
        Some(trace_runtime::exporter::CONTENT_TYPE)
    );
    let ok_line = seen[0]
        .body
        .lines()
        .find(|l| {
            l.starts_with("function_calls_total{")
                && l.contains("function=\"batch_step\"")
                && l.contains("result=\"ok\"")
        })
        .unwrap_or_else(|| panic!("no batch_step series in:\n{}", seen[0].body));
    assert!(ok_line.ends_with("} 2"), "{ok_line}");
}

#[test]
fn bad_push_configuration_is_a_typed_error_before_anything_is_installed() {
    let install = |gateway: PushGateway| {
        ExporterBuilder::new()
            .push_gateway(gateway)
            .install()
            .expect_err("a configuration error")
    };
    let err = install(PushGateway::new("https://gw.example:9091", "job"));
    assert!(matches!(err, ExportError::PushNeedsTls { .. }), "{err}");
    assert!(err.to_string().contains("push over http://"), "{err}");
    let err = install(PushGateway::new(
        "http://127.0.0.1:9091/metrics/job/x",
        "job",
    ));
    assert!(matches!(err, ExportError::InvalidPushUrl { .. }), "{err}");
    for (name, reason) in [
        ("job", "the job is given to `PushGateway::new`"),
        ("with-dash", "not a Prometheus label name"),
        ("instance", "given twice"),
    ] {
        let err = install(
            PushGateway::new("http://127.0.0.1:9091", "job")
                .instance("a")
                .grouping_label(name, "b"),
        );
        assert!(
            matches!(&err, ExportError::InvalidGroupingLabel { name: n, .. } if n == name),
            "{err}"
        );
        assert!(err.to_string().contains(reason), "{name}: {err}");
    }
    let err = install(PushGateway::new("http://127.0.0.1:9091", ""));
    assert!(err.to_string().contains("the job name is empty"), "{err}");
    let err = install(PushGateway::new("http://127.0.0.1:9091", "job").basic_auth("a:b", "c"));
    assert!(matches!(err, ExportError::InvalidBasicAuth), "{err}");
}
