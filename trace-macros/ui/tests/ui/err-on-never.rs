use trace_runtime::trace;

#[trace(err)]
fn serve() -> ! {
    loop {}
}

fn main() {
    let _ = serve as fn() -> !;
}
