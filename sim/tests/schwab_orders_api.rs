//! Schwab's order endpoints over HTTP: previewOrder, place (201, empty body, `Location` from the
//! request's Host), the orders window and one order, cancel, the 400/403/404/429 shapes, the
//! per-account order limit kept apart from the per-app limit, faults that answer before an order
//! exists, the trading/fill/placements controls, and fills that `GET /accounts` then shows.

mod common;
#[path = "common/schwab.rs"]
mod schwab;

use common::Reply;
use reqwest::Method;
use schwab::Session;
use serde_json::{json, Value};

const WINDOW: &str = "fromEnteredTime=2000-01-01T00:00:00.000Z&toEnteredTime=2000-12-31T00:00:00.000Z";

/// The order calls and controls of a session.
trait Orders {
    fn orders_path(&self, number: &str) -> String;
    async fn place(&self, number: &str, body: &Value) -> Reply;
    async fn trading(&self, number: &str, settings: Value) -> Reply;
    async fn placements(&self) -> Value;
}

impl Orders for Session {
    fn orders_path(&self, number: &str) -> String {
        format!("/trader/v1/accounts/{}/orders", self.hashes[number])
    }

    async fn place(&self, number: &str, body: &Value) -> Reply {
        self.call(Method::POST, &self.orders_path(number), Some(body.to_string())).await
    }

    async fn trading(&self, number: &str, settings: Value) -> Reply {
        let mut settings = settings;
        (settings["customer"], settings["account_number"]) = (json!(self.customer), json!(number));
        self.control(Method::POST, "/__sim/schwab/trading", Some(settings)).await
    }

    async fn placements(&self) -> Value {
        self.control(Method::GET, &format!("/__sim/schwab/placements?customer={}", self.customer), None).await.json
    }
}

fn market(instruction: &str, quantity: u32, symbol: &str) -> Value {
    json!({"orderType": "MARKET", "session": "NORMAL", "duration": "DAY", "orderStrategyType": "SINGLE",
           "orderLegCollection": [{"instruction": instruction, "quantity": quantity,
               "instrument": {"symbol": symbol, "assetType": "EQUITY"}}]})
}

/// The order id at the end of a 201's `Location`, after checking the whole header.
fn created_id(s: &Session, number: &str, reply: &Reply) -> u64 {
    assert_eq!((reply.status.as_u16(), reply.text.as_str()), (201, ""), "{}", reply.text);
    let location = reply.header("location");
    let prefix = format!("http://{}/trader/v1/accounts/{}/orders/", s.sim.addr, s.hashes[number]);
    let id = location.strip_prefix(&prefix).unwrap_or_else(|| panic!("{location} does not start with {prefix}"));
    id.parse().unwrap()
}

#[tokio::test]
async fn preview_place_read_and_cancel_an_order_over_http() {
    let s = Session::start("olga").await;
    let margin = "12345678";
    let preview_path = format!("/trader/v1/accounts/{}/previewOrder", s.hashes[margin]);
    let preview = s.call(Method::POST, &preview_path, Some(market("BUY", 2, "SYNT").to_string())).await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.json["orderStrategy"]["orderBalance"]["orderValue"], 310.0);
    assert!(!preview.header("schwab-client-correlid").is_empty());

    let limit = json!({"orderType": "LIMIT", "session": "NORMAL", "duration": "DAY", "orderStrategyType": "SINGLE",
        "price": "10.00", "orderLegCollection": [{"instruction": "BUY", "quantity": 1,
            "instrument": {"symbol": "SYNT", "assetType": "EQUITY"}}]});
    let placed = s.place(margin, &limit).await;
    let id = created_id(&s, margin, &placed);
    assert_eq!(id, 1_000_000_000_001);
    assert!(!placed.header("schwab-client-correlid").is_empty());
    let again = created_id(&s, margin, &s.place(margin, &limit).await);
    assert_eq!(again, id + 1, "an identical POST makes a second order");

    let listed = s.call(Method::GET, &format!("{}?{}", s.orders_path(margin), now_window()), None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let ids: Vec<_> = listed.json.as_array().unwrap().iter().map(|o| o["orderId"].as_u64().unwrap()).collect();
    assert_eq!(ids, [id + 1, id], "newest first");
    let empty = s.call(Method::GET, &format!("{}?{WINDOW}", s.orders_path(margin)), None).await;
    assert_eq!(empty.json, json!([]));
    let one = s.call(Method::GET, &format!("{}/{id}", s.orders_path(margin)), None).await;
    assert_eq!(
        (&one.json["accountNumber"], &one.json["price"], &one.json["status"]),
        (&json!(12345678), &json!(10.0), &json!("WORKING"))
    );
    let no_window = s.call(Method::GET, &s.orders_path(margin), None).await;
    assert_eq!((no_window.status.as_u16(), &no_window.json), (400, &json!({"message": "fromEnteredTime is required"})));

    let cancelled = s.call(Method::DELETE, &format!("{}/{id}", s.orders_path(margin)), None).await;
    assert_eq!((cancelled.status.as_u16(), cancelled.text.as_str()), (200, ""));
    let twice = s.call(Method::DELETE, &format!("{}/{id}", s.orders_path(margin)), None).await;
    assert_eq!(
        (twice.status.as_u16(), &twice.json),
        (400, &json!({"message": "Order cannot be cancelled: its status is CANCELED"}))
    );
    let unknown = s.call(Method::DELETE, &format!("{}/42", s.orders_path(margin)), None).await;
    assert_eq!((unknown.status.as_u16(), &unknown.json["errors"][0]["status"]), (404, &json!("404")));
    let elsewhere = s.call(Method::GET, &format!("{}/{id}", s.orders_path("87654321")), None).await;
    assert_eq!(elsewhere.status, 404, "another account's order");
    let by_number = s.call(Method::POST, "/trader/v1/accounts/12345678/orders", Some(limit.to_string())).await;
    assert_eq!((by_number.status.as_u16(), &by_number.json), (400, &json!({"message": "Invalid account number"})));
    let patched = s.call(Method::PATCH, &format!("{}/{id}", s.orders_path(margin)), None).await;
    assert_eq!(patched.status, 404);

    let replaced = s.call(Method::PUT, &format!("{}/{}", s.orders_path(margin), id + 1), Some(limit.to_string())).await;
    assert_eq!(created_id(&s, margin, &replaced), id + 2);
    let old = s.call(Method::GET, &format!("{}/{}", s.orders_path(margin), id + 1), None).await;
    assert_eq!(old.json["status"], "REPLACED");

    let bad = s.place(margin, &json!({"orderType": "MARKET", "price": 1})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json["message"], bad.json["errors"][0]);
    assert_eq!(bad.json["errors"].as_array().unwrap().len(), 5, "{}", bad.text);
    let rejected = s.place(margin, &market("BUY", 1, "NOPE")).await;
    assert_eq!(
        (rejected.status.as_u16(), &rejected.json),
        (400, &json!({"message": "NOPE is not a valid symbol or is not eligible for trading."}))
    );

    let calls = s.control(Method::GET, "/__sim/calls", None).await.json;
    let ops = &calls["schwab"]["users"]["olga"]["operations"];
    assert_eq!((&ops["preview_order"], &ops["place_order"], &ops["orders"]), (&json!(1), &json!(5), &json!(3)));
    assert_eq!((&ops["order"], &ops["cancel_order"], &ops["replace_order"]), (&json!(3), &json!(3), &json!(1)));
}

/// A window around now.
fn now_window() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let day = |offset: i64| tributary_sim::ibkr::dates::Date::from_days((now / 86_400) + offset).iso();
    format!("fromEnteredTime={}T00:00:00.000Z&toEnteredTime={}T00:00:00%2B0000", day(-1), day(1))
}

#[tokio::test]
async fn order_writes_have_a_per_account_limit_apart_from_the_app_limit() {
    let s = Session::start("pia").await;
    let set = s.control(Method::POST, "/__sim/schwab/ratelimit", Some(json!({"per_minute": 3}))).await;
    assert_eq!(set.status, 200);
    for _ in 0..4 {
        created_id(&s, "12345678", &s.place("12345678", &market("BUY", 1, "SYNT")).await);
    }
    let settings = s.trading("12345678", json!({"order_limit_per_minute": 1})).await;
    assert_eq!(
        settings.json,
        json!({"customer": "pia", "account_number": "12345678", "app_trading_enabled": true,
        "order_limit_per_minute": 1, "next_place": null, "times": 0, "order_status": "WORKING"})
    );
    created_id(&s, "12345678", &s.place("12345678", &market("BUY", 1, "SYNT")).await);
    let throttled = s.place("12345678", &market("BUY", 1, "SYNT")).await;
    assert_eq!(throttled.status, 429, "{}", throttled.text);
    assert_eq!(throttled.json, json!({"errors": [{"status": 429, "title": "Too Many Requests"}]}));
    let retry: u64 = throttled.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let cancel = s.call(Method::DELETE, &format!("{}/1000000000001", s.orders_path("12345678")), None).await;
    assert_eq!(cancel.status, 429, "a cancel is an order write too");
    created_id(&s, "87654321", &s.place("87654321", &market("BUY", 1, "SYNT")).await);
    let outcomes: Vec<_> =
        s.placements().await["placements"].as_array().unwrap().iter().map(|p| p["outcome"].clone()).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == "throttled").count(), 1);
    assert_eq!(outcomes.len(), 7);
}

#[tokio::test]
async fn forbidden_apps_faults_and_accept_then_500_answer_in_schwabs_shapes() {
    let s = Session::start("quinn").await;
    s.trading("12345678", json!({"app_trading_enabled": false})).await;
    let forbidden = s.place("12345678", &market("BUY", 1, "SYNT")).await;
    assert_eq!(forbidden.status, 403);
    let error = &forbidden.json["errors"][0];
    assert_eq!((&error["status"], &error["title"]), (&json!("403"), &json!("Forbidden")));
    assert_eq!(error["detail"], "This app is not authorized to place orders");
    assert_eq!(error["id"].as_str().unwrap().len(), 36);
    let read = s.call(Method::GET, &format!("{}?{}", s.orders_path("12345678"), now_window()), None).await;
    assert_eq!(read.status, 200, "reads still work");
    s.trading("12345678", json!({})).await;

    let fault = json!({"provider": "schwab", "endpoint": "place_order", "kind": "status", "status": 503, "times": 1});
    assert_eq!(s.control(Method::POST, "/__sim/faults", Some(fault)).await.status, 200);
    let faulted = s.place("12345678", &market("BUY", 1, "SYNT")).await;
    assert_eq!((faulted.status.as_u16(), &faulted.json), (503, &json!({"message": "Service Unavailable"})));
    let placements = s.placements().await;
    assert_eq!((placements["orders"].as_u64(), placements["placements"].as_array().map(Vec::len)), (Some(0), Some(1)));

    s.trading("12345678", json!({"next_place": {"outcome": "accept_then_500"}})).await;
    let failed = s.place("12345678", &market("BUY", 1, "SYNT")).await;
    assert_eq!((failed.status.as_u16(), &failed.json), (500, &json!({"message": "Internal Server Error"})));
    let placements = s.placements().await;
    assert_eq!(placements["orders"], 1, "the order exists");
    let last = placements["placements"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["outcome"], "created_then_500");
    assert_eq!(
        (&last["order_id"], &last["symbol"], &last["instruction"], &last["quantity"]),
        (&json!(1_000_000_000_001u64), &json!("SYNT"), &json!("BUY"), &json!(1.0))
    );
    let orders = s.sim.sim.schwab_orders("quinn");
    assert_eq!((orders.len(), orders[0].account_number.as_str()), (1, "12345678"));
    assert_eq!(s.sim.sim.schwab_placements("quinn").len(), 2, "the forbidden one and the failed one");
    assert!(s.sim.sim.schwab_orders("someone-else").is_empty());
}

#[tokio::test]
async fn a_filled_order_moves_the_positions_and_cash_get_accounts_shows() {
    let s = Session::start("rae").await;
    let id = created_id(&s, "87654321", &s.place("87654321", &market("BUY", 3, "AAPL")).await);
    let bad =
        s.control(Method::POST, "/__sim/schwab/orders/fill", Some(json!({"customer": "rae", "order_id": "x"}))).await;
    assert_eq!(bad.status, 400);
    assert!(bad.json["error"].is_string());
    let unknown = json!({"customer": "rae", "order_id": 5});
    assert_eq!(s.control(Method::POST, "/__sim/schwab/orders/fill", Some(unknown)).await.status, 404);
    let fill = json!({"customer": "rae", "order_id": id.to_string(), "price": "189.50"});
    let filled = s.control(Method::POST, "/__sim/schwab/orders/fill", Some(fill.clone())).await;
    assert_eq!(filled.status, 200, "{}", filled.text);
    assert_eq!(filled.json["order"]["status"], "FILLED");
    assert_eq!(filled.json["order"]["orderActivityCollection"][0]["executionLegs"][0]["price"], 189.5);
    assert_eq!(s.control(Method::POST, "/__sim/schwab/orders/fill", Some(fill)).await.status, 400, "not open");

    let account =
        s.call(Method::GET, &format!("/trader/v1/accounts/{}?fields=positions", s.hashes["87654321"]), None).await;
    let securities = &account.json["securitiesAccount"];
    let aapl =
        securities["positions"].as_array().unwrap().iter().find(|p| p["instrument"]["symbol"] == "AAPL").unwrap();
    assert_eq!(
        (&aapl["longQuantity"], &aapl["marketValue"], &aapl["averagePrice"]),
        (&json!(3.0), &json!(570.0), &json!(189.5))
    );
    assert_eq!(securities["currentBalances"]["cashBalance"], 931.75, "1500.25 - 568.50");
    assert_eq!(account.json["aggregatedBalance"]["liquidationValue"], 2121.75, "2120.25 - 568.50 + 570");
}

#[tokio::test]
async fn the_controls_refuse_bad_input_and_unknown_accounts() {
    let s = Session::start("sam").await;
    assert_eq!(s.trading("99999999", json!({})).await.status, 404);
    for bad in [
        json!({"order_limit_per_minute": 121}),
        json!({"times": 3}),
        json!({"order_status": "FILLED"}),
        json!({"next_place": {"outcome": "explode"}}),
        json!({"unknown": true}),
    ] {
        let reply = s.trading("12345678", bad.clone()).await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.json["error"].is_string(), "{bad}");
    }
    let reject = s.trading("12345678", json!({"next_place": {"outcome": "reject"}, "times": 2})).await;
    assert_eq!(reject.json["next_place"]["outcome"], "reject");
    assert_eq!(reject.json["times"], 2);
    let refused = s.place("12345678", &market("BUY", 1, "SYNT")).await;
    assert_eq!((refused.status.as_u16(), &refused.json["message"]), (400, &reject.json["next_place"]["reason"]));
    let all = s.control(Method::GET, "/__sim/schwab/placements", None).await;
    assert_eq!(all.json["placements"][0]["outcome"], "rejected");
    assert_eq!(all.json["placements"][0]["order_id"], Value::Null);
}
