//! Compile-fail tests: each misuse of `#[trace]` and `#[instrument_all]` in
//! `tests/ui/` (one file per mistake, named after it) must give exactly the
//! diagnostic committed next to it in `.stderr`: one error, pointing at the
//! user's token, saying what to fix.
//!
//! Regenerate after an intended change with
//! `TRYBUILD=overwrite cargo test -p trace-macros-ui`, then read every `.stderr`.
//!
//! The first run after a clean prints nothing for about a minute on a 2-core
//! machine: trybuild checks trace-runtime's dependencies again in a project of
//! its own (`target/tests/trybuild/trace-macros-ui`, its own rustflags, so no
//! artifact is shared with the workspace build). This package depends on
//! trace-runtime alone so that nothing more is checked there.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
