//! `wrangler dev` as a child process group with its own persist dir, ports and env file.

use crate::{free_port, repo_root};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment every wrangler invocation gets: no telemetry, no network lookups.
const QUIET_ENV: [(&str, &str); 4] = [
    ("WRANGLER_SEND_METRICS", "false"),
    ("WRANGLER_SEND_ERROR_REPORTS", "false"),
    ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
    ("NO_UPDATE_NOTIFIER", "1"),
];

/// A running `wrangler dev` on 127.0.0.1; dropping it stops the whole process group.
pub struct WranglerDev {
    pub base_url: String,
    pub state_dir: PathBuf,
    child: Child,
}

/// How many times the D1 migrations are applied to a fresh local database before start-up fails.
const MIGRATE_ATTEMPTS: usize = 3;

/// The repository's pinned wrangler, quiet (no metrics, no update check), run from the root.
pub fn wrangler() -> Command {
    let mut cmd = Command::new(repo_root().join("node_modules/.bin/wrangler"));
    cmd.current_dir(repo_root()).envs(QUIET_ENV).env("CI", "true");
    cmd
}

impl WranglerDev {
    /// Applies the D1 migrations into a fresh state dir, then starts `wrangler dev` with `vars`
    /// written to a private env file (so no secret shows on a command line), and waits until it
    /// answers HTTP. `name` labels the state dir and log.
    pub fn start(name: &str, vars: &[(&str, String)]) -> Result<Self, String> {
        Self::start_with_config(name, None, vars)
    }

    /// [`WranglerDev::start`] for another worker: `config` is its wrangler.toml (the repository's
    /// own when `None`).
    pub fn start_with_config(
        name: &str,
        config: Option<&std::path::Path>,
        vars: &[(&str, String)],
    ) -> Result<Self, String> {
        Self::start_on(name, config, None, vars)
    }

    /// [`WranglerDev::start_with_config`] on a chosen loopback `port` (a free one when `None`), for a
    /// worker whose own origin must be known before it starts (an OAuth callback registered with
    /// the simulator).
    pub fn start_on(
        name: &str,
        config: Option<&std::path::Path>,
        port: Option<u16>,
        vars: &[(&str, String)],
    ) -> Result<Self, String> {
        let config_args: Vec<std::ffi::OsString> =
            config.map(|c| vec!["--config".into(), c.as_os_str().to_owned()]).unwrap_or_default();
        let state_dir = repo_root().join("target/e2e").join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state_dir);
        std::fs::create_dir_all(&state_dir).map_err(|e| format!("create {}: {e}", state_dir.display()))?;
        let persist = state_dir.join("state");

        // Local D1 is workerd run by wrangler; under the suite's parallel start-up it has once
        // failed a migration with an internal `false == true` assertion, on a fresh database the
        // same files migrate cleanly. A failed apply is retried on a fresh database (at most
        // MIGRATE_ATTEMPTS, each failure printed); a migration that is wrong fails every time.
        let mut failures = Vec::new();
        for _ in 0..MIGRATE_ATTEMPTS {
            let _ = std::fs::remove_dir_all(&persist);
            let migrate = wrangler()
                .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
                .arg(&persist)
                .args(&config_args)
                .output()
                .map_err(|e| format!("run wrangler: {e}"))?;
            if migrate.status.success() {
                break;
            }
            let failure = format!(
                "wrangler d1 migrations apply failed:\n{}\n{}",
                String::from_utf8_lossy(&migrate.stdout),
                String::from_utf8_lossy(&migrate.stderr)
            );
            eprintln!("e2e ({name}): {failure}");
            failures.push(failure);
        }
        if failures.len() == MIGRATE_ATTEMPTS {
            return Err(failures.join("\n"));
        }

        let env_file = state_dir.join("vars.env");
        let mut file = std::fs::File::create(&env_file).map_err(|e| format!("write env file: {e}"))?;
        for (key, value) in vars {
            writeln!(file, "{key}={value}").map_err(|e| format!("write env file: {e}"))?;
        }

        let port = port.unwrap_or_else(free_port);
        let log_path = state_dir.join("wrangler.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("create log: {e}"))?;
        let child = wrangler()
            .args(["dev", "--local", "--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--test-scheduled"])
            .arg("--port")
            .arg(port.to_string())
            .arg("--inspector-port")
            .arg(free_port().to_string())
            .arg("--persist-to")
            .arg(&persist)
            .arg("--env-file")
            .arg(&env_file)
            .args(&config_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("spawn wrangler dev: {e}"))?;
        let mut dev = Self { base_url: format!("http://127.0.0.1:{port}"), state_dir, child };
        dev.wait_ready(&log_path)?;
        Ok(dev)
    }

    fn wait_ready(&mut self, log_path: &PathBuf) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(180);
        let addr = self.base_url.trim_start_matches("http://").to_owned();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("wrangler dev exited with {status}:\n{}", tail(log_path)));
            }
            if probe(&addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!("wrangler dev did not answer within 180 s:\n{}", tail(log_path)))
    }

    /// The `--persist-to` dir holding this worker's local D1 and KV.
    pub fn persist_dir(&self) -> PathBuf {
        self.state_dir.join("state")
    }

    /// Removes state dirs left by earlier runs whose process is gone (they are kept after a run
    /// for reading its logs, until the next run).
    pub fn remove_stale_state() {
        let root = repo_root().join("target/e2e");
        let Ok(entries) = std::fs::read_dir(&root) else { return };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok());
            let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Everything wrangler printed so far (worker logs included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir.join("wrangler.log")).unwrap_or_default()
    }
}

/// Whether an HTTP GET of `/api/health` gets any status line back.
fn probe(addr: &str) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 ")
}

fn tail(path: &PathBuf) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl Drop for WranglerDev {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: signalling a process group we created; no memory is touched.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above; the group may already be gone, which is fine.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}
