//! Cache TTLs enforced, for free, against the real worker: a read past its TTL re-reads the
//! provider once however many read at the same moment, bills nothing, and when the provider fails
//! serves the stale copy with the error — then asks the failing provider again only after a pause.

use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::json;
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        a_read_past_the_ttl_rereads_once_for_twenty_readers_and_bills_nothing,
        a_failed_reread_serves_the_stale_copy_with_its_error_and_backs_off,
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
