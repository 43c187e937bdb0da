//! The bounded queue between the threads that deliver trees and the
//! exporter thread, in spans: a tree that does not fit is dropped whole and
//! its spans counted, so memory stays bounded whatever the backend does.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use trace_runtime::tree::CallTree;

/// Trees waiting for the exporter thread.
pub(crate) struct Queue {
    state: Mutex<State>,
    /// The exporter thread waits on it for work.
    work: Condvar,
    /// Callers of [`flush`](Queue::flush) wait on it.
    flushed: Condvar,
    max_spans: usize,
    batch: usize,
}

struct State {
    trees: VecDeque<(CallTree, usize)>,
    spans: usize,
    shutdown: bool,
    /// Flushes asked for, and the last one the exporter thread completed.
    flush_asked: u64,
    flush_done: u64,
}

/// What the exporter thread took from the queue.
pub(crate) struct Taken {
    pub(crate) trees: Vec<CallTree>,
    /// The flush this work completes, once exported.
    pub(crate) ticket: u64,
    pub(crate) shutdown: bool,
}

impl Queue {
    /// A queue of at most `max_spans` spans (plus one tree larger than that,
    /// when empty), woken when `batch` spans wait.
    pub(crate) fn new(max_spans: usize, batch: usize) -> Queue {
        Queue {
            state: Mutex::new(State {
                trees: VecDeque::new(),
                spans: 0,
                shutdown: false,
                flush_asked: 0,
                flush_done: 0,
            }),
            work: Condvar::new(),
            flushed: Condvar::new(),
            max_spans,
            batch,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `tree` (`spans` nodes) unless it does not fit or the exporter
    /// has shut down; `false` if dropped.
    pub(crate) fn push(&self, tree: CallTree, spans: usize) -> bool {
        let mut state = self.lock();
        if state.shutdown || (state.spans > 0 && state.spans + spans > self.max_spans) {
            return false;
        }
        let before = state.spans;
        state.spans += spans;
        state.trees.push_back((tree, spans));
        let wake = before < self.batch && state.spans >= self.batch;
        drop(state);
        if wake {
            self.work.notify_one();
        }
        true
    }

    /// Waits until a batch is full, a flush or shutdown is asked for, or
    /// `delay` has passed, and takes every queued tree.
    pub(crate) fn take(&self, delay: Duration) -> Taken {
        let deadline = Instant::now() + delay;
        let mut state = self.lock();
        loop {
            let ready =
                state.spans >= self.batch || state.shutdown || state.flush_asked > state.flush_done;
            let now = Instant::now();
            if ready || now >= deadline {
                break;
            }
            state = self
                .work
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.spans = 0;
        Taken {
            trees: state.trees.drain(..).map(|(tree, _)| tree).collect(),
            ticket: state.flush_asked,
            shutdown: state.shutdown,
        }
    }

    /// The exporter thread has exported what it took with `ticket`.
    pub(crate) fn finished(&self, ticket: u64) {
        let mut state = self.lock();
        if ticket > state.flush_done {
            state.flush_done = ticket;
            drop(state);
            self.flushed.notify_all();
        }
    }

    /// Asks the exporter thread to export what is queued now and waits for
    /// it, at most `timeout`; `false` on time-out or after shutdown.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let mut state = self.lock();
        if state.shutdown {
            return false;
        }
        state.flush_asked += 1;
        let ticket = state.flush_asked;
        self.work.notify_one();
        let (state, waited) = self
            .flushed
            .wait_timeout_while(state, timeout, |s| s.flush_done < ticket)
            .unwrap_or_else(PoisonError::into_inner);
        drop(state);
        !waited.timed_out()
    }

    /// Stops accepting trees and wakes the exporter thread to export the
    /// rest and stop.
    pub(crate) fn shut_down(&self) {
        self.lock().shutdown = true;
        self.work.notify_one();
    }
}
