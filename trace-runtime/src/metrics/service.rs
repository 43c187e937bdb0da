//! The `service_name` label: set by the exporter builder, else the
//! `OTEL_SERVICE_NAME` environment variable, else the package the builder was
//! given (`exporter_builder!`), else the traced function's package.

use std::sync::OnceLock;

/// The service name when nothing names it (OpenTelemetry's default).
pub(crate) const UNKNOWN: &str = "unknown_service";

static CONFIGURED: OnceLock<String> = OnceLock::new();
static FROM_ENV: OnceLock<Option<String>> = OnceLock::new();
static PACKAGE: OnceLock<String> = OnceLock::new();

/// Sets the service name once; later calls are ignored and return `false`.
pub(crate) fn set(name: String) -> bool {
    CONFIGURED.set(name).is_ok()
}

/// `OTEL_SERVICE_NAME`, if set and not empty (read once).
pub(crate) fn from_env() -> Option<String> {
    FROM_ENV
        .get_or_init(|| {
            std::env::var("OTEL_SERVICE_NAME")
                .ok()
                .filter(|v| !v.is_empty())
        })
        .clone()
}

/// Sets the fallback used when neither the builder nor the environment name
/// the service; later calls are ignored.
pub(crate) fn set_package(name: String) {
    let _ = PACKAGE.set(name);
}

/// The service name to label a function of package `crate_name` with.
pub(crate) fn resolve(crate_name: Option<&'static str>) -> String {
    if let Some(name) = CONFIGURED.get() {
        return name.clone();
    }
    from_env()
        .or_else(|| PACKAGE.get().cloned())
        .or_else(|| crate_name.map(str::to_owned))
        .unwrap_or_else(|| UNKNOWN.to_owned())
}
