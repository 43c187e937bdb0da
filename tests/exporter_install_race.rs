//! Calls running on other threads while the exporter installs itself: every
//! call site registers under the new recorder either before it exists or
//! after it is fully set up, so the rendered text has one duration family
//! and only the configured service name.
#![warn(clippy::pedantic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use trace_runtime::{trace, ExporterBuilder};

#[trace]
fn racing_call(x: u64) -> u64 {
    x.wrapping_mul(3)
}

#[test]
fn calls_racing_the_install_land_in_one_histogram_family() {
    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut x = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    x = racing_call(std::hint::black_box(x));
                }
            })
        })
        .collect();
    let exporter = ExporterBuilder::new()
        .service_name("race-svc")
        .install()
        .expect("the only recorder of this test binary");
    // Calls made after the install: a few more registrations' worth.
    for x in 0..1000 {
        std::hint::black_box(racing_call(x));
    }
    stop.store(true, Ordering::Relaxed);
    for caller in callers {
        caller.join().unwrap();
    }
    let text = exporter.render();
    assert_eq!(
        text.matches("# TYPE function_calls_duration_seconds histogram")
            .count(),
        1,
        "{text}"
    );
    let series: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("function_calls_") && l.contains("function=\"racing_call\""))
        .collect();
    assert!(!series.is_empty(), "{text}");
    for line in series {
        assert!(line.contains("service_name=\"race-svc\""), "{line}\n{text}");
    }
}
