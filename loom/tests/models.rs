//! Runs the loom models of trace-runtime's lock-free protocols.

#[test]
fn holders_deliver_once_and_free_after_every_access() {
    trace_loom::holders_deliver_once_and_free_after_every_access();
}

#[test]
fn segments_grow_once_under_races() {
    trace_loom::segments_grow_once_under_races();
}
