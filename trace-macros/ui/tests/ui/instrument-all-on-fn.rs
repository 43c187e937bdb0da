use trace_runtime::instrument_all;

#[instrument_all]
fn load() {}

fn main() {}
