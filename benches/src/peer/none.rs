//! The uninstrumented baseline: the workload's functions with no attribute.
//! Every overhead figure is measured against it.

crate::workload::tree_workload!();
