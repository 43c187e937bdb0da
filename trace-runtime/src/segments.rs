//! Arrays that grow in doubling segments which never move: segment `k`
//! holds `FIRST << k` elements, so an array of `n` elements holds at most
//! `2n` slots, 27 segments cover `u32::MAX` indices, and a reference to an
//! element stays valid while the array grows. A request's call nodes and
//! each thread's counter cells live in one.

use std::marker::PhantomData;

use crate::sync::atomic::{AtomicPtr, Ordering};

/// Elements in the first segment.
pub(crate) const FIRST: usize = 64;
/// Segments enough for `u32::MAX` elements.
pub(crate) const SEGMENTS: usize = 27;

/// The segment holding element `index`, and the element's offset in it.
#[inline]
pub(crate) fn locate(index: usize) -> (usize, usize) {
    let group = index / FIRST + 1;
    let segment = (usize::BITS - 1 - group.leading_zeros()) as usize;
    (segment, index - FIRST * ((1 << segment) - 1))
}

/// How many elements segment `segment` holds.
#[inline]
pub(crate) fn segment_len(segment: usize) -> usize {
    FIRST << segment
}

/// A growable array of `T`s that never move. Any thread may read or grow it
/// through `&self`; elements start as `T::default()`.
pub(crate) struct Segmented<T> {
    segments: [AtomicPtr<T>; SEGMENTS],
    /// Owns `T`s: `Send` and `Sync` as they are.
    _owns: PhantomData<Box<[T]>>,
}

impl<T> Segmented<T> {
    /// An array with no segment allocated.
    pub(crate) fn new() -> Self {
        Segmented {
            segments: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            _owns: PhantomData,
        }
    }

    /// Segment `segment`, or `None` if it was never allocated.
    #[inline]
    pub(crate) fn segment(&self, segment: usize) -> Option<&[T]> {
        let base = self.segments.get(segment)?.load(Ordering::Acquire);
        if base.is_null() {
            return None;
        }
        // SAFETY: a non-null `base` was stored by `grow` from a boxed slice
        // of `segment_len(segment)` elements, and segments are freed only by
        // `clear`/`drop`, which no reference handed out by `self` outlives
        // (`clear`'s contract).
        Some(unsafe { std::slice::from_raw_parts(base, segment_len(segment)) })
    }

    /// Element `index`, or `None` if its segment was never allocated.
    #[inline]
    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        let (segment, offset) = locate(index);
        self.get_at(segment, offset)
    }

    /// The element at `offset` in `segment` (as [`locate`] gives them), or
    /// `None` if that segment was never allocated.
    #[inline]
    pub(crate) fn get_at(&self, segment: usize, offset: usize) -> Option<&T> {
        self.segment(segment)?.get(offset)
    }

    /// Calls `f` on each of the first `len` elements, in order; stops
    /// early at a segment that was never allocated.
    #[inline]
    pub(crate) fn for_each(&self, len: usize, mut f: impl FnMut(&T)) {
        let mut left = len;
        for segment in 0..SEGMENTS {
            if left == 0 {
                return;
            }
            let Some(elements) = self.segment(segment) else {
                return;
            };
            let take = left.min(elements.len());
            elements[..take].iter().for_each(&mut f);
            left -= take;
        }
    }

    /// Element `index`, allocating its segment if needed; `None` only past
    /// the last segment.
    #[inline]
    pub(crate) fn get_or_grow(&self, index: usize) -> Option<&T>
    where
        T: Default,
    {
        let (segment, offset) = locate(index);
        self.get_or_grow_at(segment, offset)
    }

    /// [`get_or_grow`](Self::get_or_grow) at a location [`locate`] gave.
    #[inline]
    pub(crate) fn get_or_grow_at(&self, segment: usize, offset: usize) -> Option<&T>
    where
        T: Default,
    {
        if let Some(element) = self.get_at(segment, offset) {
            return Some(element);
        }
        self.grow(segment);
        self.get_at(segment, offset)
    }

    #[cold]
    #[inline(never)]
    fn grow(&self, segment: usize)
    where
        T: Default,
    {
        let Some(slot) = self.segments.get(segment) else {
            return;
        };
        let mut fresh: Box<[T]> = (0..segment_len(segment)).map(|_| T::default()).collect();
        let installed = slot.compare_exchange(
            std::ptr::null_mut(),
            fresh.as_mut_ptr(),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        if installed.is_ok() {
            // Owned by the array from now on; freed by `clear` or `drop`.
            Box::leak(fresh);
        }
        // Otherwise another thread grew it meanwhile: theirs is kept, and
        // `fresh` is dropped here.
    }

    /// Frees every segment; the array reads as empty afterwards.
    ///
    /// # Safety
    /// No reference returned by [`segment`](Self::segment),
    /// [`get`](Self::get), [`iter`](Self::iter) or
    /// [`get_or_grow`](Self::get_or_grow) is alive, and no other thread
    /// uses the array during the call.
    pub(crate) unsafe fn clear(&self) {
        for (segment, base) in self.segments.iter().enumerate() {
            // A plain load first: most segments were never allocated, and a
            // swap is a locked read-modify-write (27 of them cost a one-node
            // tree ~200 ns, in the HTTP bench's delivered row).
            if base.load(Ordering::Acquire).is_null() {
                continue;
            }
            let base = base.swap(std::ptr::null_mut(), Ordering::AcqRel);
            if !base.is_null() {
                let slice = std::ptr::slice_from_raw_parts_mut(base, segment_len(segment));
                // SAFETY: `base` was leaked by `grow` from a boxed slice of
                // this length; swapped out, it is freed exactly once, and
                // the caller guarantees nobody still uses it.
                drop(unsafe { Box::from_raw(slice) });
            }
        }
    }
}

impl<T> Default for Segmented<T> {
    fn default() -> Self {
        Segmented::new()
    }
}

impl<T> Drop for Segmented<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reference into the array is alive.
        unsafe { self.clear() };
    }
}

#[cfg(test)]
mod tests {
    use super::{locate, segment_len, Segmented, FIRST, SEGMENTS};

    #[test]
    fn segments_tile_the_index_space() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(FIRST - 1), (0, FIRST - 1));
        assert_eq!(locate(FIRST), (1, 0));
        assert_eq!(locate(3 * FIRST - 1), (1, 2 * FIRST - 1));
        assert_eq!(locate(3 * FIRST), (2, 0));
        let mut index = 0;
        for segment in 0..12 {
            for offset in [0, segment_len(segment) - 1] {
                assert_eq!(locate(index + offset), (segment, offset));
            }
            index += segment_len(segment);
        }
        let (last, _) = locate(u32::MAX as usize);
        assert!(last < SEGMENTS);
    }

    #[test]
    fn elements_stay_put_while_the_array_grows() {
        let array: Segmented<std::sync::atomic::AtomicU64> = Segmented::new();
        assert!(array.get(5).is_none());
        let first = array.get_or_grow(5).unwrap();
        first.store(7, std::sync::atomic::Ordering::Relaxed);
        let far = array.get_or_grow(10_000).unwrap();
        let mut seen = 0;
        array.for_each(70, |_| seen += 1);
        assert_eq!(seen, 64, "stops at the first segment never allocated");
        far.store(9, std::sync::atomic::Ordering::Relaxed);
        assert!(std::ptr::eq(first, array.get(5).unwrap()));
        assert_eq!(
            array
                .get(5)
                .unwrap()
                .load(std::sync::atomic::Ordering::Relaxed),
            7
        );
        assert_eq!(
            array
                .get(10_000)
                .unwrap()
                .load(std::sync::atomic::Ordering::Relaxed),
            9
        );
        assert!(
            array.get(200).is_none(),
            "a segment between them stays unallocated"
        );
        // SAFETY: no element reference is used past this point.
        unsafe { array.clear() };
        assert!(array.get(5).is_none());
    }
}
