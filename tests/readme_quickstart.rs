//! The quick start in the crate's README is `examples/quickstart.rs`, word
//! for word (CI builds and runs the example), so what a newcomer copies
//! compiles and works.

#[test]
fn the_readme_quick_start_is_the_example() {
    let root = env!("CARGO_MANIFEST_DIR");
    let readme = std::fs::read_to_string(format!("{root}/trace-runtime/README.md")).unwrap();
    let example =
        std::fs::read_to_string(format!("{root}/trace-runtime/examples/quickstart.rs")).unwrap();
    let code: Vec<&str> = example.lines().filter(|l| !l.starts_with("//!")).collect();
    let start = readme
        .find("```rust,ignore\n")
        .expect("the quick start's code block")
        + "```rust,ignore\n".len();
    let end = start + readme[start..].find("\n```").unwrap();
    assert_eq!(readme[start..end].lines().collect::<Vec<_>>(), code);
}
