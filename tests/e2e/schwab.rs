//! Schwab direct end to end, against the real worker and the simulator's Schwab Trader API: the
//! OAuth flow (a person clicks Allow on the simulator's consent page), refused states and codes,
//! the access-token refresh (once for a burst, and after a 401), the seven-day login expiry, and
//! the institution dedup against SnapTrade's and Plaid's copies of Schwab in both directions.

use crate::plaid::link_plaid;
use crate::routing::{line, report};
use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        schwab_connects_through_oauth_and_serves_holdings_through_the_shared_paths,
        schwab_refuses_foreign_and_replayed_states_and_reused_codes_storing_nothing,
        schwab_refuses_bad_callback_and_authorize_input_with_json_errors,
        schwab_refreshes_the_access_token_once_for_twenty_concurrent_reads,
        schwab_refreshes_and_retries_once_when_the_access_token_is_refused,
        schwab_rate_limit_is_waited_out_and_a_refresh_costs_two_calls_however_many_accounts,
        schwab_login_expiry_needs_repair_keeps_cached_holdings_and_reconnect_repairs,
        schwab_direct_is_canonical_for_schwab_and_fails_open_to_snaptrade,
        schwab_routes_reads_to_schwab_direct_and_trading_to_snaptrade,
    ]
}

const RETURN: &str = "http://127.0.0.1:9/?flow=return";
const DAY_S: u64 = 86_400;

/// A client that shows redirects instead of following them (the consent page's answer).
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The query of `url` as decoded pairs.
fn query(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

/// Starts the authorize flow on `base` and has Schwab customer `customer` click Allow on the
/// simulator's consent page; returns the callback's `code` exactly as the callback URL carries
/// it (URL-encoded, ending in `%40`) and its `state`.
async fn consent(ctx: &Ctx, base: &str, token: &str, customer: &str) -> (String, String) {
    let started = ctx.post(base, "/api/schwab/authorize", token, json!({"redirect": RETURN})).await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    let url = started.body["authorize_url"].as_str().expect("authorize_url").to_owned();
    assert!(url.starts_with(&format!("{}/v1/oauth/authorize?", ctx.sim)), "Schwab's own consent page: {url}");
    let asked = query(&url);
    let page = ctx.http.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200, "the consent page is shown");
    assert!(page.text().await.unwrap().contains("Allow"));
    let form = [
        ("client_id", asked["client_id"].as_str()),
        ("redirect_uri", asked["redirect_uri"].as_str()),
        ("state", asked["state"].as_str()),
        ("customer", customer),
        ("decision", "allow"),
    ];
    let allowed =
        no_redirects().post(format!("{}/v1/oauth/authorize/decision", ctx.sim)).form(&form).send().await.unwrap();
    assert_eq!(allowed.status().as_u16(), 302);
    let location = allowed.headers()["location"].to_str().unwrap().to_owned();
    let raw_code = location.split(['?', '&']).find_map(|p| p.strip_prefix("code=")).expect("code").to_owned();
    assert!(raw_code.ends_with("%40"), "Schwab's code arrives URL-encoded: {raw_code}");
    (raw_code, query(&location)["state"].clone())
}

/// Connects Schwab directly for the session user as `customer`; returns the callback's answer.
pub async fn connect_schwab(ctx: &Ctx, base: &str, token: &str, customer: &str) -> Value {
    let (code, state) = consent(ctx, base, token, customer).await;
    let done = ctx.post(base, "/api/schwab/callback", token, json!({"code": code, "state": state})).await;
    assert_eq!(done.status, 201, "{:?}", done.body);
    done.body
}

/// How many calls of `operation` the simulator's Schwab API took for `customer`.
async fn schwab_calls(ctx: &Ctx, customer: &str, operation: &str) -> u64 {
    ctx.sim_calls().await["schwab"]["users"][customer]["operations"][operation].as_u64().unwrap_or(0)
}

/// Makes everything of `customer` at the simulated Schwab `seconds` older.
async fn age(ctx: &Ctx, customer: &str, seconds: u64) {
    let answer = ctx.sim_control("/__sim/schwab/age", &json!({"customer": customer, "seconds": seconds})).await;
    assert_eq!(answer["customer"], customer, "{answer}");
}

fn positions(body: &Value) -> &Vec<Value> {
    body["positions"].as_array().unwrap_or_else(|| panic!("positions in {body}"))
}

async fn schwab_connects_through_oauth_and_serves_holdings_through_the_shared_paths(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("sw-connect");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    let done = connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    assert_eq!((done["accounts"].as_u64(), done["positions"].as_u64()), (Some(2), Some(5)), "{done}");
    assert_eq!(done["redirect"], RETURN);
    assert_eq!(
        (done["connection"]["provider"].as_str(), done["connection"]["needs_repair"].as_bool()),
        (Some("schwab"), Some(false))
    );

    let holdings = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    assert_eq!(holdings.status, 200, "{:?}", holdings.body);
    assert_eq!(
        (holdings.body["provider"].as_str(), holdings.body["cache_info"]["from_cache"].as_bool()),
        (Some("schwab"), Some(true))
    );
    assert!(holdings.body["last_error"].is_null() && holdings.body["has_pending_updates"] == false);
    let by_key = |key: &str| positions(&holdings.body).iter().find(|p| p["security_key"] == key).cloned().unwrap();
    let option = by_key("SYNT  260605C00121000");
    assert_eq!(
        (option["kind"].as_str(), option["quantity"].as_str()),
        (Some("option"), Some("-1.0")),
        "a short is negative"
    );
    assert_eq!(option["cost_basis"], "-94.34000", "average price × quantity × 100, exact");
    assert_eq!(by_key("SETF")["kind"], "etf");
    assert!(by_key("SYNT")["price"].is_null(), "no unit price from Schwab: unknown, not 0");
    let text = holdings.body.to_string();
    assert!(!text.contains("12345678") && !text.contains("87654321"), "plain account numbers never leave Schwab");
    let mut masks: Vec<&str> =
        holdings.body["accounts"].as_array().unwrap().iter().filter_map(|a| a["number_mask"].as_str()).collect();
    masks.sort_unstable();
    assert_eq!(masks, ["••4321", "••5678"], "accounts come in no promised order");
    // The money-market fund is counted once: as its position, not again as cash.
    let mut cash: Vec<&str> =
        holdings.body["balances"].as_array().unwrap().iter().filter_map(|b| b["amount"].as_str()).collect();
    cash.sort_unstable();
    assert_eq!(cash, ["1000.5", "1500.25"], "{:?}", holdings.body["balances"]);

    let listed = ctx.get(&ctx.dev, "/api/schwab/connections", Some(&token)).await;
    let connection = &listed.body["connections"][0];
    assert_eq!((connection["expires_soon"].as_bool(), connection["disabled"].as_bool()), (Some(false), Some(false)));
    let deadline = connection["reauth_required_at"].as_i64().unwrap();
    assert!(
        (deadline - crate::support::now() - 7 * DAY_S as i64).abs() < 600,
        "seven days from the login: {connection}"
    );
    let connected = ctx.get(&ctx.dev, "/api/connections", Some(&token)).await;
    assert!(connected.body["providers"]
        .as_array()
        .unwrap()
        .contains(&json!({"provider": "schwab", "connected": true})));
    let health = ctx.get(&ctx.dev, "/api/health", None).await;
    assert_eq!(health.body["providers"]["schwab"]["configured"], true);
    let prod = ctx.get(&ctx.prod, "/api/health", None).await;
    assert_eq!(prod.body["providers"]["schwab"]["configured"], false, "said by name, never by value");

    // Tokens are sealed at rest: neither the access nor the refresh token is stored readable.
    let rows = ctx.d1("SELECT access_ciphertext, refresh_ciphertext FROM oauth_grants WHERE user_id = ?1", &[&user]);
    assert_eq!(rows.len(), 1);
    let stored = rows[0].to_string();
    assert!(!stored.contains("I0.") && !stored.contains('@'), "sealed: {stored}");
    Ok(())
}

async fn schwab_refuses_foreign_and_replayed_states_and_reused_codes_storing_nothing(ctx: Arc<Ctx>) -> TestResult {
    let (owner, intruder) = (ctx.user("sw-owner"), ctx.user("sw-intruder"));
    let (owner_token, intruder_token) = (ctx.token(&owner), ctx.token(&intruder));
    let customer = ctx.user("cust");
    let (code, state) = consent(&ctx, &ctx.dev, &owner_token, &customer).await;
    let stolen =
        ctx.post(&ctx.dev, "/api/schwab/callback", &intruder_token, json!({"code": code, "state": state})).await;
    assert_eq!((stolen.status, stolen.code()), (400, "oauth_state_invalid"), "{:?}", stolen.body);
    assert!(ctx.d1("SELECT 1 FROM oauth_grants WHERE user_id = ?1", &[&intruder]).is_empty(), "nothing stored");
    assert!(ctx.d1("SELECT 1 FROM connections WHERE user_id = ?1", &[&intruder]).is_empty());
    assert_eq!(schwab_calls(&ctx, &customer, "token_code").await, 0, "refused before Schwab was asked");

    // Another user's attempt does not burn the owner's state.
    let done = ctx.post(&ctx.dev, "/api/schwab/callback", &owner_token, json!({"code": code, "state": state})).await;
    assert_eq!(done.status, 201, "{:?}", done.body);
    let replay = ctx.post(&ctx.dev, "/api/schwab/callback", &owner_token, json!({"code": code, "state": state})).await;
    assert_eq!((replay.status, replay.code()), (400, "oauth_state_invalid"), "a state is single-use");

    // A used code with a fresh state: Schwab refuses it, and the stored grant is unchanged.
    let before = ctx.d1("SELECT access_ciphertext, login_at FROM oauth_grants WHERE user_id = ?1", &[&owner]);
    let (_, fresh_state) = consent(&ctx, &ctx.dev, &owner_token, &customer).await;
    let reused =
        ctx.post(&ctx.dev, "/api/schwab/callback", &owner_token, json!({"code": code, "state": fresh_state})).await;
    assert_eq!((reused.status, reused.code()), (400, "oauth_code_rejected"), "{:?}", reused.body);
    let after = ctx.d1("SELECT access_ciphertext, login_at FROM oauth_grants WHERE user_id = ?1", &[&owner]);
    assert_eq!(before, after, "nothing stored by a refused code");
    Ok(())
}

async fn schwab_refuses_bad_callback_and_authorize_input_with_json_errors(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("sw-bad"));
    let cases: [(&str, Value, u16, &str); 7] = [
        ("/api/schwab/callback", json!({"state": "a".repeat(64)}), 400, "invalid_input"),
        ("/api/schwab/callback", json!({"code": "C0.x%40"}), 400, "invalid_input"),
        ("/api/schwab/callback", json!({"code": "C0.x%40", "state": "not-a-state"}), 400, "oauth_state_invalid"),
        ("/api/schwab/callback", json!({"code": "C0.x%zz", "state": "a".repeat(64)}), 400, "invalid_input"),
        ("/api/schwab/callback", json!({"code": "C0.x%40", "state": "b".repeat(64)}), 400, "oauth_state_invalid"),
        ("/api/schwab/authorize", json!({}), 400, "invalid_input"),
        ("/api/schwab/authorize", json!({"redirect": "javascript:alert(1)"}), 400, "invalid_input"),
    ];
    for (path, body, status, code) in cases {
        let reply: Reply = ctx.post(&ctx.dev, path, &token, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{path} {body}: {:?}", reply.body);
    }
    let unknown =
        ctx.post(&ctx.dev, "/api/schwab/callback", &token, json!({"code": "x", "state": "y", "extra": 1})).await;
    assert_eq!(unknown.status, 400, "unknown fields are refused: {:?}", unknown.body);
    let anonymous =
        ctx.send(ctx.http.post(format!("{}/api/schwab/authorize", ctx.dev)).json(&json!({"redirect": RETURN}))).await;
    assert_eq!(anonymous.status, 401);
    let unconfigured = ctx.get(&ctx.prod, "/api/schwab/connections", Some(&token)).await;
    assert!(unconfigured.status >= 400 && !unconfigured.code().is_empty(), "{:?}", unconfigured.body);
    Ok(())
}

async fn schwab_refreshes_the_access_token_once_for_twenty_concurrent_reads(ctx: Arc<Ctx>) -> TestResult {
    // The reliability worker has no refresh cooldown, so twenty refreshes really run at once.
    let base = ctx.reliability.clone();
    let user = ctx.user("sw-burst");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    connect_schwab(&ctx, &base, &token, &customer).await;
    let reads_before = schwab_calls(&ctx, &customer, "accounts").await;
    // 26 minutes on: under five minutes of the 30-minute access token remain.
    ctx.advance_user_clock(&base, &user, 26 * 60).await;
    let burst = (0..20).map(|_| ctx.post(&base, "/api/holdings/refresh", &token, json!({"providers": ["schwab"]})));
    let replies = futures_util::future::join_all(burst).await;
    for reply in &replies {
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["results"][0]["status"], "ok", "{:?}", reply.body);
        assert_eq!(reply.body["results"][0]["billed"], false, "Schwab direct reads are free");
    }
    assert_eq!(schwab_calls(&ctx, &customer, "token_refresh").await, 1, "one token call for the whole burst");
    assert_eq!(schwab_calls(&ctx, &customer, "accounts").await, reads_before + 20);
    Ok(())
}

async fn schwab_rate_limit_is_waited_out_and_a_refresh_costs_two_calls_however_many_accounts(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("sw-429");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    // Twelve accounts at Schwab: still one accountNumbers and one accounts call per read.
    let accounts: Vec<Value> = (0..12)
        .map(|i| {
            json!({"securitiesAccount": {"type": "CASH", "accountNumber": format!("{}", 44_000_000 + i),
                "positions": [{"longQuantity": 1.0, "averagePrice": 10.0, "marketValue": 11.0,
                    "instrument": {"assetType": "EQUITY", "symbol": "SYNT"}}],
                "currentBalances": {"cashBalance": 5.0}}})
        })
        .collect();
    let set = ctx.sim_control("/__sim/schwab/accounts", &json!({"customer": customer, "accounts": accounts})).await;
    assert_eq!(set["accounts"], 12, "{set}");
    let done = connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    assert_eq!(done["accounts"], 12);
    let before = |op| schwab_calls(&ctx, &customer, op);
    let (numbers_before, accounts_before) = (before("account_numbers").await, before("accounts").await);
    // Schwab answers the next accounts read with 429 and Retry-After: 1; the client waits it out.
    let fault = json!({"provider": "schwab", "endpoint": "accounts", "user_id": customer, "kind": "rate_limit",
        "retry_after": 1, "times": 1});
    crate::snaptrade::sim_fault(&ctx, fault).await;
    let refreshed = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["schwab"]})).await;
    assert_eq!(refreshed.body["results"][0]["status"], "ok", "{:?}", refreshed.body);
    assert_eq!(refreshed.body["results"][0]["accounts"], 12);
    assert_eq!(schwab_calls(&ctx, &customer, "accounts").await, accounts_before + 2, "the 429, then its retry");
    assert_eq!(schwab_calls(&ctx, &customer, "account_numbers").await, numbers_before + 1);
    Ok(())
}

async fn schwab_refreshes_and_retries_once_when_the_access_token_is_refused(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("sw-401");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    // Schwab's side thinks 31 minutes passed; the worker's clock does not: Schwab answers 401.
    age(&ctx, &customer, 31 * 60).await;
    let refreshed = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["schwab"]})).await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(refreshed.body["results"][0]["status"], "ok", "{:?}", refreshed.body);
    assert_eq!(schwab_calls(&ctx, &customer, "token_refresh").await, 1, "refreshed once after the 401");
    Ok(())
}

async fn schwab_login_expiry_needs_repair_keeps_cached_holdings_and_reconnect_repairs(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("sw-expiry");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    let first = connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    let connection_id = first["connection"]["external_id"].as_str().unwrap().to_owned();

    // Five and a half days on: within 48 h of the seven-day deadline.
    ctx.advance_user_clock(&ctx.dev, &user, 5 * DAY_S + DAY_S / 2).await;
    let soon = ctx.get(&ctx.dev, "/api/schwab/connections", Some(&token)).await;
    assert_eq!(soon.body["connections"][0]["expires_soon"], true, "{:?}", soon.body);

    // Past the deadline: the connection needs a new login, without asking Schwab in vain.
    ctx.advance_user_clock(&ctx.dev, &user, 2 * DAY_S).await;
    let refused = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["schwab"]})).await;
    assert_eq!(refused.status, 200, "{:?}", refused.body);
    assert_eq!(refused.body["results"][0]["error"]["code"], "schwab_reauth_required", "{:?}", refused.body);
    assert_eq!(schwab_calls(&ctx, &customer, "token_refresh").await, 0);
    let listed = ctx.get(&ctx.dev, "/api/schwab/connections", Some(&token)).await;
    let connection = &listed.body["connections"][0];
    assert_eq!(
        (connection["needs_repair"].as_bool(), connection["repair_reason"].as_str()),
        (Some(true), Some("schwab_reauth_required"))
    );
    assert_eq!(connection["expires_soon"], false, "expired, not expiring");
    let cached = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    assert_eq!(cached.status, 200);
    assert_eq!(positions(&cached.body).len(), 5, "cached holdings stay");
    assert_eq!(cached.body["last_error"]["code"], "schwab_reauth_required");

    // Reconnect runs the authorize flow again and repairs the same connection.
    let again = connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    assert_eq!(again["connection"]["external_id"], connection_id.as_str());
    assert_eq!(again["connection"]["needs_repair"], false);
    let fresh = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    assert!(fresh.body["last_error"].is_null(), "{:?}", fresh.body);

    // The token endpoint itself refusing the refresh token (Schwab's seven days are over on its
    // own clock) has the same outcome.
    age(&ctx, &customer, 7 * DAY_S + 60).await;
    ctx.advance_user_clock(&ctx.dev, &user, 26 * 60).await;
    let refused = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["schwab"]})).await;
    assert_eq!(refused.body["results"][0]["error"]["code"], "schwab_reauth_required", "{:?}", refused.body);
    assert_eq!(schwab_calls(&ctx, &customer, "token_refresh").await, 1, "asked once, then marked");
    let listed = ctx.get(&ctx.dev, "/api/schwab/connections", Some(&token)).await;
    assert_eq!(listed.body["connections"][0]["needs_repair"], true);
    Ok(())
}

async fn schwab_direct_is_canonical_for_schwab_and_fails_open_to_snaptrade(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("sw-dedup");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    // Schwab's own books hold the same 10 AAPL the aggregators report for this Schwab account.
    let account = json!({"securitiesAccount": {"type": "CASH", "accountNumber": "55550001",
        "positions": [{"longQuantity": 10.0, "shortQuantity": 0.0, "averagePrice": 150.0, "marketValue": 1900.0,
            "instrument": {"assetType": "EQUITY", "symbol": "AAPL", "cusip": "037833100"}}],
        "currentBalances": {"cashBalance": 100.0}}});
    let set = ctx.sim_control("/__sim/schwab/accounts", &json!({"customer": customer, "accounts": [account]})).await;
    assert_eq!(set["accounts"], 1, "{set}");
    connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    link_plaid(&ctx, &token, "Charles Schwab", "ins_11").await;
    connect_schwab(&ctx, &ctx.dev, &token, &customer).await;

    let merged = ctx.get(&ctx.dev, "/api/portfolio?view=consolidated", Some(&token)).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    let aapl = line(&merged.body, "AAPL");
    assert_eq!(aapl["quantity"], "10.0", "counted once, from Schwab direct: {aapl}");
    assert!(aapl["sources"].as_array().unwrap().iter().all(|s| s["provider"] == "schwab"), "{aapl}");
    for aggregator in ["snaptrade", "plaid"] {
        let routed = &report(&merged.body, aggregator)["routed_away"][0];
        assert_eq!(
            (routed["institution"].as_str(), routed["to"].as_str()),
            (Some("charles_schwab"), Some("schwab")),
            "{aggregator}: {}",
            merged.body
        );
    }
    assert_eq!(report(&merged.body, "schwab")["status"], "ok");

    // Schwab direct needs repair: SnapTrade's copy is shown instead, and the answer says why.
    ctx.advance_user_clock(&ctx.dev, &user, 7 * DAY_S + 60).await;
    let refused = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["schwab"]})).await;
    assert_eq!(refused.body["results"][0]["error"]["code"], "schwab_reauth_required", "{:?}", refused.body);
    let merged = ctx.get(&ctx.dev, "/api/portfolio?view=consolidated", Some(&token)).await;
    let aapl = line(&merged.body, "AAPL");
    assert_eq!(aapl["quantity"], "10", "still once, now from SnapTrade: {aapl}");
    assert!(aapl["sources"].as_array().unwrap().iter().all(|s| s["provider"] == "snaptrade"), "{aapl}");
    let schwab = report(&merged.body, "schwab");
    assert_eq!(
        (schwab["available"].as_bool(), schwab["routed_away"][0]["to"].as_str()),
        (Some(false), Some("snaptrade")),
        "{schwab}"
    );
    let snaptrade = report(&merged.body, "snaptrade");
    assert_eq!(
        snaptrade["fail_open"][0],
        json!({"institution": "charles_schwab", "preferred": "schwab"}),
        "{snaptrade}"
    );
    assert_eq!(report(&merged.body, "plaid")["routed_away"][0]["to"], "snaptrade", "Plaid's copy still yields");
    Ok(())
}

async fn schwab_routes_reads_to_schwab_direct_and_trading_to_snaptrade(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("sw-route"));
    let search = ctx.get(&ctx.dev, "/api/institutions?q=schwab", Some(&token)).await;
    let entry = search.body["institutions"].as_array().unwrap().iter().find(|e| e["slug"] == "charles_schwab").unwrap();
    assert_eq!(
        (entry["read"]["provider"].as_str(), entry["trade"]["provider"].as_str()),
        (Some("schwab"), Some("snaptrade")),
        "{entry}"
    );
    assert!(entry["read"]["message"].as_str().unwrap().contains("Schwab direct"), "says why: {entry}");
    let read =
        ctx.post(&ctx.dev, "/api/connections", &token, json!({"institution": "Schwab", "redirect": RETURN})).await;
    assert_eq!(
        (read.status, read.body["provider"].as_str(), read.body["flow"]["kind"].as_str()),
        (200, Some("schwab"), Some("schwab_oauth")),
        "{:?}",
        read.body
    );
    assert!(read.body["flow"]["url"].as_str().unwrap().starts_with(&format!("{}/v1/oauth/authorize?", ctx.sim)));
    let trade = ctx
        .post(
            &ctx.dev,
            "/api/connections",
            &token,
            json!({"institution": "Schwab", "need_trading": true, "redirect": RETURN}),
        )
        .await;
    assert_eq!(
        (trade.body["provider"].as_str(), trade.body["decision"]["reason"]["code"].as_str()),
        (Some("snaptrade"), Some("trading_needs_fallback")),
        "{:?}",
        trade.body
    );
    Ok(())
}
