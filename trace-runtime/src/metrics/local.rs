//! Handles for calls under a recorder other than the global one, such as a
//! recorder set with `metrics::with_local_recorder` in a test.
//!
//! Such a recorder may live on a stack and be replaced by another at the same
//! address, so its handles are never cached or leaked: each call registers
//! its own when it starts, keeps them (by a key into a table) until it ends,
//! then drops them. The call thus counts into the recorder that was current
//! when it started, even if it ends on another thread. This is the cold
//! path: a lock and a few registrations per call.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::{Mutex, PoisonError};

use metrics::{Counter, Gauge, Histogram};

use crate::metrics::labels::{self, METADATA, RESULTS};
use crate::metrics::recorder::{self, RecorderId};
use crate::metrics::site::MetricSite;
use crate::outcome::Outcome;

/// A running call's handles, registered with its recorder.
struct Handles {
    duration: Histogram,
    concurrent: Gauge,
    /// Ok, error and cancelled.
    calls: [Counter; 3],
}

/// The handles of the running calls, by key.
struct Running {
    next: u64,
    calls: HashMap<NonZeroU64, Handles>,
}

static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

fn with_running<T>(f: impl FnOnce(&mut Running) -> T) -> T {
    let mut guard = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    f(guard.get_or_insert_with(|| Running {
        next: 1,
        calls: HashMap::new(),
    }))
}

/// A call started under a recorder other than the global one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalCall(NonZeroU64);

/// Registers the handles of a call of `site` from `caller` with `recorder`
/// and counts the call as in flight; `None` if `recorder` is no longer this
/// thread's current recorder.
pub(crate) fn begin(
    site: &'static MetricSite,
    caller: Option<&'static MetricSite>,
    recorder: RecorderId,
) -> Option<LocalCall> {
    let site_labels = site.labels();
    let objective = site.objective();
    let caller = MetricSite::caller(caller);
    let handles = recorder::with_recorder_of(recorder, |r| Handles {
        duration: r.register_histogram(&labels::duration_key(&site_labels, objective), &METADATA),
        concurrent: r.register_gauge(&labels::concurrent_key(&site_labels), &METADATA),
        calls: RESULTS.map(|result| {
            let key = labels::calls_key(&site_labels, result, caller, objective);
            r.register_counter(&key, &METADATA)
        }),
    })?;
    handles.concurrent.increment(1.0);
    let key = with_running(|running| {
        let key = NonZeroU64::new(running.next).unwrap_or(NonZeroU64::MIN);
        running.next = running.next.wrapping_add(1).max(1);
        running.calls.insert(key, handles);
        key
    });
    Some(LocalCall(key))
}

/// Counts the call as ended after `wall_nanos` with `outcome`, and drops its
/// handles. A second end of the same call counts nothing.
pub(crate) fn end(call: LocalCall, wall_nanos: u64, outcome: Outcome) {
    let Some(handles) = with_running(|running| running.calls.remove(&call.0)) else {
        return;
    };
    // Exact below 2^53 ns (104 days).
    #[allow(clippy::cast_precision_loss)]
    handles.duration.record(wall_nanos as f64 * 1e-9);
    handles.calls[labels::result_index(outcome)].increment(1);
    handles.concurrent.decrement(1.0);
}
