//! Webhooks, pending updates and refresh end to end: the simulator signs and sends SnapTrade
//! webhooks to the worker; the worker verifies them, raises pending flags, repairs and removes
//! connections, and refreshes under the cooldown and cost cap — checked in D1 itself.

use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        webhook_holdings_update_raises_the_flag_and_a_refresh_clears_it,
        webhook_forgeries_are_rejected_and_change_nothing,
        webhook_replayed_id_is_acknowledged_once,
        webhook_without_a_consumer_key_outside_development_is_503,
        webhook_connection_broken_fixed_and_deleted_change_the_connection,
        refresh_within_the_cooldown_is_429_with_retry_after,
        a_users_own_clock_ends_their_cooldown_and_no_one_elses,
        refresh_twenty_concurrent_requests_make_one_provider_call,
        refresh_billed_twice_within_the_cap_needs_confirmation,
        refresh_plaid_twice_within_a_day_is_blocked_unless_the_cost_is_confirmed,
    ]
}

/// A user with Schwab connected through SnapTrade and synced; returns (user, token, authorization).
async fn connected_user(ctx: &Ctx, label: &str) -> (String, String, String) {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    let authorization = connect_snaptrade(ctx, &token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    (user, token, authorization)
}

/// Asks the simulator to sign and send one SnapTrade webhook to `base`; returns the worker's reply.
async fn send_webhook(ctx: &Ctx, base: &str, spec: Value) -> (String, u16, Value) {
    let mut spec = spec;
    spec["url"] = json!(format!("{base}/webhooks/snaptrade"));
    let (status, body, answer) = ctx.sim_webhook("/__sim/snaptrade/webhook", &spec).await;
    (answer["webhook_id"].as_str().unwrap_or_default().to_owned(), status, body)
}

/// Every row the webhook pipeline can touch for `user`, to prove a refusal changed nothing.
fn d1_state(ctx: &Ctx, user: &str) -> Value {
    json!({
        "events": ctx.d1("SELECT provider, webhook_id, event_type, outcome FROM webhook_events WHERE user_id = ?1 OR user_id IS NULL ORDER BY id", &[user]),
        "pending": ctx.d1("SELECT provider, pending, raised_at, last_event_id FROM pending_updates WHERE user_id = ?1", &[user]),
        "connections": ctx.d1("SELECT id, needs_repair, repair_reason, disabled FROM connections WHERE user_id = ?1 ORDER BY id", &[user]),
        "positions": ctx.d1("SELECT account_id, security_key, quantity FROM positions WHERE user_id = ?1 ORDER BY id", &[user]),
    })
}

async fn pending(ctx: &Ctx, token: &str) -> Value {
    let reply = ctx.get(&ctx.dev, "/api/pending-updates", Some(token)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

async fn refresh(ctx: &Ctx, token: &str, body: Value) -> (Reply, Option<String>) {
    let response =
        ctx.http.post(format!("{}/api/holdings/refresh", ctx.dev)).bearer_auth(token).json(&body).send().await.unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    tributary_e2e::refuse_proxy_fault("POST /api/holdings/refresh", status, &text);
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    (Reply { status, body, content_type: String::new() }, retry_after)
}

async fn webhook_holdings_update_raises_the_flag_and_a_refresh_clears_it(ctx: Arc<Ctx>) -> TestResult {
    let (user, token, authorization) = connected_user(&ctx, "wh-flag").await;
    assert_eq!(
        pending(&ctx, &token).await,
        json!({"plaid": false, "snaptrade": false, "schwab": false, "ibkr_flex": false, "transactions": crate::support::no_transactions_pending()})
    );
    let nothing = refresh(&ctx, &token, json!({})).await.0;
    assert_eq!((nothing.status, &nothing.body["decision"]), (200, &json!("nothing_pending")), "{:?}", nothing.body);

    let spec = json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": user, "authorization_id": authorization});
    let (webhook_id, status, body) = send_webhook(&ctx, &ctx.dev, spec).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("pending_raised")), "{body}");
    assert_eq!(
        pending(&ctx, &token).await,
        json!({"plaid": false, "snaptrade": true, "schwab": false, "ibkr_flex": false, "transactions": crate::support::no_transactions_pending()})
    );
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(holdings.body["has_pending_updates"], true);
    let rows = ctx.d1(
        "SELECT pending, last_event_id FROM pending_updates WHERE user_id = ?1 AND provider = 'snaptrade'",
        &[&user],
    );
    assert_eq!(rows, vec![json!({"pending": 1, "last_event_id": webhook_id})]);

    let (done, _) = refresh(&ctx, &token, json!({})).await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(done.body["results"][0]["provider"], "snaptrade");
    assert_eq!(done.body["results"][0]["status"], "ok");
    assert_eq!(done.body["results"][0]["mode"], "fetch_only", "webhook data is re-read, not re-bought");
    assert_eq!(done.body["results"][0]["billed"], false);
    assert_eq!(
        pending(&ctx, &token).await,
        json!({"plaid": false, "snaptrade": false, "schwab": false, "ibkr_flex": false, "transactions": crate::support::no_transactions_pending()})
    );
    let log = ctx.d1("SELECT provider, trigger, billed, status FROM refresh_log WHERE user_id = ?1", &[&user]);
    assert_eq!(log, vec![json!({"provider": "snaptrade", "trigger": "webhook", "billed": 0, "status": "ok"})]);
    let calls: Value = ctx.sim_calls().await;
    assert_eq!(calls["snaptrade"]["users"][&user]["billed"], 0, "a webhook-driven refresh costs nothing: {calls}");
    Ok(())
}

async fn webhook_forgeries_are_rejected_and_change_nothing(ctx: Arc<Ctx>) -> TestResult {
    let (user, _token, authorization) = connected_user(&ctx, "wh-forged").await;
    let before = d1_state(&ctx, &user);
    let cases = [
        ("bad_signature", 403, "webhook_signature_invalid"),
        ("no_signature", 401, "webhook_signature_missing"),
        ("stale", 403, "webhook_stale"),
        ("future", 403, "webhook_stale"),
        ("missing_timestamp", 400, "webhook_malformed_timestamp"),
        ("malformed_timestamp", 400, "webhook_malformed_timestamp"),
        ("wrong_client", 403, "webhook_wrong_client"),
        ("non_json", 400, "webhook_malformed_json"),
    ];
    for (tamper, status, code) in cases {
        let spec = json!({"event_type": "CONNECTION_DELETED", "user_id": user, "authorization_id": authorization, "tamper": tamper});
        let (_, got, body) = send_webhook(&ctx, &ctx.dev, spec).await;
        assert_eq!((got, body["error"]["code"].as_str().unwrap_or_default()), (status, code), "{tamper}: {body}");
        assert_eq!(d1_state(&ctx, &user), before, "{tamper} changed D1");
    }
    // Keys in another order with the canonical form's signature are the same payload: accepted.
    let spec = json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": user, "tamper": "reordered_keys"});
    let (_, status, body) = send_webhook(&ctx, &ctx.dev, spec).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("pending_raised")), "{body}");
    Ok(())
}

async fn webhook_replayed_id_is_acknowledged_once(ctx: Arc<Ctx>) -> TestResult {
    let (user, token, _) = connected_user(&ctx, "wh-replay").await;
    let (webhook_id, status, _) =
        send_webhook(&ctx, &ctx.dev, json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": user})).await;
    assert_eq!(status, 200);
    assert_eq!(refresh(&ctx, &token, json!({})).await.0.status, 200, "the refresh clears the flag");
    let after_first = d1_state(&ctx, &user);
    let (status, body, _) =
        ctx.sim_webhook("/__sim/snaptrade/webhook/replay", &json!({"webhook_id": webhook_id})).await;
    assert_eq!(status, 200, "a replay is acknowledged so SnapTrade stops retrying: {body}");
    assert_eq!(body["duplicate"], true);
    assert_eq!(d1_state(&ctx, &user), after_first, "the replay raised nothing again");
    assert_eq!(pending(&ctx, &token).await["snaptrade"], false);
    Ok(())
}

async fn webhook_without_a_consumer_key_outside_development_is_503(ctx: Arc<Ctx>) -> TestResult {
    let (_, status, body) =
        send_webhook(&ctx, &ctx.prod, json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": "anyone"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("webhook_not_configured")), "{body}");
    Ok(())
}

async fn webhook_connection_broken_fixed_and_deleted_change_the_connection(ctx: Arc<Ctx>) -> TestResult {
    let (user, token, authorization) = connected_user(&ctx, "wh-repair").await;
    let connection = |body: &Value| body["connections"][0].clone();
    let spec = |event: &str| json!({"event_type": event, "user_id": user, "authorization_id": authorization});

    assert_eq!(send_webhook(&ctx, &ctx.dev, spec("CONNECTION_BROKEN")).await.1, 200);
    let broken = ctx.get(&ctx.dev, "/api/snaptrade/connections", Some(&token)).await.body;
    assert_eq!(
        (connection(&broken)["needs_repair"].as_bool(), connection(&broken)["repair_reason"].as_str()),
        (Some(true), Some("CONNECTION_BROKEN"))
    );

    assert_eq!(send_webhook(&ctx, &ctx.dev, spec("CONNECTION_FIXED")).await.1, 200);
    let fixed = ctx.get(&ctx.dev, "/api/snaptrade/connections", Some(&token)).await.body;
    assert_eq!(connection(&fixed)["needs_repair"], false);

    let unknown = send_webhook(&ctx, &ctx.dev, spec("SOMETHING_NEW")).await;
    assert_eq!((unknown.1, &unknown.2["outcome"]), (200, &json!("acknowledged")), "unknown types are acknowledged");

    assert!(!ctx.d1("SELECT id FROM positions WHERE user_id = ?1", &[&user]).is_empty());
    let (_, status, body) = send_webhook(&ctx, &ctx.dev, spec("CONNECTION_DELETED")).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("connection_removed")), "{body}");
    assert_eq!(ctx.get(&ctx.dev, "/api/snaptrade/connections", Some(&token)).await.body["connections"], json!([]));
    assert!(ctx.d1("SELECT id FROM positions WHERE user_id = ?1", &[&user]).is_empty(), "cached rows removed");
    assert!(ctx.d1("SELECT id FROM accounts WHERE user_id = ?1", &[&user]).is_empty());
    Ok(())
}

async fn refresh_within_the_cooldown_is_429_with_retry_after(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, _) = connected_user(&ctx, "rf-cool").await;
    let (first, _) = refresh(&ctx, &token, json!({"providers": ["snaptrade"]})).await;
    assert_eq!((first.status, &first.body["decision"]), (200, &json!("allowed")), "{:?}", first.body);
    let (second, retry_after) = refresh(&ctx, &token, json!({"providers": ["snaptrade"]})).await;
    assert_eq!((second.status, second.code()), (429, "refresh_cooling_down"), "{:?}", second.body);
    let seconds: u64 = retry_after.expect("Retry-After header").parse().unwrap();
    assert!((1..=crate::REFRESH_COOLDOWN_S).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(second.body["retry_after_s"], seconds);

    let bad = refresh(&ctx, &token, json!({"providers": ["robinhood"]})).await.0;
    assert_eq!((bad.status, bad.code()), (400, "unknown_provider"), "{:?}", bad.body);
    let unconnected = refresh(&ctx, &token, json!({"providers": ["plaid"]})).await.0;
    assert_eq!((unconnected.status, unconnected.code()), (409, "refresh_provider_not_connected"));
    Ok(())
}

async fn refresh_twenty_concurrent_requests_make_one_provider_call(ctx: Arc<Ctx>) -> TestResult {
    let (user, token, _) = connected_user(&ctx, "rf-burst").await;
    let calls_before: Value = ctx.sim_calls().await;
    let positions_before = calls_before["snaptrade"]["users"][&user]["operations"]["positions"].as_u64().unwrap_or(0);
    let requests = (0..20).map(|_| refresh(&ctx, &token, json!({"providers": ["snaptrade"]})));
    let replies = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = replies.iter().map(|(r, _)| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "exactly one refresh ran: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 19, "{statuses:?}");
    let calls: Value = ctx.sim_calls().await;
    let mine = &calls["snaptrade"]["users"][&user];
    assert_eq!(mine["billed"], 1, "one billed refresh: {mine}");
    assert_eq!(mine["operations"]["refresh"], 1, "{mine}");
    let positions_after = mine["operations"]["positions"].as_u64().unwrap_or(0);
    assert_eq!(positions_after - positions_before, 2, "one fetch of the two accounts' positions: {mine}");
    let billed = ctx.d1("SELECT COUNT(*) AS n FROM refresh_log WHERE user_id = ?1 AND billed = 1", &[&user]);
    assert_eq!(billed[0]["n"], 1, "the billed call is in the refresh log");
    Ok(())
}

async fn refresh_billed_twice_within_the_cap_needs_confirmation(ctx: Arc<Ctx>) -> TestResult {
    let (user, token, _) = connected_user(&ctx, "rf-cap").await;
    let (first, _) = refresh(&ctx, &token, json!({"providers": ["snaptrade"]})).await;
    assert_eq!(first.body["results"][0]["billed"], true, "{:?}", first.body);
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    let (capped, _) = refresh(&ctx, &token, json!({"providers": ["snaptrade"]})).await;
    assert_eq!((capped.status, capped.code()), (402, "refresh_cost_capped"), "{:?}", capped.body);
    assert_eq!(capped.body["provider"], "snaptrade");
    let next = capped.body["next_allowed_at"].as_i64().unwrap();
    assert!(next > crate::support::now() + 80_000, "next allowed about a day later: {next}");
    assert!(capped.body["reason"].as_str().unwrap().contains("confirm"), "{:?}", capped.body);
    let calls: Value = ctx.sim_calls().await;
    assert_eq!(calls["snaptrade"]["users"][&user]["billed"], 1, "the capped request billed nothing");

    let (confirmed, _) = refresh(&ctx, &token, json!({"providers": ["snaptrade"], "confirm_cost": true})).await;
    assert_eq!((confirmed.status, &confirmed.body["decision"]), (200, &json!("allowed")), "{:?}", confirmed.body);
    assert_eq!(confirmed.body["results"][0]["mode"], "provider_refresh");
    Ok(())
}

async fn refresh_plaid_twice_within_a_day_is_blocked_unless_the_cost_is_confirmed(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("rf-plaid");
    let token = ctx.token(&user);
    crate::plaid::link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let plaid_user = crate::plaid::plaid_user(&user);
    let billed =
        |calls: &Value| calls["plaid"]["users"][&plaid_user]["operations"]["investments_refresh"].as_u64().unwrap_or(0);
    let calls = || async { ctx.sim_calls().await };

    let (first, _) = refresh(&ctx, &token, json!({"providers": ["plaid"]})).await;
    assert_eq!((first.status, &first.body["results"][0]["billed"]), (200, &json!(true)), "{:?}", first.body);
    assert_eq!(billed(&calls().await), 1);
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    let (capped, _) = refresh(&ctx, &token, json!({"providers": ["plaid"]})).await;
    assert_eq!((capped.status, capped.code()), (402, "refresh_cost_capped"), "{:?}", capped.body);
    assert_eq!(capped.body["provider"], "plaid");
    assert!(capped.body["reason"].as_str().unwrap().contains("Plaid"), "{:?}", capped.body);
    assert_eq!(billed(&calls().await), 1, "blocked means not billed");

    let (confirmed, _) = refresh(&ctx, &token, json!({"providers": ["plaid"], "confirm_cost": true})).await;
    assert_eq!(
        (confirmed.status, &confirmed.body["results"][0]["status"]),
        (200, &json!("ok")),
        "{:?}",
        confirmed.body
    );
    assert_eq!(billed(&calls().await), 2, "the confirmed refresh is the second billed call");
    let log = ctx
        .d1("SELECT COUNT(*) AS n FROM refresh_log WHERE user_id = ?1 AND provider = 'plaid' AND billed = 1", &[&user]);
    assert_eq!(log[0]["n"], 2, "both billed calls are logged");
    Ok(())
}

async fn a_users_own_clock_ends_their_cooldown_and_no_one_elses(ctx: Arc<Ctx>) -> TestResult {
    let ((moved, moved_token, _), (_, other_token, _)) =
        futures_util::join!(connected_user(&ctx, "clock-moved"), connected_user(&ctx, "clock-other"));
    let body = || json!({"providers": ["snaptrade"], "confirm_cost": true});
    for token in [&moved_token, &other_token] {
        assert_eq!(refresh(&ctx, token, body()).await.0.status, 200);
        assert_eq!(refresh(&ctx, token, body()).await.0.code(), "refresh_cooling_down");
    }
    let clock = |user: &str, advance_s: u64| {
        ctx.send(
            ctx.http.post(format!("{}/api/dev/clock", ctx.dev)).json(&json!({"advance_s": advance_s, "user_id": user})),
        )
    };
    let moved_on = clock(&moved, crate::REFRESH_COOLDOWN_S + 1).await;
    assert_eq!((moved_on.status, &moved_on.body["offset_s"]), (200, &json!(crate::REFRESH_COOLDOWN_S + 1)));
    assert!(moved_on.body["now"].as_i64().unwrap() > crate::support::now() + crate::REFRESH_COOLDOWN_S as i64 - 5);
    // SnapTrade itself throttles a connection's refreshes for 10 s (its clock is not ours).
    ctx.sim_control("/__sim/snaptrade/refresh-throttle/end", &json!({"user_id": moved})).await;

    let (after, _) = refresh(&ctx, &moved_token, body()).await;
    assert_eq!((after.status, &after.body["decision"]), (200, &json!("allowed")), "{:?}", after.body);
    let (still, _) = refresh(&ctx, &other_token, body()).await;
    assert_eq!((still.status, still.code()), (429, "refresh_cooling_down"), "the other user's time stood still");
    // The session (on the worker's clock) still holds, and the worker-wide clock did not move.
    assert_eq!(ctx.get(&ctx.dev, "/api/me", Some(&moved_token)).await.status, 200);
    let bad = clock("not a user id!", 60).await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    Ok(())
}
