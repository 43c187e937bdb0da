//! [`LogBuffer`]: an `io::Write` into a shared buffer, for a `fmt`
//! subscriber whose output a test reads back, and that subscriber
//! ([`LogBuffer::install_global`]).

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

/// Clones write into the same buffer.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// Installs, as the process's global default, a `fmt` subscriber that
    /// writes every event at `INFO` and above here, without timestamps or
    /// colours, and returns the buffer. One per test binary: `tracing`
    /// caches per-callsite interest, which scoped subscribers in parallel
    /// tests race on.
    ///
    /// # Panics
    /// If a global subscriber is already installed.
    #[must_use]
    pub fn install_global() -> LogBuffer {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .without_time()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .init();
        buffer
    }

    /// Everything written so far, emptying the buffer.
    ///
    /// # Panics
    /// If what was written is not UTF-8.
    #[must_use]
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        String::from_utf8(bytes).unwrap()
    }
}
