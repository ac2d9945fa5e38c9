//! Figure 5, provider cost: a scripted standard day per user — 24 page loads, one holdings webhook
//! per provider, 5 refresh clicks spread over the day — and four quiet days of page loads alone,
//! past every cache TTL, with the worker's clock advanced by the script (`POST /api/dev/clock`),
//! never slept. The simulator counts every provider call; the
//! result is compared with the webhook-driven minimum (see the figure's notes).

use crate::client::Client;
use crate::harness::Bench;
use crate::report::{Figure, Row};
use crate::stats::Summary;
use serde_json::{json, Value};
use tributary_e2e::{secrets, WranglerDev};

/// SnapTrade accounts of the standard user (IBKR's three seeded accounts) and Plaid Items.
const SNAPTRADE_ACCOUNTS: u64 = 3;
const DAYS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    PageLoad,
    SnapTradeWebhook,
    PlaidWebhook,
    RefreshClick,
}

const fn at(hours: i64, minutes: i64) -> i64 {
    hours * 3600 + minutes * 60
}

/// The day, in seconds from its start: a page load at 5 past every hour, SnapTrade's holdings
/// webhook at 09:40, Plaid's at 16:20, refresh clicks at 08:00, 11:30, 13:15, 17:45 and 21:10.
fn standard_day() -> Vec<(i64, Action)> {
    let mut day: Vec<(i64, Action)> = (0..24).map(|h| (at(h, 5), Action::PageLoad)).collect();
    day.push((at(9, 40), Action::SnapTradeWebhook));
    day.push((at(16, 20), Action::PlaidWebhook));
    for (h, m) in [(8, 0), (11, 30), (13, 15), (17, 45), (21, 10)] {
        day.push((at(h, m), Action::RefreshClick));
    }
    day.sort_by_key(|(t, _)| *t);
    day
}

/// What one day cost, from the simulator's counts.
struct DayCost {
    billed: u64,
    /// Holdings reads (SnapTrade accounts/positions/balances, Plaid holdings/get).
    reads: u64,
    total: u64,
    refresh_statuses: Vec<u16>,
}

fn count(calls: &Value, provider: &str, operations: &[&str]) -> u64 {
    operations.iter().map(|op| calls[provider]["operations"][op].as_u64().unwrap_or(0)).sum()
}

/// One page load (`GET /api/portfolio`) at `time` s into the script; every connected provider
/// must answer (fresh or stale).
async fn page_load(client: &Client, user: &str, time: i64) -> Result<(), String> {
    let reply = client.get(user, "/api/portfolio").await?;
    // This user connects SnapTrade and Plaid only; every other provider stays not connected.
    let statuses: Vec<&Value> = reply.body["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["provider"] == "snaptrade" || p["provider"] == "plaid")
        .map(|p| &p["status"])
        .collect();
    if reply.status != 200 || statuses.len() != 2 || statuses.iter().any(|s| *s != "ok" && *s != "stale") {
        return Err(format!("page load at {time} s: {} {}", reply.status, reply.body));
    }
    Ok(())
}

/// The default TTLs (`SNAPTRADE_CACHE_HOURS`, `PLAID_CACHE_HOURS`) the quiet days run under.
const SNAPTRADE_TTL_S: i64 = 24 * 3600;
const PLAID_TTL_S: i64 = 72 * 3600;
const QUIET_DAYS: i64 = 4;

/// What holding the data to its TTL needs at least: one re-read of a provider at the first page
/// load at or past its TTL since the last read (`loads` in seconds after the linking read).
fn rereads_needed(loads: &[i64], ttl_s: i64) -> u64 {
    let mut last = 0;
    let mut rereads = 0;
    for &t in loads {
        if t - last >= ttl_s {
            rereads += 1;
            last = t;
        }
    }
    rereads
}

/// Connects a standard user who then only looks: a page load at 5 past every hour for
/// [`QUIET_DAYS`] days, with no webhook and no click (every copy outlives its TTL at least once).
async fn play_quiet_days(client: &mut Client) -> Result<(DayCost, Vec<i64>), String> {
    let user = format!("bench-quiet-{}", secrets::random_hex(4));
    client.connect_snaptrade(&user, "Interactive Brokers", "IBKR", SNAPTRADE_ACCOUNTS as usize).await?;
    client.link_plaid(&user, "Chase", "ins_56", 2).await?;
    client.sim_control("/__sim/calls/reset", json!({})).await?;
    let start = client.offset_s;
    let loads: Vec<i64> = (0..24 * QUIET_DAYS).map(|h| at(h, 5)).collect();
    for &time in &loads {
        client.advance_clock(start + time - client.offset_s).await?;
        page_load(client, &user, time).await?;
    }
    client.advance_clock(start + QUIET_DAYS * 86_400 - client.offset_s).await?;
    let calls = client.sim_calls().await?;
    let billed = calls["snaptrade"]["billed"].as_u64().unwrap_or(0) + calls["plaid"]["billed"].as_u64().unwrap_or(0);
    let total = calls["snaptrade"]["total"].as_u64().unwrap_or(0) + calls["plaid"]["total"].as_u64().unwrap_or(0);
    let reads = count(&calls, "snaptrade", &["accounts", "positions", "balances"])
        + count(&calls, "plaid", &["investments_holdings_get"]);
    Ok((DayCost { billed, reads, total, refresh_statuses: Vec::new() }, loads))
}

/// Connects a standard user, then plays one day for them with clicks sending `click_body`.
async fn play_day(client: &mut Client, click_body: &Value) -> Result<DayCost, String> {
    let user = format!("bench-day-{}", secrets::random_hex(4));
    client.connect_snaptrade(&user, "Interactive Brokers", "IBKR", SNAPTRADE_ACCOUNTS as usize).await?;
    let item = client.link_plaid(&user, "Chase", "ins_56", 2).await?;
    client.sim_control("/__sim/calls/reset", json!({})).await?;
    let start = client.offset_s;
    let mut refresh_statuses = Vec::new();
    for (time, action) in standard_day() {
        client.advance_clock(start + time - client.offset_s).await?;
        match action {
            Action::PageLoad => page_load(client, &user, time).await?,
            Action::SnapTradeWebhook | Action::PlaidWebhook => {
                let answer = if action == Action::PlaidWebhook {
                    client.plaid_holdings_webhook(&item).await?
                } else {
                    client.snaptrade_holdings_webhook(&user).await?
                };
                if answer["outcome"] != "pending_raised" {
                    return Err(format!("{action:?} at {time} s: {answer}"));
                }
            }
            Action::RefreshClick => {
                let reply = client.post(&user, "/api/holdings/refresh", click_body.clone()).await?;
                if !matches!(reply.status, 200 | 402) {
                    return Err(format!("refresh at {time} s: {} {}", reply.status, reply.body));
                }
                refresh_statuses.push(reply.status);
            }
        }
    }
    // Move on to the next day, so days never overlap on the worker's clock.
    client.advance_clock(start + 86_400 - client.offset_s).await?;
    let calls = client.sim_calls().await?;
    let billed = calls["snaptrade"]["billed"].as_u64().unwrap_or(0) + calls["plaid"]["billed"].as_u64().unwrap_or(0);
    let total = calls["snaptrade"]["total"].as_u64().unwrap_or(0) + calls["plaid"]["total"].as_u64().unwrap_or(0);
    let reads = count(&calls, "snaptrade", &["accounts", "positions", "balances"])
        + count(&calls, "plaid", &["investments_holdings_get"]);
    Ok(DayCost { billed, reads, total, refresh_statuses })
}

/// Runs the figure on a development worker with the default refresh policy (60 s cooldown, 24 h cap).
pub async fn run(bench: &Bench, worker: &WranglerDev) -> Result<Figure, String> {
    let mut client = Client::new(&worker.base_url, &bench.sim_url(), &bench.session_key)?;
    let mut standard = Vec::new();
    for _ in 0..DAYS {
        standard.push(play_day(&mut client, &json!({})).await?);
    }
    let named = play_day(&mut client, &json!({"providers": ["snaptrade", "plaid"]})).await?;
    let (quiet, loads) = play_quiet_days(&mut client).await?;
    let snaptrade_rereads = rereads_needed(&loads, SNAPTRADE_TTL_S);
    let plaid_rereads = rereads_needed(&loads, PLAID_TTL_S);
    let quiet_min_reads = snaptrade_rereads * (1 + 2 * SNAPTRADE_ACCOUNTS) + plaid_rereads;

    // The webhook-driven minimum: each webhook announces new data that a free re-read fetches once.
    let min_reads = (1 + 2 * SNAPTRADE_ACCOUNTS) + 1;
    let summary =
        |f: fn(&DayCost) -> u64, days: &[DayCost]| Summary::of(&days.iter().map(|d| f(d) as f64).collect::<Vec<_>>());
    let rows = vec![
        Row::new(
            "billed provider calls, standard day",
            "calls",
            summary(|d| d.billed, &standard),
            "webhook-driven minimum",
            0.0,
            Some(1.0),
        ),
        Row::new(
            "holdings reads, standard day",
            "calls",
            summary(|d| d.reads, &standard),
            "webhook-driven minimum",
            min_reads as f64,
            Some(1.0),
        ),
        Row::new(
            "billed provider calls, clicks naming both providers",
            "calls",
            summary(|d| d.billed, std::slice::from_ref(&named)),
            "webhook-driven minimum",
            0.0,
            None,
        ),
        Row::new(
            "holdings reads, 4 quiet days of page loads past the TTLs",
            "calls",
            summary(|d| d.reads, std::slice::from_ref(&quiet)),
            "one re-read per TTL passed",
            quiet_min_reads as f64,
            Some(1.0),
        ),
        Row::new(
            "billed provider calls, 4 quiet days of page loads past the TTLs",
            "calls",
            summary(|d| d.billed, std::slice::from_ref(&quiet)),
            "webhook-driven minimum",
            0.0,
            Some(1.0),
        ),
    ];
    let notes = vec![
        "Day (worker clock advanced by `POST /api/dev/clock`, never slept): a page load (`GET /api/portfolio`) \
         at 5 past every hour (24), SnapTrade `ACCOUNT_HOLDINGS_UPDATED` at 09:40, Plaid `HOLDINGS: \
         DEFAULT_UPDATE` at 16:20 (both signed with the worker's clock), refresh clicks at 08:00, 11:30, 13:15, \
         17:45, 21:10. User: SnapTrade IBKR (3 accounts) + Plaid Chase (2 accounts); counts start after linking."
            .into(),
        format!(
            "Standard day: clicks send `{{}}` as the web app's refresh buttons do (only what a webhook announced \
             is re-read); {DAYS} days, one new user each. All provider calls per day: {} (the reads plus the \
             Plaid verification-key fetch, made once per key and then cached).",
            standard.iter().map(|d| d.total.to_string()).collect::<Vec<_>>().join(", ")
        ),
        format!(
            "Webhook-driven minimum: billed = 0, because new data is announced by webhooks and re-reading it \
             is free (SnapTrade bills per connected user per month; Plaid investments is a per-Item monthly \
             subscription); only asking a provider to refresh (SnapTrade `/authorizations/{{id}}/refresh`, Plaid \
             `/investments/refresh`) is billed per call. Reads = one re-read per announcement: SnapTrade accounts \
             + {SNAPTRADE_ACCOUNTS} × (positions + balances) = {}, Plaid holdings/get = 1.",
            1 + 2 * SNAPTRADE_ACCOUNTS
        ),
        format!(
            "Clicks naming both providers (no cost confirmation; not what the web app sends): the first click \
             bills one refresh per provider, the later ones answer 402 `refresh_cost_capped` (statuses {:?}); \
             the 24 h cap bounds it to {} billed calls that day.",
            named.refresh_statuses, named.billed
        ),
        format!(
            "Quiet days: a new user linked like the others, then only page loads at 5 past every hour for \
             {QUIET_DAYS} days — no webhook, no click — so every cached copy outlives its TTL (SnapTrade 24 h, \
             Plaid 72 h, the defaults). Each read past a TTL re-reads that provider once, for free: the minimum \
             is {snaptrade_rereads} SnapTrade re-reads × {} calls + {plaid_rereads} Plaid holdings/get = \
             {quiet_min_reads} reads, 0 billed, for {} page loads ({} provider calls in all).",
            1 + 2 * SNAPTRADE_ACCOUNTS,
            loads.len(),
            quiet.total
        ),
    ];
    Ok(Figure { id: "provider_cost", title: "5. Provider cost", rows, notes })
}
