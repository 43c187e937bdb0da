//! metered's `#[measure]`: hit count, in-flight gauge and an HdrHistogram
//! of response times (milliseconds) per method, in its own registry. It
//! needs methods of an `impl` block, so the bodies are repeated here.

use std::sync::LazyLock;

use metered::{HitCount, InFlight, ResponseTime};

use crate::workload::{leaf_body, FANOUT};

/// The service whose methods are measured.
#[derive(Default, Debug)]
pub struct Service {
    metrics: ServiceMetrics,
}

#[metered::metered(registry = ServiceMetrics)]
impl Service {
    #[measure([HitCount, InFlight, ResponseTime])]
    fn leaf(&self, x: u64) -> u64 {
        leaf_body(x)
    }

    #[measure([HitCount, InFlight, ResponseTime])]
    fn child(&self, x: u64) -> u64 {
        let mut acc = 0;
        for i in 0..FANOUT {
            acc ^= self.leaf(x.wrapping_add(i));
        }
        acc
    }

    #[measure([HitCount, InFlight, ResponseTime])]
    fn root(&self, x: u64) -> u64 {
        let mut acc = 0;
        for i in 0..FANOUT {
            acc ^= self.child(x.wrapping_mul(FANOUT).wrapping_add(i));
        }
        acc
    }

    #[measure([HitCount, InFlight, ResponseTime])]
    async fn leaf_async(&self, x: u64) -> u64 {
        leaf_body(x)
    }

    #[measure([HitCount, InFlight, ResponseTime])]
    async fn child_async(&self, x: u64) -> u64 {
        let mut acc = 0;
        for i in 0..FANOUT {
            acc ^= self.leaf_async(x.wrapping_add(i)).await;
        }
        acc
    }

    #[measure([HitCount, InFlight, ResponseTime])]
    async fn root_async(&self, x: u64) -> u64 {
        let mut acc = 0;
        for i in 0..FANOUT {
            acc ^= self
                .child_async(x.wrapping_mul(FANOUT).wrapping_add(i))
                .await;
        }
        acc
    }
}

static SERVICE: LazyLock<Service> = LazyLock::new(Service::default);

/// One sync request.
pub fn request_sync(x: u64) -> u64 {
    SERVICE.root(x)
}

/// One async request.
pub fn request_async(x: u64) -> u64 {
    crate::exec::block_on(SERVICE.root_async(x))
}

/// metered's own registry counted `calls` hits and `calls` response times
/// over every method.
pub fn check(calls: u64) -> Result<(), String> {
    let m = &SERVICE.metrics;
    let hits = [
        &m.leaf.hit_count,
        &m.child.hit_count,
        &m.root.hit_count,
        &m.leaf_async.hit_count,
        &m.child_async.hit_count,
        &m.root_async.hit_count,
    ]
    .iter()
    .map(|h| h.0.get())
    .sum::<u64>();
    let timed = [
        &m.leaf.response_time,
        &m.child.response_time,
        &m.root.response_time,
        &m.leaf_async.response_time,
        &m.child_async.response_time,
        &m.root_async.response_time,
    ]
    .iter()
    .map(|t| t.0.histogram().len())
    .sum::<u64>();
    #[allow(clippy::cast_precision_loss)]
    let counts = [hits as f64, timed as f64];
    crate::check::expect_count("metered hit counts", counts[0], calls)?;
    crate::check::expect_count("metered response times", counts[1], calls)
}
