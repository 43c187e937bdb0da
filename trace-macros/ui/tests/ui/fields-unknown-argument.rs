use trace_runtime::trace;

#[trace(fields(room, user))]
fn join(room: u32, player: &str) -> usize {
    player.len() + room as usize
}

fn main() {
    let _ = join(1, "ann");
}
