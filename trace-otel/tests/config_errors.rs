//! Bad settings, in code or in the `OTEL_*` environment, come back from
//! `install` as typed errors whose message says what to fix. One test: the
//! environment is the process's, so its cases run in order.
#![warn(clippy::pedantic)]

use trace_otel::{ConfigError, OtlpBuilder};

fn error(builder: OtlpBuilder) -> ConfigError {
    match builder.install() {
        Ok(_) => panic!("the settings were accepted"),
        Err(err) => err,
    }
}

#[test]
fn bad_settings_are_typed_errors_that_say_what_to_fix() {
    let err = error(OtlpBuilder::new().sample_ratio(1.5));
    assert!(matches!(err, ConfigError::InvalidRatio { value } if (value - 1.5).abs() < 1e-12));
    assert!(err.to_string().contains("between 0 and 1"), "{err}");

    let err = error(OtlpBuilder::new().sample_ratio(1.0).max_queue_spans(0));
    assert!(
        matches!(
            err,
            ConfigError::ZeroSize {
                setting: "the queue size"
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("give at least 1"), "{err}");

    let err = error(OtlpBuilder::new().sample_ratio(1.0).batch_size(0));
    assert!(
        matches!(
            err,
            ConfigError::ZeroSize {
                setting: "the batch size"
            }
        ),
        "{err}"
    );

    let err = error(OtlpBuilder::new().sample_ratio(1.0).service_name(""));
    assert!(matches!(err, ConfigError::EmptyServiceName), "{err}");
    assert!(err.to_string().contains(".service_name(...)"), "{err}");

    std::env::set_var("OTEL_TRACES_SAMPLER", "sometimes");
    let err = error(OtlpBuilder::new());
    assert!(
        matches!(
            err,
            ConfigError::InvalidEnv {
                name: "OTEL_TRACES_SAMPLER",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("fix or unset it"), "{err}");

    std::env::set_var("OTEL_TRACES_SAMPLER", "traceidratio");
    std::env::set_var("OTEL_TRACES_SAMPLER_ARG", "2");
    let err = error(OtlpBuilder::new());
    assert!(
        matches!(
            err,
            ConfigError::InvalidEnv {
                name: "OTEL_TRACES_SAMPLER_ARG",
                ..
            }
        ),
        "{err}"
    );
    std::env::remove_var("OTEL_TRACES_SAMPLER");
    std::env::remove_var("OTEL_TRACES_SAMPLER_ARG");

    std::env::set_var("OTEL_BSP_MAX_QUEUE_SIZE", "lots");
    let err = error(OtlpBuilder::new());
    assert!(
        matches!(
            err,
            ConfigError::InvalidEnv {
                name: "OTEL_BSP_MAX_QUEUE_SIZE",
                ..
            }
        ),
        "{err}"
    );
    std::env::remove_var("OTEL_BSP_MAX_QUEUE_SIZE");

    // An endpoint the OTLP exporter cannot parse as a URI: its own reason,
    // and where to look.
    let err = error(OtlpBuilder::new().endpoint("http://[::1:4318"));
    assert!(matches!(err, ConfigError::Exporter(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("the OTLP exporter cannot be built: ")
            && text.ends_with("; check `.endpoint(...)` and the OTEL_EXPORTER_OTLP_* variables"),
        "{text}"
    );
}
