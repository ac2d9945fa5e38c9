//! Cache TTLs enforced, for free, against the real worker: a read past its TTL re-reads the
//! provider once however many read at the same moment, bills nothing, and when the provider fails
//! serves the stale copy with the error — then asks the failing provider again only after a pause;
//! and the cron trigger re-reads the copies past their TTL that nobody read (a missed webhook).

use crate::plaid::{link_plaid, plaid_user};
use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::json;
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        a_read_past_the_ttl_rereads_once_for_twenty_readers_and_bills_nothing,
        a_failed_reread_serves_the_stale_copy_with_its_error_and_backs_off,
        the_cron_rereads_copies_past_their_ttl_oldest_first_within_each_providers_limit,
    ]
}

const HOUR_S: u64 = 3_600;

async fn snaptrade_calls(ctx: &Ctx, user: &str, operation: &str) -> (u64, u64) {
    let calls = ctx.sim_calls().await;
    let of = &calls["snaptrade"]["users"][user];
    (of["operations"][operation].as_u64().unwrap_or(0), of["billed"].as_u64().unwrap_or(0))
}

async fn connected(ctx: &Ctx, label: &str) -> (String, String) {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    connect_snaptrade(ctx, &token, "Fidelity", "FIDELITY").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    (user, token)
}

async fn a_read_past_the_ttl_rereads_once_for_twenty_readers_and_bills_nothing(ctx: Arc<Ctx>) -> TestResult {
    let (user, token) = connected(&ctx, "ttl-burst").await;
    let fresh = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(fresh.body["cache_info"]["from_cache"], true, "{:?}", fresh.body);
    let (accounts_before, billed_before) = snaptrade_calls(&ctx, &user, "accounts").await;

    // 25 hours on (SnapTrade's TTL is 24 h): twenty page loads at once.
    ctx.advance_user_clock(&ctx.dev, &user, 25 * HOUR_S).await;
    let reads = (0..20).map(|_| ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)));
    let replies = futures_util::future::join_all(reads).await;
    for reply in &replies {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        let age = reply.body["cache_info"]["age_hours"].as_str().map(|a| a.parse::<f64>().unwrap());
        assert!(age.is_none_or(|a| a < 24.0), "fresh data, never the 25 h copy: {:?}", reply.body["cache_info"]);
        assert!(reply.body["last_error"].is_null());
    }
    let (accounts_after, billed_after) = snaptrade_calls(&ctx, &user, "accounts").await;
    assert_eq!(accounts_after - accounts_before, 1, "one re-read for twenty readers");
    assert_eq!(billed_after, billed_before, "a re-read is free");
    // And now it is fresh again: the next read is the cache's.
    let again = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(again.body["cache_info"]["from_cache"], true);
    assert_eq!(snaptrade_calls(&ctx, &user, "accounts").await.0, accounts_after);
    Ok(())
}

async fn a_failed_reread_serves_the_stale_copy_with_its_error_and_backs_off(ctx: Arc<Ctx>) -> TestResult {
    let (user, token) = connected(&ctx, "ttl-fail").await;
    let before = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let positions = before.body["positions"].as_array().unwrap().len();
    assert!(positions > 0);
    ctx.advance_user_clock(&ctx.dev, &user, 25 * HOUR_S).await;
    let fault = json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": user, "kind": "status", "status": 500, "times": 100});
    let injected = ctx.sim_control("/__sim/faults", &fault).await;
    let id = injected["id"].as_u64().unwrap_or_else(|| panic!("{injected}"));
    let stale = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(stale.status, 200, "the stale copy, not an error: {:?}", stale.body);
    assert_eq!(stale.body["positions"].as_array().unwrap().len(), positions, "nothing lost");
    let age: f64 = stale.body["cache_info"]["age_hours"].as_str().unwrap().parse().unwrap();
    assert!(age >= 24.0 && stale.body["cache_info"]["ttl_hours"] == 24, "marked stale: {:?}", stale.body["cache_info"]);
    assert!(stale.body["last_error"]["code"].is_string(), "with the error: {:?}", stale.body["last_error"]);
    let (tried, _) = snaptrade_calls(&ctx, &user, "accounts").await;
    // A failing provider is not asked on every page load; after the pause it is asked again.
    let again = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(again.status, 200);
    assert_eq!(snaptrade_calls(&ctx, &user, "accounts").await.0, tried, "backed off");
    let removed = ctx.http.delete(format!("{}/__sim/faults/{id}", ctx.sim)).send().await.unwrap();
    assert_eq!(removed.status().as_u16(), 200);
    ctx.advance_user_clock(&ctx.dev, &user, 301).await;
    let recovered = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(recovered.status, 200, "{:?}", recovered.body);
    assert!(recovered.body["last_error"].is_null(), "{:?}", recovered.body["last_error"]);
    assert!(snaptrade_calls(&ctx, &user, "accounts").await.0 > tried, "asked again after the pause");
    Ok(())
}

/// How many holdings reads the simulated Plaid served for `user`.
async fn plaid_reads(ctx: &Ctx, user: &str) -> u64 {
    let calls = ctx.sim_calls().await;
    calls["plaid"]["users"][plaid_user(user)]["operations"]["investments_holdings_get"].as_u64().unwrap_or(0)
}

/// What the simulators were asked so far for each of `snaptrade` and `plaid` users: SnapTrade
/// account listings and Plaid holdings reads, and everything billed at either.
async fn reads_of(ctx: &Ctx, snaptrade: &[&str], plaid: &[&str]) -> (Vec<u64>, Vec<u64>, u64) {
    let calls = ctx.sim_calls().await;
    let of_snaptrade = |u: &str| calls["snaptrade"]["users"][u]["operations"]["accounts"].as_u64().unwrap_or(0);
    let of_plaid = |u: &str| {
        calls["plaid"]["users"][plaid_user(u)]["operations"]["investments_holdings_get"].as_u64().unwrap_or(0)
    };
    let billed = snaptrade.iter().map(|u| calls["snaptrade"]["users"][*u]["billed"].as_u64().unwrap_or(0)).sum::<u64>()
        + plaid.iter().map(|u| calls["plaid"]["users"][plaid_user(u)]["billed"].as_u64().unwrap_or(0)).sum::<u64>();
    (snaptrade.iter().map(|u| of_snaptrade(u)).collect(), plaid.iter().map(|u| of_plaid(u)).collect(), billed)
}

fn grew(before: &[u64], after: &[u64]) -> Vec<bool> {
    before.iter().zip(after).map(|(b, a)| a > b).collect()
}

async fn the_cron_rereads_copies_past_their_ttl_oldest_first_within_each_providers_limit(ctx: Arc<Ctx>) -> TestResult {
    // The cron worker reads every stale copy it holds: this suite has it to itself meanwhile.
    let turn = ctx.cron_turn.clone();
    let _turn = turn.lock().await;
    let ctx = ctx.on_cron_worker();

    // Eight Plaid users, one more than a run's Plaid share (half of Plaid's 15 a minute), each a
    // minute further past the 72 h TTL than the one before; nobody reads them after.
    let mut plaid = Vec::new();
    for i in 0..8u64 {
        let user = ctx.user(&format!("sweep-pl{i}"));
        let token = ctx.token(&user);
        link_plaid(&ctx, &token, "Chase", "ins_56").await;
        let read = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
        assert_eq!(read.status, 200, "{:?}", read.body);
        assert!(plaid_reads(&ctx, &user).await >= 1);
        ctx.advance_user_clock(&ctx.dev, &user, 72 * HOUR_S + (i + 1) * 60).await;
        plaid.push(user);
    }
    // SnapTrade: one copy 2 h past its 24 h TTL whose read is refused as rate limited, one 1 h
    // past it, and one fresh.
    let (limited, limited_token) = connected(&ctx, "sweep-st-limited").await;
    let (stale, stale_token) = connected(&ctx, "sweep-st-stale").await;
    let (fresh, _) = connected(&ctx, "sweep-st-fresh").await;
    ctx.advance_user_clock(&ctx.dev, &limited, 26 * HOUR_S).await;
    ctx.advance_user_clock(&ctx.dev, &stale, 25 * HOUR_S).await;
    let fault = json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": limited, "kind": "status", "status": 429, "times": 1000});
    let injected = ctx.sim_control("/__sim/faults", &fault).await;
    let fault_id = injected["id"].as_u64().unwrap_or_else(|| panic!("{injected}"));

    let snaptrade = [limited.as_str(), stale.as_str(), fresh.as_str()];
    let plaid_ids: Vec<&str> = plaid.iter().map(String::as_str).collect();
    let (st0, pl0, billed0) = reads_of(&ctx, &snaptrade, &plaid_ids).await;

    // First run: the most overdue first. SnapTrade's rate-limited answer stops SnapTrade for the
    // run (the copy an hour past waits); Plaid's seven most overdue are read, the eighth waits.
    ctx.run_cron().await;
    let (st1, pl1, billed1) = reads_of(&ctx, &snaptrade, &plaid_ids).await;
    assert_eq!(grew(&st0, &st1), [true, false, false], "SnapTrade limited, stale, fresh: {st0:?} -> {st1:?}");
    assert_eq!(grew(&pl0, &pl1), [false, true, true, true, true, true, true, true], "{pl0:?} -> {pl1:?}");
    assert!(pl0.iter().zip(&pl1).all(|(b, a)| a - b <= 1), "one read each: {pl0:?} -> {pl1:?}");
    let served = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&limited_token)).await;
    assert_eq!(served.status, 200, "the stale copy: {:?}", served.body);
    assert_eq!(served.body["last_error"]["code"], "provider_rate_limited", "{:?}", served.body);
    assert_eq!(served.body["cache_info"]["from_cache"], true);

    // Second run: the ones that waited; the rate-limited copy is not asked again so soon.
    ctx.run_cron().await;
    let (st2, pl2, billed2) = reads_of(&ctx, &snaptrade, &plaid_ids).await;
    assert_eq!(grew(&st1, &st2), [false, true, false], "{st1:?} -> {st2:?}");
    assert_eq!(grew(&pl1, &pl2), [true, false, false, false, false, false, false, false], "{pl1:?} -> {pl2:?}");
    let read = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&stale_token)).await;
    let age = read.body["cache_info"]["age_hours"].as_str().and_then(|a| a.parse::<f64>().ok());
    assert!(age.is_some_and(|a| a < 24.0) && read.body["last_error"].is_null(), "fresh again: {:?}", read.body);

    // Third run: everything is fresh or backing off — nothing is read; nothing was ever billed.
    ctx.run_cron().await;
    let (st3, pl3, billed3) = reads_of(&ctx, &snaptrade, &plaid_ids).await;
    assert_eq!((st3, pl3), (st2, pl2), "no read beyond the minimum");
    assert_eq!([billed1, billed2, billed3], [billed0; 3], "the sweep never bills");
    let removed = ctx.http.delete(format!("{}/__sim/faults/{fault_id}", ctx.sim)).send().await.unwrap();
    assert_eq!(removed.status().as_u16(), 200);
    Ok(())
}
