//! The Prometheus exporter: install it, make calls, and read the text a
//! scrape of `/metrics` would get.
//!
//! `cargo run -p trace-runtime --example prometheus`

use trace_runtime::{trace, ExporterBuilder};

#[trace]
fn parse(input: &str) -> Result<u32, std::num::ParseIntError> {
    input.parse()
}

fn main() -> Result<(), trace_runtime::exporter::ExportError> {
    // `.serve()` would also serve it on 127.0.0.1:9000.
    let exporter = ExporterBuilder::new()
        .service_name("example")
        .version("1.0.0")
        .install()?;
    for input in ["1", "22", "x"] {
        let _ = parse(input);
    }
    let text = exporter.render();
    for line in text.lines() {
        if line.starts_with("function_calls_total") || line.starts_with("build_info") {
            println!("{line}");
        }
    }
    Ok(())
}
