use trace_runtime::trace;

#[trace(fields(%user = name))]
fn greet(name: &str) -> usize {
    name.len()
}

fn main() {
    let _ = greet("ann");
}
