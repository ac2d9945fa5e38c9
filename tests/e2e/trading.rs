//! Trading end to end under wrangler dev, against the simulator's SnapTrade trading API: search →
//! preview → place → fill → holdings pending; a double click; a lost answer the broker accepted
//! (a 500 and a real timeout); 20 concurrent places with one key; an expired preview; a read-only
//! connection; an app without trading; a broker rejection; cancel; keys and ids of other users.
//! Every test ends by asking the simulator whether it ever saw a duplicate placement.

use crate::snaptrade::{connect_snaptrade_as, finish_portal};
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;
use tributary_sim::snaptrade::trading::book::PlaceOutcome;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        trading_search_preview_place_fill_marks_holdings_pending,
        trading_double_click_places_once,
        trading_twenty_concurrent_places_with_one_key_reach_the_broker_once,
        trading_an_accepted_order_whose_answer_was_lost_is_reconciled_never_resent,
        trading_a_timeout_after_the_broker_accepted_is_reconciled_never_resent,
        trading_an_expired_preview_is_refused_and_nothing_is_sent,
        trading_a_read_only_connection_is_refused_before_any_call,
        trading_an_app_without_trading_is_told_what_to_do,
        trading_a_broker_rejection_names_the_reason_and_is_answered_again,
        trading_cancel_an_open_order,
        trading_keys_previews_and_orders_are_checked_and_private,
    ]
}

/// A user with a trade connection to Robinhood (one account), synced; returns (user, token, account id).
async fn trader(ctx: &Ctx, label: &str, kind: &str) -> (String, String, String) {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    connect_snaptrade_as(ctx, &token, "robinhood", "ROBINHOOD", kind).await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let account = holdings.body["accounts"][0]["account_id"].as_str().expect("an account").to_owned();
    (user, token, account)
}

async fn place(ctx: &Ctx, base: &str, token: &str, preview_id: &str, key: &str) -> Reply {
    let request = ctx
        .http
        .post(format!("{base}/api/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&json!({ "preview_id": preview_id }));
    ctx.send(request).await
}

async fn preview(ctx: &Ctx, base: &str, token: &str, order: Value) -> Reply {
    ctx.post(base, "/api/orders/preview", token, order).await
}

fn limit_buy(account: &str, symbol: &str, units: &str, price: &str) -> Value {
    json!({"account_id": account, "symbol": symbol, "action": "BUY", "order_type": "Limit",
           "time_in_force": "Day", "units": units, "limit_price": price})
}

fn key() -> String {
    let h = tributary_e2e::secrets::random_hex(16);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

async fn sim_trading(ctx: &Ctx, settings: Value) {
    let answer = ctx.sim_control("/__sim/snaptrade/trading", &settings).await;
    assert_eq!(answer["account_id"], settings["account_id"], "{answer}");
}

fn created(ctx: &Ctx, account: &str) -> usize {
    ctx.sim_state
        .snaptrade_placements(account)
        .iter()
        .filter(|p| {
            matches!(p.outcome, PlaceOutcome::Created | PlaceOutcome::CreatedThen500 | PlaceOutcome::CreatedThenTimeout)
        })
        .count()
}

fn no_duplicates(ctx: &Ctx, account: &str) -> TestResult {
    let duplicates = ctx.sim_state.snaptrade_duplicate_placements(account);
    if duplicates == 0 {
        Ok(())
    } else {
        Err(format!("the simulator saw {duplicates} duplicate placements in {account}"))
    }
}

async fn trading_search_preview_place_fill_marks_holdings_pending(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-journey", "trade").await;
    let search = ctx.get(&ctx.dev, &format!("/api/accounts/{account}/symbols?q=msf"), Some(&token)).await;
    assert_eq!(search.status, 200, "{:?}", search.body);
    let msft =
        search.body["symbols"].as_array().unwrap().iter().find(|s| s["symbol"] == "MSFT").expect("MSFT listed").clone();
    assert!(msft["symbol_id"].as_str().is_some_and(|id| !id.is_empty()));

    let order = json!({"account_id": account, "symbol_id": msft["symbol_id"], "action": "BUY", "order_type": "Limit",
                       "time_in_force": "Day", "units": "2", "limit_price": "401.25"});
    let previewed = preview(&ctx, &ctx.dev, &token, order).await;
    assert_eq!(previewed.status, 200, "{:?}", previewed.body);
    let estimate = &previewed.body["estimate"];
    assert_eq!(estimate["price"], "401.25");
    assert_eq!(estimate["source"]["price"], "brokerage");
    assert_eq!(estimate["source"]["commission"], "brokerage");
    assert_eq!(estimate["source"]["remaining_cash"], "brokerage");
    assert!(
        estimate["fees"].is_null() == (estimate["source"]["fees"] == "unavailable"),
        "a null figure says it is unavailable: {estimate}"
    );
    assert_eq!(previewed.body["order"]["symbol"], "MSFT", "the ticker is named for the confirmation screen");
    let expires = previewed.body["expires_at"].as_i64().unwrap();
    assert!(expires > crate::support::now() - 60, "{expires}");

    let placed = place(&ctx, &ctx.dev, &token, previewed.body["preview_id"].as_str().unwrap(), &key()).await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = &placed.body["order"];
    assert_eq!(
        (order["state"].as_str(), order["symbol"].as_str(), order["units"].as_str()),
        (Some("open"), Some("MSFT"), Some("2"))
    );
    let brokerage_id = order["brokerage_order_id"].as_str().unwrap().to_owned();
    let at_broker = ctx.sim_state.snaptrade_orders(&account);
    assert_eq!(at_broker.len(), 1);
    assert_eq!(at_broker[0].brokerage_order_id, brokerage_id);
    assert_eq!(
        at_broker[0].client_order_id.as_deref(),
        order["client_order_id"].as_str(),
        "the client_order_id reached the broker"
    );

    let fill = ctx
        .sim_control(
            "/__sim/snaptrade/orders/fill",
            &json!({"account_id": account, "brokerage_order_id": brokerage_id, "price": "400.10"}),
        )
        .await;
    assert_eq!(fill["order"]["status"], "EXECUTED", "{fill}");
    let id = order["id"].as_str().unwrap();
    let detail = ctx.get(&ctx.dev, &format!("/api/orders/{id}"), Some(&token)).await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(detail.body["order"]["state"], "executed");
    assert_eq!(detail.body["order"]["filled_units"], "2");
    assert_eq!(detail.body["order"]["execution_price"], "400.1", "the broker's execution price, exactly");
    let kinds: Vec<&str> =
        detail.body["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["reserved", "placed", "state"], "every state change is on the audit trail");

    let pending = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await;
    assert_eq!(pending.body["snaptrade"], true, "after a fill the holdings are pending: {:?}", pending.body);
    let refresh = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({})).await;
    assert_eq!(refresh.status, 200, "{:?}", refresh.body);
    let result = &refresh.body["results"][0];
    assert_eq!(
        (&result["provider"], &result["billed"]),
        (&json!("snaptrade"), &json!(false)),
        "the re-read after a fill is free: {result}"
    );
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let msft_held = holdings.body["positions"].as_array().unwrap().iter().find(|p| p["ticker"] == "MSFT").cloned();
    assert_eq!(
        msft_held.map(|p| p["quantity"].clone()),
        Some(json!("2")),
        "the re-read shows the fill: {:?}",
        holdings.body
    );

    let open = ctx.get(&ctx.dev, &format!("/api/orders?account_id={account}&state=open"), Some(&token)).await;
    assert_eq!(open.body["orders"].as_array().map(Vec::len), Some(0));
    let executed = ctx.get(&ctx.dev, "/api/orders?state=executed", Some(&token)).await;
    assert_eq!(executed.body["orders"][0]["id"], id);
    no_duplicates(&ctx, &account)
}

async fn trading_double_click_places_once(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-double", "trade").await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "240")).await;
    let preview_id = previewed.body["preview_id"].as_str().unwrap().to_owned();
    let key = key();
    let first = place(&ctx, &ctx.dev, &token, &preview_id, &key).await;
    let second = place(&ctx, &ctx.dev, &token, &preview_id, &key).await;
    assert_eq!((first.status, second.status), (201, 200), "{:?} {:?}", first.body, second.body);
    assert_eq!(second.body["replayed"], true);
    assert_eq!(first.body["order"]["id"], second.body["order"]["id"]);
    // The same order previewed again and placed with the same key is still that one order.
    let again = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1.0", "240.00")).await;
    let third = place(&ctx, &ctx.dev, &token, again.body["preview_id"].as_str().unwrap(), &key).await;
    assert_eq!((third.status, &third.body["order"]["id"]), (200, &first.body["order"]["id"]));
    assert_eq!(created(&ctx, &account), 1, "one placement at the broker");
    no_duplicates(&ctx, &account)
}

async fn trading_twenty_concurrent_places_with_one_key_reach_the_broker_once(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-twenty", "trade").await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "3", "239.5")).await;
    let preview_id = previewed.body["preview_id"].as_str().unwrap().to_owned();
    let key = key();
    let replies =
        futures_util::future::join_all((0..20).map(|_| place(&ctx, &ctx.dev, &token, &preview_id, &key))).await;
    let placed: Vec<&Reply> = replies.iter().filter(|r| r.status == 200 || r.status == 201).collect();
    let in_progress = replies.iter().filter(|r| r.status == 409 && r.code() == "order_in_progress").count();
    assert_eq!(
        placed.len() + in_progress,
        20,
        "every answer is the order or 'in progress': {:?}",
        replies.iter().map(|r| (r.status, r.code().to_owned())).collect::<Vec<_>>()
    );
    assert_eq!(replies.iter().filter(|r| r.status == 201).count(), 1, "exactly one request placed it");
    let ids: std::collections::BTreeSet<String> = placed.iter().map(|r| r.body["order"]["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "every answer names the same order");
    assert_eq!(created(&ctx, &account), 1, "the simulator saw one placement");
    no_duplicates(&ctx, &account)
}

async fn lost_answer(ctx: &Ctx, base: &str, outcome: &str, label: &str) -> TestResult {
    let (_, token, account) = trader(ctx, label, "trade").await;
    sim_trading(ctx, json!({"account_id": account, "next_place": {"outcome": outcome}})).await;
    let previewed = preview(ctx, base, &token, limit_buy(&account, "TSLA", "2", "241")).await;
    assert_eq!(previewed.status, 200, "{:?}", previewed.body);
    let preview_id = previewed.body["preview_id"].as_str().unwrap().to_owned();
    let key = key();
    let first = place(ctx, base, &token, &preview_id, &key).await;
    assert_eq!(first.status, 201, "reconciled at once from the broker's recent orders: {:?}", first.body);
    let order = &first.body["order"];
    assert_eq!(order["state"], "open");
    let at_broker = ctx.sim_state.snaptrade_orders(&account);
    assert_eq!(at_broker.len(), 1);
    assert_eq!(order["brokerage_order_id"].as_str(), Some(at_broker[0].brokerage_order_id.as_str()));
    let retry = place(ctx, base, &token, &preview_id, &key).await;
    assert_eq!((retry.status, &retry.body["order"]["id"]), (200, &order["id"]), "{:?}", retry.body);
    assert_eq!(created(ctx, &account), 1, "the place was never sent again");
    let detail = ctx.get(base, &format!("/api/orders/{}", order["id"].as_str().unwrap()), Some(&token)).await;
    let kinds: Vec<&str> =
        detail.body["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["reserved", "answer_lost", "reconciled"]);
    no_duplicates(ctx, &account)
}

async fn trading_an_accepted_order_whose_answer_was_lost_is_reconciled_never_resent(ctx: Arc<Ctx>) -> TestResult {
    lost_answer(&ctx, &ctx.dev, "accept_then_500", "trade-500").await
}

async fn trading_a_timeout_after_the_broker_accepted_is_reconciled_never_resent(ctx: Arc<Ctx>) -> TestResult {
    // The reliability worker gives up on a provider after 5 s; the simulator holds the answer for 60.
    let on_reliability = ctx.with_worker(&ctx.reliability, &ctx.reliability_state);
    lost_answer(&on_reliability, &ctx.reliability, "accept_then_timeout", "trade-timeout").await
}

async fn trading_an_expired_preview_is_refused_and_nothing_is_sent(ctx: Arc<Ctx>) -> TestResult {
    let (user, token, account) = trader(&ctx, "trade-expired", "trade").await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "240")).await;
    ctx.advance_user_clock(&ctx.dev, &user, 301).await;
    let placed = place(&ctx, &ctx.dev, &token, previewed.body["preview_id"].as_str().unwrap(), &key()).await;
    assert_eq!((placed.status, placed.code()), (410, "preview_expired"), "{:?}", placed.body);
    assert!(placed.body["error"]["message"].as_str().unwrap().contains("preview again"));
    assert_eq!(created(&ctx, &account), 0);
    Ok(())
}

async fn trading_a_read_only_connection_is_refused_before_any_call(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-readonly", "read").await;
    let searched = ctx.get(&ctx.dev, &format!("/api/accounts/{account}/symbols?q=MSFT"), Some(&token)).await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "240")).await;
    for refused in [&searched, &previewed] {
        assert_eq!((refused.status, refused.code()), (403, "trading_not_allowed"), "{:?}", refused.body);
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&account) && message.contains("reconnect with trading"), "{message}");
    }
    assert!(ctx.sim_state.snaptrade_placements(&account).is_empty());
    // The fix it names: the read → trade upgrade of this connection through the portal.
    let connections = ctx.get(&ctx.dev, "/api/snaptrade/connections", Some(&token)).await;
    let connection = connections.body["connections"][0]["external_id"].as_str().unwrap_or_default().to_owned();
    let upgrade = ctx
        .post(
            &ctx.dev,
            "/api/snaptrade/connection-url",
            &token,
            json!({"reconnect": connection, "connection_type": "trade", "redirect": "http://127.0.0.1:9/connected"}),
        )
        .await;
    assert_eq!(upgrade.status, 200, "{:?}", upgrade.body);
    finish_portal(&ctx, upgrade.body["redirect_url"].as_str().unwrap(), "ROBINHOOD").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({"reconnected": connection})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    let upgraded = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "240")).await;
    assert_eq!(upgraded.status, 200, "after reconnecting with trading the account can trade: {:?}", upgraded.body);
    Ok(())
}

async fn trading_an_app_without_trading_is_told_what_to_do(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-noapp", "trade").await;
    sim_trading(&ctx, json!({"account_id": account, "app_trading_enabled": false})).await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "240")).await;
    assert_eq!((previewed.status, previewed.code()), (403, "trading_not_enabled"), "{:?}", previewed.body);
    let message = previewed.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Robinhood") && message.contains("reconnect with trading"), "{message}");
    assert_eq!(created(&ctx, &account), 0);
    Ok(())
}

async fn trading_a_broker_rejection_names_the_reason_and_is_answered_again(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-reject", "trade").await;
    sim_trading(
        &ctx,
        json!({"account_id": account, "next_place": {"outcome": "reject", "reason": "insufficient buying power"}}),
    )
    .await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1000", "240")).await;
    let preview_id = previewed.body["preview_id"].as_str().unwrap().to_owned();
    let key = key();
    let first = place(&ctx, &ctx.dev, &token, &preview_id, &key).await;
    assert_eq!((first.status, first.code()), (422, "order_rejected"), "{:?}", first.body);
    let message = first.body["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("Robinhood") && message.contains("insufficient buying power"), "{message}");
    let again = place(&ctx, &ctx.dev, &token, &preview_id, &key).await;
    assert_eq!(
        (again.status, again.code(), again.body["error"]["message"].as_str()),
        (422, "order_rejected", Some(message.as_str()))
    );
    assert_eq!(created(&ctx, &account), 0);
    assert_eq!(ctx.sim_state.snaptrade_placements(&account).len(), 1, "the repeated key never reached the broker");
    no_duplicates(&ctx, &account)
}

async fn trading_cancel_an_open_order(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-cancel", "trade").await;
    let previewed = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "200")).await;
    let placed = place(&ctx, &ctx.dev, &token, previewed.body["preview_id"].as_str().unwrap(), &key()).await;
    let id = placed.body["order"]["id"].as_str().unwrap().to_owned();
    let cancelled = ctx.post(&ctx.dev, &format!("/api/orders/{id}/cancel"), &token, json!({})).await;
    assert_eq!(
        (cancelled.status, &cancelled.body["order"]["state"]),
        (200, &json!("cancelled")),
        "{:?}",
        cancelled.body
    );
    let at_broker = ctx.sim_state.snaptrade_orders(&account);
    assert_eq!(format!("{:?}", at_broker[0].status), "Canceled");
    let again = ctx.post(&ctx.dev, &format!("/api/orders/{id}/cancel"), &token, json!({})).await;
    assert_eq!((again.status, again.code()), (409, "order_not_cancellable"), "{:?}", again.body);
    no_duplicates(&ctx, &account)
}

async fn trading_keys_previews_and_orders_are_checked_and_private(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, account) = trader(&ctx, "trade-keys", "trade").await;
    let (_, other, _) = trader(&ctx, "trade-other", "trade").await;
    let a = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "1", "240")).await;
    let b = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "TSLA", "2", "240")).await;
    let (a, b) = (a.body["preview_id"].as_str().unwrap().to_owned(), b.body["preview_id"].as_str().unwrap().to_owned());
    let no_key = ctx
        .send(ctx.http.post(format!("{}/api/orders", ctx.dev)).bearer_auth(&token).json(&json!({"preview_id": a})))
        .await;
    assert_eq!((no_key.status, no_key.code()), (400, "idempotency_key_required"));
    let bad_key = place(&ctx, &ctx.dev, &token, &a, "not-a-uuid").await;
    assert_eq!((bad_key.status, bad_key.code()), (400, "invalid_idempotency_key"));
    let key = key();
    let first = place(&ctx, &ctx.dev, &token, &a, &key).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    let reused = place(&ctx, &ctx.dev, &token, &b, &key).await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"));
    let theirs = place(&ctx, &ctx.dev, &other, &a, &crate::trading::key()).await;
    assert_eq!((theirs.status, theirs.code()), (404, "preview_not_found"));
    let id = first.body["order"]["id"].as_str().unwrap();
    let peek = ctx.get(&ctx.dev, &format!("/api/orders/{id}"), Some(&other)).await;
    assert_eq!((peek.status, peek.code()), (404, "order_not_found"));
    let cancel = ctx.post(&ctx.dev, &format!("/api/orders/{id}/cancel"), &other, json!({})).await;
    assert_eq!((cancel.status, cancel.code()), (404, "order_not_found"));
    let listed = ctx.get(&ctx.dev, "/api/orders", Some(&other)).await;
    assert_eq!(listed.body["orders"], json!([]));
    let not_mine = ctx.get(&ctx.dev, &format!("/api/accounts/{account}/symbols?q=TSLA"), Some(&other)).await;
    assert_eq!((not_mine.status, not_mine.code()), (404, "account_not_found"));
    let bad = preview(&ctx, &ctx.dev, &token, json!({"account_id": account, "symbol": "TSLA", "action": "BUY", "order_type": "Limit", "time_in_force": "Day", "units": "1"})).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_order"));
    assert!(bad.body["error"]["message"].as_str().unwrap().starts_with("limit_price"), "{:?}", bad.body);
    let unknown = preview(&ctx, &ctx.dev, &token, limit_buy(&account, "NOSUCHTICKER", "1", "2")).await;
    assert_eq!((unknown.status, unknown.code()), (422, "symbol_not_found"), "{:?}", unknown.body);
    let no_q = ctx.get(&ctx.dev, &format!("/api/accounts/{account}/symbols"), Some(&token)).await;
    assert_eq!((no_q.status, no_q.code()), (400, "invalid_query"));
    no_duplicates(&ctx, &account)
}
