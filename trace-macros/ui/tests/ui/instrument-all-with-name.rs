use trace_runtime::instrument_all;

struct Service;

#[instrument_all(name = "Service")]
impl Service {
    fn start(&self) {}
}

fn main() {}
