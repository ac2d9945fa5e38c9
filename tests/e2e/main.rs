//! Tributary's end-to-end suite: one simulator and two `wrangler dev` workers (development and
//! production mode) shared by every test; each test uses its own user ids, so tests stay independent.

mod browser;
mod connection_health;
mod contract;
mod deploy;
mod freshness;
mod ibkr_flex;
mod mcp;
mod migrations;
mod operations;
mod origins;
mod package_types;
mod plaid;
mod plaid_repair;
mod reliability;
mod routing;
mod schwab;
mod skeleton;
mod snaptrade;
mod support;
mod trading;
mod trading_schwab;
mod transactions;
mod transactions_direct;
mod webhooks;

use libtest_mimic::{Arguments, Trial};
use std::sync::Arc;
use support::Ctx;
use tributary_e2e::{require_built, secrets, WranglerDev};
use tributary_sim::{PlaidCredentials, SchwabCredentials, SimConfig, SnapTradeCredentials};

/// The development worker's refresh cooldown in this suite: far longer than any step can take on a
/// busy machine, so "within the cooldown" never depends on speed; tests that need it over move
/// their own user's clock past it (`Ctx::advance_user_clock`) instead of waiting.
pub const REFRESH_COOLDOWN_S: u64 = 600;

fn main() {
    let args = Arguments::from_args();
    if let Err(message) = require_built() {
        eprintln!("e2e: {message}");
        std::process::exit(2);
    }
    let runtime = Arc::new(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap());
    // Throwaway provider credentials: the simulator accepts exactly what the worker is given.
    let snaptrade = SnapTradeCredentials {
        client_id: format!("TRIBUTARY-E2E-{}", secrets::random_hex(4)),
        consumer_key: secrets::random_hex(24),
    };
    let plaid = PlaidCredentials { client_id: secrets::random_hex(12), secret: secrets::random_hex(15) };
    // Schwab's OAuth callback is registered exactly: the development worker's own return page, so
    // its port is chosen before the simulator starts.
    let dev_port = tributary_e2e::free_port();
    let schwab_callback = format!("http://127.0.0.1:{dev_port}/?flow=return");
    let schwab = SchwabCredentials {
        client_id: secrets::random_hex(16),
        client_secret: secrets::random_hex(8),
        redirect_uris: vec![schwab_callback.clone()],
    };
    let config =
        SimConfig { snaptrade: Some(snaptrade.clone()), plaid: Some(plaid.clone()), schwab: Some(schwab.clone()) };
    let sim = runtime.block_on(tributary_sim::Simulator::start(0, config)).expect("start the simulator");
    // Every suite's users share this one simulated SnapTrade client id, so its 250/min client limit
    // would make the suites starve each other; the limit itself is proven in the simulator's tests.
    let lifted = runtime.block_on(async {
        let limit = serde_json::json!({"per_minute": tributary_sim::snaptrade::ratelimit::MAX_LIMIT});
        reqwest::Client::new().post(format!("{}/__sim/ratelimit", sim.base_url())).json(&limit).send().await
    });
    assert!(lifted.is_ok_and(|r| r.status().is_success()), "lift the simulator's SnapTrade rate limit");
    // The same for Schwab's 120/min app limit (proven in the simulator's tests and `make bench`).
    let lifted = runtime.block_on(async {
        let limit = serde_json::json!({"per_minute": 100_000});
        reqwest::Client::new().post(format!("{}/__sim/schwab/ratelimit", sim.base_url())).json(&limit).send().await
    });
    assert!(lifted.is_ok_and(|r| r.status().is_success()), "lift the simulator's Schwab rate limit");
    // IBKR's ten-a-minute per token is lifted too (each test has its own tokens, but one test's
    // connect, reads and cron runs follow each other within a minute); one a second stays, so
    // every Flex test proves the worker paces its requests.
    let lifted = runtime.block_on(async {
        let limit = serde_json::json!({"per_second": 1, "per_minute": 100_000});
        reqwest::Client::new().post(format!("{}/__sim/ibkr/ratelimit", sim.base_url())).json(&limit).send().await
    });
    assert!(lifted.is_ok_and(|r| r.status().is_success()), "lift the simulator's IBKR per-minute limit");

    let session_key = secrets::random_hex(32);
    let dev_vars = vec![
        ("ENVIRONMENT", "development".to_owned()),
        ("SESSION_SIGNING_KEY", session_key.clone()),
        ("DATA_ENCRYPTION_KEY", format!("e2e:{}", secrets::base64(&secrets::random_bytes(32)))),
        ("SNAPTRADE_BASE_URL", sim.base_url()),
        ("PLAID_BASE_URL", sim.base_url()),
        ("SNAPTRADE_CLIENT_ID", snaptrade.client_id),
        ("SNAPTRADE_CONSUMER_KEY", snaptrade.consumer_key),
        ("PLAID_CLIENT_ID", plaid.client_id),
        ("PLAID_SECRET", plaid.secret),
        ("SCHWAB_BASE_URL", sim.base_url()),
        ("SCHWAB_CLIENT_ID", schwab.client_id.clone()),
        ("SCHWAB_CLIENT_SECRET", schwab.client_secret.clone()),
        ("SCHWAB_REDIRECT_URL", schwab_callback),
        ("IBKR_FLEX_BASE_URL", sim.base_url()),
        // The host app's origin (and the web app served as localhost, for the cross-origin
        // browser check): the only other origins that may call the API and receive redirects.
        ("ALLOWED_ORIGINS", format!("{}, http://localhost:{dev_port}", origins::APP_ORIGIN)),
        // Its 60 s default is tested in the core; see REFRESH_COOLDOWN_S for why this one is long.
        ("REFRESH_COOLDOWN_SECONDS", REFRESH_COOLDOWN_S.to_string()),
        // The operator's bearer for /api/ops/*, and the per-call prices its metrics cost at.
        ("OPERATOR_TOKEN", operations::operator_token_for(&session_key)),
        ("PROVIDER_CALL_PRICES", operations::CALL_PRICES.to_owned()),
    ];
    // Production mode with no secrets at all: proves missing config is a clear error, and that
    // development-only endpoints do not exist there.
    let prod_vars = vec![("ENVIRONMENT", "production".to_owned())];
    // Everything right except the SnapTrade consumer key: the simulator must reject its signatures.
    let wrong_key_vars: Vec<(&str, String)> = dev_vars
        .iter()
        .map(|(k, v)| (*k, if *k == "SNAPTRADE_CONSUMER_KEY" { secrets::random_hex(24) } else { v.clone() }))
        .collect();
    // The reliability suites' own worker: no refresh cooldown (1,000 chaos cycles), 5 s provider
    // attempts (injected timeouts stay short); nothing else uses it, so D1 snapshots are theirs.
    // The cron suites' worker is configured like the development one: a cron run there reads
    // only the users of the suite whose turn it is.
    let reliability_vars = reliability::worker_vars(&dev_vars);

    WranglerDev::remove_stale_state();
    let started = std::thread::scope(|s| {
        let dev = s.spawn(|| WranglerDev::start_on("dev", None, Some(dev_port), &dev_vars));
        let prod = s.spawn(|| WranglerDev::start("prod", &prod_vars));
        let wrong = s.spawn(|| WranglerDev::start("wrongkey", &wrong_key_vars));
        let rel = s.spawn(|| WranglerDev::start("reliability", &reliability_vars));
        let cron = s.spawn(|| WranglerDev::start("cron", &dev_vars));
        (dev.join().unwrap(), prod.join().unwrap(), wrong.join().unwrap(), rel.join().unwrap(), cron.join().unwrap())
    });
    let (dev, prod, wrong_key, rel, cron) = match started {
        (Ok(dev), Ok(prod), Ok(wrong), Ok(rel), Ok(cron)) => (dev, prod, wrong, rel, cron),
        (dev, prod, wrong, rel, cron) => {
            for error in [dev.err(), prod.err(), wrong.err(), rel.err(), cron.err()].into_iter().flatten() {
                eprintln!("e2e: {error}");
            }
            std::process::exit(1);
        }
    };

    let ctx = Arc::new(Ctx::new(
        support::Servers {
            dev: dev.base_url.clone(),
            prod: prod.base_url.clone(),
            wrong_key: wrong_key.base_url.clone(),
            sim: sim.base_url(),
            sim_state: sim.sim.clone(),
            dev_state: dev.persist_dir(),
            reliability: rel.base_url.clone(),
            reliability_state: rel.persist_dir(),
            cron: cron.base_url.clone(),
            cron_state: cron.persist_dir(),
        },
        session_key,
    ));
    let mut trials: Vec<(&str, support::TestFn)> = Vec::new();
    trials.extend(skeleton::trials());
    trials.extend(snaptrade::trials());
    trials.extend(plaid::trials());
    trials.extend(plaid_repair::trials());
    trials.extend(routing::trials());
    trials.extend(schwab::trials());
    trials.extend(ibkr_flex::trials());
    trials.extend(origins::trials());
    trials.extend(webhooks::trials());
    trials.extend(browser::trials());
    trials.extend(contract::trials());
    trials.extend(deploy::trials());
    trials.extend(freshness::trials());
    trials.extend(transactions::trials());
    trials.extend(transactions_direct::trials());
    trials.extend(package_types::trials());
    trials.extend(reliability::trials());
    trials.extend(mcp::trials());
    trials.extend(operations::trials());
    trials.extend(connection_health::trials());
    trials.extend(migrations::trials());
    trials.extend(trading::trials());
    trials.extend(trading_schwab::trials());
    let trials = trials
        .into_iter()
        .map(|(name, test)| {
            let (ctx, runtime) = (ctx.clone(), runtime.clone());
            // `measure_*` trials report figures, never assert timings; they run only with `--ignored`.
            Trial::test(name, move || runtime.block_on(test(ctx)).map_err(Into::into))
                .with_ignored_flag(name.starts_with("measure_"))
        })
        .collect();

    let conclusion = libtest_mimic::run(&args, trials);
    // A reload (wrangler saw a watched file change) is an environment event every run reports, so
    // a lost request is never mistaken for a wrong answer; traps and errors are shown on failure.
    for (name, worker) in [
        ("development", &dev),
        ("production", &prod),
        ("wrong key", &wrong_key),
        ("reliability", &rel),
        ("cron", &cron),
    ] {
        let log = worker.log();
        let reloads: Vec<&str> = log.lines().filter(|l| l.contains("Reloading local server")).collect();
        if !reloads.is_empty() {
            eprintln!("e2e: wrangler dev ({name}) reloaded its worker {} time(s) during the run", reloads.len());
        }
        if conclusion.has_failed() {
            eprintln!("--- wrangler dev ({name}) crashes and restarts ---\n{}", crash_lines(&log));
            eprintln!("--- wrangler dev ({name}) log: {} ---", worker.state_dir.join("wrangler.log").display());
        }
    }
    if conclusion.has_failed() {
        eprintln!("--- wrangler dev (development) log tail ---\n{}", last_lines(&dev.log(), 60));
    }
    drop((dev, prod, wrong_key, rel, cron, sim));
    conclusion.exit();
}

/// Every log line that tells of a trap, an uncaught error or a reload (a worker restart mid-request).
fn crash_lines(text: &str) -> String {
    let markers = ["Uncaught", "RuntimeError", "panicked", "unreachable", "restart", "Reloading", "reload"];
    text.lines().filter(|line| markers.iter().any(|m| line.contains(m))).collect::<Vec<_>>().join("\n")
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
