//! Bad exporter configuration comes back as a typed [`ExportError`] whose
//! message says what to fix, never as a panic, and before anything is
//! installed: after every failure a correct configuration still installs.
#![warn(clippy::pedantic)]

use std::net::TcpListener;

use trace_runtime::{exporter::ExportError, ExporterBuilder};

#[test]
fn an_address_in_use_is_a_bind_error_that_names_the_address() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = ExporterBuilder::new()
        .listen(addr.to_string())
        .serve()
        .unwrap_err();
    let ExportError::Bind {
        addr: tried,
        source,
    } = &err
    else {
        panic!("expected a bind error, got {err:?}");
    };
    assert_eq!(*tried, addr);
    assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
    assert_eq!(
        err.to_string(),
        format!(
            "cannot listen on {addr}: the address is already in use; stop the other process or choose another port with `.listen(...)`"
        )
    );
    // The OS error stays reachable for callers that want it.
    let source = std::error::Error::source(&err).expect("the io::Error");
    assert_eq!(
        source.downcast_ref::<std::io::Error>().unwrap().kind(),
        std::io::ErrorKind::AddrInUse
    );
    // `main() -> Result<(), Box<dyn Error>>` prints the `Debug` form: the
    // same message, not the enum.
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(format!("{boxed:?}"), boxed.to_string());
    drop(taken);
}

#[test]
fn a_global_label_that_prometheus_cannot_take_is_named() {
    for name in ["", "9lives", "__reserved", "with-dash", "é"] {
        let err = ExporterBuilder::new()
            .global_label(name, "x")
            .install()
            .unwrap_err();
        let ExportError::InvalidLabelName { name: given } = &err else {
            panic!("expected an invalid label name error, got {err:?}");
        };
        assert_eq!(given, name);
        assert!(
            err.to_string().contains("letters, digits and underscores"),
            "{err}"
        );
    }
}

#[test]
fn unparsable_addresses_are_rejected_with_an_example_of_a_good_one() {
    for input in [
        "",
        "localhost:9000",
        "127.0.0.1",
        "127.0.0.1:99999",
        ":9000",
        "http://127.0.0.1:9000",
        "not an address",
    ] {
        let err = ExporterBuilder::new().listen(input).serve().unwrap_err();
        assert!(
            matches!(&err, ExportError::InvalidAddress { input: given } if given == input),
            "{input:?}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "invalid listen address {input:?}: give an IP address and port such as \"127.0.0.1:9000\" or \"[::1]:9000\""
            )
        );
    }
}

#[test]
fn surrounding_whitespace_in_an_address_is_not_an_error() {
    // Validation passes; binding the taken port then fails, which proves the
    // trimmed address was parsed (and keeps this test from installing).
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = ExporterBuilder::new()
        .listen(format!("  {addr}\n"))
        .serve()
        .unwrap_err();
    assert!(
        matches!(err, ExportError::Bind { addr: tried, .. } if tried == addr),
        "{err:?}"
    );
}

#[test]
fn empty_buckets_are_rejected_by_install_and_serve() {
    for err in [
        ExporterBuilder::new().buckets(&[]).install().unwrap_err(),
        ExporterBuilder::new()
            .listen("127.0.0.1:0")
            .buckets(&[])
            .serve()
            .unwrap_err(),
    ] {
        assert!(matches!(err, ExportError::EmptyBuckets), "{err:?}");
        assert_eq!(
            err.to_string(),
            "histogram buckets are empty: give at least one upper bound in seconds, e.g. `.buckets(&[0.01, 0.1, 1.0])`"
        );
    }
}

/// The error for `buckets`, which must be an invalid bucket at `index`.
fn invalid_bucket(buckets: &[f64]) -> (usize, f64, String) {
    let err = ExporterBuilder::new()
        .buckets(buckets)
        .install()
        .unwrap_err();
    match err {
        ExportError::InvalidBucket { index, value } => (index, value, err.to_string()),
        other => panic!("{buckets:?}: expected InvalidBucket, got {other:?}"),
    }
}

const ORDER: &str =
    "each bound must be larger than the one before it; sort the list and drop repeats";
const FINITE: &str = "bounds must be finite numbers of seconds";
const POSITIVE: &str = "bounds must be positive";

#[test]
fn unsorted_and_duplicate_buckets_name_the_first_offending_bound() {
    assert_eq!(
        invalid_bucket(&[0.1, 0.05, 1.0]),
        (
            1,
            0.05,
            format!("histogram bucket 1 (0.05) is invalid: {ORDER}")
        )
    );
    assert_eq!(
        invalid_bucket(&[0.1, 0.5, 0.5, 1.0]),
        (
            2,
            0.5,
            format!("histogram bucket 2 (0.5) is invalid: {ORDER}")
        )
    );
}

#[test]
fn negative_zero_and_infinite_buckets_are_rejected() {
    assert_eq!(
        invalid_bucket(&[-1.0, 1.0]),
        (
            0,
            -1.0,
            format!("histogram bucket 0 (-1) is invalid: {POSITIVE}")
        )
    );
    assert_eq!(
        invalid_bucket(&[0.0, 1.0]),
        (
            0,
            0.0,
            format!("histogram bucket 0 (0) is invalid: {POSITIVE}")
        )
    );
    assert_eq!(
        invalid_bucket(&[1.0, f64::INFINITY]),
        (
            1,
            f64::INFINITY,
            format!("histogram bucket 1 (inf) is invalid: {FINITE}")
        )
    );
}

#[test]
fn nan_buckets_are_rejected() {
    let (index, value, message) = invalid_bucket(&[0.1, f64::NAN, 1.0]);
    assert_eq!(index, 1);
    assert!(value.is_nan());
    assert_eq!(
        message,
        format!("histogram bucket 1 (NaN) is invalid: {FINITE}")
    );
}

#[test]
fn an_empty_service_name_is_rejected() {
    for name in ["", "   ", "\t\n"] {
        for err in [
            ExporterBuilder::new()
                .service_name(name)
                .install()
                .unwrap_err(),
            ExporterBuilder::new()
                .listen("127.0.0.1:0")
                .service_name(name)
                .serve()
                .unwrap_err(),
        ] {
            assert!(matches!(err, ExportError::EmptyServiceName), "{err:?}");
            assert_eq!(
                err.to_string(),
                "service name is empty: pass a non-empty name to `.service_name(...)` or leave it unset"
            );
        }
    }
}

#[test]
fn validation_runs_before_the_address_is_bound() {
    // Bad buckets win over a taken address: nothing was bound or installed.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = ExporterBuilder::new()
        .listen(taken.local_addr().unwrap().to_string())
        .buckets(&[2.0, 1.0])
        .serve()
        .unwrap_err();
    assert!(
        matches!(err, ExportError::InvalidBucket { index: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn invalid_buckets_for_other_histograms_name_their_suffix() {
    let err = ExporterBuilder::new()
        .histogram_buckets("_request_seconds", &[0.5, 0.1])
        .install()
        .unwrap_err();
    assert!(
        matches!(
            &err,
            ExportError::InvalidHistogramBuckets { suffix, bound: Some((1, _)) }
                if suffix == "_request_seconds"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "histogram bucket 1 (0.1) for `*_request_seconds` is invalid: bounds must be finite, positive and strictly increasing"
    );
    let err = ExporterBuilder::new()
        .histogram_buckets("_bytes", &[])
        .install()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "histogram buckets for `*_bytes` are empty: give at least one upper bound"
    );
}

#[test]
fn no_failure_installed_a_recorder() {
    // The other tests of this binary only ever fail before installing, so
    // they cannot interfere with this one, whichever order they run in.
    let exporter = ExporterBuilder::new()
        .service_name("after-errors")
        .install()
        .expect("no earlier failure left a recorder installed");
    assert!(exporter.local_addr().is_none());
    // Without `.push_gateway(...)` there is nothing to push: flush and
    // shutdown say so rather than succeeding silently.
    for result in [exporter.flush(), exporter.shutdown()] {
        let err = result.unwrap_err();
        assert!(matches!(err, ExportError::PushNotConfigured), "{err:?}");
        assert_eq!(
            err.to_string(),
            "no push gateway is configured: add `.push_gateway(PushGateway::new(url, job))` to the ExporterBuilder before calling flush() or shutdown()"
        );
    }
    let again = ExporterBuilder::new().install().unwrap_err();
    assert!(matches!(again, ExportError::RecorderAlreadyInstalled));
    assert_eq!(
        again.to_string(),
        "a global metrics recorder is already installed: build the exporter once, before any other recorder"
    );
}

#[test]
fn an_objective_latency_outside_custom_buckets_is_named() {
    use trace_runtime::objective::{Latency, Objective, Percentile};
    const SLOW: Objective = Objective::new("reports").latency(Latency::Ms2500, Percentile::P90);
    let err = ExporterBuilder::new()
        .buckets(&[0.1, 1.0, 10.0])
        .objective(SLOW)
        .install()
        .unwrap_err();
    assert!(matches!(
        err,
        ExportError::ObjectiveNotABucket {
            objective: "reports",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "objective \"reports\" has a latency target of 2.5 s, which is not one of the histogram buckets: add 2.5 to `.buckets(...)`"
    );
}
