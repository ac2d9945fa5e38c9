//! Figure 6, ledger sync: the wall time of a user's first `POST /api/transactions/sync` over 5,000
//! transactions (2,500 SnapTrade activities on one account, 2,500 Plaid investment transactions
//! on one Item), with every simulator call held [`LATENCY_MS`], as a multiple of the dependent
//! round trips the read needs (each provider's pages follow one another; the providers run side
//! by side). What is left beyond those round trips is the worker's own time: normalising, D1
//! writes in batches, the sync marks. A diagnostic row sends SnapTrade's pages straight to the
//! simulator, to show the simulator's own share.

use crate::client::Client;
use crate::fanout::{direct_get, sim_secret};
use crate::harness::Bench;
use crate::report::{Figure, Row};
use crate::stats::Summary;
use serde_json::{json, Value};
use tributary_e2e::{secrets, WranglerDev};

/// Simulated round-trip latency of every provider call.
const LATENCY_MS: u64 = 100;
/// Transactions per provider (the figure syncs twice this many).
const PER_PROVIDER: u64 = 2_500;
/// Timed first syncs, each by its own user.
const RUNS: usize = 5;

/// A user with SnapTrade (Fidelity) and Plaid (Chase), their two seeded accounts each, one account of each holding
/// [`PER_PROVIDER`] transactions of history; returns the user and the SnapTrade account id.
async fn prepared_user(client: &Client) -> Result<(String, String), String> {
    let user = format!("bench-ledger-{}", secrets::random_hex(4));
    client.connect_snaptrade(&user, "Fidelity", "FIDELITY", 2).await?;
    let item = client.link_plaid(&user, "Chase", "ins_56", 2).await?;
    let holdings = client.get(&user, "/api/snaptrade/holdings").await?;
    let account = holdings.body["accounts"][0]["account_id"].as_str().ok_or("no SnapTrade account")?.to_owned();
    for body in [
        json!({"provider": "snaptrade", "user": user, "account_id": account, "count": PER_PROVIDER}),
        json!({"provider": "plaid", "item_id": item, "count": PER_PROVIDER}),
    ] {
        let added = client.sim_control("/__sim/transactions/history", body).await?;
        if added["count"] != PER_PROVIDER {
            return Err(format!("the simulator did not add {PER_PROVIDER} transactions: {added}"));
        }
    }
    Ok((user, account))
}

/// One first sync of `user`, checked complete for both providers: wall ms, rows stored, and the
/// provider calls it made (SnapTrade, Plaid).
async fn timed_sync(client: &Client, user: &str) -> Result<(f64, u64, (u64, u64)), String> {
    let total = |calls: &Value, p: &str| calls[p]["total"].as_u64().unwrap_or(0);
    let before = client.sim_calls().await?;
    let reply = client.post(user, "/api/transactions/sync", json!({})).await?;
    let after = client.sim_calls().await?;
    let results = reply.body["results"].as_array().ok_or_else(|| format!("no results: {}", reply.body))?;
    let complete = reply.status == 200 && results.len() == 2 && results.iter().all(|r| r["status"] == "ok");
    if !complete {
        return Err(format!("the sync did not complete for both providers: {} {}", reply.status, reply.body));
    }
    let stored: u64 = results.iter().filter_map(|r| r["stored"].as_u64()).sum();
    if stored < 2 * PER_PROVIDER {
        return Err(format!("the sync stored {stored} rows, fewer than {}", 2 * PER_PROVIDER));
    }
    let calls =
        (total(&after, "snaptrade") - total(&before, "snaptrade"), total(&after, "plaid") - total(&before, "plaid"));
    Ok((reply.elapsed.as_secs_f64() * 1000.0, stored, calls))
}

/// SnapTrade's part of the read sent straight to the simulator: `/accounts`, then every page of
/// the account's activities one after another, signed as SnapTrade documents: wall ms and calls.
async fn direct_snaptrade(bench: &Bench, client: &Client, user: &str, account: &str) -> Result<(f64, u64), String> {
    let secret = sim_secret(bench, user)?;
    let credentials = (user, secret.as_str());
    let started = std::time::Instant::now();
    direct_get(bench, client, credentials, "/accounts".into(), "").await?;
    let mut offset = 0u64;
    for pages in 1..=20 {
        let extra = format!("&offset={offset}&limit=1000");
        let page = direct_get(bench, client, credentials, format!("/accounts/{account}/activities"), &extra).await?;
        let received = page["data"].as_array().map_or(0, Vec::len) as u64;
        offset += received;
        let total = page["pagination"]["total"].as_u64().unwrap_or(0);
        if received == 0 || offset >= total {
            return Ok((started.elapsed().as_secs_f64() * 1000.0, 1 + pages));
        }
    }
    Err("more than 20 pages of activities".into())
}

/// Runs the figure on `worker` (development, refresh cooldown off).
pub async fn run(bench: &Bench, worker: &WranglerDev) -> Result<Figure, String> {
    let client = Client::new(&worker.base_url, &bench.sim_url(), &bench.session_key)?;
    client.sim_control("/__sim/latency", json!({"ms": 0})).await?;
    client.sim_control("/__sim/ratelimit", json!({"per_minute": 100_000})).await?;
    let mut users = Vec::new();
    for _ in 0..RUNS {
        users.push(prepared_user(&client).await?);
    }
    client.sim_control("/__sim/latency", json!({"ms": LATENCY_MS})).await?;
    let measured = async {
        let mut walls = Vec::new();
        let mut direct = Vec::new();
        let mut shape = None;
        let mut direct_calls = 0;
        for (user, account) in &users {
            let (ms, stored, calls) = timed_sync(&client, user).await?;
            walls.push(ms);
            shape.get_or_insert((stored, calls));
            let (ms, calls) = direct_snaptrade(bench, &client, user, account).await?;
            direct.push(ms);
            direct_calls = calls;
        }
        Ok::<_, String>((Summary::of(&walls), Summary::of(&direct), direct_calls, shape))
    }
    .await;
    client.sim_control("/__sim/latency", json!({"ms": 0})).await?;
    let (walls, direct, direct_calls, shape) = measured?;
    let (stored, (snaptrade_calls, plaid_calls)) = shape.ok_or("no run")?;
    // Within one provider every call waits for the one before; the two providers run at once.
    let trips = snaptrade_calls.max(plaid_calls);
    let chain = (trips * LATENCY_MS) as f64;
    let direct_chain = (direct_calls * LATENCY_MS) as f64;
    let baseline = format!("{trips} round trips × {LATENCY_MS} ms");
    let rows = vec![
        Row::new(
            "first sync of 5,000 transactions (SnapTrade and Plaid side by side)",
            "ms",
            walls,
            &baseline,
            chain,
            None,
        ),
        Row::new(
            "diagnostic: SnapTrade's pages sent straight to the simulator (no worker)",
            "ms",
            direct,
            format!("{direct_calls} round trips × {LATENCY_MS} ms"),
            direct_chain,
            None,
        ),
    ];
    let notes = vec![
        format!(
            "Each run is a new user's first sync (`POST /api/transactions/sync`, fetch-only, nothing billed): \
             2,500 SnapTrade activities on one account (1,000 a page) and 2,500 Plaid investment \
             transactions on one Item's account (500 a page), generated by `POST /__sim/transactions/history`; \
             every simulator call held {LATENCY_MS} ms (`POST /__sim/latency`). The first run stored {stored} rows \
             (the seeded histories included) with {snaptrade_calls} SnapTrade and {plaid_calls} Plaid calls."
        ),
        format!(
            "The worker's own time beyond the provider round trips (the median less {chain:.0} ms) is {:.0} ms for \
             {stored} rows: normalising each page, upserting in D1 batches of 200 statements, the removal check \
             and the sync marks.",
            walls.median - chain
        ),
        format!(
            "The simulator's own share, from the diagnostic row: {:.0} ms beyond {direct_calls} round trips \
             (`/accounts` and the account's pages, rendering 1,000 rows each) — part of what the first row counts \
             as the worker's.",
            direct.median - direct_chain
        ),
    ];
    Ok(Figure { id: "ledger_sync", title: "6. Ledger sync", rows, notes })
}
