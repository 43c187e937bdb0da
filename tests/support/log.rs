//! [`LogBuffer`]: an `io::Write` into a shared buffer, for a `fmt`
//! subscriber whose output a test reads back.

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
