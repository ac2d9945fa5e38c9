//! Figure 3, sizes: the worker's and the browser module's wasm as built, raw and gzip -9, against
//! the size targets (worker ≤ 400 KB gzip, browser module ≤ 60 KB gzip; KB = 1000 bytes).

use crate::report::{Figure, Row};
use crate::stats::Summary;
use std::process::Command;
use tributary_e2e::repo_root;

/// Bytes of `path` and of its `gzip -9` output.
fn raw_and_gzip(relative: &str) -> Result<(u64, u64), String> {
    let path = repo_root().join(relative);
    let raw = std::fs::metadata(&path).map_err(|e| format!("{relative}: {e} (build it first)"))?.len();
    let gzip = Command::new("gzip").arg("-9c").arg(&path).output().map_err(|e| format!("run gzip: {e}"))?;
    if !gzip.status.success() {
        return Err(format!("gzip {relative} failed"));
    }
    Ok((raw, gzip.stdout.len() as u64))
}

/// Measures both artifacts.
pub fn run() -> Result<Figure, String> {
    let artifacts =
        [("worker", "worker/build/index_bg.wasm", 400.0), ("browser module", "www/pkg/tributary_client_bg.wasm", 60.0)];
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for (name, path, target_kb) in artifacts {
        let (raw, gzip) = raw_and_gzip(path)?;
        let kb = |bytes: u64| bytes as f64 / 1000.0;
        rows.push(Row::new(
            format!("{name} wasm, gzip -9"),
            "KB",
            Summary::of(&[kb(gzip)]),
            "target",
            target_kb,
            Some(1.0),
        ));
        notes.push(format!("{name}: `{path}` is {raw} bytes raw, {gzip} bytes gzip -9 (ratio = size ÷ target)."));
    }
    notes.push("Sizes are of this run's build outputs (`make build-worker build-www`), so one run, no spread.".into());
    Ok(Figure { id: "sizes", title: "3. Sizes", rows, notes })
}
