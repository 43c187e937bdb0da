//! Which recorder a call records into, and whether it is the process-global
//! one.
//!
//! Handles may be cached, leaked and published only for the recorder a
//! thread without a local recorder sees: the global recorder, or the no-op
//! recorder before one is installed. Both live for the whole process, and
//! the global one can be set only once. Any other recorder (one set with
//! `metrics::with_local_recorder`) may be a value on some stack, and another
//! one may later sit at the same address, so calls under it register their
//! handles afresh every time.
//!
//! `metrics` offers no way to ask for the global recorder while a local one
//! is set, so [`is_global`] asks a short-lived thread, which has no local
//! recorder, and remembers the answer once it found a real (not zero-sized,
//! so not the no-op) global recorder. Until then, and for good if the global
//! recorder is zero-sized, each call under a local recorder asks again: the
//! local path is the slow one anyway.

use std::sync::{Mutex, OnceLock, PoisonError};

use metrics::Recorder;

/// The identity of a recorder: its whole `dyn Recorder` pointer, address and
/// vtable, so zero-sized recorders of different types differ.
///
/// A pair of scalars rather than an array, so it is returned in two
/// registers on the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecorderId(usize, usize);

impl RecorderId {
    fn of(recorder: &dyn Recorder) -> RecorderId {
        let ptr = std::ptr::from_ref(recorder);
        // SAFETY: a `*const dyn Recorder` is two pointer-sized words (the
        // transmute checks the size), every value of which is a valid
        // `[usize; 2]`; they are only compared, never made a pointer again.
        let [first, second] =
            unsafe { std::mem::transmute::<*const dyn Recorder, [usize; 2]>(ptr) };
        RecorderId(first, second)
    }
}

/// The identity of the recorder `metrics` uses right now on this thread.
///
/// Every identity is read here, through one instantiation of
/// `metrics::with_recorder`: the no-op recorder's vtable pointer comes from
/// the instantiation (a vtable may be duplicated between code-generation
/// units), so this way it is the same for every reader.
#[inline(never)]
pub(crate) fn current() -> RecorderId {
    metrics::with_recorder(RecorderId::of)
}

/// Runs `f` with the recorder `id` identifies, if it is still this thread's
/// current one (it is not if a global recorder was installed since `id` was
/// read).
pub(crate) fn with_recorder_of<T>(id: RecorderId, f: impl FnOnce(&dyn Recorder) -> T) -> Option<T> {
    // This thread's local recorders cannot change while this runs, and the
    // global one changes at most once, from none to one: if `current()` is
    // still `id` after `recorder` was read, `recorder` is the recorder of `id`.
    metrics::with_recorder(|recorder| (current() == id).then(|| f(recorder)))
}

/// The global recorder, once a real one was found.
static GLOBAL: OnceLock<RecorderId> = OnceLock::new();

/// What the last probe found: the global recorder or the no-op recorder.
static PROBED: Mutex<Option<RecorderId>> = Mutex::new(None);

/// Whether `id` is the process-global recorder (or the no-op recorder that
/// stands in for it before one is installed).
#[cold]
pub(crate) fn is_global(id: RecorderId) -> bool {
    if let Some(global) = GLOBAL.get() {
        return *global == id;
    }
    // What a probe found stays what a thread without a local recorder sees
    // until a global recorder is installed, and then `id` is not it.
    if *PROBED.lock().unwrap_or_else(PoisonError::into_inner) == Some(id) {
        return true;
    }
    probe() == Some(id)
}

/// The recorder a fresh thread sees; `None` if no thread could be started
/// (calls then count as under a local recorder: correct, only slower).
#[cold]
pub(crate) fn probe() -> Option<RecorderId> {
    let (id, zero_sized) = std::thread::Builder::new()
        .name("trace-runtime-probe".to_owned())
        .spawn(|| loop {
            let id = current();
            if let Some(size) = with_recorder_of(id, |r| std::mem::size_of_val(r)) {
                break (id, size == 0);
            }
        })
        .ok()?
        .join()
        .ok()?;
    if !zero_sized {
        // Not the no-op recorder, so the global recorder, which never
        // changes again.
        let _ = GLOBAL.set(id);
    }
    *PROBED.lock().unwrap_or_else(PoisonError::into_inner) = Some(id);
    Some(id)
}

#[cfg(test)]
mod tests {
    use metrics::NoopRecorder;

    use super::{current, is_global, with_recorder_of};

    struct OtherZeroSized;

    impl metrics::Recorder for OtherZeroSized {
        fn describe_counter(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_gauge(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn describe_histogram(
            &self,
            _: metrics::KeyName,
            _: Option<metrics::Unit>,
            _: metrics::SharedString,
        ) {
        }
        fn register_counter(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Counter {
            metrics::Counter::noop()
        }
        fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
            metrics::Gauge::noop()
        }
        fn register_histogram(
            &self,
            _: &metrics::Key,
            _: &metrics::Metadata<'_>,
        ) -> metrics::Histogram {
            metrics::Histogram::noop()
        }
    }

    #[test]
    fn local_recorders_are_not_global_and_zero_sized_ones_of_different_types_differ() {
        // This unit-test binary installs no global recorder.
        let outside = current();
        assert!(is_global(outside));
        let noop = NoopRecorder;
        let other = OtherZeroSized;
        let under_noop = metrics::with_local_recorder(&noop, current);
        let under_other = metrics::with_local_recorder(&other, current);
        assert_ne!(under_noop, under_other);
        assert_ne!(under_noop, outside);
        assert!(!is_global(under_noop));
        assert!(!is_global(under_other));
        assert!(is_global(current()));
        assert_eq!(with_recorder_of(outside, |_| 1), Some(1));
        assert_eq!(
            metrics::with_local_recorder(&other, || with_recorder_of(outside, |_| 1)),
            None
        );
    }
}
