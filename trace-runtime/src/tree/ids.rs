//! A tree's distributed-trace ids: one W3C trace id per tree (the remote
//! parent's, else random) and one span id per node, derived from a random
//! per-tree salt and the node's key (the order its call opened in), so the
//! id of a running call is known before the tree is built
//! ([`current_traceparent`](crate::context::current_traceparent)) and equals
//! the id its finished node reports
//! ([`CallNode::span_id`](crate::tree::CallNode::span_id)).
//!
//! Made once per tree, and only when first asked for: the per-call path
//! never touches them.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::traceparent::TraceParent;

/// The ids of one tree.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TraceIds {
    pub(crate) trace_id: [u8; 16],
    /// Random, non-zero; mixed with each node's key into its span id.
    salt: u64,
}

impl TraceIds {
    /// The ids of a tree called from `remote` (same trace), or of a new trace.
    pub(crate) fn new(remote: Option<&TraceParent>) -> TraceIds {
        let trace_id = remote.map_or_else(
            || {
                let mut id = [0; 16];
                id[..8].copy_from_slice(&random_u64().to_be_bytes());
                id[8..].copy_from_slice(&random_u64().to_be_bytes());
                id
            },
            |remote| remote.trace_id,
        );
        TraceIds {
            trace_id,
            salt: random_u64(),
        }
    }

    /// The span id of the node with `key`: distinct for distinct keys of one
    /// tree (an odd multiple of the key added to the salt, through a
    /// bijective mixer), never zero.
    pub(crate) fn span_id(&self, key: u32) -> [u8; 8] {
        let mut x = self
            .salt
            .wrapping_add(u64::from(key).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // splitmix64's finaliser: a bijection on u64.
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        // Zero is not a valid span id; one in 2^64.
        x.max(1).to_be_bytes()
    }
}

/// A random non-zero `u64`: std's per-process random hash keys over a
/// counter (no dependency; ids need to be unique, not secret).
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    loop {
        let value = state.hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
        if value != 0 {
            return value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TraceIds;
    use crate::traceparent::TraceParent;
    use std::collections::HashSet;

    #[test]
    fn span_ids_are_distinct_per_key_and_per_tree() {
        let a = TraceIds::new(None);
        let b = TraceIds::new(None);
        assert_ne!(a.trace_id, b.trace_id);
        assert_ne!(a.trace_id, [0; 16]);
        let mut seen = HashSet::new();
        for key in (0..5_000).chain([1 << 31, (1 << 31) + 1]) {
            assert!(seen.insert(a.span_id(key)), "key {key} repeats");
            assert!(
                seen.insert(b.span_id(key)),
                "key {key} repeats across trees"
            );
        }
        assert_eq!(a.span_id(7), a.span_id(7));
    }

    #[test]
    fn a_remote_parent_gives_its_trace_id() {
        let remote =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        let ids = TraceIds::new(Some(&remote));
        assert_eq!(ids.trace_id, remote.trace_id);
        assert_ne!(ids.span_id(0), remote.parent_id);
    }
}
