//! Tributary's end-to-end suite: one simulator and two `wrangler dev` workers (development and
//! production mode) shared by every test; each test uses its own user ids, so tests stay independent.

mod browser;
mod skeleton;
mod snaptrade;
mod support;

use libtest_mimic::{Arguments, Trial};
use std::sync::Arc;
use support::Ctx;
use tributary_e2e::{require_built, secrets, WranglerDev};
use tributary_sim::{PlaidCredentials, SimConfig, SnapTradeCredentials};

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
    let config = SimConfig { snaptrade: Some(snaptrade.clone()), plaid: Some(plaid.clone()) };
    let sim = runtime.block_on(tributary_sim::Simulator::start(0, config)).expect("start the simulator");

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
    ];
    // Production mode with no secrets at all: proves missing config is a clear error, and that
    // development-only endpoints do not exist there.
    let prod_vars = vec![("ENVIRONMENT", "production".to_owned())];

    let (dev, prod) = std::thread::scope(|s| {
        let dev = s.spawn(|| WranglerDev::start("dev", &dev_vars));
        let prod = s.spawn(|| WranglerDev::start("prod", &prod_vars));
        (dev.join().unwrap(), prod.join().unwrap())
    });
    let (dev, prod) = match (dev, prod) {
        (Ok(dev), Ok(prod)) => (dev, prod),
        (dev, prod) => {
            for error in [dev.err(), prod.err()].into_iter().flatten() {
                eprintln!("e2e: {error}");
            }
            std::process::exit(1);
        }
    };

    let ctx = Arc::new(Ctx::new(dev.base_url.clone(), prod.base_url.clone(), session_key, sim.base_url()));
    let mut trials: Vec<(&str, support::TestFn)> = Vec::new();
    trials.extend(skeleton::trials());
    trials.extend(snaptrade::trials());
    trials.extend(browser::trials());
    let trials = trials
        .into_iter()
        .map(|(name, test)| {
            let (ctx, runtime) = (ctx.clone(), runtime.clone());
            Trial::test(name, move || runtime.block_on(test(ctx)).map_err(Into::into))
        })
        .collect();

    let conclusion = libtest_mimic::run(&args, trials);
    if conclusion.has_failed() {
        eprintln!("--- wrangler dev (development) log tail ---\n{}", last_lines(&dev.log(), 60));
    }
    drop((dev, prod, sim));
    conclusion.exit();
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
