//! `make bench`: Tributary's six figures — refresh fan-out, worker overhead, sizes, browser merge,
//! provider cost, ledger sync — each a ratio against a baseline measured in the same run, on loopback, under
//! bounded load. Starts the provider simulator and `wrangler dev` workers like the end-to-end suite
//! (throwaway state and credentials), writes `bench/results.md` and `bench/results.json`, and exits
//! non-zero without writing anything if any figure could not be measured.

mod client;
mod cost;
mod fanout;
mod harness;
mod ledger;
mod merge;
mod overhead;
mod report;
mod sizes;
mod stats;
mod wrk;

use harness::{Bench, WorkerSpec};
use report::Figure;
use std::process::ExitCode;
use std::time::Instant;
use tributary_e2e::{repo_root, require_built, WranglerDev};

fn step(name: &str) -> Instant {
    eprintln!("[bench] {name}…");
    Instant::now()
}

fn done(started: Instant) {
    eprintln!("[bench]   done in {:.0} s", started.elapsed().as_secs_f64());
}

/// Starts `specs` without holding up the runtime's other tasks (the simulator lives on it).
fn start(bench: &Bench, specs: &[WorkerSpec]) -> Result<Vec<WranglerDev>, String> {
    tokio::task::block_in_place(|| bench.start_workers(specs))
}

/// The machine and build the figures come from.
fn context(started_unix: i64) -> Vec<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(repo_root())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let dirty = if git(&["status", "--porcelain"]).is_empty() { "" } else { " plus uncommitted changes" };
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    vec![
        format!(
            "Run at {} on {cores} cores (load average {load} at the start), commit `{}`{dirty}.",
            tributary_sim::util::rfc3339(started_unix),
            git(&["rev-parse", "--short", "HEAD"])
        ),
        "Servers: the provider simulator (`tributary-sim`, in-process) and `wrangler dev` 4.86 workers \
         (workerd, local D1/KV, prebuilt release builds), all on 127.0.0.1."
            .into(),
    ]
}

/// The figures to measure: all, or the one named on the command line (`sizes`, `merge`, `fanout`,
/// `overhead`, `cost`, `ledger`).
struct Selection(Option<String>);

impl Selection {
    fn wants(&self, name: &str) -> bool {
        self.0.as_deref().is_none_or(|only| only == name)
    }
}

async fn run(only: &Selection) -> Result<(Vec<Figure>, Vec<String>), String> {
    let started_unix = client::real_now();
    WranglerDev::remove_stale_state();
    let bench = Bench::start().await?;
    let mut figures = Vec::new();

    if only.wants("sizes") {
        let t = step("3. sizes");
        figures.push(sizes::run()?);
        done(t);
    }
    if only.wants("merge") {
        let t = step("4. browser merge (headless Chromium)");
        figures.push(merge::run().await?);
        done(t);
    }
    if only.wants("fanout") {
        fanout_figure(&bench, &mut figures).await?;
    }
    if only.wants("overhead") {
        overhead_figure(&bench, &mut figures).await?;
    }
    if only.wants("cost") {
        let t = step("5. provider cost (a scripted day on the development clock)");
        let workers = start(&bench, &[WorkerSpec::tributary("bench-cost", "development", &[])])?;
        figures.push(cost::run(&bench, &workers[0]).await?);
        drop(workers);
        done(t);
    }
    if only.wants("ledger") {
        let t = step("6. ledger sync (5,000 transactions, every provider call 100 ms)");
        let workers = start(&bench, &[WorkerSpec::tributary("bench-ledger", "development", &[COOLDOWN_OFF])])?;
        figures.push(ledger::run(&bench, &workers[0]).await?);
        drop(workers);
        done(t);
    }
    figures.sort_by_key(|f| f.title);
    Ok((figures, context(started_unix)))
}

const COOLDOWN_OFF: (&str, &str) = ("REFRESH_COOLDOWN_SECONDS", "0");

async fn fanout_figure(bench: &Bench, figures: &mut Vec<Figure>) -> Result<(), String> {
    let t = step("1. refresh fan-out (parallel and sequential workers)");
    let workers = start(
        bench,
        &[
            WorkerSpec::tributary("bench-parallel", "development", &[COOLDOWN_OFF, ("REFRESH_FANOUT", "parallel")]),
            WorkerSpec::tributary("bench-sequential", "development", &[COOLDOWN_OFF, ("REFRESH_FANOUT", "sequential")]),
        ],
    )?;
    figures.push(fanout::run(bench, &workers[0], &workers[1]).await?);
    done(t);
    Ok(())
}

async fn overhead_figure(bench: &Bench, figures: &mut Vec<Figure>) -> Result<(), String> {
    let t = step("2. worker overhead (wrk: Tributary vs the floor worker)");
    let workers =
        start(bench, &[WorkerSpec::tributary("bench-production", "production", &[COOLDOWN_OFF]), WorkerSpec::floor()])?;
    figures.push(overhead::run(bench, &workers[0], &workers[1]).await?);
    done(t);
    Ok(())
}

fn main() -> ExitCode {
    if let Err(message) = require_built() {
        eprintln!("bench: {message}");
        return ExitCode::from(2);
    }
    if !repo_root().join("bench/floor-worker/build/worker/shim.mjs").exists() {
        eprintln!("bench: the floor worker is not built: run `make bench` (or `cd bench/floor-worker && worker-build --release`)");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let only = Selection(std::env::args().nth(1));
    if only.0.as_deref().is_some_and(|name| !["sizes", "merge", "fanout", "overhead", "cost", "ledger"].contains(&name))
    {
        eprintln!("usage: tributary-bench [sizes|merge|fanout|overhead|cost|ledger]  (no argument: every figure)");
        return ExitCode::from(2);
    }
    let started = Instant::now();
    match runtime.block_on(run(&only)) {
        Ok((figures, context)) if only.0.is_some() => {
            // One figure alone is printed, never written over the complete results.
            println!("{}", report::markdown(&figures, &context));
            eprintln!("[bench] one figure: printed only, results files left as they were");
            ExitCode::SUCCESS
        }
        Ok((figures, context)) => {
            let markdown = report::markdown(&figures, &context);
            let json = report::json_document(&figures, &context);
            let dir = repo_root().join("bench");
            let written = std::fs::write(dir.join("results.md"), &markdown).and_then(|()| {
                std::fs::write(dir.join("results.json"), serde_json::to_string_pretty(&json).unwrap_or_default() + "\n")
            });
            if let Err(e) = written {
                eprintln!("bench: could not write the results: {e}");
                return ExitCode::FAILURE;
            }
            println!("{markdown}");
            eprintln!(
                "[bench] wrote bench/results.md and bench/results.json in {:.0} s",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}
