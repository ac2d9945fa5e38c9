//! `GET /api/connections/health` end to end, against the real worker and the simulator: a healthy
//! connection, a disabled one, a Schwab login near its seven-day end (the dev clock), a failed
//! read (a removed endpoint), the trading probe only when asked, a silent empty (the cached
//! positions kept, a second empty read believed) and one user never seeing another's connections.
//! The endpoint is passive: no provider is called to answer it, the trading probe included.

use crate::schwab::connect_schwab;
use crate::snaptrade::{connect_snaptrade, connect_snaptrade_as, sim_fault};
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        connection_health_of_a_freshly_read_connection_is_ok_and_calls_no_provider,
        connection_health_of_a_disabled_connection_needs_repair_with_reconnect,
        connection_health_warns_of_a_schwab_login_near_its_seven_day_end_then_needs_repair,
        connection_health_of_a_failed_read_is_degraded_with_its_code_and_keeps_the_cache,
        connection_health_probes_trading_only_when_asked_and_only_for_trade_connections,
        connection_health_silent_empty_keeps_the_cached_positions_until_a_second_read_confirms,
        connection_health_shows_each_user_only_their_own_connections,
    ]
}

const DAY_S: u64 = 86_400;

async fn health(ctx: &Ctx, token: &str, query: &str) -> Reply {
    ctx.get(&ctx.dev, &format!("/api/connections/health{query}"), Some(token)).await
}

/// The user's connections' health (asserting a 200).
async fn connections(ctx: &Ctx, token: &str, query: &str) -> Vec<Value> {
    let reply = health(ctx, token, query).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["connections"].as_array().unwrap_or_else(|| panic!("connections in {:?}", reply.body)).clone()
}

/// The only connection of the user (asserting there is one).
async fn only(ctx: &Ctx, token: &str) -> Value {
    let list = connections(ctx, token, "").await;
    assert_eq!(list.len(), 1, "{list:?}");
    list[0].clone()
}

fn status(connection: &Value) -> (&str, Option<&str>, Option<&str>) {
    (connection["status"].as_str().unwrap(), connection["reason"].as_str(), connection["action_code"].as_str())
}

/// Connects SnapTrade's Charles Schwab (two accounts) for a fresh user and syncs it.
async fn snaptrade_user(ctx: &Ctx, label: &str) -> (String, String) {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    connect_snaptrade(ctx, &token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    (user, token)
}

async fn connection_health_of_a_freshly_read_connection_is_ok_and_calls_no_provider(ctx: Arc<Ctx>) -> TestResult {
    let (user, token) = snaptrade_user(&ctx, "ch-ok").await;
    let before = ctx.sim_calls().await["snaptrade"]["users"][&user].clone();
    let connection = only(&ctx, &token).await;
    assert_eq!(ctx.sim_calls().await["snaptrade"]["users"][&user], before, "passive: no provider call");
    assert_eq!(status(&connection), ("ok", None, None), "{connection}");
    assert_eq!(connection["action"], Value::Null);
    assert_eq!((&connection["provider"], &connection["connection_type"]), (&json!("snaptrade"), &json!("read")));
    assert_eq!((&connection["data_ok"], &connection["disabled"]), (&json!(true), &json!(false)));
    assert_eq!((&connection["trading_ok"], &connection["trading_error"]), (&Value::Null, &Value::Null));
    assert_eq!(connection["reauth_required_at"], Value::Null, "SnapTrade has no re-login deadline");
    assert!(connection["connection_id"].as_str().unwrap().starts_with("snaptrade:"), "{connection}");
    assert!(connection["institution"].is_string(), "{connection}");
    let success = connection["last_success_at"].as_i64().expect("last_success_at");
    assert!((success - crate::support::now()).abs() < 600, "{connection}");
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let mut accounts: Vec<&str> =
        holdings.body["accounts"].as_array().unwrap().iter().filter_map(|a| a["account_id"].as_str()).collect();
    let mut listed: Vec<&str> =
        connection["account_ids"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    accounts.sort_unstable();
    listed.sort_unstable();
    assert_eq!((listed.len(), listed), (2, accounts), "the connection's cached accounts");
    Ok(())
}

async fn connection_health_of_a_disabled_connection_needs_repair_with_reconnect(ctx: Arc<Ctx>) -> TestResult {
    let (user, token) = snaptrade_user(&ctx, "ch-disabled").await;
    // The brokerage drops the connection; the next sync stores SnapTrade's `disabled`.
    sim_fault(&ctx, json!({"provider": "snaptrade", "endpoint": "*", "user_id": user, "kind": "disabled"})).await;
    ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    let connection = only(&ctx, &token).await;
    assert_eq!(status(&connection), ("needs_repair", Some("connection_disabled"), Some("reconnect")), "{connection}");
    assert_eq!((&connection["disabled"], &connection["data_ok"]), (&json!(true), &json!(false)));
    assert!(connection["disabled_date"].is_string(), "{connection}");
    assert!(connection["action"].as_str().unwrap().contains("Reconnect"), "{connection}");
    Ok(())
}

async fn connection_health_warns_of_a_schwab_login_near_its_seven_day_end_then_needs_repair(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("ch-expiry");
    let token = ctx.token(&user);
    connect_schwab(&ctx, &ctx.dev, &token, &ctx.user("cust")).await;
    let fresh = only(&ctx, &token).await;
    assert_eq!(status(&fresh), ("ok", None, None), "{fresh}");
    let deadline = fresh["reauth_required_at"].as_i64().expect("Schwab's re-login deadline");
    assert!((deadline - crate::support::now() - 7 * DAY_S as i64).abs() < 600, "{fresh}");

    // Five and a half days on, the holdings read again: within 48 h of the deadline.
    ctx.advance_user_clock(&ctx.dev, &user, 5 * DAY_S + DAY_S / 2).await;
    let read = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    let soon = only(&ctx, &token).await;
    assert_eq!(status(&soon), ("expires_soon", Some("login_expires_soon"), Some("reconnect")), "{soon}");
    assert_eq!((&soon["data_ok"], &soon["reauth_required_at"]), (&json!(true), &json!(deadline)), "{soon}");
    assert!(soon["action"].as_str().unwrap().contains("login ends in about"), "{soon}");

    // Past the deadline: needs repair before any read marks it.
    ctx.advance_user_clock(&ctx.dev, &user, 2 * DAY_S).await;
    let over = only(&ctx, &token).await;
    assert_eq!(status(&over), ("needs_repair", Some("schwab_reauth_required"), Some("reconnect")), "{over}");
    assert_eq!(over["data_ok"], false);
    Ok(())
}

async fn connection_health_of_a_failed_read_is_degraded_with_its_code_and_keeps_the_cache(ctx: Arc<Ctx>) -> TestResult {
    let (user, token) = snaptrade_user(&ctx, "ch-gone").await;
    let before = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await.body["positions"].clone();
    // SnapTrade removed the positions endpoint (410): the next read fails whole.
    sim_fault(
        &ctx,
        json!({"provider": "snaptrade", "endpoint": "positions", "user_id": user, "kind": "status", "status": 410}),
    )
    .await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.code(), "provider_endpoint_gone", "{:?}", sync.body);
    let connection = only(&ctx, &token).await;
    assert_eq!(
        status(&connection),
        ("degraded", Some("provider_endpoint_gone"), Some("report_problem")),
        "{connection}"
    );
    assert_eq!((&connection["data_ok"], &connection["data_reason"]), (&json!(false), &json!("provider_endpoint_gone")));
    assert!(connection["last_failure_at"].as_i64() >= connection["last_success_at"].as_i64(), "{connection}");
    assert!(connection["action"].as_str().unwrap().contains("410 Gone"), "the failure's own message: {connection}");
    let after = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(after.body["positions"], before, "the cached positions are kept");
    Ok(())
}

async fn connection_health_probes_trading_only_when_asked_and_only_for_trade_connections(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("ch-probe");
    let token = ctx.token(&user);
    let trade = connect_snaptrade_as(&ctx, &token, "Charles Schwab", "SCHWAB", "trade").await;
    let read = connect_snaptrade(&ctx, &token, "Fidelity", "FIDELITY").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let by_id = |list: &[Value], id: &str| {
        list.iter().find(|c| c["external_id"] == id).cloned().unwrap_or_else(|| panic!("{id} in {list:?}"))
    };

    for query in ["", "?probe_trading=false"] {
        let list = connections(&ctx, &token, query).await;
        assert_eq!(list.len(), 2, "{list:?}");
        assert!(list.iter().all(|c| c["trading_ok"].is_null() && c["trading_error"].is_null()), "{query}: {list:?}");
    }
    let before = ctx.sim_calls().await["snaptrade"]["users"][&user].clone();
    let probed = connections(&ctx, &token, "?probe_trading=true").await;
    assert_eq!(ctx.sim_calls().await["snaptrade"]["users"][&user], before, "the probe calls no provider");
    let traded = by_id(&probed, &trade);
    assert_eq!((&traded["connection_type"], &traded["trading_ok"]), (&json!("trade"), &json!(true)), "{traded}");
    assert_eq!(traded["trading_error"], Value::Null);
    let read_only = by_id(&probed, &read);
    assert_eq!((&read_only["connection_type"], &read_only["trading_ok"]), (&json!("read"), &Value::Null));

    let bad = health(&ctx, &token, "?probe_trading=yes").await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_input"), "{:?}", bad.body);
    Ok(())
}

/// A Schwab account with one position (or none) and `cash`, as the Trader API serves it.
fn schwab_account(positions: bool, cash: f64) -> Value {
    let held = json!([{"longQuantity": 10.0, "shortQuantity": 0.0, "averagePrice": 150.0, "marketValue": 1900.0,
        "instrument": {"assetType": "EQUITY", "symbol": "AAPL", "cusip": "037833100"}}]);
    json!({"securitiesAccount": {"type": "CASH", "accountNumber": "55550002",
        "positions": if positions { held } else { json!([]) }, "currentBalances": {"cashBalance": cash}}})
}

async fn connection_health_silent_empty_keeps_the_cached_positions_until_a_second_read_confirms(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("ch-empty");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    let set = |account: Value| {
        let ctx = ctx.clone();
        let body = json!({"customer": customer, "accounts": [account]});
        async move { assert_eq!(ctx.sim_control("/__sim/schwab/accounts", &body).await["accounts"], 1) }
    };
    set(schwab_account(true, 100.0)).await;
    let done = connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    assert_eq!(done["positions"], 1, "{done}");

    // Schwab now answers the same account, same cash, with no positions: a silent empty.
    set(schwab_account(false, 100.0)).await;
    let refresh = json!({"providers": ["schwab"]});
    let first = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, refresh.clone()).await;
    assert_eq!(first.body["results"][0]["error"]["code"], "suspect_empty", "{:?}", first.body);
    let kept = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    assert_eq!(kept.body["positions"].as_array().map(Vec::len), Some(1), "kept, not replaced by nothing");
    assert_eq!(kept.body["last_error"]["code"], "suspect_empty", "{:?}", kept.body);
    let connection = only(&ctx, &token).await;
    assert_eq!(status(&connection), ("degraded", Some("suspect_empty"), Some("refresh")), "{connection}");
    assert_eq!(connection["data_ok"], false);

    // A second read in a row answers the same: the account really is empty, and is recorded so.
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    let second = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, refresh).await;
    assert_eq!(second.body["results"][0]["status"], "ok", "{:?}", second.body);
    let emptied = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    assert_eq!(emptied.body["positions"], json!([]), "{:?}", emptied.body);
    assert_eq!(status(&only(&ctx, &token).await), ("ok", None, None));
    Ok(())
}

async fn connection_health_shows_each_user_only_their_own_connections(ctx: Arc<Ctx>) -> TestResult {
    let (_, alice) = snaptrade_user(&ctx, "ch-alice").await;
    let bob_user = ctx.user("ch-bob");
    let bob = ctx.token(&bob_user);
    connect_schwab(&ctx, &ctx.dev, &bob, &ctx.user("cust")).await;
    let hers = only(&ctx, &alice).await;
    let his = only(&ctx, &bob).await;
    assert_eq!((&hers["provider"], &his["provider"]), (&json!("snaptrade"), &json!("schwab")));
    let her_accounts = hers["account_ids"].as_array().unwrap();
    assert!(his["account_ids"].as_array().unwrap().iter().all(|a| !her_accounts.contains(a)));
    let nobody = ctx.user("ch-nobody");
    assert_eq!(connections(&ctx, &ctx.token(&nobody), "").await, Vec::<Value>::new(), "a new user has none");
    let anonymous = ctx.get(&ctx.dev, "/api/connections/health", None).await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);
    Ok(())
}
