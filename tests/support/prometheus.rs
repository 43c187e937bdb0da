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

/// Runs `promtool check metrics` on `text` and fails on any complaint. A
/// missing promtool skips the check with a note, unless
/// `REQUIRE_PROMTOOL=1` (set by CI) makes it a failure.
///
/// # Panics
/// If promtool rejects the text, or cannot be run when required.
pub fn promtool_check(text: &str) {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let required = std::env::var("REQUIRE_PROMTOOL").is_ok_and(|v| v == "1");
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => {
            eprintln!(
                "promtool not found: check skipped (install the `prometheus` package, or set REQUIRE_PROMTOOL=1 to make this a failure)"
            );
            return;
        }
        Err(err) => panic!("cannot run promtool (REQUIRE_PROMTOOL={required}): {err}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed ({}):\n{}{}\n--- text ---\n{text}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}
