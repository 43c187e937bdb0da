use trace_runtime::trace;

#[trace(name = "load user")]
fn load() {}

fn main() {}
