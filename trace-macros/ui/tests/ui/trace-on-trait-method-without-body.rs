use trace_runtime::trace;

trait Store {
    #[trace]
    fn load(&self, id: u32) -> Option<String>;
}

fn main() {}
