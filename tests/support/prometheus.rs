//! Reading sample lines back out of rendered Prometheus text.

/// `(le, cumulative count)` of every `{metric}_bucket` line whose labels,
/// before `le`, are exactly `labels` (rendered, without braces), in order.
///
/// # Panics
/// On a bucket line that does not end in `"} <integer>`.
#[must_use]
pub fn buckets(text: &str, metric: &str, labels: &str) -> Vec<(String, u64)> {
    let prefix = format!("{metric}_bucket{{{labels},le=\"");
    text.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let (le, count) = rest.split_once("\"} ").expect("a bucket line");
            (
                le.to_owned(),
                count.parse().expect("an integer bucket count"),
            )
        })
        .collect()
}

/// The value of the sample line `{name}{{{labels}}}`, if there is one.
///
/// # Panics
/// If the value is not a number.
#[must_use]
pub fn value(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.parse().expect("a number"))
}
