use trace_runtime::instrument_all;

struct Service;

#[instrument_all]
impl Service {
    #[trace(name = "limit")]
    const fn limit() -> u32 {
        64
    }
}

fn main() {}
