use trace_runtime::trace;

#[trace(err(Json))]
fn load() -> Result<u32, String> {
    Ok(1)
}

fn main() {
    let _ = load();
}
