//! Trading through Schwab direct end to end under wrangler dev, against the simulator's Schwab
//! order endpoints: search from the account's holdings → previewOrder → place (201 + Location) →
//! fill → holdings pending → cancel; a lost answer Schwab accepted (a real timeout) settled from
//! the account's order list by instrument, side, quantity and time, never sent again; Schwab's
//! refusals (a rejected preview, an order by amount, an app without trading, the order limit)
//! each typed with what to do. Every test ends by counting the orders Schwab holds.

use crate::schwab::connect_schwab;
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        trading_schwab_search_preview_place_fill_and_cancel,
        trading_schwab_a_timeout_after_schwab_accepted_is_settled_from_its_order_list,
        trading_schwab_refusals_say_what_to_do_and_send_nothing,
    ]
}

/// A user connected to Schwab directly as a fresh customer, on `base`; returns (user, token,
/// customer, the hash of the account holding SYNT).
async fn schwab_trader(ctx: &Ctx, base: &str, label: &str) -> (String, String, String, String) {
    let user = ctx.user(label);
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    connect_schwab(ctx, base, &token, &customer).await;
    let holdings = ctx.get(base, "/api/schwab/holdings", Some(&token)).await;
    let account = holdings.body["positions"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["ticker"] == "SYNT"))
        .and_then(|p| p["account_id"].as_str())
        .unwrap_or_else(|| panic!("a SYNT position in {:?}", holdings.body))
        .to_owned();
    (user, token, customer, account)
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

fn key() -> String {
    let h = tributary_e2e::secrets::random_hex(16);
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

fn limit_buy(account: &str, units: &str, price: &str) -> Value {
    json!({"account_id": account, "symbol": "SYNT", "action": "BUY", "order_type": "Limit",
           "time_in_force": "Day", "units": units, "limit_price": price})
}

/// What the simulated Schwab recorded for `customer`: every placement request and its orders.
async fn at_schwab(ctx: &Ctx, customer: &str) -> (Vec<Value>, u64) {
    let url = format!("{}/__sim/schwab/placements?customer={customer}", ctx.sim);
    let body: Value = ctx.http.get(url).send().await.unwrap().json().await.unwrap();
    let placements = body["placements"].as_array().cloned().unwrap_or_else(|| panic!("placements in {body}"));
    (placements, body["orders"].as_u64().unwrap_or_else(|| panic!("orders in {body}")))
}

async fn sim_trading(ctx: &Ctx, settings: Value) {
    let answer = ctx.sim_control("/__sim/schwab/trading", &settings).await;
    assert!(answer.get("error").is_none(), "{answer}");
}

/// The plain number of the seeded account holding SYNT (the simulator's controls take it).
const MARGIN: &str = "12345678";

async fn trading_schwab_search_preview_place_fill_and_cancel(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, customer, account) = schwab_trader(&ctx, &ctx.dev, "sw-trade").await;
    let search = ctx.get(&ctx.dev, &format!("/api/accounts/{account}/symbols?q=synt"), Some(&token)).await;
    assert_eq!(search.status, 200, "{:?}", search.body);
    assert_eq!(search.body["provider"], "schwab");
    let symbols: Vec<&str> =
        search.body["symbols"].as_array().unwrap().iter().filter_map(|s| s["symbol"].as_str()).collect();
    assert!(symbols.contains(&"SYNT"), "the account's own holding is offered: {symbols:?}");

    let previewed = ctx.post(&ctx.dev, "/api/orders/preview", &token, limit_buy(&account, "2", "150.05")).await;
    assert_eq!(previewed.status, 200, "{:?}", previewed.body);
    let estimate = &previewed.body["estimate"];
    assert_eq!((&estimate["price"], &estimate["source"]["price"]), (&json!("150.05"), &json!("brokerage")));
    assert_eq!(estimate["source"]["commission"], "brokerage", "Schwab's previewOrder names its commission");
    assert_eq!(estimate["source"]["remaining_cash"], "brokerage");
    assert_eq!(estimate["currency"], "USD");
    let (placements, orders) = at_schwab(&ctx, &customer).await;
    assert_eq!((placements.len(), orders), (0, 0), "a preview places nothing");

    let placed = place(&ctx, &ctx.dev, &token, previewed.body["preview_id"].as_str().unwrap(), &key()).await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);
    let order = &placed.body["order"];
    assert_eq!((order["state"].as_str(), order["symbol"].as_str()), (Some("open"), Some("SYNT")), "{order}");
    let brokerage_id = order["brokerage_order_id"].as_str().unwrap().to_owned();
    assert!(brokerage_id.bytes().all(|b| b.is_ascii_digit()), "Schwab's order id from Location: {brokerage_id}");
    let (placements, orders) = at_schwab(&ctx, &customer).await;
    assert_eq!((placements.len(), orders), (1, 1));

    let fill = ctx
        .sim_control(
            "/__sim/schwab/orders/fill",
            &json!({"customer": customer, "order_id": brokerage_id, "price": "150.01"}),
        )
        .await;
    assert_eq!(fill["order"]["status"], "FILLED", "{fill}");
    let id = order["id"].as_str().unwrap();
    let detail = ctx.get(&ctx.dev, &format!("/api/orders/{id}"), Some(&token)).await;
    assert_eq!(detail.status, 200, "{:?}", detail.body);
    assert_eq!(
        (detail.body["order"]["state"].as_str(), detail.body["order"]["filled_units"].as_str()),
        (Some("executed"), Some("2")),
        "{:?}",
        detail.body
    );
    assert_eq!(detail.body["order"]["execution_price"], "150.01", "Schwab's execution price, exactly");
    let pending = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await;
    assert_eq!(pending.body["schwab"], true, "after a fill the holdings are pending: {:?}", pending.body);
    let refresh = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({})).await;
    assert_eq!(refresh.status, 200, "{:?}", refresh.body);
    let holdings = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    let synt: Vec<&Value> = holdings.body["positions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["ticker"] == "SYNT" && p["account_id"] == account.as_str())
        .collect();
    assert_eq!(
        synt.first().map(|p| &p["quantity"]),
        Some(&json!("12.0")),
        "the fill shows (Schwab writes its quantities as floats, kept as sent): {:?}",
        holdings.body
    );

    // A second order, left working, is cancelled at Schwab.
    let again = ctx.post(&ctx.dev, "/api/orders/preview", &token, limit_buy(&account, "1", "140")).await;
    let working = place(&ctx, &ctx.dev, &token, again.body["preview_id"].as_str().unwrap(), &key()).await;
    assert_eq!(working.status, 201, "{:?}", working.body);
    let working_id = working.body["order"]["id"].as_str().unwrap().to_owned();
    let cancelled = ctx.post(&ctx.dev, &format!("/api/orders/{working_id}/cancel"), &token, json!({})).await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["order"]["state"], "cancelled", "{:?}", cancelled.body);
    let twice = ctx.post(&ctx.dev, &format!("/api/orders/{working_id}/cancel"), &token, json!({})).await;
    assert_eq!((twice.status, twice.code()), (409, "order_not_cancellable"), "{:?}", twice.body);
    let (placements, orders) = at_schwab(&ctx, &customer).await;
    assert_eq!((placements.len(), orders), (2, 2), "each order placed once");
    Ok(())
}

async fn trading_schwab_a_timeout_after_schwab_accepted_is_settled_from_its_order_list(ctx: Arc<Ctx>) -> TestResult {
    // The reliability worker gives up on a provider after 5 s; the simulator holds the answer longer.
    let base = ctx.reliability.clone();
    let on_reliability = ctx.with_worker(&ctx.reliability, &ctx.reliability_state);
    let (_, token, customer, account) = schwab_trader(&on_reliability, &base, "sw-timeout").await;
    sim_trading(
        &ctx,
        json!({"customer": customer, "account_number": MARGIN, "next_place": {"outcome": "accept_then_timeout"}}),
    )
    .await;
    let previewed = ctx.post(&base, "/api/orders/preview", &token, limit_buy(&account, "3", "149.5")).await;
    assert_eq!(previewed.status, 200, "{:?}", previewed.body);
    let preview_id = previewed.body["preview_id"].as_str().unwrap().to_owned();
    let key = key();
    let first = place(&ctx, &base, &token, &preview_id, &key).await;
    assert_eq!(first.status, 201, "settled at once from Schwab's order list: {:?}", first.body);
    let order = &first.body["order"];
    assert_eq!(order["state"], "open", "{order}");
    let (placements, orders) = at_schwab(&ctx, &customer).await;
    assert_eq!(orders, 1, "{placements:?}");
    let matched = placements.iter().find_map(|p| p["order_id"].as_u64().map(|id| id.to_string()));
    assert_eq!(order["brokerage_order_id"].as_str(), matched.as_deref(), "matched to the order Schwab made");
    let retry = place(&ctx, &base, &token, &preview_id, &key).await;
    assert_eq!((retry.status, &retry.body["order"]["id"]), (200, &order["id"]), "{:?}", retry.body);
    let detail = ctx.get(&base, &format!("/api/orders/{}", order["id"].as_str().unwrap()), Some(&token)).await;
    let kinds: Vec<&str> =
        detail.body["events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, ["reserved", "answer_lost", "reconciled"]);
    let (placements, orders) = at_schwab(&ctx, &customer).await;
    assert_eq!((placements.len(), orders), (1, 1), "the place was never sent again");
    Ok(())
}

async fn trading_schwab_refusals_say_what_to_do_and_send_nothing(ctx: Arc<Ctx>) -> TestResult {
    let (_, token, customer, account) = schwab_trader(&ctx, &ctx.dev, "sw-refused").await;
    // An amount of money has no Schwab equity form: refused before any call.
    let by_amount = json!({"account_id": account, "symbol": "SYNT", "action": "BUY", "order_type": "Market",
                           "time_in_force": "Day", "notional": "100"});
    let refused = ctx.post(&ctx.dev, "/api/orders/preview", &token, by_amount).await;
    assert_eq!((refused.status, refused.code()), (400, "invalid_order"), "{:?}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("units"), "{:?}", refused.body);

    // More than the account can pay: Schwab's preview rejects it, with its reason.
    let too_big = ctx.post(&ctx.dev, "/api/orders/preview", &token, limit_buy(&account, "1000", "150")).await;
    assert_eq!((too_big.status, too_big.code()), (422, "order_rejected"), "{:?}", too_big.body);
    let message = too_big.body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Charles Schwab rejected the order: "), "{message}");

    // The deployment's app is not allowed to trade: the person is told whom to ask.
    sim_trading(&ctx, json!({"customer": customer, "account_number": MARGIN, "app_trading_enabled": false})).await;
    let no_app = ctx.post(&ctx.dev, "/api/orders/preview", &token, limit_buy(&account, "1", "150")).await;
    assert_eq!((no_app.status, no_app.code()), (403, "trading_not_enabled"), "{:?}", no_app.body);
    assert!(no_app.body["error"]["message"].as_str().unwrap().contains("Charles Schwab"), "{:?}", no_app.body);

    // Schwab's own order limit: 429 with when to ask again; the key may try again later.
    sim_trading(&ctx, json!({"customer": customer, "account_number": MARGIN, "order_limit_per_minute": 0})).await;
    let previewed = ctx.post(&ctx.dev, "/api/orders/preview", &token, limit_buy(&account, "1", "150")).await;
    assert_eq!(previewed.status, 200, "{:?}", previewed.body);
    let key = key();
    let throttled = place(&ctx, &ctx.dev, &token, previewed.body["preview_id"].as_str().unwrap(), &key).await;
    assert_eq!((throttled.status, throttled.code()), (429, "trade_rate_limited"), "{:?}", throttled.body);
    assert!(throttled.body["error"]["retry_after_s"].as_u64().is_some_and(|s| s >= 1), "{:?}", throttled.body);
    sim_trading(&ctx, json!({"customer": customer, "account_number": MARGIN})).await;
    let later = place(&ctx, &ctx.dev, &token, previewed.body["preview_id"].as_str().unwrap(), &key).await;
    assert_eq!(later.status, 201, "the same key places once the limit allows: {:?}", later.body);
    let (_, orders) = at_schwab(&ctx, &customer).await;
    assert_eq!(orders, 1, "only the order that was let through exists");
    Ok(())
}
