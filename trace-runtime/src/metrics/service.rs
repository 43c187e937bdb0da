//! The `service_name` label: set by the exporter builder, else the
//! `OTEL_SERVICE_NAME` environment variable, else the traced function's package.

use std::sync::OnceLock;

static CONFIGURED: OnceLock<String> = OnceLock::new();
static FROM_ENV: OnceLock<Option<String>> = OnceLock::new();

/// Sets the service name once; later calls are ignored and return `false`.
pub(crate) fn set(name: String) -> bool {
    CONFIGURED.set(name).is_ok()
}

/// The service name to label a function of package `crate_name` with.
pub(crate) fn resolve(crate_name: Option<&'static str>) -> String {
    if let Some(name) = CONFIGURED.get() {
        return name.clone();
    }
    let env = FROM_ENV.get_or_init(|| {
        std::env::var("OTEL_SERVICE_NAME")
            .ok()
            .filter(|v| !v.is_empty())
    });
    env.clone()
        .or_else(|| crate_name.map(str::to_owned))
        .unwrap_or_else(|| "unknown_service".to_owned())
}
