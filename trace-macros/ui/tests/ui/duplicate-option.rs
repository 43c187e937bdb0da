use trace_runtime::trace;

#[trace(name = "load", name = "fetch")]
fn load() {}

fn main() {}
