use trace_runtime::trace;

#[trace(fields(room, room = 2))]
fn join(room: u32) -> u32 {
    room
}

fn main() {
    let _ = join(1);
}
