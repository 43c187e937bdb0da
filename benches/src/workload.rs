//! The workload every peer runs: a 3-level tree of tiny functions, 1 root ->
//! 10 children -> 10 grandchildren each, so 111 traced calls per request,
//! in a sync and an async variant with the same bodies.

/// Calls below each non-leaf function.
pub const FANOUT: u64 = 10;

/// Traced calls per request: 1 + 10 + 100.
pub const CALLS_PER_REQUEST: u64 = 1 + FANOUT + FANOUT * FANOUT;

/// The work of a leaf: a few integer operations the optimiser cannot skip.
#[inline(always)]
pub fn leaf_body(x: u64) -> u64 {
    std::hint::black_box(x)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17)
        ^ 0xA5
}

/// Defines `leaf`, `child`, `root` and their `_async` twins, each carrying
/// the given attributes (nothing for the uninstrumented baseline).
macro_rules! tree_workload {
    ($(#[$attr:meta])*) => {
        $(#[$attr])*
        pub fn leaf(x: u64) -> u64 {
            $crate::workload::leaf_body(x)
        }

        $(#[$attr])*
        pub fn child(x: u64) -> u64 {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= leaf(x.wrapping_add(i));
            }
            acc
        }

        $(#[$attr])*
        pub fn root(x: u64) -> u64 {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= child(x.wrapping_mul($crate::workload::FANOUT).wrapping_add(i));
            }
            acc
        }

        $(#[$attr])*
        pub async fn leaf_async(x: u64) -> u64 {
            $crate::workload::leaf_body(x)
        }

        $(#[$attr])*
        pub async fn child_async(x: u64) -> u64 {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= leaf_async(x.wrapping_add(i)).await;
            }
            acc
        }

        $(#[$attr])*
        pub async fn root_async(x: u64) -> u64 {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= child_async(x.wrapping_mul($crate::workload::FANOUT).wrapping_add(i)).await;
            }
            acc
        }
    };
}

pub(crate) use tree_workload;

/// The same tree of calls returning `Result<u64, String>` (always `Ok`):
/// `leaf_r`, `child_r`, `root_r` and their `_async` twins, for measuring
/// `#[trace(err)]` on calls that succeed against `#[trace]` on the same
/// functions.
#[allow(unused_macros, reason = "used by the hot_path binary only")]
macro_rules! result_workload {
    ($(#[$attr:meta])*) => {
        $(#[$attr])*
        pub fn leaf_r(x: u64) -> Result<u64, String> {
            Ok($crate::workload::leaf_body(x))
        }

        $(#[$attr])*
        pub fn child_r(x: u64) -> Result<u64, String> {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= leaf_r(x.wrapping_add(i))?;
            }
            Ok(acc)
        }

        $(#[$attr])*
        pub fn root_r(x: u64) -> Result<u64, String> {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= child_r(x.wrapping_mul($crate::workload::FANOUT).wrapping_add(i))?;
            }
            Ok(acc)
        }

        $(#[$attr])*
        pub async fn leaf_r_async(x: u64) -> Result<u64, String> {
            Ok($crate::workload::leaf_body(x))
        }

        $(#[$attr])*
        pub async fn child_r_async(x: u64) -> Result<u64, String> {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= leaf_r_async(x.wrapping_add(i)).await?;
            }
            Ok(acc)
        }

        $(#[$attr])*
        pub async fn root_r_async(x: u64) -> Result<u64, String> {
            let mut acc = 0;
            for i in 0..$crate::workload::FANOUT {
                acc ^= child_r_async(x.wrapping_mul($crate::workload::FANOUT).wrapping_add(i)).await?;
            }
            Ok(acc)
        }
    };
}

#[allow(unused_imports, reason = "used by the hot_path binary only")]
pub(crate) use result_workload;
