//! The demo's command line: `--listen`, `--metrics-addr`, `--duration`
//! (or `DEMO_DURATION_SECS`), `--rate`.

use std::time::Duration;

const USAGE: &str = "usage: trace-demo [--listen IP:PORT] [--metrics-addr IP:PORT] \
                     [--duration SECS] [--rate PER_SEC]";

pub struct Options {
    /// The service's address.
    pub listen: String,
    /// The exporter's `/metrics` address.
    pub metrics_addr: String,
    /// Stop after this long; `None`: at Ctrl-C.
    pub duration: Option<Duration>,
    /// Requests per second from the load generator; 0 turns it off.
    pub rate: f64,
}

/// Reads the options from the environment and the command line.
pub fn parse() -> Result<Options, String> {
    let mut options = Options {
        listen: "127.0.0.1:8080".to_owned(),
        metrics_addr: trace_runtime::exporter::DEFAULT_LISTEN.to_owned(),
        duration: None,
        rate: 4.0,
    };
    if let Ok(secs) = std::env::var("DEMO_DURATION_SECS") {
        options.duration = Some(seconds(&secs)?);
    }
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--listen" => options.listen = value,
            "--metrics-addr" => options.metrics_addr = value,
            "--duration" => options.duration = Some(seconds(&value)?),
            "--rate" => {
                options.rate = value
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                    .ok_or_else(|| format!("--rate {value:?}: give requests per second"))?;
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("duration {value:?}: give a number of seconds"))
}
