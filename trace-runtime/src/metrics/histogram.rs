//! Duration histograms kept in per-thread cells, for the exporter to render.
//!
//! `metrics-exporter-prometheus` stores every histogram sample with a
//! timestamp in a shared queue and sorts it into its bucket at upkeep: two
//! clock reads, a shared-memory append and a deferred bucket search per call.
//! Under our exporter a traced call instead adds 1 to its bucket's cell and
//! its wall time to a sum cell, both in memory only its own thread writes
//! (see [`striped`]); [`render_family`] turns the cells into
//! the same `function_calls_duration_seconds` text the exporter would print.

use std::fmt::Write as _;
use std::sync::OnceLock;

use metrics_exporter_prometheus::formatting::{write_help_line, write_type_line};

use crate::metrics::names;
use crate::metrics::striped::{self, CellId};

/// The bucket bounds, in seconds for the `le` label and in whole nanoseconds
/// for the hot path.
struct Bounds {
    seconds: Box<[f64]>,
    nanos: Box<[u64]>,
}

static BOUNDS: OnceLock<Bounds> = OnceLock::new();

/// The help text of `function_calls_duration_seconds`.
const HELP: &str = "Wall-clock duration of calls of traced functions.";

/// Sets the bucket bounds (validated by the exporter builder: finite,
/// positive, increasing). Only the first call takes effect.
pub(crate) fn configure(seconds: &[f64]) {
    // A call of `n` nanoseconds is at most `le` seconds exactly when
    // `n <= floor(le * 1e9)`.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bounds are positive; `as` saturates past u64::MAX"
    )]
    let nanos = seconds.iter().map(|s| (s * 1e9).floor() as u64).collect();
    let _ = BOUNDS.set(Bounds {
        seconds: seconds.into(),
        nanos,
    });
}

/// Whether `seconds` is a configured bucket bound (`true` before any
/// configuration: then the exporter's own buckets are not ours to know).
pub(crate) fn is_bound(seconds: f64) -> bool {
    // Exact comparison: bounds and thresholds are the same decimal literals.
    BOUNDS
        .get()
        .is_none_or(|bounds| bounds.seconds.contains(&seconds))
}

/// The cells of one series: a count per bound (not cumulative), a count of
/// calls above every bound, and the sum of wall times in nanoseconds.
pub(crate) struct DurationCells {
    bounds: &'static Bounds,
    buckets: Box<[CellId]>,
    overflow: CellId,
    sum: CellId,
}

impl DurationCells {
    /// Fresh cells, or `None` if no bounds were configured.
    pub(crate) fn allocate() -> Option<DurationCells> {
        let bounds = BOUNDS.get()?;
        let len = u32::try_from(bounds.nanos.len()).ok()?;
        let first = CellId::allocate(len + 2);
        Some(DurationCells {
            bounds,
            buckets: (0..len).map(|i| first.offset(i)).collect(),
            overflow: first.offset(len),
            sum: first.offset(len + 1),
        })
    }

    /// The cell counting a call of `nanos`, and the sum cell.
    #[inline]
    pub(crate) fn cells_for(&self, nanos: u64) -> (CellId, CellId) {
        // Tiny calls land in the first bucket: a linear scan stops at once.
        let bucket = self
            .bounds
            .nanos
            .iter()
            .zip(self.buckets.iter())
            .find(|(&bound, _)| nanos <= bound)
            .map_or(self.overflow, |(_, &cell)| cell);
        (bucket, self.sum)
    }

    /// The cell summing wall times, in nanoseconds.
    #[cfg(feature = "stats")]
    pub(crate) fn sum_cell(&self) -> CellId {
        self.sum
    }

    /// Appends this series' `_bucket`, `_sum` and `_count` lines; `labels`
    /// is the rendered label list without braces.
    fn render(&self, labels: &str, out: &mut String) {
        let name = names::DURATION_SECONDS;
        let mut cumulative = 0_u64;
        for (bucket, le) in self.buckets.iter().zip(self.bounds.seconds.iter()) {
            cumulative = cumulative.wrapping_add(striped::sum(*bucket));
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
        }
        cumulative = cumulative.wrapping_add(striped::sum(self.overflow));
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}");
        // Exact below 2^53 ns (104 days of calls).
        #[allow(clippy::cast_precision_loss)]
        let seconds = striped::sum(self.sum) as f64 * 1e-9;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {seconds}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }
}

/// Appends the `function_calls_duration_seconds` family, one series per
/// `(labels, cells)`; nothing if there are none.
pub(crate) fn render_family<'a>(
    series: impl IntoIterator<Item = (&'a str, &'a DurationCells)>,
    out: &mut String,
) {
    let mut series = series.into_iter().peekable();
    if series.peek().is_none() {
        return;
    }
    write_help_line(out, names::DURATION_SECONDS, None, None, HELP);
    write_type_line(out, names::DURATION_SECONDS, None, None, "histogram");
    for (labels, cells) in series {
        cells.render(labels, out);
    }
    out.push('\n');
}
