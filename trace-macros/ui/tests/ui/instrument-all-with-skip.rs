use trace_runtime::instrument_all;

struct Service;

#[instrument_all(skip)]
impl Service {
    fn start(&self) {}
}

fn main() {}
