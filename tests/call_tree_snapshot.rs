//! A slow or failed request's log event carries a snapshot of the process:
//! CPU seconds and resident memory (`process_metrics`), the runtime's alive
//! tasks and queue depth (`runtime_metrics`), the calls in flight of the
//! tree's functions, and the fields of user sources. A request that went
//! well carries none. Its own binary: a global subscriber and the exporter.
#![warn(clippy::pedantic)]

use std::time::Duration;

use tokio::sync::oneshot;
use trace_runtime::tree::{add_snapshot_source, Snapshot, TREE_TARGET};
use trace_runtime::{trace, ExporterBuilder, TraceFutureExt};
use trace_suite::log::LogBuffer;

#[trace]
async fn reserve(fail: bool, hold: Option<oneshot::Receiver<()>>) -> Result<(), String> {
    if let Some(hold) = hold {
        let _ = hold.await;
    }
    if fail {
        Err("room full".to_owned())
    } else {
        Ok(())
    }
}

/// The events in `logged`, each from its level to the next event.
fn events(logged: &str) -> Vec<String> {
    let mut events: Vec<String> = Vec::new();
    for line in logged.lines() {
        match events.last_mut() {
            Some(event) if !line.starts_with(" INFO ") && !line.starts_with(" WARN ") => {
                event.push('\n');
                event.push_str(line);
            }
            _ => events.push(line.to_owned()),
        }
    }
    events
}

/// The value of `name=` in the event's `snapshot` field.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let snapshot = line.split_once("snapshot=")?.1;
    let start = snapshot.find(&format!("{name}="))? + name.len() + 1;
    snapshot[start..].split([' ', '"']).next()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_failed_trees_carry_a_snapshot_of_the_process() {
    let buffer = LogBuffer::install_global();
    let _exporter = ExporterBuilder::new()
        .service_name("snap")
        .process_metrics()
        .runtime_metrics(tokio::runtime::Handle::current())
        .install()
        .unwrap();
    add_snapshot_source(|snapshot: &mut Snapshot| {
        snapshot.push("pool_active", 4);
        snapshot.push("pool_idle", 12);
    });
    add_snapshot_source(|_: &mut Snapshot| panic!("a broken source is skipped"));

    // Two requests hold a `reserve` call in flight while a third fails.
    let (release, held): (Vec<_>, Vec<_>) = (0..2)
        .map(|_| {
            let (tx, rx) = oneshot::channel();
            let task = tokio::spawn(reserve(false, Some(rx)).in_request("POST /held"));
            (tx, task)
        })
        .unzip();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let _ = buffer.take();
    let failed = reserve(true, None).in_request("POST /full").await;
    assert!(failed.is_err());
    let logged = buffer.take();
    let failed_events = events(&logged);
    let line = failed_events
        .iter()
        .find(|e| e.starts_with(" WARN ") && e.contains("tree=\nPOST /full"))
        .unwrap_or_else(|| panic!("no WARN event for the failed request: {logged}"));
    assert!(line.contains(TREE_TARGET), "{line}");
    assert_eq!(field(line, "in_flight[reserve]"), Some("2"), "{line}");
    assert_eq!(field(line, "pool_active"), Some("4"), "{line}");
    assert_eq!(field(line, "pool_idle"), Some("12"), "{line}");
    let cpu: f64 = field(line, "process_cpu_seconds").unwrap().parse().unwrap();
    assert!(cpu >= 0.0, "{line}");
    let rss: u64 = field(line, "process_resident_memory_bytes")
        .unwrap()
        .parse()
        .unwrap();
    assert!(rss > 1 << 20, "{line}");
    // This test's task and the two held requests at least.
    let tasks: u64 = field(line, "tokio_alive_tasks").unwrap().parse().unwrap();
    assert!(tasks >= 2, "{line}");
    let queue: u64 = field(line, "tokio_global_queue_depth")
        .unwrap()
        .parse()
        .unwrap();
    assert!(queue < 100, "{line}");

    // Requests that went well log at INFO, without a snapshot.
    for tx in release {
        tx.send(()).unwrap();
    }
    for task in held {
        task.await.unwrap().unwrap();
    }
    let logged = buffer.take();
    let ok: Vec<_> = events(&logged)
        .into_iter()
        .filter(|e| e.contains("tree=\nPOST /held"))
        .collect();
    assert_eq!(ok.len(), 2, "{logged}");
    assert!(
        ok.iter()
            .all(|e| e.starts_with(" INFO ") && !e.contains("snapshot=")),
        "{logged}"
    );
}
