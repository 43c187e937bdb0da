//! `exporter_builder!()` names the service and its version after the
//! calling package, so `build_info` and every series say which build they
//! come from without further set-up.
#![warn(clippy::pedantic)]

use trace_suite::prometheus;

#[trace_runtime::trace]
fn packaged_call() -> u8 {
    1
}

#[test]
fn the_calling_package_names_the_service_and_its_version() {
    let exporter = trace_runtime::exporter_builder!()
        .install()
        .expect("the only recorder of this test binary");
    assert_eq!(packaged_call(), 1);
    metrics::counter!("user_jobs_total").increment(2);
    let text = exporter.render();
    let service = "service_name=\"trace-suite\"";
    let build = format!(
        "{service},version=\"{}\",commit=\"{}\",branch=\"{}\",trace_runtime_version=\"{}\"",
        env!("CARGO_PKG_VERSION"),
        option_env!("GIT_COMMIT").unwrap_or(""),
        option_env!("GIT_BRANCH").unwrap_or(""),
        env!("CARGO_PKG_VERSION"),
    );
    assert_eq!(
        prometheus::value(&text, "build_info", &build),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        prometheus::value(&text, "user_jobs_total", service),
        Some(2.0),
        "{text}"
    );
    let call = format!("{service},function=\"packaged_call\",module=\"exporter_package\"");
    assert_eq!(
        prometheus::value(&text, "function_calls_duration_seconds_count", &call),
        Some(1.0),
        "{text}"
    );
}
