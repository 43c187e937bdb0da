use trace_runtime::instrument_all;

struct Service;

#[instrument_all]
impl Service {
    #[trace(skip)]
    fn stop(&self) {}

    #[trace(name = "")]
    fn start(&self) {}
}

fn main() {}
