//! `ExporterBuilder::process_metrics()` renders the `process_*` families
//! Prometheus users know, read from the OS at each render, with the global
//! labels: CPU seconds as a fractional counter, memory, descriptors,
//! threads and start time. Its own binary: it installs the exporter.
#![warn(clippy::pedantic)]

use std::time::{SystemTime, UNIX_EPOCH};

use trace_runtime::ExporterBuilder;
use trace_suite::prometheus;

#[test]
fn each_render_reads_the_process_from_the_os() {
    let exporter = ExporterBuilder::new()
        .service_name("proc")
        .process_metrics()
        .install()
        .expect("the only recorder of this test binary");
    // Some CPU, so the counter has a fraction to show.
    let mut x = 0_u64;
    for i in 0..5_000_000_u64 {
        x = x.wrapping_mul(31).wrapping_add(i);
    }
    std::hint::black_box(x);
    let text = exporter.render();
    let value = |name: &str| {
        prometheus::value(&text, name, "service_name=\"proc\"")
            .unwrap_or_else(|| panic!("no {name}\n{text}"))
    };
    assert!(
        text.contains("# TYPE process_cpu_seconds_total counter\n"),
        "{text}"
    );
    let cpu = value("process_cpu_seconds_total");
    assert!(cpu > 0.0 && cpu.fract() != 0.0, "{cpu}");
    assert!(value("process_resident_memory_bytes") > 1_000_000.0);
    assert!(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_max_fds") >= value("process_open_fds"));
    assert!(
        value("process_threads") >= 2.0,
        "the test thread and the upkeep thread"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = value("process_start_time_seconds");
    assert!(
        started <= now && started > now - 3600.0,
        "{started} vs {now}"
    );
    // Read afresh at each render.
    let later = exporter.render();
    let cpu_later =
        prometheus::value(&later, "process_cpu_seconds_total", "service_name=\"proc\"").unwrap();
    assert!(cpu_later >= cpu);
    prometheus::promtool_check(&text);
}
