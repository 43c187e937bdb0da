use trace_runtime::instrument_all;

struct Rooms;

#[instrument_all(fields(id))]
impl Rooms {
    fn find(&self, id: u32) -> u32 {
        id
    }
}

fn main() {
    let _ = Rooms.find(1);
}
