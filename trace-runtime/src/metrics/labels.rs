//! The label sets and keys of the metrics a traced call feeds.

use metrics::{Key, Label, Metadata};

use crate::metrics::{names, service};
use crate::objective::Objective;
use crate::outcome::Outcome;

/// The metadata every handle is registered with.
pub(crate) static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The `result` label of `function_calls_total`, by counter index (see
/// [`result_index`]).
pub(crate) const RESULTS: [&str; 3] = ["ok", "error", "cancelled"];

/// A caller, as the `function_calls_total` counters see it: an identity
/// (its call site's address; 0 for a request root) and its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Caller {
    pub(crate) key: usize,
    pub(crate) function: &'static str,
    pub(crate) module: &'static str,
}

impl Caller {
    /// No calling function: a request root.
    pub(crate) const ROOT: Caller = Caller {
        key: 0,
        function: "",
        module: "",
    };
}

/// `function`, `module` and `service_name` labels.
pub(crate) fn site_labels(
    function: &'static str,
    module: &'static str,
    crate_name: Option<&'static str>,
) -> [Label; 3] {
    [
        Label::from_static_parts("function", function),
        Label::from_static_parts("module", module),
        Label::new("service_name", service::resolve(crate_name)),
    ]
}

/// The key of `function_calls_duration_seconds` for a site's labels.
pub(crate) fn duration_key(site: &[Label; 3], objective: Option<&Objective>) -> Key {
    Key::from_parts(names::DURATION_SECONDS, duration_labels(site, objective))
}

/// A site's labels on its duration histogram: with a latency objective,
/// `objective_name`, `objective_percentile` and `objective_latency_threshold`.
pub(crate) fn duration_labels(site: &[Label; 3], objective: Option<&Objective>) -> Vec<Label> {
    let mut labels = site.to_vec();
    if let Some((objective, (latency, percentile))) =
        objective.and_then(|o| o.latency_target().map(|target| (o, target)))
    {
        labels.push(Label::from_static_parts("objective_name", objective.name()));
        labels.push(Label::from_static_parts(
            "objective_percentile",
            percentile.as_label(),
        ));
        labels.push(Label::from_static_parts(
            "objective_latency_threshold",
            latency.as_label(),
        ));
    }
    labels
}

/// The key of `function_calls_concurrent` for a site's labels.
pub(crate) fn concurrent_key(site: &[Label; 3]) -> Key {
    Key::from_parts(names::CONCURRENT, site.to_vec())
}

/// The key of `function_calls_total` for a site's labels, a result and a
/// caller.
/// With a success-rate objective, `objective_name` and
/// `objective_percentile` too.
pub(crate) fn calls_key(
    site: &[Label; 3],
    result: &'static str,
    caller: Caller,
    objective: Option<&Objective>,
) -> Key {
    let mut labels = site.to_vec();
    labels.push(Label::from_static_parts("result", result));
    labels.push(Label::from_static_parts("caller_function", caller.function));
    labels.push(Label::from_static_parts("caller_module", caller.module));
    if let Some((objective, percentile)) =
        objective.and_then(|o| o.success_rate_target().map(|p| (o, p)))
    {
        labels.push(Label::from_static_parts("objective_name", objective.name()));
        labels.push(Label::from_static_parts(
            "objective_percentile",
            percentile.as_label(),
        ));
    }
    Key::from_parts(names::CALLS_TOTAL, labels)
}

/// The index into [`RESULTS`] of the `result` a call ended with.
#[inline]
pub(crate) fn result_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Error | Outcome::Panic => 1,
        Outcome::Cancelled => 2,
    }
}
