//! A recorder installed after traced calls already ran (and cached their
//! handles to the no-op recorder) still receives every later call.
//!
//! The recorder is the global one, since that is what is tested: call sites
//! cache their handles only for the global recorder, which can be installed
//! once, after calls ran. One test only: the calls before it is installed
//! must really run first.
#![warn(clippy::pedantic)]

use trace_runtime::{instrument_all, trace};
use trace_suite::metrics::{
    call_line, concurrent_line, duration_line, global, install_global, ROOT,
};

const MODULE: &str = module_path!();

#[trace]
fn early_leaf(fail: bool) -> Result<u8, String> {
    if fail {
        Err("asked to fail".to_owned())
    } else {
        Ok(1)
    }
}

#[trace]
fn early_parent() -> u8 {
    early_leaf(false).unwrap_or(0) + early_leaf(true).unwrap_or(0)
}

#[trace]
async fn early_async() -> u8 {
    tokio::task::yield_now().await;
    early_parent()
}

struct Early {
    offset: u8,
}

#[instrument_all]
impl Early {
    fn method(&self) -> u8 {
        early_parent() + self.offset
    }
}

/// Every shape of call once: a root, nested calls (one `Err`), an async
/// call and a method.
fn call_everything(runtime: &tokio::runtime::Runtime) {
    assert_eq!(early_parent(), 1);
    assert_eq!(runtime.block_on(early_async()), 1);
    assert_eq!(Early { offset: 1 }.method(), 2);
}

#[test]
fn a_recorder_installed_after_calls_ran_receives_every_later_call() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    // No recorder yet: these calls go to the no-op recorder, and every call
    // site has cached its handles for it.
    for _ in 0..3 {
        call_everything(&runtime);
    }

    install_global();
    for _ in 0..2 {
        call_everything(&runtime);
    }

    // Exactly the two later rounds, nothing lost and nothing from before.
    let m = global();
    let parent = ("early_parent", MODULE);
    assert_eq!(
        m.call_lines("early_leaf"),
        [
            call_line("early_leaf", MODULE, "error", parent, 6),
            call_line("early_leaf", MODULE, "ok", parent, 6),
        ]
    );
    assert_eq!(
        m.call_lines("early_parent"),
        [
            call_line("early_parent", MODULE, "ok", ROOT, 2),
            call_line("early_parent", MODULE, "ok", ("Early::method", MODULE), 2),
            call_line("early_parent", MODULE, "ok", ("early_async", MODULE), 2),
        ]
    );
    assert_eq!(
        m.call_lines("early_async"),
        [call_line("early_async", MODULE, "ok", ROOT, 2)]
    );
    assert_eq!(
        m.call_lines("Early::method"),
        [call_line("Early::method", MODULE, "ok", ROOT, 2)]
    );
    assert_eq!(
        m.duration_counts("early_leaf"),
        [duration_line("early_leaf", MODULE, 12)]
    );
    assert_eq!(
        m.concurrent("early_async"),
        [concurrent_line("early_async", MODULE, 0)]
    );
}
