use trace_runtime::trace;

#[trace(level = "debug")]
fn load() {}

fn main() {}
