//! The `process_*` families Prometheus clients export, read from the OS at
//! each render (cargo feature `process`): CPU seconds (fractional, as a
//! counter), resident and virtual memory, open and maximum file
//! descriptors, threads, and the start time.

use std::fmt::Write as _;

use metrics_exporter_prometheus::formatting::{write_help_line, write_type_line};

/// The process's CPU seconds and resident memory, for the snapshot logged
/// with slow and failed requests' trees.
pub(crate) fn snapshot(values: &mut Vec<(&'static str, String)>) {
    let m = metrics_process::collector::collect();
    if let Some(cpu) = m.cpu_seconds_total {
        values.push(("process_cpu_seconds", format!("{cpu:.3}")));
    }
    if let Some(rss) = m.resident_memory_bytes {
        values.push(("process_resident_memory_bytes", rss.to_string()));
    }
}

/// Appends the families to `out`, each series labelled `labels` (the
/// exporter's global labels, rendered); a value the OS does not report is
/// left out.
pub(crate) fn render(labels: &str, out: &mut String) {
    let m = metrics_process::collector::collect();
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let mut family = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        let Some(value) = value else {
            return;
        };
        write_help_line(out, name, None, None, help);
        write_type_line(out, name, None, None, kind);
        let _ = writeln!(out, "{name}{labels} {value}\n");
    };
    #[allow(clippy::cast_precision_loss)] // exact below 2^53
    let whole = |v: Option<u64>| v.map(|v| v as f64);
    family(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        m.cpu_seconds_total,
    );
    family(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        whole(m.resident_memory_bytes),
    );
    family(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        whole(m.virtual_memory_bytes),
    );
    family(
        "process_virtual_memory_max_bytes",
        "gauge",
        "Maximum amount of virtual memory available in bytes (0: unlimited).",
        whole(m.virtual_memory_max_bytes),
    );
    family(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        whole(m.open_fds),
    );
    family(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors (0: unlimited).",
        whole(m.max_fds),
    );
    family(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        whole(m.threads),
    );
    family(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since the Unix epoch in seconds.",
        whole(m.start_time_seconds),
    );
}
