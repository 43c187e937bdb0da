//! Compile-fail tests: each misuse of `#[trace]` and `#[instrument_all]` in
//! `tests/ui/` (one file per mistake, named after it) must give exactly the
//! diagnostic committed next to it in `.stderr`: one error, pointing at the
//! user's token, saying what to fix.
//!
//! Regenerate after an intended change with
//! `TRYBUILD=overwrite cargo test -p trace-macros-ui`, then read every `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
