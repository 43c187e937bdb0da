//! A minimal executor for the async variant: the workload never waits, so
//! one poll with a no-op waker completes it and no runtime cost is measured.

use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Polls `future` on this thread until it completes.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::hint::spin_loop();
    }
}
