//! The label sets and keys of the metrics a traced call feeds.

use metrics::{Key, Label, Metadata};

use crate::callsite::Callsite;
use crate::metrics::{names, service};
use crate::outcome::Outcome;

/// The metadata every handle is registered with.
pub(crate) static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The `result` label of `function_calls_total`, by counter index (see
/// [`result_index`]).
pub(crate) const RESULTS: [&str; 3] = ["ok", "error", "cancelled"];

/// `function`, `module` and `service_name` of `site`.
pub(crate) fn site_labels(site: &'static Callsite) -> [Label; 3] {
    [
        Label::from_static_parts("function", site.name()),
        Label::from_static_parts("module", site.module()),
        Label::new("service_name", service::resolve(site.crate_name())),
    ]
}

/// The caller labels' values: empty for a request root.
pub(crate) fn caller_parts(caller: Option<&'static Callsite>) -> (&'static str, &'static str) {
    caller.map_or(("", ""), |c| (c.name(), c.module()))
}

/// The key of `function_calls_duration_seconds` for a site's labels.
pub(crate) fn duration_key(site: &[Label; 3]) -> Key {
    Key::from_parts(names::DURATION_SECONDS, site.to_vec())
}

/// The key of `function_calls_concurrent` for a site's labels.
pub(crate) fn concurrent_key(site: &[Label; 3]) -> Key {
    Key::from_parts(names::CONCURRENT, site.to_vec())
}

/// The key of `function_calls_total` for a site's labels, a result and a
/// caller (as given by [`caller_parts`]).
pub(crate) fn calls_key(
    site: &[Label; 3],
    result: &'static str,
    (caller_function, caller_module): (&'static str, &'static str),
) -> Key {
    let mut labels = site.to_vec();
    labels.push(Label::from_static_parts("result", result));
    labels.push(Label::from_static_parts("caller_function", caller_function));
    labels.push(Label::from_static_parts("caller_module", caller_module));
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
