use trace_runtime::trace;

#[trace(slow = "50 millis")]
fn load() {}

fn main() {}
