use trace_runtime::trace;

struct Service;

#[trace]
impl Service {
    fn start(&self) {}
}

fn main() {}
