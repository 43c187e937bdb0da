use trace_runtime::instrument_all;

struct Service;

#[instrument_all]
impl Service {
    #[trace(name = "start")]
    #[trace(slow = "10ms")]
    fn start(&self) {}
}

fn main() {}
