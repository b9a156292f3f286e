//! Repository tidiness, checked by `cargo test`: every Rust source file outside tests opens
//! with a `//!` line saying what it is for, and no test is ignored or expected to panic.

use std::path::{Path, PathBuf};

#[test]
fn every_module_opens_with_a_doc_line() {
    let offenders: Vec<PathBuf> = rust_sources()
        .into_iter()
        .filter(|path| !path.components().any(|it| it.as_os_str() == "tests" || it.as_os_str() == "benches"))
        .filter(|path| !read(path).trim_start().starts_with("//!"))
        .collect();
    assert!(offenders.is_empty(), "files without a //! first line: {offenders:?}");
}

#[test]
fn no_test_is_ignored_or_expected_to_panic() {
    let ignore = ["#[", "ignore]"].concat();
    let should_panic = ["#[", "should_panic"].concat();
    let offenders: Vec<PathBuf> = rust_sources()
        .into_iter()
        .filter(|path| {
            let text = read(path);
            text.contains(&ignore) || text.contains(&should_panic)
        })
        .collect();
    assert!(offenders.is_empty(), "ignored or should_panic tests in {offenders:?}");
}

fn rust_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut found = Vec::new();
    for top in ["functions", "local-emulator", "tests"] {
        collect(&root.join(top), &mut found);
    }
    assert!(found.len() > 10, "the walk found the workspace sources");
    found
}

fn collect(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|it| it == "target") {
            continue;
        }
        if path.is_dir() {
            collect(&path, found);
        } else if path.extension().is_some_and(|it| it == "rs") {
            found.push(path);
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}
