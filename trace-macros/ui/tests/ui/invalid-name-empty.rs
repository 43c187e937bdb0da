use trace_runtime::trace;

#[trace(name = "")]
fn load() {}

fn main() {}
