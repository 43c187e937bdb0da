use trace_runtime::instrument_all;

struct Service;

#[instrument_all(prefix = "svc")]
impl Service {
    fn start(&self) {}
}

fn main() {}
