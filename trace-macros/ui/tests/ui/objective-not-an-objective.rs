use trace_runtime::trace;

const NOT_AN_OBJECTIVE: u32 = 7;

#[trace(objective = NOT_AN_OBJECTIVE)]
fn f() {}

fn main() {
    f();
}
