//! The distinct-call-sites workload: the same request shape as
//! [`workload`](crate::workload) (1 root -> 10 children -> 10 leaves each,
//! 111 calls, same bodies), but stamped out ten times over, so there are
//! [`SITES`] different functions, each with a fixed caller, as in a real
//! program. Request `i` runs tree `i % 10`: the requests go round-robin
//! over every function, and each function's metric series and handles are
//! its own (the `module` label differs: `…::t3::c4::l7::leaf`).
//!
//! One macro generates it for each contender: `[attributes]` stamps them
//! on plain functions (nothing for the uninstrumented baseline), `hand`
//! writes the hand-written clock and cached handles into each body.

/// Functions of the workload: 10 trees of 111.
pub const SITES: u64 = 10 * crate::workload::CALLS_PER_REQUEST;

/// One function, sync or async, with the contender's instrumentation.
macro_rules! site_fn {
    ([$(#[$attr:meta])*] $name:ident $async_name:ident ($x:ident) $body:block $async_body:block) => {
        $(#[$attr])*
        pub fn $name($x: u64) -> u64 $body

        $(#[$attr])*
        pub async fn $async_name($x: u64) -> u64 $async_body
    };
    (hand $name:ident $async_name:ident ($x:ident) $body:block $async_body:block) => {
        static SITE: ::std::sync::OnceLock<$crate::peer::hand_written::Site> =
            ::std::sync::OnceLock::new();

        pub fn $name($x: u64) -> u64 {
            let start = ::quanta::Instant::now();
            let out = $body;
            $crate::peer::hand_written::record(
                $crate::peer::hand_written::site(&SITE, stringify!($name), module_path!()),
                start,
            );
            out
        }

        pub async fn $async_name($x: u64) -> u64 {
            let start = ::quanta::Instant::now();
            let out = $async_body;
            $crate::peer::hand_written::record(
                $crate::peer::hand_written::site(&SITE, stringify!($name), module_path!()),
                start,
            );
            out
        }
    };
}

/// A module holding one leaf.
macro_rules! leaf_mod {
    ($kind:tt $module:ident) => {
        pub mod $module {
            $crate::peer::sites::site_fn!($kind leaf leaf_async (x) {
                $crate::workload::leaf_body(x)
            } {
                $crate::workload::leaf_body(x)
            });
        }
    };
}

/// A module holding one child and its ten leaves.
macro_rules! child_mod {
    ($kind:tt $module:ident) => {
        pub mod $module {
            $crate::peer::sites::leaf_mod!($kind l0);
            $crate::peer::sites::leaf_mod!($kind l1);
            $crate::peer::sites::leaf_mod!($kind l2);
            $crate::peer::sites::leaf_mod!($kind l3);
            $crate::peer::sites::leaf_mod!($kind l4);
            $crate::peer::sites::leaf_mod!($kind l5);
            $crate::peer::sites::leaf_mod!($kind l6);
            $crate::peer::sites::leaf_mod!($kind l7);
            $crate::peer::sites::leaf_mod!($kind l8);
            $crate::peer::sites::leaf_mod!($kind l9);

            $crate::peer::sites::site_fn!($kind child child_async (x) {
                let mut acc = 0;
                acc ^= l0::leaf(x);
                acc ^= l1::leaf(x.wrapping_add(1));
                acc ^= l2::leaf(x.wrapping_add(2));
                acc ^= l3::leaf(x.wrapping_add(3));
                acc ^= l4::leaf(x.wrapping_add(4));
                acc ^= l5::leaf(x.wrapping_add(5));
                acc ^= l6::leaf(x.wrapping_add(6));
                acc ^= l7::leaf(x.wrapping_add(7));
                acc ^= l8::leaf(x.wrapping_add(8));
                acc ^= l9::leaf(x.wrapping_add(9));
                acc
            } {
                let mut acc = 0;
                acc ^= l0::leaf_async(x).await;
                acc ^= l1::leaf_async(x.wrapping_add(1)).await;
                acc ^= l2::leaf_async(x.wrapping_add(2)).await;
                acc ^= l3::leaf_async(x.wrapping_add(3)).await;
                acc ^= l4::leaf_async(x.wrapping_add(4)).await;
                acc ^= l5::leaf_async(x.wrapping_add(5)).await;
                acc ^= l6::leaf_async(x.wrapping_add(6)).await;
                acc ^= l7::leaf_async(x.wrapping_add(7)).await;
                acc ^= l8::leaf_async(x.wrapping_add(8)).await;
                acc ^= l9::leaf_async(x.wrapping_add(9)).await;
                acc
            });
        }
    };
}

/// A module holding one root, its ten children and their leaves.
macro_rules! tree_mod {
    ($kind:tt $module:ident) => {
        pub mod $module {
            $crate::peer::sites::child_mod!($kind c0);
            $crate::peer::sites::child_mod!($kind c1);
            $crate::peer::sites::child_mod!($kind c2);
            $crate::peer::sites::child_mod!($kind c3);
            $crate::peer::sites::child_mod!($kind c4);
            $crate::peer::sites::child_mod!($kind c5);
            $crate::peer::sites::child_mod!($kind c6);
            $crate::peer::sites::child_mod!($kind c7);
            $crate::peer::sites::child_mod!($kind c8);
            $crate::peer::sites::child_mod!($kind c9);

            $crate::peer::sites::site_fn!($kind root root_async (x) {
                let x = x.wrapping_mul($crate::workload::FANOUT);
                let mut acc = 0;
                acc ^= c0::child(x);
                acc ^= c1::child(x.wrapping_add(1));
                acc ^= c2::child(x.wrapping_add(2));
                acc ^= c3::child(x.wrapping_add(3));
                acc ^= c4::child(x.wrapping_add(4));
                acc ^= c5::child(x.wrapping_add(5));
                acc ^= c6::child(x.wrapping_add(6));
                acc ^= c7::child(x.wrapping_add(7));
                acc ^= c8::child(x.wrapping_add(8));
                acc ^= c9::child(x.wrapping_add(9));
                acc
            } {
                let x = x.wrapping_mul($crate::workload::FANOUT);
                let mut acc = 0;
                acc ^= c0::child_async(x).await;
                acc ^= c1::child_async(x.wrapping_add(1)).await;
                acc ^= c2::child_async(x.wrapping_add(2)).await;
                acc ^= c3::child_async(x.wrapping_add(3)).await;
                acc ^= c4::child_async(x.wrapping_add(4)).await;
                acc ^= c5::child_async(x.wrapping_add(5)).await;
                acc ^= c6::child_async(x.wrapping_add(6)).await;
                acc ^= c7::child_async(x.wrapping_add(7)).await;
                acc ^= c8::child_async(x.wrapping_add(8)).await;
                acc ^= c9::child_async(x.wrapping_add(9)).await;
                acc
            });
        }
    };
}

/// Ten trees and the request functions that pick one round-robin.
macro_rules! sites_workload {
    ($kind:tt) => {
        $crate::peer::sites::tree_mod!($kind t0);
        $crate::peer::sites::tree_mod!($kind t1);
        $crate::peer::sites::tree_mod!($kind t2);
        $crate::peer::sites::tree_mod!($kind t3);
        $crate::peer::sites::tree_mod!($kind t4);
        $crate::peer::sites::tree_mod!($kind t5);
        $crate::peer::sites::tree_mod!($kind t6);
        $crate::peer::sites::tree_mod!($kind t7);
        $crate::peer::sites::tree_mod!($kind t8);
        $crate::peer::sites::tree_mod!($kind t9);

        /// Request `x`: tree `x % 10`, sync.
        pub fn request(x: u64) -> u64 {
            match x % 10 {
                0 => t0::root(x),
                1 => t1::root(x),
                2 => t2::root(x),
                3 => t3::root(x),
                4 => t4::root(x),
                5 => t5::root(x),
                6 => t6::root(x),
                7 => t7::root(x),
                8 => t8::root(x),
                _ => t9::root(x),
            }
        }

        /// Request `x`: tree `x % 10`, async.
        pub fn request_async(x: u64) -> u64 {
            $crate::exec::block_on(async move {
                match x % 10 {
                    0 => t0::root_async(x).await,
                    1 => t1::root_async(x).await,
                    2 => t2::root_async(x).await,
                    3 => t3::root_async(x).await,
                    4 => t4::root_async(x).await,
                    5 => t5::root_async(x).await,
                    6 => t6::root_async(x).await,
                    7 => t7::root_async(x).await,
                    8 => t8::root_async(x).await,
                    _ => t9::root_async(x).await,
                }
            })
        }
    };
}

pub(crate) use {child_mod, leaf_mod, site_fn, sites_workload, tree_mod};

/// Uninstrumented: the baseline of this workload.
pub mod none {
    crate::peer::sites::sites_workload!([]);
}

/// `#[trace_runtime::trace]` on every function.
pub mod ours {
    crate::peer::sites::sites_workload!([#[trace_runtime::trace]]);
}

/// The hand-written clock and cached handles in every body.
pub mod hand_written {
    crate::peer::sites::sites_workload!(hand);
}
