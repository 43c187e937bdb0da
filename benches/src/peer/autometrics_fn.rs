//! autometrics' `#[autometrics]` with its `metrics-0_24` backend, i.e. the
//! same `metrics` facade and Prometheus recorder as this project.

crate::workload::tree_workload!(#[autometrics::autometrics]);
