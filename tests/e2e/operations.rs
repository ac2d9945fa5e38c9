//! Operations end to end (issue 17 §3, §5): every provider call's outcome recorded per request,
//! link-time routing that avoids a provider failing for one institution now and returns when it
//! recovers, the window's rows kept by a user's clock, and the operator's metrics equal to what the simulator
//! counted — readable by the operator only.
//!
//! Each trial runs its user on a development clock far ahead of every other suite's (its own
//! range of days), so the rows it writes and reads — per minute and per day — are its own.

use crate::plaid::{link_plaid, plaid_user};
use crate::snaptrade::sim_fault;
use crate::support::{now, Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

const DAY_S: u64 = 86_400;

/// The per-call prices the development worker is configured with (`PROVIDER_CALL_PRICES`).
pub const CALL_PRICES: &str = r#"{"plaid:investments_refresh": "0.12", "snaptrade:refresh": "0.05"}"#;

/// The development worker's `OPERATOR_TOKEN`, derived from its session key.
pub fn operator_token_for(session_key: &str) -> String {
    format!("operator-{session_key}")
}

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        operations_routing_avoids_a_provider_failing_for_an_institution_and_returns_when_it_recovers,
        operations_metrics_equal_the_calls_the_simulator_counted,
        operations_metrics_refuse_users_and_admit_the_operator,
    ]
}

/// A random offset in `[base_days, base_days + 100)` days, in seconds.
fn offset(base_days: u64) -> u64 {
    let spread = u64::from_str_radix(&tributary_e2e::secrets::random_hex(4), 16).unwrap() % (100 * DAY_S);
    base_days * DAY_S + spread
}

/// Moves `user`'s clock forward by `seconds`; returns the time it now reads.
async fn advance(ctx: &Ctx, user: &str, seconds: u64) -> i64 {
    let body = json!({"advance_s": seconds, "user_id": user});
    let reply = ctx.send(ctx.http.post(format!("{}/api/dev/clock", ctx.dev)).json(&body)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["now"].as_i64().unwrap()
}

fn chase_read(body: &Value) -> Value {
    let entries = body["institutions"].as_array().unwrap_or_else(|| panic!("{body}"));
    entries.iter().find(|e| e["slug"] == "chase").unwrap_or_else(|| panic!("chase in {body}"))["read"].clone()
}

async fn picker(ctx: &Ctx, token: &str, q: &str) -> Value {
    let reply = ctx.get(&ctx.dev, &format!("/api/institutions?q={q}"), Some(token)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

fn window_rows(ctx: &Ctx, first: i64, last: i64) -> i64 {
    let rows = ctx.d1(
        "SELECT COUNT(*) AS n FROM provider_call_window WHERE provider = 'plaid' AND institution = 'chase'
         AND minute BETWEEN ?1 AND ?2",
        &[&first.to_string(), &last.to_string()],
    );
    rows[0]["n"].as_i64().unwrap()
}

async fn operations_routing_avoids_a_provider_failing_for_an_institution_and_returns_when_it_recovers(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("ops-route");
    let token = ctx.token(&user);
    // Days of its own (later than the metrics trial's), so no other trial's calls share its window.
    let started = advance(&ctx, &user, offset(250)).await;
    assert_eq!(chase_read(&picker(&ctx, &token, "Chase").await)["provider"], "plaid", "Plaid first while healthy");

    // Plaid fails five link attempts for Chase, then recovers by itself (the fault retires).
    let fault = json!({"provider": "plaid", "endpoint": "link_token_create", "user_id": plaid_user(&user),
                       "kind": "status", "status": 500, "times": 5});
    sim_fault(&ctx, fault).await;
    let link = json!({"institution": "Chase", "redirect": "http://127.0.0.1:9/linked"});
    for _ in 0..5 {
        let failed = ctx.post(&ctx.dev, "/api/plaid/link", &token, link.clone()).await;
        assert!(failed.status >= 500, "{:?}", failed.body);
    }
    let first_minute = started / 60;
    assert!(window_rows(&ctx, first_minute, first_minute + 10) >= 1, "the failures are in the window");

    let read = chase_read(&picker(&ctx, &token, "Chase").await);
    assert_eq!(read["provider"], "snaptrade", "{read}");
    assert_eq!(read["reason"]["code"], "fell_back");
    assert_eq!(read["reason"]["from"], "plaid");
    assert_eq!(read["reason"]["problem"], json!({"code": "high_failure_rate", "attempts": 5, "failures": 5}));
    let message = read["message"].as_str().unwrap();
    assert!(message.starts_with("Plaid is failing for Chase right now"), "{message}");
    assert!(message.contains("connecting through SnapTrade"), "{message}");
    let connect = ctx.post(&ctx.dev, "/api/connections", &token, link.clone()).await;
    assert_eq!((connect.status, &connect.body["provider"]), (200, &json!("snaptrade")), "{:?}", connect.body);
    assert_eq!(connect.body["decision"]["message"], read["message"]);
    let boa = picker(&ctx, &token, "Bank%20of%20America").await;
    let boa_read =
        &boa["institutions"].as_array().unwrap().iter().find(|e| e["slug"] == "bank_of_america").unwrap()["read"];
    assert_eq!(boa_read["provider"], "plaid", "only Chase is routed around");

    // The failures leave the window: Plaid again.
    advance(&ctx, &user, 601).await;
    let back = chase_read(&picker(&ctx, &token, "Chase").await);
    assert_eq!((&back["provider"], &back["reason"]["code"]), (&json!("plaid"), &json!("preferred")), "{back}");

    // Pruning follows the wall clock (core `ops::window`, unit-tested), never a user's clock: the
    // minutes stay while this run lasts, and the daily aggregate keeps the calls.
    advance(&ctx, &user, 3_600).await;
    let ok = ctx.post(&ctx.dev, "/api/plaid/link", &token, link).await;
    assert_eq!(ok.status, 200, "Plaid recovered: {:?}", ok.body);
    assert!(window_rows(&ctx, first_minute, first_minute + 10) >= 1, "a user's clock prunes nothing");
    let day = tributary_core::time::Date::from_unix(started).to_string();
    let kept = ctx.d1(
        "SELECT SUM(failed) AS failed FROM provider_call_days WHERE day >= ?1 AND provider = 'plaid'
         AND institution = 'chase' AND operation = 'link_token_create'",
        &[&day],
    );
    assert!(kept[0]["failed"].as_i64().unwrap_or(0) >= 5, "{kept:?}");
    Ok(())
}

async fn metrics(ctx: &Ctx, bearer: &str, query: &str) -> crate::support::Reply {
    ctx.get(&ctx.dev, &format!("/api/ops/metrics{query}"), Some(bearer)).await
}

fn plaid_days(body: &Value) -> Vec<&Value> {
    body["days"].as_array().unwrap_or_else(|| panic!("{body}")).iter().filter(|d| d["provider"] == "plaid").collect()
}

async fn operations_metrics_equal_the_calls_the_simulator_counted(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("ops-metrics");
    let token = ctx.token(&user);
    let at = advance(&ctx, &user, offset(100)).await;
    link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let refreshed = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["plaid"]})).await;
    assert_eq!(
        (refreshed.status, &refreshed.body["results"][0]["billed"]),
        (200, &json!(true)),
        "{:?}",
        refreshed.body
    );

    let calls = ctx.sim_calls().await;
    let counted = &calls["plaid"]["users"][plaid_user(&user)];
    let total = counted["total"].as_u64().unwrap();
    let refreshes = counted["operations"]["investments_refresh"].as_u64().unwrap();
    assert_eq!(refreshes, 1, "{counted}");

    let day = tributary_core::time::Date::from_unix(at);
    let query = format!("?from={day}&to={}", day.add_days(1));
    let reply = metrics(&ctx, &operator_token_for(&ctx.session_key_raw), &query).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let body = &reply.body;
    assert_eq!(body["latency_ms_bucketed"], true);
    assert_eq!(body["from"], day.to_string());
    let days = plaid_days(body);
    assert!(!days.is_empty(), "{body}");
    let sum = |key: &str| days.iter().map(|d| d[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("calls"), total, "every attempt the simulator received is counted: {body}");
    assert_eq!(sum("succeeded"), total, "none failed");
    assert_eq!(sum("failed"), 0);
    assert_eq!(sum("billed_calls"), refreshes, "the billed refresh");
    let billed_day = days.iter().find(|d| d["billed_calls"] == 1).unwrap();
    assert_eq!(billed_day["cost"], "0.12", "one refresh at the configured price, exact: {billed_day}");
    assert_eq!(billed_day["success_rate"], 1.0);
    let bounds: Vec<u64> =
        body["latency_bucket_bounds_ms"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).collect();
    for key in ["p50_latency_ms", "p95_latency_ms"] {
        let p = billed_day[key].as_u64().unwrap_or_else(|| panic!("{key} in {billed_day}"));
        assert!(bounds.contains(&p), "{key} {p} is a bucket bound");
    }
    assert!(body["days"].as_array().unwrap().iter().all(|d| d["provider"] != "snaptrade"), "no SnapTrade call: {body}");
    assert!(body["connections"]["by_provider"]["plaid"]["total"].as_u64().unwrap() >= 1, "{body}");
    Ok(())
}

async fn operations_metrics_refuse_users_and_admit_the_operator(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("ops-user");
    let refused = metrics(&ctx, &ctx.token(&user), "").await;
    assert_eq!((refused.status, refused.code()), (403, "operator_only"), "{:?}", refused.body);
    let anonymous = ctx.get(&ctx.dev, "/api/ops/metrics", None).await;
    assert_eq!((anonymous.status, anonymous.code()), (401, "missing_token"));
    let wrong = metrics(&ctx, &format!("{}x", operator_token_for(&ctx.session_key_raw)), "").await;
    assert_eq!(wrong.status, 401, "a near miss of the operator token is just a bad session: {:?}", wrong.body);

    // A rejected webhook is counted for today (the worker's clock).
    let forged = ctx
        .send(ctx.http.post(format!("{}/webhooks/snaptrade", ctx.dev)).header("Signature", "forged").body("{}"))
        .await;
    assert!(forged.status >= 400, "{:?}", forged.body);
    let operator = operator_token_for(&ctx.session_key_raw);
    let today = tributary_core::time::Date::from_unix(now());
    let query = format!("?from={}&to={}", today.add_days(-1), today.add_days(1));
    let seen = metrics(&ctx, &operator, &query).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    let rejected: u64 = seen.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["provider"] == "snaptrade")
        .map(|d| d["webhooks"]["rejected"].as_u64().unwrap())
        .sum();
    assert!(rejected >= 1, "{:?}", seen.body);

    // A development session with the operator role is the operator too; an unknown role is refused.
    let session = |role: &str| json!({"user_id": ctx.user("ops-admin"), "role": role});
    let issued = ctx.send(ctx.http.post(format!("{}/api/dev/session", ctx.dev)).json(&session("operator"))).await;
    assert_eq!((issued.status, &issued.body["role"]), (201, &json!("operator")), "{:?}", issued.body);
    let as_role = metrics(&ctx, issued.body["token"].as_str().unwrap(), "").await;
    assert_eq!(as_role.status, 200, "{:?}", as_role.body);
    let unknown = ctx.send(ctx.http.post(format!("{}/api/dev/session", ctx.dev)).json(&session("admin"))).await;
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);

    let reversed = metrics(&ctx, &operator, "?from=2026-03-02&to=2026-03-01").await;
    assert_eq!((reversed.status, reversed.code()), (400, "invalid_metrics_range"));
    let bad = metrics(&ctx, &operator, "?from=yesterday").await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_metrics_range"));
    Ok(())
}
