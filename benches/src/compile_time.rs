//! The compile-time figure: runs `compile_time.sh` (500 functions with
//! `#[trace_runtime::trace]`, with `#[tracing::instrument]` and with no
//! attribute) for the dev and the release profile and reads its table back.

use std::path::Path;
use std::process::Command;

/// Median rebuild times of the three generated crates, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct CompileTime {
    /// No attribute.
    pub none: f64,
    /// `#[trace_runtime::trace]`.
    pub ours: f64,
    /// `#[tracing::instrument]`.
    pub tracing: f64,
}

/// Runs the script for one profile; the error says why no figure came back.
pub fn measure(release: bool) -> Result<CompileTime, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("compile_time.sh");
    let mut command = Command::new("bash");
    command.arg(&script);
    if release {
        command.arg("--release");
    }
    let output = command
        .output()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let row = |name: &str| -> Result<f64, String> {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("| {name} | ")))
            .and_then(|rest| rest.trim_end_matches(" |").trim().parse().ok())
            .ok_or_else(|| format!("no `{name}` row in the output of {}", script.display()))
    };
    Ok(CompileTime {
        none: row("none")?,
        ours: row("#[trace_runtime::trace]")?,
        tracing: row("#[tracing::instrument]")?,
    })
}
