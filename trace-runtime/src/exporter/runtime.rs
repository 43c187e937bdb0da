//! Tokio's stable runtime metrics, set before each render, and an
//! event-loop lag probe (cargo feature `runtime`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

/// Gauges of the runtime's workers, tasks and queue.
pub(crate) const WORKERS: &str = "tokio_workers";
/// Tasks alive in the runtime.
pub(crate) const ALIVE_TASKS: &str = "tokio_alive_tasks";
/// Tasks waiting in the global queue.
pub(crate) const GLOBAL_QUEUE_DEPTH: &str = "tokio_global_queue_depth";
/// Share of the workers' time spent running tasks since the last render.
pub(crate) const BUSY_RATIO: &str = "tokio_busy_ratio";
/// How late the probe task woke up, in seconds: a histogram.
pub(crate) const LAG_SECONDS: &str = "tokio_event_loop_lag_seconds";

/// How often the probe asks to be woken.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// Describes the families.
pub(crate) fn describe() {
    metrics::describe_gauge!(WORKERS, "Worker threads of the tokio runtime.");
    metrics::describe_gauge!(ALIVE_TASKS, "Tasks alive in the tokio runtime.");
    metrics::describe_gauge!(
        GLOBAL_QUEUE_DEPTH,
        "Tasks waiting in the tokio runtime's global queue."
    );
    metrics::describe_gauge!(
        BUSY_RATIO,
        "Share of the workers' time spent running tasks since the previous scrape (0 to 1)."
    );
    metrics::describe_histogram!(
        LAG_SECONDS,
        metrics::Unit::Seconds,
        "How much later than asked a task woken every 100 ms ran: the event loop's lag."
    );
}

/// Starts the lag probe on `handle`: a task asking to wake every 100 ms
/// that records how late it runs.
pub(crate) fn spawn_probe(handle: &Handle) {
    handle.spawn(async {
        let lag = metrics::histogram!(LAG_SECONDS);
        loop {
            let asked = tokio::time::Instant::now() + PROBE_EVERY;
            tokio::time::sleep_until(asked).await;
            lag.record(tokio::time::Instant::now().saturating_duration_since(asked));
        }
    });
}

/// A reader of the runtime's alive tasks and global queue depth, for the
/// snapshot logged with slow and failed requests' trees.
pub(crate) fn snapshot(handle: Handle) -> impl Fn(&mut Vec<(&'static str, String)>) + Send + Sync {
    move |values| {
        let metrics = handle.metrics();
        values.push((ALIVE_TASKS, metrics.num_alive_tasks().to_string()));
        values.push((GLOBAL_QUEUE_DEPTH, metrics.global_queue_depth().to_string()));
    }
}

/// The hook run before each render: sets the gauges from `handle`'s
/// metrics; the busy ratio over the time since the previous call.
pub(crate) fn hook(handle: Handle) -> impl Fn() + Send + Sync + 'static {
    let previous: Arc<Mutex<Option<(Instant, Duration)>>> = Arc::default();
    move || {
        let metrics = handle.metrics();
        let workers = metrics.num_workers();
        #[allow(clippy::cast_precision_loss)] // small counts
        {
            metrics::gauge!(WORKERS).set(workers as f64);
            metrics::gauge!(ALIVE_TASKS).set(metrics.num_alive_tasks() as f64);
            metrics::gauge!(GLOBAL_QUEUE_DEPTH).set(metrics.global_queue_depth() as f64);
        }
        let busy: Duration = (0..workers)
            .map(|w| metrics.worker_total_busy_duration(w))
            .sum();
        let now = Instant::now();
        let mut previous = previous.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((then, busy_then)) = previous.replace((now, busy)) {
            let wall = now.saturating_duration_since(then).as_secs_f64();
            #[allow(clippy::cast_precision_loss)] // small counts
            let capacity = wall * workers as f64;
            if capacity > 0.0 {
                let ratio = busy.saturating_sub(busy_then).as_secs_f64() / capacity;
                metrics::gauge!(BUSY_RATIO).set(ratio.clamp(0.0, 1.0));
            }
        }
    }
}
