use trace_runtime::trace;

#[trace(err)]
fn count() -> u32 {
    3
}

fn main() {
    let _ = count();
}
