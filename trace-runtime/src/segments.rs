//! Index arithmetic of arrays stored in doubling segments that never move:
//! segment `k` holds `FIRST << k` elements, so an array of `n` elements
//! holds at most `2n` slots, and 27 segments cover `u32::MAX` indices.
//! Used by a request's call nodes and by each thread's counter cells.

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

#[cfg(test)]
mod tests {
    use super::{locate, segment_len, FIRST, SEGMENTS};

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
}
