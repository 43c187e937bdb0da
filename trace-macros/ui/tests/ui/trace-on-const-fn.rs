use trace_runtime::trace;

#[trace]
const fn limit() -> u32 {
    64
}

fn main() {}
