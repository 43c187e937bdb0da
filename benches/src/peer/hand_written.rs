//! The hand-written lower bound: a `quanta` clock reading around the body and
//! `metrics` counter + histogram handles registered once per function and
//! cached in a static, with the same metric names and labels as this project.
//! [`site`] and [`record`] also serve the distinct-call-sites workload
//! ([`sites`](crate::peer::sites)).

use std::sync::OnceLock;

use metrics::{Counter, Histogram};

use crate::workload::{leaf_body, FANOUT};

/// The cached handles of one function.
pub struct Site {
    calls: Counter,
    duration: Histogram,
}

/// The handles of `function` in `module`, registered on first use.
pub fn site(
    cell: &'static OnceLock<Site>,
    function: &'static str,
    module: &'static str,
) -> &'static Site {
    cell.get_or_init(|| {
        let labels = [
            ("function", function),
            ("module", module),
            ("service_name", "trace-benches"),
        ];
        let with_result = [labels[0], labels[1], labels[2], ("result", "ok")];
        Site {
            calls: metrics::counter!("function_calls_total", &with_result),
            duration: metrics::histogram!("function_calls_duration_seconds", &labels),
        }
    })
}

/// Records one call that started at `start`.
#[inline]
pub fn record(site: &Site, start: quanta::Instant) {
    site.duration.record(start.elapsed().as_secs_f64());
    site.calls.increment(1);
}

static LEAF: OnceLock<Site> = OnceLock::new();
static CHILD: OnceLock<Site> = OnceLock::new();
static ROOT: OnceLock<Site> = OnceLock::new();

/// The leaf function, timed by hand.
pub fn leaf(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let out = leaf_body(x);
    record(site(&LEAF, "leaf", module_path!()), start);
    out
}

/// The middle function, timed by hand.
pub fn child(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let mut acc = 0;
    for i in 0..FANOUT {
        acc ^= leaf(x.wrapping_add(i));
    }
    record(site(&CHILD, "child", module_path!()), start);
    acc
}

/// The root function, timed by hand.
pub fn root(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let mut acc = 0;
    for i in 0..FANOUT {
        acc ^= child(x.wrapping_mul(FANOUT).wrapping_add(i));
    }
    record(site(&ROOT, "root", module_path!()), start);
    acc
}

/// The async leaf, timed by hand.
pub async fn leaf_async(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let out = leaf_body(x);
    record(site(&LEAF, "leaf", module_path!()), start);
    out
}

/// The async middle function, timed by hand.
pub async fn child_async(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let mut acc = 0;
    for i in 0..FANOUT {
        acc ^= leaf_async(x.wrapping_add(i)).await;
    }
    record(site(&CHILD, "child", module_path!()), start);
    acc
}

/// The async root, timed by hand.
pub async fn root_async(x: u64) -> u64 {
    let start = quanta::Instant::now();
    let mut acc = 0;
    for i in 0..FANOUT {
        acc ^= child_async(x.wrapping_mul(FANOUT).wrapping_add(i)).await;
    }
    record(site(&ROOT, "root", module_path!()), start);
    acc
}
