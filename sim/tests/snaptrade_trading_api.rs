//! SnapTrade trading over HTTP: routing behind the gate, the per-account controls, fills moving
//! positions and balances, and the placement records.

mod common;

use common::{assert_error, Harness, Reply, User, CONSUMER_KEY};
use reqwest::Method;
use serde_json::{json, Value};

/// A user with a trade connection to `broker`; its first account id.
async fn trader(h: &Harness, name: &str, broker: &str) -> (User, String) {
    let user = h.register(name).await;
    h.connect(&user, broker, "trade").await;
    let accounts = h.get("/accounts", &user).await;
    (user, accounts.json[0]["id"].as_str().unwrap().to_owned())
}

/// A signed `GET path?<extra>` for `user` (`extra` after the standard query).
async fn get_with(h: &Harness, user: &User, path: &str, extra: &str) -> Reply {
    let q = format!("{}&{extra}", common::query(Some(user)));
    let signature = tributary_sim::snaptrade::signature::sign(CONSUMER_KEY, path, &q, None);
    h.raw(Method::GET, path, &q, None, Some(&signature)).await
}

fn order(account: &str, extra: Value) -> Value {
    let mut body = json!({"account_id": account, "action": "BUY", "symbol": "AAPL", "order_type": "Market",
                          "time_in_force": "Day", "units": 2});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn search_impact_checked_place_fill_and_the_account_shows_it() {
    let h = Harness::start().await;
    let (user, account) = trader(&h, "tina", "SCHWAB").await;
    let found = h
        .call(Method::POST, &format!("/accounts/{account}/symbols"), Some(&user), Some(json!({"substring": "vab"})))
        .await;
    assert_eq!(found.status, 200, "{}", found.text);
    assert_eq!(found.json[0]["symbol"], "VAB.TO");
    let googl = h
        .call(Method::POST, &format!("/accounts/{account}/symbols"), Some(&user), Some(json!({"substring": "GOOGL"})))
        .await;
    let googl_id = googl.json[0]["id"].as_str().unwrap().to_owned();

    let form = json!({"account_id": account, "action": "BUY", "universal_symbol_id": googl_id, "order_type": "Limit",
                      "time_in_force": "Day", "price": 170, "units": 3});
    let impact = h.call(Method::POST, "/trade/impact", Some(&user), Some(form)).await;
    assert_eq!(impact.status, 200, "{}", impact.text);
    assert_eq!(impact.json["trade_impacts"][0]["remaining_cash"], 3490.75, "4000.75 − 3 × 170");
    let trade_id = impact.json["trade"]["id"].as_str().unwrap().to_owned();
    let placed =
        h.call(Method::POST, &format!("/trade/{trade_id}"), Some(&user), Some(json!({"wait_to_confirm": true}))).await;
    assert_eq!(placed.status, 200, "{}", placed.text);
    assert_eq!((placed.json["status"].as_str(), placed.json["total_quantity"].as_str()), (Some("ACCEPTED"), Some("3")));
    assert_eq!(placed.json["limit_price"], "170");
    let order_id = placed.json["brokerage_order_id"].as_str().unwrap().to_owned();
    let unknown = h.call(Method::POST, "/trade/139e307a-82f7-4402-b39e-4da7baa87758", Some(&user), None).await;
    assert_error(&unknown, 400, "invalid_request");

    let recent_path = format!("/accounts/{account}/recentOrders");
    let recent = h.get(&recent_path, &user).await;
    assert_eq!(recent.json["orders"], json!([]), "only_executed defaults to true");
    let with_open = get_with(&h, &user, &recent_path, "only_executed=false").await;
    assert_eq!(with_open.json["orders"][0]["status"], "ACCEPTED");
    let orders_path = format!("/accounts/{account}/orders");
    let open = get_with(&h, &user, &orders_path, "state=open&days=1").await;
    assert_eq!(open.json[0]["brokerage_order_id"], order_id.as_str());
    assert_error(&get_with(&h, &user, &orders_path, "days=0").await, 400, "invalid_request");
    assert_eq!(get_with(&h, &user, &orders_path, "state=executed").await.json, json!([]));

    let fill = json!({"account_id": account, "brokerage_order_id": order_id, "price": "169.5", "webhook": true});
    let filled = h.control(Method::POST, "/__sim/snaptrade/orders/fill", Some(fill)).await;
    assert_eq!(
        (filled["order"]["status"].as_str(), filled["order"]["execution_price"].as_str()),
        (Some("EXECUTED"), Some("169.5"))
    );
    assert!(filled["webhook"]["error"].as_str().is_some_and(|e| e.contains("no url")), "{filled}");
    let recent = h.get(&recent_path, &user).await;
    assert_eq!(recent.json["orders"][0]["filled_quantity"], "3");
    let detail = h
        .call(
            Method::POST,
            &format!("/accounts/{account}/orders/details"),
            Some(&user),
            Some(json!({"brokerage_order_id": order_id})),
        )
        .await;
    assert_eq!(detail.json["status"], "EXECUTED");
    let missing = h
        .call(
            Method::POST,
            &format!("/accounts/{account}/orders/details"),
            Some(&user),
            Some(json!({"brokerage_order_id": "x"})),
        )
        .await;
    assert_error(&missing, 404, "1011");

    let balances = h.get(&format!("/accounts/{account}/balances"), &user).await;
    assert_eq!(balances.json[0]["cash"], 3492.25, "4000.75 − 3 × 169.50");
    let positions = h.get(&format!("/accounts/{account}/positions/all"), &user).await;
    let results = positions.json["results"].as_array().unwrap();
    let googl = results.iter().find(|p| p["instrument"]["symbol"] == "GOOGL").unwrap();
    assert_eq!((googl["units"].as_str(), googl["price"].as_str()), (Some("3"), Some("169.5")));
    let cancel = h
        .call(
            Method::POST,
            &format!("/accounts/{account}/trading/cancel"),
            Some(&user),
            Some(json!({"brokerage_order_id": order_id})),
        )
        .await;
    assert_error(&cancel, 400, "invalid_request");

    let calls = h.control(Method::GET, "/__sim/calls", None).await;
    let ops = &calls["snaptrade"]["operations"];
    assert_eq!((ops["symbols"].as_u64(), ops["impact"].as_u64(), ops["place"].as_u64()), (Some(2), Some(1), Some(2)));
    assert_eq!(
        (ops["recent_orders"].as_u64(), ops["order_detail"].as_u64(), ops["cancel"].as_u64()),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(ops["orders"].as_u64(), Some(3));
}

#[tokio::test]
async fn controls_are_per_account_and_placements_count_duplicates() {
    let h = Harness::start().await;
    let (user, account) = trader(&h, "una", "ROBINHOOD").await;
    let (other, other_account) = trader(&h, "vic", "ROBINHOOD").await;
    let coid = "550e8400-e29b-41d4-a716-446655440000";
    let set = json!({"account_id": account, "next_place": {"outcome": "accept_then_500"}});
    let settings = h.control(Method::POST, "/__sim/snaptrade/trading", Some(set)).await;
    assert_eq!(
        (settings["times"].as_u64(), settings["broker_dedupes_client_order_id"].as_bool()),
        (Some(1), Some(false))
    );
    let failed = h
        .call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({"client_order_id": coid}))))
        .await;
    assert_error(&failed, 500, "1000");
    let elsewhere = h.call(Method::POST, "/trade/place", Some(&other), Some(order(&other_account, json!({})))).await;
    assert_eq!(elsewhere.status, 200, "another account is unaffected: {}", elsewhere.text);
    let retry = h
        .call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({"client_order_id": coid}))))
        .await;
    assert_eq!(retry.status, 200, "{}", retry.text);

    let placements = h.control(Method::GET, &format!("/__sim/snaptrade/placements?account_id={account}"), None).await;
    assert_eq!(placements["duplicates"], 1, "no dedupe at this broker: the retry made a second order");
    assert_eq!(placements["placements"][0]["outcome"], "created_then_500");
    assert_eq!(h.sim.sim.snaptrade_duplicate_placements(&account), 1);
    assert_eq!(h.sim.sim.snaptrade_placements(&other_account).len(), 1);
    assert_eq!(h.sim.sim.snaptrade_orders(&account).len(), 2);

    let off = json!({"account_id": account, "app_trading_enabled": false});
    h.control(Method::POST, "/__sim/snaptrade/trading", Some(off)).await;
    let refused = h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({})))).await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.json,
        json!({"default_detail": "User does not have permissions to place trades", "default_code": 1066})
    );
    let reject =
        json!({"account_id": account, "next_place": {"outcome": "reject", "reason": "insufficient buying power"}});
    h.control(Method::POST, "/__sim/snaptrade/trading", Some(reject)).await;
    let rejected = h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({})))).await;
    assert_error(&rejected, 400, "broker_rejected");
    assert_eq!(rejected.json["detail"], "Failed to submit order to broker: insufficient buying power");

    let limited = json!({"account_id": account, "rate_limit": true});
    h.control(Method::POST, "/__sim/snaptrade/trading", Some(limited)).await;
    assert_eq!(h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({})))).await.status, 200);
    let throttled = h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({})))).await;
    assert_error(&throttled, 429, "0000");
    assert_eq!(throttled.header("retry-after"), "1");

    let legacy = h
        .call(
            Method::POST,
            &format!("/accounts/{account}/orders/cancel"),
            Some(&user),
            Some(json!({"brokerage_order_id": "x"})),
        )
        .await;
    assert_error(&legacy, 410, "gone");
    let theirs = h.call(Method::POST, "/trade/place", Some(&other), Some(order(&account, json!({})))).await;
    assert_error(&theirs, 403, "1066");
    let bad =
        h.control(Method::POST, "/__sim/snaptrade/trading", Some(json!({"account_id": account, "times": 2}))).await;
    assert!(bad["error"].as_str().is_some(), "{bad}");
}

#[tokio::test]
async fn read_connections_cannot_trade_and_faults_reach_trading_endpoints() {
    let h = Harness::start().await;
    let user = h.register("walt").await;
    h.connect(&user, "FIDELITY", "read").await;
    let account = h.get("/accounts", &user).await.json[0]["id"].as_str().unwrap().to_owned();
    let refused = h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({})))).await;
    assert_error(&refused, 403, "1066");
    let bad =
        h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({"order_type": "market"})))).await;
    assert_error(&bad, 400, "invalid_request");
    h.fault(json!({"provider": "snaptrade", "endpoint": "place", "kind": "status", "status": 503, "times": 1})).await;
    let faulted = h.call(Method::POST, "/trade/place", Some(&user), Some(order(&account, json!({})))).await;
    assert_error(&faulted, 503, "3002");
    let orders = h.get(&format!("/accounts/{account}/orders"), &user).await;
    assert_eq!(orders.json, json!([]));
}
