//! The sanity checks every child runs after its window: the contender did
//! exactly the work it was given, read from the rendered Prometheus text of
//! the shared recorder, from what a formatter wrote, or from what a sink
//! received. A failed check panics, and the parent stops the run with the
//! child's message.

/// The sum of the samples of `name` in the Prometheus text `metrics` whose
/// labels include every one of `labels`.
pub fn sample_sum(metrics: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let (set, value) = match rest.strip_prefix('{') {
                Some(labelled) => labelled.rsplit_once("} ")?,
                None => ("", rest.strip_prefix(' ')?),
            };
            labels
                .iter()
                .all(|(key, wanted)| set.split(',').any(|l| l == format!("{key}=\"{wanted}\"")))
                .then(|| value.trim().parse::<f64>().ok())
                .flatten()
        })
        .sum()
}

/// `Err` naming `what` unless `got` is `want`.
#[allow(clippy::cast_precision_loss)]
pub fn expect_count(what: &str, got: f64, want: u64) -> Result<(), String> {
    if (got - want as f64).abs() < 0.5 {
        Ok(())
    } else {
        Err(format!("{what}: {got}, expected {want}"))
    }
}

/// The counter every metrics contender feeds, one sample per call.
pub const CALLS_TOTAL: &str = "function_calls_total";

/// The sample count of the duration histogram they share.
pub const DURATION_COUNT: &str = "function_calls_duration_seconds_count";

/// Who stores a contender's duration histogram, which decides how exact
/// its count is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Histograms {
    /// This project's exporter (per-thread cells): exact.
    Exact,
    /// metrics-exporter-prometheus's lock-free `AtomicBucket` (the
    /// hand-written version, autometrics): samples pushed into blocks while
    /// the upkeep thread swaps them out are lost (a block that a push
    /// installs as the new tail is seen by the upkeep's swap before the push
    /// links the full block behind it). Most children lose none; seen: 1 of
    /// 3.4 million, and 1601 of 6.66 million when the upkeep thread lost its
    /// core; in two-thread contention children on a loaded two-core machine
    /// 794 thousand of 14.4 million (5.5 %) and 1.91 of 11.7 million
    /// (16.3 %). Its count may fall short by 1 in [`BUCKET_LOSS`], never
    /// more, and never exceed the calls: enough to catch a contender that
    /// records nothing or twice, without stopping the run over the
    /// exporter's losses.
    Bucket,
}

/// The most samples in this many that [`Histograms::Bucket`] may lose.
pub const BUCKET_LOSS: u64 = 2;

/// `function_calls_total` and the count of `function_calls_duration_seconds`,
/// summed over every label set, both equal `calls` (the histogram's within
/// what `histograms` allows).
pub fn metrics_count(metrics: &str, calls: u64, histograms: Histograms) -> Result<(), String> {
    expect_count(
        &format!("sum of {CALLS_TOTAL}"),
        sample_sum(metrics, CALLS_TOTAL, &[]),
        calls,
    )?;
    let timed = sample_sum(metrics, DURATION_COUNT, &[]);
    let what = format!("sum of {DURATION_COUNT}");
    match histograms {
        Histograms::Exact => expect_count(&what, timed, calls),
        Histograms::Bucket => {
            #[allow(clippy::cast_precision_loss)]
            let (calls, slack) = (calls as f64, (calls / BUCKET_LOSS) as f64);
            if timed <= calls + 0.5 && timed >= calls - slack - 0.5 {
                Ok(())
            } else {
                Err(format!(
                    "{what}: {timed}, expected {calls} (at most {slack} short)"
                ))
            }
        }
    }
}

/// No `function_calls_total` sample at all (a contender switched off).
pub fn no_metrics(metrics: &str) -> Result<(), String> {
    expect_count(
        &format!("sum of {CALLS_TOTAL}"),
        sample_sum(metrics, CALLS_TOTAL, &[]),
        0,
    )
}

/// The counting writer took at least `min_writes` writes and at least
/// `min_bytes` bytes.
pub fn wrote(who: &str, min_writes: u64, min_bytes: u64) -> Result<(), String> {
    let (writes, bytes) = crate::counting::written();
    if writes >= min_writes && bytes >= min_bytes {
        Ok(())
    } else {
        Err(format!(
            "{who} wrote {writes} times ({bytes} bytes); expected at least {min_writes} \
             writes and {min_bytes} bytes"
        ))
    }
}
