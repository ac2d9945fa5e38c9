//! The end-to-end harness: starts the provider simulator and `wrangler dev` (prebuilt worker,
//! throwaway D1/KV state) on free loopback ports, waits until they answer, and stops them —
//! the whole process group — when dropped, including after a failed test.

mod process;
pub mod secrets;

pub use process::WranglerDev;

use std::path::{Path, PathBuf};

/// The repository root (the workspace that holds `wrangler.toml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ lives in the workspace").to_path_buf()
}

/// Where tests leave artifacts people look at (screenshots, logs): `test-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = repo_root().join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create test-artifacts/");
    dir
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a loopback port")
}

/// Fails early and clearly when the build outputs the harness runs are missing.
pub fn require_built() -> Result<(), String> {
    let root = repo_root();
    let needed = [
        ("worker/build/worker/shim.mjs", "make build-worker"),
        ("www/pkg/tributary_client.js", "make build-www"),
        ("node_modules/.bin/wrangler", "scripts/setup"),
    ];
    for (path, how) in needed {
        if !root.join(path).exists() {
            return Err(format!("{path} is missing: run `{how}` (or `make test`, which does it)"));
        }
    }
    Ok(())
}
