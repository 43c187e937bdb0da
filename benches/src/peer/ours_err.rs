//! This project on the same tree of calls returning `Result` (always `Ok`),
//! trees built and delivered as in [`Mode::Built`](super::ours::Mode::Built):
//! under `#[trace]`, and under `#[trace(err)]`, which records an error's
//! text and must cost nothing more when there is none.

/// `#[trace]`.
pub mod plain {
    crate::workload::result_workload!(#[trace_runtime::trace]);
}

/// `#[trace(err)]`.
pub mod err {
    crate::workload::result_workload!(#[trace_runtime::trace(err)]);
}

/// One sync request of the plain workload.
pub fn plain_sync(x: u64) -> u64 {
    plain::root_r(x).unwrap_or(0)
}

/// One async request of the plain workload.
pub fn plain_async(x: u64) -> u64 {
    crate::exec::block_on(plain::root_r_async(x)).unwrap_or(0)
}

/// One sync request under `err`.
pub fn err_sync(x: u64) -> u64 {
    err::root_r(x).unwrap_or(0)
}

/// One async request under `err`.
pub fn err_async(x: u64) -> u64 {
    crate::exec::block_on(err::root_r_async(x)).unwrap_or(0)
}
