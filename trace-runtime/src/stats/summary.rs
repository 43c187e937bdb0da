//! [`Summary`]: counts, sum, mean, extremes and quantiles of a set of calls.

use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::stats::buckets;
use crate::stats::series::Totals;

/// The calls of one function (or HTTP route) over some span of time.
///
/// `count` counts every call that ended, `errors` those that returned `Err`
/// or panicked (for a route: a failed response, by the layer's
/// classifier), `cancelled` async calls whose future was dropped first (a
/// route: the client went away). Durations cover all of them; `sum` is
/// exact, every other duration is within
/// [`RELATIVE_ERROR`](super::RELATIVE_ERROR) of the true one, and is `None`
/// when there were no calls.
///
/// In JSON, durations are seconds, as `sum_seconds`, `mean_seconds`,
/// `min_seconds`, ... (`null` when there were no calls).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Calls that ended.
    pub count: u64,
    /// Calls that returned `Err` or panicked.
    pub errors: u64,
    /// Calls cancelled before they ended.
    pub cancelled: u64,
    /// The total duration of the calls.
    #[serde(rename = "sum_seconds", serialize_with = "seconds")]
    pub sum: Duration,
    /// The mean duration.
    #[serde(rename = "mean_seconds", serialize_with = "optional_seconds")]
    pub mean: Option<Duration>,
    /// The shortest call.
    #[serde(rename = "min_seconds", serialize_with = "optional_seconds")]
    pub min: Option<Duration>,
    /// The longest call.
    #[serde(rename = "max_seconds", serialize_with = "optional_seconds")]
    pub max: Option<Duration>,
    /// The median duration.
    #[serde(rename = "p50_seconds", serialize_with = "optional_seconds")]
    pub p50: Option<Duration>,
    /// The 90th percentile.
    #[serde(rename = "p90_seconds", serialize_with = "optional_seconds")]
    pub p90: Option<Duration>,
    /// The 95th percentile.
    #[serde(rename = "p95_seconds", serialize_with = "optional_seconds")]
    pub p95: Option<Duration>,
    /// The 99th percentile.
    #[serde(rename = "p99_seconds", serialize_with = "optional_seconds")]
    pub p99: Option<Duration>,
}

impl Summary {
    pub(crate) fn of(totals: &Totals) -> Summary {
        let [ok, errors, cancelled] = totals.outcomes;
        let count = ok.wrapping_add(errors).wrapping_add(cancelled);
        let sampled: u64 = totals.buckets.iter().map(|(_, c)| *c).sum();
        let quantile = |q: f64| quantile(&totals.buckets, sampled, q);
        let first = totals.buckets.first().map(|(i, _)| *i);
        let last = totals.buckets.last().map(|(i, _)| *i);
        let at = |index: Option<u16>| index.map(|i| nanos(buckets::value(usize::from(i))));
        Summary {
            count,
            errors,
            cancelled,
            sum: Duration::from_nanos(totals.sum),
            mean: (count != 0).then(|| Duration::from_nanos(totals.sum / count)),
            min: at(first),
            max: at(last),
            p50: quantile(0.50),
            p90: quantile(0.90),
            p95: quantile(0.95),
            p99: quantile(0.99),
        }
    }
}

/// The `q` quantile: the value of the bucket holding the call of rank
/// `ceil(q * total)` (the nearest-rank definition).
fn quantile(buckets: &[(u16, u64)], total: u64, q: f64) -> Option<Duration> {
    if total == 0 {
        return None;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "0 < q < 1: the rank is between 0 and total"
    )]
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0_u64;
    buckets.iter().find_map(|&(index, count)| {
        seen += count;
        (seen >= rank).then(|| nanos(buckets::value(usize::from(index))))
    })
}

fn nanos(value: f64) -> Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "bucket values are positive and below 2^42"
    )]
    Duration::from_nanos(value.round() as u64)
}

#[allow(clippy::trivially_copy_pass_by_ref, reason = "serde's signature")]
pub(crate) fn seconds<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(value.as_secs_f64())
}

#[allow(clippy::ref_option, reason = "serde's signature")]
fn optional_seconds<S: Serializer>(
    value: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.serialize_f64(value.as_secs_f64()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "test values are small"
)]
mod tests {
    use std::time::Duration;

    use super::Summary;
    use crate::stats::buckets::{self, RELATIVE_ERROR};
    use crate::stats::series::Totals;

    fn totals_of(samples: &[u64], outcomes: [u64; 3]) -> Totals {
        let mut counts = vec![0_u64; buckets::COUNT];
        for &nanos in samples {
            counts[buckets::index(nanos)] += 1;
        }
        Totals {
            outcomes,
            sum: samples.iter().sum(),
            buckets: counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c != 0)
                .map(|(i, c)| (u16::try_from(i).unwrap(), *c))
                .collect(),
        }
    }

    fn close(estimate: Option<Duration>, truth: u64) -> bool {
        let estimate = estimate.unwrap().as_nanos() as f64;
        // The stated error, plus half a nanosecond of rounding.
        (estimate - truth as f64).abs() <= truth as f64 * RELATIVE_ERROR + 0.5
    }

    #[test]
    fn quantiles_of_a_known_distribution_are_within_the_stated_error() {
        // 1..=100_000 µs-ish durations, log-spread: every quantile is a
        // known sample (nearest rank).
        let mut samples: Vec<u64> = (1..=100_000_u64).map(|i| 1_000 + i * i / 7).collect();
        samples.sort_unstable();
        let summary = Summary::of(&totals_of(&samples, [99_000, 900, 100]));
        assert_eq!(summary.count, 100_000);
        assert_eq!(summary.errors, 900);
        assert_eq!(summary.cancelled, 100);
        assert_eq!(summary.sum, Duration::from_nanos(samples.iter().sum()));
        for (q, estimate) in [
            (0.50, summary.p50),
            (0.90, summary.p90),
            (0.95, summary.p95),
            (0.99, summary.p99),
        ] {
            let rank = (q * samples.len() as f64).ceil() as usize;
            assert!(close(estimate, samples[rank - 1]), "p{q}: {estimate:?}");
        }
        assert!(close(summary.min, samples[0]));
        assert!(close(summary.max, *samples.last().unwrap()));
        assert_eq!(
            summary.mean,
            Some(Duration::from_nanos(samples.iter().sum::<u64>() / 100_000))
        );
    }

    #[test]
    fn no_calls_have_no_durations() {
        let summary = Summary::of(&Totals::default());
        assert_eq!(summary.count, 0);
        assert_eq!(summary.p50, None);
        assert_eq!(summary.mean, None);
        assert_eq!(summary.min, None);
    }

    #[test]
    fn a_window_is_the_difference_of_two_totals() {
        let early = totals_of(&[100, 200, 5_000], [3, 0, 0]);
        let late = totals_of(&[100, 200, 5_000, 5_000, 9_000_000], [4, 1, 0]);
        let window = Summary::of(&late.minus(&early));
        assert_eq!(window.count, 2);
        assert_eq!(window.errors, 1);
        assert_eq!(window.sum, Duration::from_micros(9_005));
        assert!(close(window.min, 5_000));
        assert!(close(window.max, 9_000_000));
    }
}
