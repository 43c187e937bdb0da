use std::future::Future;
use trace_runtime::trace;

#[trace(fields(id))]
fn load(id: u32) -> impl Future<Output = u32> {
    async move { id }
}

fn main() {
    let _ = load(1);
}
