//! Investment transactions over HTTP: SnapTrade's `GET /accounts/{accountId}/activities` and
//! Plaid's `/investments/transactions/get` — default histories, paging to the end, date and type
//! filters, each provider's sign convention, the `/__sim/transactions*` controls (late posting,
//! holdings that move with activity, cancels, reissued ids, not-ready Items), faults, call counts
//! and the transactions webhooks.

mod common;
#[path = "common/plaid.rs"]
mod plaid;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use common::{assert_error, Harness, User, CONSUMER_KEY};
use hmac::{Hmac, Mac};
use plaid::{assert_plaid_error, defects, Linked, Plaid, Receiver};
use reqwest::Method;
use serde_json::{json, Map, Value};
use sha2::Sha256;
use std::collections::HashSet;

/// A SnapTrade user connected to `broker`, with its account ids in order.
async fn snaptrade_user(h: &Harness, name: &str, broker: &str) -> (User, Vec<String>) {
    let (user, _, ids) = snaptrade_connection(h, name, broker).await;
    (user, ids)
}

/// A SnapTrade user connected to `broker`: the user, the connection id and its account ids.
async fn snaptrade_connection(h: &Harness, name: &str, broker: &str) -> (User, String, Vec<String>) {
    let user = h.register(name).await;
    let authorization = h.connect(&user, broker, "read").await;
    let accounts = h.get("/accounts", &user).await;
    let ids = accounts.json.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
    (user, authorization, ids)
}

/// `GET /accounts/{account}/activities?<extra>` for `user`.
async fn activities(h: &Harness, user: &User, account: &str, extra: &str) -> common::Reply {
    let path = format!("/accounts/{account}/activities");
    let mut q = common::query(Some(user));
    if !extra.is_empty() {
        q.push('&');
        q.push_str(extra);
    }
    let signature = tributary_sim::snaptrade::signature::sign(CONSUMER_KEY, &path, &q, None);
    h.raw(Method::GET, &path, &q, None, Some(&signature)).await
}

async fn post_control(http: &reqwest::Client, base: &str, path: &str, body: Value) -> (u16, Value) {
    let response = http.post(format!("{base}{path}")).json(&body).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn ids_of(rows: &Value, key: &str) -> Vec<String> {
    rows.as_array().unwrap().iter().map(|r| r[key].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn snaptrade_default_history_is_newest_first_with_cash_in_positive() {
    let h = Harness::start().await;
    let (user, accounts) = snaptrade_user(&h, "ann", "SCHWAB").await;
    let reply = activities(&h, &user, &accounts[0], "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let data = reply.json["data"].as_array().unwrap();
    assert_eq!(reply.json["pagination"], json!({"offset": 0, "limit": 1000, "total": data.len()}));
    assert!((5..=12).contains(&data.len()), "{}", data.len());
    let dates: Vec<&str> = data.iter().map(|a| a["trade_date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "reverse chronological: {dates:?}");
    let of = |t: &str| data.iter().find(|a| a["type"] == t).unwrap_or_else(|| panic!("no {t} in {data:?}"));
    let buy = of("BUY");
    assert!(buy["amount"].as_f64().unwrap() < 0.0 && buy["units"].as_f64().unwrap() > 0.0, "{buy}");
    assert_eq!((&buy["symbol"]["symbol"], &buy["currency"]["code"]), (&json!("AAPL"), &json!("USD")));
    assert_eq!(
        (&buy["option_symbol"], &buy["option_type"], &buy["institution"]),
        (&Value::Null, &json!(""), &json!("Charles Schwab"))
    );
    let sell = of("SELL");
    assert!(sell["amount"].as_f64().unwrap() > 0.0 && sell["units"].as_f64().unwrap() < 0.0, "{sell}");
    assert!(of("CONTRIBUTION")["amount"].as_f64().unwrap() > 0.0 && of("CONTRIBUTION")["symbol"].is_null());
    assert!(of("FEE")["amount"].as_f64().unwrap() < 0.0);
    assert!(of("DIVIDEND")["amount"].as_f64().unwrap() > 0.0);
    assert_eq!(of("SPLIT")["symbol"]["symbol"], "AAPL");
    // The buys, split and sell of AAPL net to the seeded 10 shares.
    let aapl: f64 = data.iter().filter(|a| a["symbol"]["symbol"] == "AAPL").map(|a| a["units"].as_f64().unwrap()).sum();
    assert!((aapl - 10.0).abs() < 1e-9, "{aapl}");
    // The symbol id is the positions/all instrument id.
    let positions = h.get(&format!("/accounts/{}/positions/all", accounts[0]), &user).await;
    assert_eq!(positions.json["results"][0]["instrument"]["id"], buy["symbol"]["id"]);
    // The Roth IRA holds CAD: one dividend is paid in CAD.
    let roth = activities(&h, &user, &accounts[1], "type=DIVIDEND").await;
    let currencies: Vec<&Value> =
        roth.json["data"].as_array().unwrap().iter().map(|a| &a["currency"]["code"]).collect();
    assert!(currencies.contains(&&json!("CAD")), "{currencies:?}");

    let calls = h.control(Method::GET, "/__sim/calls", None).await;
    assert_eq!(calls["snaptrade"]["users"]["ann"]["operations"]["activities"], 2);
    assert_eq!(calls["snaptrade"]["users"]["ann"]["billed"], 0);
}

#[tokio::test]
async fn snaptrade_pages_to_the_end_and_filters_by_date_and_type() {
    let h = Harness::start().await;
    let (user, accounts) = snaptrade_user(&h, "bea", "ROBINHOOD").await;
    let account = &accounts[0];
    let default = activities(&h, &user, account, "").await.json["pagination"]["total"].as_u64().unwrap() as usize;
    let (status, made) = post_control(
        &h.http,
        &h.base,
        "/__sim/transactions/history",
        json!({"provider": "snaptrade", "user": "bea", "account_id": account, "count": 1200}),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["ids"].as_array().unwrap().len(), 1200);
    let total = default + 1200;

    let first = activities(&h, &user, account, "").await;
    assert_eq!(
        (first.json["data"].as_array().unwrap().len(), first.json["pagination"]["total"].as_u64()),
        (1000, Some(total as u64))
    );
    let second = activities(&h, &user, account, "offset=1000&limit=5000").await;
    assert_eq!(second.json["pagination"], json!({"offset": 1000, "limit": 1000, "total": total}));
    let mut seen: HashSet<String> = ids_of(&first.json["data"], "id").into_iter().collect();
    let rest = ids_of(&second.json["data"], "id");
    assert_eq!(rest.len(), total - 1000);
    seen.extend(rest);
    assert_eq!(seen.len(), total, "no row twice, none missing");
    let last_of_first = first.json["data"][999]["trade_date"].as_str().unwrap();
    assert!(second.json["data"][0]["trade_date"].as_str().unwrap() <= last_of_first);

    // Dates are inclusive on both ends and filter on trade_date.
    let day = made["newest_date"].as_str().unwrap();
    let one_day = activities(&h, &user, account, &format!("startDate={day}&endDate={day}")).await;
    let rows = one_day.json["data"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "four generated rows a day");
    assert!(rows.iter().all(|a| a["trade_date"].as_str().unwrap().starts_with(day)));
    let typed = activities(&h, &user, account, "type=BUY,sell").await;
    assert!(typed.json["data"].as_array().unwrap().iter().all(|a| a["type"] == "BUY" || a["type"] == "SELL"));
    assert!(typed.json["pagination"]["total"].as_u64().unwrap() > 0);
    for bad in
        ["startDate=2026-13-01", "endDate=20260101", "offset=-1", "limit=0", "startDate=2026-02-02&endDate=2026-02-01"]
    {
        assert_error(&activities(&h, &user, account, bad).await, 400, "invalid_request");
    }
    // Another user's account is refused; an unknown one is not found.
    let (other, _) = snaptrade_user(&h, "cyd", "FIDELITY").await;
    assert_error(&activities(&h, &other, account, "").await, 403, "1066");
    assert_error(&activities(&h, &user, "no-such-account", "").await, 404, "1011");
}

#[tokio::test]
async fn snaptrade_late_posting_reissue_holdings_and_faults() {
    let h = Harness::start().await;
    let (user, accounts) = snaptrade_user(&h, "dee", "SCHWAB").await;
    let account = &accounts[0];
    let before = activities(&h, &user, account, "type=CONTRIBUTION").await;
    let day = before.json["data"][0]["trade_date"].as_str().unwrap()[..10].to_owned();
    let window = format!("startDate={day}&endDate={day}");
    let on_day = activities(&h, &user, account, &window).await.json["data"].as_array().unwrap().len();

    // A late-posting row shows up in a later read of its (past) date.
    let rows = json!([{"kind": "dividend", "symbol": "AAPL", "amount": "2.40", "date": day, "id": "late-1"},
                      {"kind": "withdrawal", "amount": "-50", "date": day}]);
    let (status, posted) = post_control(
        &h.http,
        &h.base,
        "/__sim/transactions",
        json!({"provider": "snaptrade", "user": "dee", "account_id": account, "rows": rows}),
    )
    .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["ids"][0], "late-1");
    let after = activities(&h, &user, account, &window).await;
    assert_eq!(after.json["data"].as_array().unwrap().len(), on_day + 2);
    assert!(ids_of(&after.json["data"], "id").contains(&"late-1".to_owned()));
    let (status, _) = post_control(&h.http, &h.base, "/__sim/transactions",
        json!({"provider": "snaptrade", "user": "dee", "account_id": account, "rows": [{"kind": "fee", "amount": "-1", "date": day, "id": "late-1"}]})).await;
    assert_eq!(status, 400, "a used id is refused");

    // apply_to_holdings moves positions/all; without it holdings stay as seeded.
    let units = |reply: &common::Reply, symbol: &str| {
        reply.json["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["instrument"]["symbol"] == symbol)
            .map(|p| p["units"].clone())
    };
    let positions_path = format!("/accounts/{account}/positions/all");
    let buy = |apply: bool, symbol: &str, quantity: &str| {
        json!({"provider": "snaptrade", "user": "dee", "account_id": account,
        "apply_to_holdings": apply, "rows": [{"kind": "buy", "symbol": symbol, "quantity": quantity, "price": "190", "date": day}]})
    };
    assert_eq!(post_control(&h.http, &h.base, "/__sim/transactions", buy(false, "AAPL", "5")).await.0, 200);
    assert_eq!(units(&h.get(&positions_path, &user).await, "AAPL"), Some(json!("10")));
    assert_eq!(post_control(&h.http, &h.base, "/__sim/transactions", buy(true, "AAPL", "5")).await.0, 200);
    assert_eq!(post_control(&h.http, &h.base, "/__sim/transactions", buy(true, "GOOG", "1.5")).await.0, 200);
    let positions = h.get(&positions_path, &user).await;
    assert_eq!((units(&positions, "AAPL"), units(&positions, "GOOG")), (Some(json!("15")), Some(json!("1.5"))));

    // Reissue: every id changes, content and order do not.
    let old = activities(&h, &user, account, "").await;
    let (status, reissued) = post_control(
        &h.http,
        &h.base,
        "/__sim/transactions/reissue",
        json!({"provider": "snaptrade", "user": "dee", "account_id": account}),
    )
    .await;
    assert_eq!(status, 200, "{reissued}");
    let new = activities(&h, &user, account, "").await;
    let (old_ids, new_ids) = (ids_of(&old.json["data"], "id"), ids_of(&new.json["data"], "id"));
    assert_eq!(reissued["reissued"].as_u64(), Some(old_ids.len() as u64));
    assert!(old_ids.iter().all(|id| !new_ids.contains(id)), "every id is new");
    assert_eq!(reissued["ids"][&old_ids[0]], json!(new_ids[0]));
    let without_id = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let mut a = a.clone();
                a["id"] = Value::Null;
                a
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_id(&old.json["data"]), without_id(&new.json["data"]));

    // Faults target the `activities` endpoint.
    h.fault(json!({"provider": "snaptrade", "endpoint": "activities", "kind": "status", "status": 503, "times": 1}))
        .await;
    assert_error(&activities(&h, &user, account, "").await, 503, "3002");
    assert_eq!(activities(&h, &user, account, "").await.status, 200);
}

#[tokio::test]
async fn snaptrade_transactions_webhooks_carry_the_account_connection_and_secret() {
    let h = Harness::start().await;
    let (_, authorization, accounts) = snaptrade_connection(&h, "eve", "IBKR").await;
    for event in ["ACCOUNT_TRANSACTIONS_INITIAL_UPDATE", "ACCOUNT_TRANSACTIONS_UPDATED"] {
        let signed = h
            .control(
                Method::POST,
                "/__sim/snaptrade/webhook/sign",
                Some(json!({"event_type": event, "user_id": "eve", "account_id": accounts[0]})),
            )
            .await;
        let body_text = signed["body"].as_str().unwrap();
        let body: Map<String, Value> = serde_json::from_str(body_text).unwrap();
        let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "accountId",
                "brokerageAuthorizationId",
                "clientId",
                "eventTimestamp",
                "eventType",
                "userId",
                "webhookId",
                "webhookSecret"
            ]
        );
        assert_eq!((&body["eventType"], &body["accountId"]), (&json!(event), &json!(accounts[0])));
        assert_eq!(body["brokerageAuthorizationId"], json!(authorization));
        let signature = signed["headers"].as_array().unwrap().iter().find(|h| h[0] == "signature").unwrap()[1].clone();
        let mut mac = Hmac::<Sha256>::new_from_slice(CONSUMER_KEY.as_bytes()).unwrap();
        mac.update(body_text.as_bytes());
        assert_eq!(signature, json!(STANDARD.encode(mac.finalize().into_bytes())));
    }
}

/// A Plaid Item at `institution` for `user`.
async fn plaid_item(p: &Plaid, user: &str, institution: &str, webhook: Option<&str>) -> Linked {
    p.link_item(user, institution, webhook).await
}

async fn plaid_transactions(p: &Plaid, linked: &Linked, options: Value) -> plaid::Reply {
    let mut body = json!({"access_token": linked.access_token, "start_date": "1990-01-01", "end_date": "2099-12-31"});
    if !options.is_null() {
        body["options"] = options;
    }
    p.post("/investments/transactions/get", body).await
}

#[tokio::test]
async fn plaid_default_history_uses_plaids_sign_convention_and_the_holdings_securities() {
    let p = Plaid::start().await;
    let linked = plaid_item(&p, "u-plaid", "ins_56", None).await;
    let reply = plaid_transactions(&p, &linked, Value::Null).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let body = &reply.json;
    let rows = body["investment_transactions"].as_array().unwrap();
    assert_eq!(body["total_investment_transactions"].as_u64(), Some(rows.len() as u64));
    assert_eq!(
        (&body["is_investments_fallback_item"], &body["item"]["item_id"]),
        (&json!(false), &json!(linked.item_id))
    );
    assert!(body["request_id"].as_str().is_some());
    assert_eq!(body["accounts"].as_array().unwrap().len(), 2);
    let dates: Vec<&str> = rows.iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    let of = |t: &str, s: &str| {
        rows.iter().find(|r| r["type"] == t && r["subtype"] == s).unwrap_or_else(|| panic!("no {t}/{s}"))
    };
    let buy = of("buy", "buy");
    assert!(buy["amount"].as_f64().unwrap() > 0.0 && buy["quantity"].as_f64().unwrap() > 0.0, "{buy}");
    let sell = of("sell", "sell");
    assert!(sell["amount"].as_f64().unwrap() < 0.0 && sell["quantity"].as_f64().unwrap() < 0.0, "{sell}");
    assert!(of("cash", "dividend")["amount"].as_f64().unwrap() < 0.0);
    assert!(of("cash", "deposit")["security_id"].is_null());
    assert!(of("fee", "account fee")["amount"].as_f64().unwrap() > 0.0);
    assert_eq!(of("transfer", "split")["quantity"].as_f64().map(|q| q > 0.0), Some(true));
    assert!(rows.iter().any(|r| r["iso_currency_code"] == "CAD" && r["subtype"] == "dividend"), "a CAD dividend");
    for row in rows {
        assert!(row["iso_currency_code"].is_null() != row["unofficial_currency_code"].is_null(), "{row}");
    }
    // Securities: exactly those referenced, the same objects as the holdings endpoint.
    let referenced: HashSet<&str> = rows.iter().filter_map(|r| r["security_id"].as_str()).collect();
    let securities = body["securities"].as_array().unwrap();
    assert_eq!(securities.iter().map(|s| s["security_id"].as_str().unwrap()).collect::<HashSet<_>>(), referenced);
    let holdings = p.holdings(&linked).await;
    for security in securities {
        let same = holdings.json["securities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["security_id"] == security["security_id"]);
        assert_eq!(same, Some(security));
    }
    let calls = p.calls().await;
    assert_eq!(calls["plaid"]["users"]["u-plaid"]["operations"]["investments_transactions_get"], 1);
    assert_eq!(calls["plaid"]["operations"]["investments_transactions_get"], 1);
}

#[tokio::test]
async fn plaid_pages_of_500_reach_the_end_and_requests_are_checked() {
    let p = Plaid::start().await;
    let linked = plaid_item(&p, "u-pages", "ins_11", None).await;
    let (status, made) = p
        .control("/__sim/transactions/history", json!({"provider": "plaid", "item_id": linked.item_id, "count": 1200}))
        .await;
    assert_eq!(status, 200, "{made}");
    let account = made["account_id"].as_str().unwrap().to_owned();
    let (start, end) = (made["oldest_date"].as_str().unwrap(), made["newest_date"].as_str().unwrap());
    // Only the generated rows: their account, their dates (the default rows are older or fewer).
    let all = json!({"account_ids": [account], "count": 500});
    let page = |offset: usize| {
        let mut options = all.clone();
        options["offset"] = json!(offset);
        p.post(
            "/investments/transactions/get",
            json!({"access_token": linked.access_token, "start_date": start, "end_date": end, "options": options}),
        )
    };
    let first = page(0).await;
    let total = first.json["total_investment_transactions"].as_u64().unwrap() as usize;
    assert!(total >= 1200, "{total}");
    let mut seen = HashSet::new();
    let mut offset = 0;
    let mut pages = 0;
    while offset < total {
        let reply = page(offset).await;
        assert_eq!(reply.json["total_investment_transactions"].as_u64(), Some(total as u64));
        let ids = ids_of(&reply.json["investment_transactions"], "investment_transaction_id");
        assert!(!ids.is_empty() && ids.len() <= 500);
        offset += ids.len();
        seen.extend(ids);
        pages += 1;
    }
    assert_eq!((pages, seen.len()), (3, total));

    let bad = |options: Value| {
        p.post("/investments/transactions/get",
        json!({"access_token": linked.access_token, "start_date": "2025-01-01", "end_date": "2026-01-01", "options": options}))
    };
    assert_plaid_error(&bad(json!({"count": 501})).await, 400, "INVALID_REQUEST", "INVALID_FIELD");
    assert_plaid_error(&bad(json!({"account_ids": ["nope"]})).await, 400, "INVALID_INPUT", "INVALID_ACCOUNT_ID");
    let missing = p
        .post("/investments/transactions/get", json!({"access_token": linked.access_token, "end_date": "2026-01-01"}))
        .await;
    assert_plaid_error(&missing, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    let bad_date = p
        .post(
            "/investments/transactions/get",
            json!({"access_token": linked.access_token, "start_date": "01/01/2025", "end_date": "2026-01-01"}),
        )
        .await;
    assert_plaid_error(&bad_date, 400, "INVALID_REQUEST", "INVALID_FIELD");
    // Faults target `investments_transactions_get`.
    let (status, _) = p.control("/__sim/faults", json!({"provider": "plaid", "endpoint": "investments_transactions_get", "kind": "status", "status": 500, "times": 1})).await;
    assert_eq!(status, 200);
    assert_plaid_error(&bad(json!({})).await, 500, "API_ERROR", "INTERNAL_SERVER_ERROR");
    assert_eq!(bad(json!({})).await.status, 200);
    assert_eq!(p.calls().await["plaid"]["billed"], 1, "only the Item creation is billed");
}

#[tokio::test]
async fn plaid_not_ready_cancel_webhook_and_holdings() {
    let p = Plaid::start().await;
    let mut receiver = Receiver::start().await;
    let linked = plaid_item(&p, "u-cancel", "ins_56", Some(&receiver.url)).await;

    let (status, armed) =
        p.control("/__sim/plaid/transactions-not-ready", json!({"item_id": linked.item_id, "times": 2})).await;
    assert_eq!((status.as_u16(), &armed["times"]), (200, &json!(2)));
    for _ in 0..2 {
        assert_plaid_error(&plaid_transactions(&p, &linked, Value::Null).await, 400, "ITEM_ERROR", "PRODUCT_NOT_READY");
    }
    let before = plaid_transactions(&p, &linked, Value::Null).await;
    assert_eq!(before.status, 200, "{}", before.text);
    let total = before.json["total_investment_transactions"].as_u64().unwrap();

    // Two new rows (one a late posting in the past), then one cancelled.
    let account = before.json["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let rows = json!([{"kind": "buy", "symbol": "JPM", "quantity": "2", "price": "190.00", "date": "2025-03-03"},
                      {"kind": "deposit", "amount": "500", "date": "2025-03-04", "id": "dep-1"}]);
    let (status, posted) = p
        .control(
            "/__sim/transactions",
            json!({"provider": "plaid", "item_id": linked.item_id,
        "account_id": account, "rows": rows, "apply_to_holdings": true}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    let (status, cancelled) = p
        .control(
            "/__sim/transactions/cancel",
            json!({"provider": "plaid", "item_id": linked.item_id,
        "investment_transaction_id": "dep-1"}),
        )
        .await;
    assert_eq!((status.as_u16(), &cancelled["cancelled"]), (200, &json!("dep-1")));
    let after = plaid_transactions(&p, &linked, Value::Null).await;
    assert_eq!(after.json["total_investment_transactions"].as_u64(), Some(total + 1));
    let ids = ids_of(&after.json["investment_transactions"], "investment_transaction_id");
    assert!(!ids.contains(&"dep-1".to_owned()) && ids.contains(&posted["ids"][0].as_str().unwrap().to_owned()));
    let march = p
        .post(
            "/investments/transactions/get",
            json!({"access_token": linked.access_token,
        "start_date": "2025-03-03", "end_date": "2025-03-03"}),
        )
        .await;
    assert_eq!(march.json["investment_transactions"][0]["amount"], json!(380.0), "a buy debits cash");

    // The applied buy moved the JPM holding from 8 to 10.
    let holdings = p.holdings(&linked).await;
    let jpm = holdings.json["securities"].as_array().unwrap().iter().find(|s| s["ticker_symbol"] == "JPM").unwrap()
        ["security_id"]
        .clone();
    let held = holdings.json["holdings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["security_id"] == jpm && h["account_id"] == account)
        .unwrap()
        .clone();
    assert_eq!(held["quantity"], json!(10.0));

    // The webhook reports the new and cancelled rows (double "l"), then starts counting again.
    let hook = json!({"item_id": linked.item_id, "webhook_type": "INVESTMENTS_TRANSACTIONS", "webhook_code": "DEFAULT_UPDATE"});
    for (new, gone) in [(2, 1), (0, 0)] {
        let (status, sent) = p.control("/__sim/plaid/webhook", hook.clone()).await;
        assert_eq!(status, 200, "{sent}");
        let received = receiver.next().await;
        assert!(defects(&p, &received).await.is_empty());
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(
            (&body["new_investments_transactions"], &body["cancelled_investments_transactions"]),
            (&json!(new), &json!(gone))
        );
        assert_eq!((&body["environment"], &body["item_id"]), (&json!("sandbox"), &json!(linked.item_id)));
        assert!(body.get("canceled_investments_transactions").is_none());
    }

    let (status, _) = p
        .control(
            "/__sim/transactions/cancel",
            json!({"provider": "plaid", "item_id": linked.item_id,
        "investment_transaction_id": "dep-1"}),
        )
        .await;
    assert_eq!(status, 404, "already gone");
    let (status, _) = p.control("/__sim/transactions", json!({"provider": "plaid", "item_id": linked.item_id, "account_id": account,
        "apply_to_holdings": true, "rows": [{"kind": "buy", "symbol": "ZZZZ", "quantity": "1", "price": "1", "date": "2025-03-03"}]})).await;
    assert_eq!(status, 400, "applied rows need a seeded security");
}

#[tokio::test]
async fn five_thousand_generated_rows_append_and_read_quickly() {
    let p = Plaid::start().await;
    let linked = plaid_item(&p, "u-bench", "ins_990003", None).await;
    let started = std::time::Instant::now();
    let (status, made) = p
        .control("/__sim/transactions/history", json!({"provider": "plaid", "item_id": linked.item_id, "count": 5000}))
        .await;
    assert_eq!(status, 200, "{made}");
    let reply = plaid_transactions(&p, &linked, json!({"count": 500, "offset": 4500})).await;
    assert_eq!(reply.json["investment_transactions"].as_array().unwrap().len(), 500);
    assert!(reply.json["total_investment_transactions"].as_u64().unwrap() >= 5000);
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
}
