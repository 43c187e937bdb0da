//! The compile-time figure: runs `compile_time.sh` (500 functions with
//! `#[trace_runtime::trace]`, with `#[tracing::instrument]` and with no
//! attribute) for the dev and the release profile and reads its table back.

use std::path::Path;
use std::process::Command;

/// The attributes compared, as the script names its rows.
pub const ATTRIBUTES: [&str; 3] = ["none", "#[trace_runtime::trace]", "#[tracing::instrument]"];

/// Median rebuild times of the three generated crates, in seconds, in the
/// order of [`ATTRIBUTES`].
#[derive(Clone, Copy, Debug)]
pub struct CompileTime(pub [f64; 3]);

impl CompileTime {
    /// `#[trace_runtime::trace]` ÷ `#[tracing::instrument]`.
    pub fn ratio(&self) -> f64 {
        self.0[1] / self.0[2]
    }
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
    let mut seconds = [0.0; 3];
    for (cell, name) in seconds.iter_mut().zip(ATTRIBUTES) {
        *cell = stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("| {name} | ")))
            .and_then(|rest| rest.trim_end_matches(" |").trim().parse().ok())
            .ok_or_else(|| format!("no `{name}` row in the output of {}", script.display()))?;
    }
    Ok(CompileTime(seconds))
}
