use trace_runtime::objective::{Latency, Objective, Percentile};

// Latency targets are the default buckets: there is no 300 ms one.
const API: Objective = Objective::new("api").latency(Latency::Ms300, Percentile::P99);

fn main() {
    let _ = API;
}
