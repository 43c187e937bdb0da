use trace_runtime::trace;

#[derive(Debug)]
struct NoDisplay;

#[trace(err)]
fn load() -> Result<u32, NoDisplay> {
    Err(NoDisplay)
}

fn main() {
    let _ = load();
}
