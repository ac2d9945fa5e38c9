//! The end-to-end harness: starts the provider simulator and `wrangler dev` (prebuilt worker,
//! throwaway D1/KV state) on free loopback ports, waits until they answer, and stops them —
//! the whole process group — when dropped, including after a failed test.

mod process;
pub mod secrets;

pub use process::{wrangler, WranglerDev};

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

/// How wrangler dev's proxy answers a non-GET request when its connection to the worker broke
/// (503, this text). It says "restarted" for every such loss, restart or not (it compares the
/// request's URL, path included, with the worker's bare origin), so it is never the worker's answer.
const PROXY_LOST_CONNECTION: &str = "Your worker restarted mid-request";

/// Whether `status` and `body` are wrangler dev's proxy reporting a lost connection to the worker.
pub fn is_proxy_fault(status: u16, body: &str) -> bool {
    status == 503 && body.starts_with(PROXY_LOST_CONNECTION)
}

/// Panics — naming it an environment fault, not a wrong answer — when `status` and `body` are
/// wrangler dev's proxy reporting a lost connection to the worker for `what` (method and URL).
pub fn refuse_proxy_fault(what: &str, status: u16, body: &str) {
    if is_proxy_fault(status, body) {
        panic!(
            "{what}: wrangler dev's proxy lost its connection to the worker and answered its own 503 \
             (\"{PROXY_LOST_CONNECTION}\"): an environment fault, not the worker's answer"
        );
    }
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

/// The local D1 database of a `wrangler dev` state dir, read directly (read-only) with SQLite.
pub mod d1 {
    use rusqlite::{types::ValueRef, Connection, OpenFlags};
    use serde_json::{Map, Value};
    use std::path::{Path, PathBuf};

    /// The SQLite file wrangler keeps the `DB` binding in, under `persist_dir`.
    pub fn database_file(persist_dir: &Path) -> Result<PathBuf, String> {
        let dir = persist_dir.join("v3/d1/miniflare-D1DatabaseObject");
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("read {}: {e}", dir.display()))?;
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "sqlite") && p.file_stem().is_some_and(|s| s != "metadata"))
            .ok_or_else(|| format!("no D1 database file in {}", dir.display()))
    }

    /// Runs `sql` with text parameters against the D1 file and returns every row as a JSON object
    /// (blobs as arrays of bytes, so tests can look inside ciphertext).
    pub fn query(persist_dir: &Path, sql: &str, params: &[&str]) -> Result<Vec<Value>, String> {
        let path = database_file(persist_dir)?;
        let conn =
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| format!("open {}: {e}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| e.to_string())?;
        let mut statement = conn.prepare(sql).map_err(|e| format!("prepare {sql:?}: {e}"))?;
        let names: Vec<String> = statement.column_names().into_iter().map(str::to_owned).collect();
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                let mut object = Map::new();
                for (i, name) in names.iter().enumerate() {
                    let value = match row.get_ref(i)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => Value::from(n),
                        ValueRef::Real(x) => Value::from(x),
                        ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Value::from(b.to_vec()),
                    };
                    object.insert(name.clone(), value);
                }
                Ok(Value::Object(object))
            })
            .map_err(|e| format!("query {sql:?}: {e}"))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| format!("read rows: {e}"))
    }
}
