//! The fuzz seed corpus (`fuzz/corpus/ibkr_statement/`) and this module's fixtures, run by
//! `cargo test` without nightly: no file makes the readers panic, and every `ok-*.xml` reads.

use super::*;
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn check_every_file(dir: &Path) -> usize {
    let files = files(dir);
    for path in &files {
        let body = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let read = read_statement(&body, "corpus", 1_800_000_000);
        let _ = parse_send_response(&body);
        if name.starts_with("ok-") && name.ends_with(".xml") {
            let statement = read.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!statement.holdings.accounts.is_empty(), "{name}");
        }
    }
    files.len()
}

#[test]
fn every_corpus_file_is_read_without_panicking_and_ok_files_succeed() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/ibkr_statement");
    assert!(check_every_file(&corpus) >= 3, "the seed corpus is there");
}

#[test]
fn every_fixture_is_read_without_panicking_and_ok_files_succeed() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ibkr/fixtures");
    assert!(check_every_file(&fixtures) >= 3);
}
