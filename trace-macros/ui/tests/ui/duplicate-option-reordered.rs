use trace_runtime::trace;

#[trace(skip, name = "load", skip)]
fn load() {}

fn main() {}
