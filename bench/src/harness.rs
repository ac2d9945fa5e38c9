//! The servers a benchmark run needs, started the way the end-to-end suite starts them: the
//! provider simulator in-process and `wrangler dev` workers (prebuilt, throwaway D1/KV state) on
//! free loopback ports, all with throwaway credentials that never leave the machine.

use std::path::{Path, PathBuf};
use tributary_e2e::{repo_root, secrets, WranglerDev};
use tributary_sim::{PlaidCredentials, SchwabCredentials, SimConfig, Simulator, SnapTradeCredentials};

/// Schwab's OAuth callback as registered with the simulator: the bench reads the code from the
/// consent page's redirect and never follows it.
pub const SCHWAB_CALLBACK: &str = "http://127.0.0.1:9/?flow=return";

/// One run's simulator, credentials and session key.
pub struct Bench {
    pub sim: Simulator,
    pub snaptrade: SnapTradeCredentials,
    pub plaid: PlaidCredentials,
    pub schwab: SchwabCredentials,
    pub session_key: String,
    data_key: String,
    /// A wrangler.toml running a private copy of the worker build (see [`snapshot_worker`]).
    worker_config: PathBuf,
}

/// Copies the directory tree `from` into `to`.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Copies `worker/build` into `target/bench/` with a wrangler.toml that runs the copy, so that a
/// rebuild of the worker or the web app during the run (by anyone) cannot restart the workers
/// being measured.
fn snapshot_worker() -> Result<PathBuf, String> {
    let root = repo_root();
    let dir = root.join("target/bench");
    let build = dir.join("worker-build");
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root.join("worker/build"), &build).map_err(|e| format!("copy worker/build: {e}"))?;
    let toml = std::fs::read_to_string(root.join("wrangler.toml")).map_err(|e| format!("read wrangler.toml: {e}"))?;
    let absolute = |line: &str, key: &str, path: PathBuf| {
        if line.trim_start().starts_with(key) {
            format!("{key} = {:?}", path.display().to_string())
        } else {
            line.to_owned()
        }
    };
    // No [assets]: wrangler watches that directory and restarts the worker when it changes (a
    // rebuild of www/pkg would), and no figure needs the web app.
    let toml: Vec<String> = toml
        .lines()
        .filter(|line| !matches!(line.trim(), "[assets]") && !line.trim_start().starts_with("directory"))
        .map(|line| absolute(line, "main", build.join("worker/shim.mjs")))
        .map(|line| absolute(&line, "migrations_dir", root.join("migrations")))
        .collect();
    let config = dir.join("wrangler.toml");
    std::fs::write(&config, toml.join("\n") + "\n").map_err(|e| format!("write {}: {e}", config.display()))?;
    Ok(config)
}

/// How one worker of the run is configured.
pub struct WorkerSpec {
    pub name: &'static str,
    /// `development` or `production`.
    pub environment: &'static str,
    /// Extra variables (`REFRESH_FANOUT`, `REFRESH_COOLDOWN_SECONDS`, …).
    pub extra: Vec<(&'static str, String)>,
    /// Another worker's wrangler.toml (the floor); `None` is Tributary's worker.
    pub config: Option<PathBuf>,
}

impl WorkerSpec {
    /// Tributary's worker in `environment` with `extra` variables.
    pub fn tributary(name: &'static str, environment: &'static str, extra: &[(&'static str, &str)]) -> Self {
        let extra = extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        Self { name, environment, extra, config: None }
    }

    /// The floor worker of `bench/floor-worker/`.
    pub fn floor() -> Self {
        let config = Some(repo_root().join("bench/floor-worker/wrangler.toml"));
        Self { name: "bench-floor", environment: "production", extra: Vec::new(), config }
    }
}

impl Bench {
    /// Starts the simulator on a free loopback port with fresh credentials.
    pub async fn start() -> Result<Self, String> {
        let snaptrade = SnapTradeCredentials {
            client_id: format!("TRIBUTARY-BENCH-{}", secrets::random_hex(4)),
            consumer_key: secrets::random_hex(24),
        };
        let plaid = PlaidCredentials { client_id: secrets::random_hex(12), secret: secrets::random_hex(15) };
        let schwab = SchwabCredentials {
            client_id: secrets::random_hex(16),
            client_secret: secrets::random_hex(8),
            redirect_uris: vec![SCHWAB_CALLBACK.to_owned()],
        };
        let config =
            SimConfig { snaptrade: Some(snaptrade.clone()), plaid: Some(plaid.clone()), schwab: Some(schwab.clone()) };
        let sim = Simulator::start(0, config).await.map_err(|e| format!("start the simulator: {e}"))?;
        Ok(Self {
            worker_config: snapshot_worker()?,
            sim,
            snaptrade,
            plaid,
            schwab,
            session_key: secrets::random_hex(32),
            data_key: format!("bench:{}", secrets::base64(&secrets::random_bytes(32))),
        })
    }

    /// The simulator's base URL.
    pub fn sim_url(&self) -> String {
        self.sim.base_url()
    }

    fn vars(&self, spec: &WorkerSpec) -> Vec<(&'static str, String)> {
        if spec.config.is_some() {
            return spec.extra.clone();
        }
        let mut vars = vec![
            ("ENVIRONMENT", spec.environment.to_owned()),
            ("SESSION_SIGNING_KEY", self.session_key.clone()),
            ("DATA_ENCRYPTION_KEY", self.data_key.clone()),
            ("SNAPTRADE_BASE_URL", self.sim_url()),
            ("PLAID_BASE_URL", self.sim_url()),
            ("SNAPTRADE_CLIENT_ID", self.snaptrade.client_id.clone()),
            ("SNAPTRADE_CONSUMER_KEY", self.snaptrade.consumer_key.clone()),
            ("PLAID_CLIENT_ID", self.plaid.client_id.clone()),
            ("PLAID_SECRET", self.plaid.secret.clone()),
            ("SCHWAB_BASE_URL", self.sim_url()),
            ("SCHWAB_CLIENT_ID", self.schwab.client_id.clone()),
            ("SCHWAB_CLIENT_SECRET", self.schwab.client_secret.clone()),
            ("SCHWAB_REDIRECT_URL", SCHWAB_CALLBACK.to_owned()),
            ("IBKR_FLEX_BASE_URL", self.sim_url()),
        ];
        vars.extend(spec.extra.iter().cloned());
        vars
    }

    /// Starts every worker in `specs` at once (each with its own state) and waits for all of them.
    pub fn start_workers(&self, specs: &[WorkerSpec]) -> Result<Vec<WranglerDev>, String> {
        let started: Vec<Result<WranglerDev, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = specs
                .iter()
                .map(|spec| {
                    let vars = self.vars(spec);
                    let config = spec.config.as_deref().unwrap_or(&self.worker_config);
                    s.spawn(move || WranglerDev::start_with_config(spec.name, Some(config), &vars))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a start thread panicked".into()))).collect()
        });
        started.into_iter().collect()
    }
}
