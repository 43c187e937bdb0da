use trace_runtime::trace;

#[trace]
struct Service {
    port: u16,
}

fn main() {}
