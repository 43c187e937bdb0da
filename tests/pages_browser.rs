//! The pages in a real browser: headless Chromium (Debian package
//! `chromium`) loads `/traces` and `/stats` from `ExporterBuilder::serve()` on
//! 127.0.0.1 while an axum service behind `TraceLayer` has had traffic (a
//! good request, a 500, a slow one) and a request named like a script tag
//! has run; the DOM it built is checked: request elements with rows and
//! bars, the 500 listed as failed with its status, and the script-like
//! name as text, with no element injected; then `/stats`, sorted by name
//! by its own script, with each function's and route's counts.
//!
//! Skipped when `chromium` is not on the `PATH`, unless `REQUIRE_CHROMIUM`
//! is set (CI sets it); then a missing browser fails the test.
#![warn(clippy::pedantic)]

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use trace_runtime::http::TraceLayer;
use trace_runtime::pages::Retention;
use trace_runtime::{in_request, trace, ExporterBuilder};
use trace_suite::html::trees;
use trace_suite::raw_http::exchange;

/// How long one Chromium run may take before it is killed.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

const SCRIPT_NAME: &str = "<script>alert(1)</script>";

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// Runs Chromium headless with `args` then `url`, killed after
/// [`CHROMIUM_TIMEOUT`]; returns what it printed on stdout.
fn run_chromium(chromium: &Path, args: &[&str], url: &str) -> String {
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages-browser-profile");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium ran past {CHROMIUM_TIMEOUT:?}: {}",
                errors.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap();
    let errors = errors.join().unwrap();
    assert!(status.success(), "chromium failed ({status}): {errors}");
    out
}

#[trace]
async fn browser_lookup(fail: bool) -> Result<(), &'static str> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    if fail {
        Err("storage down")
    } else {
        Ok(())
    }
}

#[trace(slow = "5ms")]
fn browser_render() {
    std::thread::sleep(Duration::from_millis(8));
    browser_markup();
}

#[trace(name = "<script>alert(2)</script>")]
fn browser_markup() {}

async fn ok() -> &'static str {
    let _ = browser_lookup(false).await;
    "ok"
}

async fn fail() -> StatusCode {
    let _ = browser_lookup(true).await;
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn slow() -> &'static str {
    let _ = browser_lookup(false).await;
    browser_render();
    "slow"
}

#[test]
fn chromium_renders_the_trace_and_stats_pages() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("REQUIRE_CHROMIUM").is_none(),
            "REQUIRE_CHROMIUM is set but chromium is not on the PATH (Debian package `chromium`)"
        );
        eprintln!("skipped: chromium is not on the PATH (set REQUIRE_CHROMIUM to fail instead)");
        return;
    };
    let exporter = ExporterBuilder::new()
        .listen("127.0.0.1:0")
        .trace_pages(Retention::default().slowest(10).failed(10))
        .stats(Duration::from_secs(30))
        .serve()
        .unwrap();
    let pages = exporter.local_addr().unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = Router::new()
        .route("/browser/ok", get(ok))
        .route("/browser/fail", get(fail))
        .route("/browser/slow", get(slow))
        .layer(TraceLayer::new());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let service = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    for (path, status) in [
        ("/browser/ok", 200),
        ("/browser/fail", 500),
        ("/browser/slow", 200),
        ("/browser/ok", 200),
    ] {
        assert_eq!(
            exchange(service, &format!("GET {path} HTTP/1.1")).0,
            status,
            "{path}"
        );
    }
    in_request(SCRIPT_NAME, browser_render);
    // The trees are delivered as each request's work ends, which for the
    // HTTP requests may be just after their response was read.
    let recent = exporter.recent_trees().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while recent.seen() < 5 {
        assert!(Instant::now() < deadline, "5 trees, got {}", recent.seen());
        std::thread::sleep(Duration::from_millis(10));
    }

    let url = format!("http://{pages}/traces");
    let dom = run_chromium(&chromium, &["--dump-dom"], &url);
    assert!(dom.contains("</html>"), "a whole document: {dom}");

    let slowest = trees(&dom, "slowest");
    assert_eq!(slowest.len(), 5, "every request is among the slowest");
    assert!(slowest
        .iter()
        .all(|t| t.rows.len() >= 2 && t.rows[0].depth == 0));
    for tree in &slowest {
        for row in &tree.rows {
            let (left, width) = row.bar.expect("every call has a bar");
            assert!(left + width <= 100_000, "{row:?}");
        }
    }
    let failed = trees(&dom, "failed");
    assert_eq!(failed.len(), 1, "only the 500 failed");
    assert_eq!(failed[0].request, "GET /browser/fail");
    assert!(failed[0].has_class("failed") && failed[0].marks == ["failed"]);
    assert!(failed[0].html.contains(">500</span>"), "{}", failed[0].html);
    assert!(failed[0].rows[1].has_class("err"));
    let slow = slowest
        .iter()
        .find(|t| t.request == "GET /browser/slow")
        .unwrap();
    assert!(slow.marks.contains(&"slow call".to_owned()));
    assert!(slow.rows.iter().any(|r| r.has_class("slow")));

    // The name is a text node: serialised back with its `<` escaped, and
    // the browser made no element of it.
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(slowest.iter().any(|t| t.request == escaped), "{dom}");
    assert!(
        !dom.contains("<script"),
        "no script element in the DOM: {dom}"
    );
    assert_eq!(
        dom.matches("alert(1)").count(),
        dom.matches(escaped).count()
    );

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("traces.png");
    let _ = std::fs::remove_file(&shot);
    let screenshot = format!("--screenshot={}", shot.display());
    run_chromium(&chromium, &[&screenshot, "--window-size=1280,900"], &url);
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000);
    check_stats_page(&chromium, pages);
    runtime.shutdown_timeout(Duration::from_secs(1));
}

/// The cells of the column `key` in the table of section `section`, in
/// the order the DOM has them.
fn column(dom: &str, section: &str, key: &str) -> Vec<String> {
    let at = dom
        .find(&format!("<section id=\"{section}\">"))
        .unwrap_or_else(|| panic!("no section {section}: {dom}"));
    let table = &dom[at..at + dom[at..].find("</table>").unwrap()];
    let heads = &table[..table.find("</thead>").unwrap()];
    let last_row = &heads[heads.rfind("<tr>").unwrap()..];
    let index = last_row
        .split("<th ")
        .skip(1)
        .position(|th| {
            th.starts_with(&format!("data-key=\"{key}\""))
                || th.contains(&format!(" data-key=\"{key}\""))
        })
        .unwrap_or_else(|| panic!("no column {key}: {last_row}"));
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cell = row.split("<td").nth(index + 1).unwrap();
            cell[cell.find('>').unwrap() + 1..cell.find("</td>").unwrap()].to_owned()
        })
        .collect()
}

/// `/stats` in Chromium, sorted by name by its script (asked by the
/// fragment): the traced functions and routes with their counts, the
/// script-like function name as text.
fn check_stats_page(chromium: &Path, pages: SocketAddr) {
    let dom = run_chromium(
        chromium,
        &["--dump-dom"],
        &format!("http://{pages}/stats#sort=name:asc"),
    );
    let names = column(&dom, "functions", "name");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "the script sorted the rows by name");
    assert!(
        dom.contains("<th data-key=\"name\" aria-sort=\"ascending\">"),
        "{dom}"
    );
    let calls: Vec<String> = column(&dom, "functions", "all-calls");
    let row = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name} in {names:?}"))
    };
    assert_eq!(calls[row("browser_lookup")], "4");
    assert_eq!(calls[row("browser_render")], "2");
    assert_eq!(calls[row("&lt;script&gt;alert(2)&lt;/script&gt;")], "2");
    let routes = column(&dom, "routes", "name");
    let errors = column(&dom, "routes", "all-errors");
    let fail = routes
        .iter()
        .position(|r| r == "GET /browser/fail")
        .unwrap();
    assert_eq!(errors[fail], "1");
    assert_eq!(
        dom.matches("<script").count(),
        1,
        "only the page's own script: {dom}"
    );
    assert_eq!(
        dom.matches("alert(2)").count(),
        dom.matches("&lt;script&gt;alert(2)&lt;/script&gt;").count()
    );
}
