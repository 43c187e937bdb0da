//! The push thread: a single-threaded tokio runtime of its own that pushes
//! on the interval and on request, and the handle that asks it to.
//!
//! Every wait is bounded: a push by the gateway's timeout, and a caller of
//! [`Pusher::flush`] or [`Pusher::shutdown`] by twice that (a push on the
//! interval may be under way when it asks) and a second more.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::client::Gateway;
use crate::exporter::error::ExportError;

/// Where warnings about failed pushes on the interval are logged.
const TARGET: &str = "trace_runtime::exporter::push";

/// What the thread is asked to do; each carries where to send the result.
enum Command {
    /// Push now.
    Push(mpsc::Sender<Result<(), ExportError>>),
    /// Push once more, then stop.
    Stop(mpsc::Sender<Result<(), ExportError>>),
}

/// The handle of a running push thread. Dropping it stops the thread after
/// a last push.
pub(crate) struct Pusher {
    /// `None` once shut down.
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    /// The longest a caller waits for an answer.
    patience: Duration,
    url: String,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Pusher {
    /// Starts the thread: it pushes `render()`'s text to `gateway` every
    /// `interval`, and when asked.
    pub(crate) fn start(
        gateway: Gateway,
        interval: Duration,
        timeout: Duration,
        render: impl Fn() -> String + Send + 'static,
    ) -> Result<Pusher, ExportError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(ExportError::Thread)?;
        let url = gateway.url();
        let (commands, received) = mpsc::channel();
        std::thread::Builder::new()
            .name("trace-runtime-push".to_owned())
            .spawn(move || {
                run(&received, interval, || {
                    runtime.block_on(gateway.push(render()))
                });
                // A name lookup stuck in the blocking pool must not hold
                // the thread.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .map_err(ExportError::Thread)?;
        Ok(Pusher {
            commands: Mutex::new(Some(commands)),
            patience: timeout * 2 + Duration::from_secs(1),
            url,
        })
    }

    /// Pushes now and waits for the gateway's answer.
    pub(crate) fn flush(&self) -> Result<(), ExportError> {
        let commands = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(ExportError::PushStopped)?;
        self.ask(&commands, Command::Push)
    }

    /// Pushes a last time and stops the thread; `Ok` without pushing when
    /// already shut down.
    pub(crate) fn shutdown(&self) -> Result<(), ExportError> {
        let Some(commands) = self
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        self.ask(&commands, Command::Stop)
    }

    fn ask(
        &self,
        commands: &mpsc::Sender<Command>,
        command: fn(mpsc::Sender<Result<(), ExportError>>) -> Command,
    ) -> Result<(), ExportError> {
        let (reply, answer) = mpsc::channel();
        commands
            .send(command(reply))
            .map_err(|_| ExportError::PushStopped)?;
        match answer.recv_timeout(self.patience) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => Err(ExportError::PushTimeout {
                url: self.url.clone(),
                after: self.patience,
            }),
            Err(RecvTimeoutError::Disconnected) => Err(ExportError::PushStopped),
        }
    }
}

impl Drop for Pusher {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::warn!(target: TARGET, "the last push failed: {err}");
        }
    }
}

/// The thread's loop: pushes with `push` every `interval` and on each
/// command, until told to stop or every handle is gone.
fn run(
    commands: &mpsc::Receiver<Command>,
    interval: Duration,
    push: impl Fn() -> Result<(), ExportError>,
) {
    let mut next = Instant::now() + interval;
    // Failures on the interval are logged once, until a push succeeds again.
    let mut failing = false;
    loop {
        match commands.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Err(RecvTimeoutError::Timeout) => {
                let result = push();
                if let (Err(err), false) = (&result, failing) {
                    tracing::warn!(target: TARGET, "push failed, retrying every {interval:?}: {err}");
                } else if result.is_ok() && failing {
                    tracing::info!(target: TARGET, "pushing again");
                }
                failing = result.is_err();
                next = Instant::now() + interval;
            }
            Ok(Command::Push(reply)) => {
                let _ = reply.send(push());
            }
            Ok(Command::Stop(reply)) => {
                let _ = reply.send(push());
                return;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
