//! The ledger through `TributaryClient` against real `Response`s: every page followed and
//! bounded, filters checked before anything is sent, rows passed on exactly with exact totals,
//! the CSV fetched with the token, syncs and their cooldown, reconciliation passed on.

use super::{client_with, error_json, fetch_double, js, requests, seen, settle, COOLING_DOWN};
use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

fn row(n: u32, kind: &str, amount: &str, currency: &str) -> Value {
    json!({"id": format!("tx_{n:032x}"), "provider": "snaptrade", "provider_transaction_id": n.to_string(),
           "account_id": "acc 1", "institution": "charles_schwab", "type": kind, "provider_type": kind.to_uppercase(),
           "trade_date": "2026-01-02", "settlement_date": null,
           "security": {"security_key": "AAPL", "ticker": "AAPL", "name": null},
           "quantity": "1.50", "price": "10.00", "amount": amount, "fees": "0.10", "currency": currency, "description": null})
}

fn page(rows: Vec<Value>, next: Option<&str>, status: &str) -> Value {
    json!({"from": "2025-01-01", "to": "2026-01-31", "transactions": rows, "next_cursor": next,
           "providers": [{"provider": "snaptrade", "status": status, "last_synced_at": 1_800_000_000, "scopes": 1,
                          "problems": [], "routed_away": [], "fail_open": []}]})
}

#[wasm_bindgen_test]
async fn transactions_follow_every_page_and_keep_every_decimal_exactly() {
    let first = page(vec![row(1, "sell", "0.10", "USD"), row(2, "buy", "-15.005", "CAD")], Some("2026-01-02~c1"), "ok");
    let second = page(vec![row(3, "sell", "0.20", "USD")], None, "incomplete");
    let (fetch, calls) =
        fetch_double(&format!("(url) => new Response(url.includes('cursor=') ? '{second}' : '{first}')"));
    let filters = js(json!({"from": "2025-01-01", "to": "2026-01-31", "account": "acc 1", "type": ["buy", "sell"]}));
    let list = seen(&settle(client_with(&fetch, json!({})).transactions(filters)).await.unwrap());
    let urls: Vec<Value> = requests(&calls).into_iter().map(|r| r["url"].clone()).collect();
    let base =
        "http://api.test/api/transactions?from=2025-01-01&to=2026-01-31&account=acc%201&type=buy%2Csell&limit=500";
    assert_eq!(urls, vec![json!(base), json!(format!("{base}&cursor=2026-01-02~c1"))]);
    let ids: Vec<&str> = list["transactions"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "every page, in order");
    assert_eq!(list["transactions"][0], row(1, "sell", "0.10", "USD"), "each row exactly as the API wrote it");
    assert_eq!((&list["from"], &list["to"]), (&json!("2025-01-01"), &json!("2026-01-31")));
    assert_eq!(list["providers"][0]["status"], "ok", "the first page's provider reports");
    assert_eq!(
        list["totals"],
        json!([{"currency": "CAD", "amount": "-15.005", "fees": "0.10", "count": 1},
               {"currency": "USD", "amount": "0.30", "fees": "0.20", "count": 2}])
    );
    assert!(list.get("next_cursor").is_none());
}

#[wasm_bindgen_test]
async fn paging_is_bounded_and_a_repeated_cursor_is_an_invalid_response() {
    let (fetch, calls) = fetch_double(&format!(
        "(url, init, n) => new Response(JSON.stringify({{...{}, next_cursor: 'c' + n}}))",
        page(vec![], None, "ok")
    ));
    let error = error_json(&settle(client_with(&fetch, json!({})).transactions(JsValue::UNDEFINED)).await.unwrap_err());
    assert_eq!(error["code"], "transactions_too_many_pages");
    assert_eq!(calls.length(), 1000, "a sane maximum, then a typed error");

    let (fetch, calls) = fetch_double(&format!("() => new Response('{}')", page(vec![], Some("same"), "ok")));
    let error = error_json(&settle(client_with(&fetch, json!({})).transactions(JsValue::UNDEFINED)).await.unwrap_err());
    assert_eq!((&error["code"], calls.length()), (&json!("invalid_response"), 2));

    let (fetch, _) = fetch_double("() => new Response('{\"transactions\": 3}')");
    let error = error_json(&settle(client_with(&fetch, json!({})).transactions(JsValue::UNDEFINED)).await.unwrap_err());
    assert_eq!(error["code"], "invalid_response");
}

#[wasm_bindgen_test]
async fn bad_filters_are_refused_with_the_apis_codes_before_anything_is_sent() {
    let (fetch, calls) = fetch_double(&format!("() => new Response('{}')", page(vec![], None, "ok")));
    let client = client_with(&fetch, json!({}));
    for (filters, code) in [
        (json!({"from": "2026-02-30"}), "invalid_date"),
        (json!({"from": "2026-02-01", "to": "2026-01-01"}), "date_range_inverted"),
        (json!({"from": "2015-01-01", "to": "2026-01-01"}), "date_range_too_long"),
        (json!({"type": "purchase"}), "unknown_transaction_type"),
        (json!({"type": ["buy", 3]}), "invalid_input"),
        (json!({"types": "buy"}), "invalid_input"),
        (json!({"account": 7}), "invalid_input"),
    ] {
        let error = error_json(&settle(client.transactions(js(filters.clone()))).await.unwrap_err());
        assert_eq!(error["code"], code, "{filters}");
        let error = error_json(&settle(client.transactions_csv(js(filters.clone()))).await.unwrap_err());
        assert_eq!(error["code"], code, "csv: {filters}");
    }
    assert_eq!(calls.length(), 0);
    // What depends on the user's today (no `to`) is the worker's to decide; empty strings are left out.
    let _ = settle(client.transactions(js(json!({"from": "2015-01-01", "to": "", "type": "dividend,interest"})))).await;
    let sent = requests(&calls);
    assert_eq!(sent[0]["url"], "http://api.test/api/transactions?from=2015-01-01&type=dividend%2Cinterest&limit=500");
}

#[wasm_bindgen_test]
async fn the_csv_is_fetched_with_the_token_and_named_by_the_api() {
    let csv = "id,trade_date\\r\\ntx_1,2026-01-02\\r\\n";
    let (fetch, calls) = fetch_double(&format!(
        "() => new Response('{csv}', {{headers: {{'content-type': 'text/csv', \
           'content-disposition': 'attachment; filename=\"transactions-2025-01-01-to-2026-01-31.csv\"'}}}})"
    ));
    let client = client_with(&fetch, json!({}));
    let download = seen(&settle(client.transactions_csv(js(json!({"type": "dividend"})))).await.unwrap());
    assert_eq!(
        download,
        json!({"filename": "transactions-2025-01-01-to-2026-01-31.csv", "csv": "id,trade_date\r\ntx_1,2026-01-02\r\n"})
    );
    let sent = &requests(&calls)[0];
    assert_eq!(sent["url"], "http://api.test/api/transactions.csv?type=dividend");
    assert_eq!(sent["headers"]["authorization"], "Bearer tok-1");

    let (fetch, _) = fetch_double(
        "() => new Response('id\\r\\n', {headers: {'content-disposition': 'attachment; filename=\"../x\"'}})",
    );
    let download = seen(&settle(client_with(&fetch, json!({})).transactions_csv(JsValue::UNDEFINED)).await.unwrap());
    assert_eq!(download["filename"], "transactions.csv", "only a plain file name is taken");
}

#[wasm_bindgen_test]
async fn a_sync_names_its_providers_and_its_cooldown_is_a_429_with_retry_after() {
    let answer =
        json!({"results": [{"provider": "plaid", "status": "not_ready", "stored": 0, "removed": 0, "error": null}]});
    let (fetch, calls) = fetch_double(&format!("() => new Response('{answer}')"));
    let client = client_with(&fetch, json!({}));
    assert_eq!(seen(&settle(client.sync_transactions(js(json!({"providers": ["plaid"]})))).await.unwrap()), answer);
    let _ = settle(client.sync_transactions(JsValue::UNDEFINED)).await.unwrap();
    let sent = requests(&calls);
    assert_eq!(
        (&sent[0]["url"], &sent[0]["method"]),
        (&json!("http://api.test/api/transactions/sync"), &json!("POST"))
    );
    let bodies: Vec<Value> = sent.iter().map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap()).collect();
    assert_eq!(bodies, vec![json!({"providers": ["plaid"]}), json!({})]);
    let error = error_json(&settle(client.sync_transactions(js(json!({"providers": ["ibkr"]})))).await.unwrap_err());
    assert_eq!(error["code"], "unknown_provider");
    assert_eq!(calls.length(), 2);

    let (fetch, calls) =
        fetch_double(&format!("() => new Response({COOLING_DOWN}, {{status: 429, headers: {{'Retry-After': '7'}}}})"));
    let error =
        error_json(&settle(client_with(&fetch, json!({})).sync_transactions(JsValue::UNDEFINED)).await.unwrap_err());
    assert_eq!((&error["status"], &error["retryAfter"], calls.length()), (&json!(429), &json!(7), 1));
}

#[wasm_bindgen_test]
async fn reconciliation_passes_every_mismatch_on() {
    let answer = json!({"mismatches": [{"provider": "snaptrade", "account_id": "acc-1", "security_key": "MSFT",
        "implied_change": "2", "observed_change": "0", "difference": "-2", "since": "2026-01-01", "until": "2026-01-02"}]});
    let (fetch, calls) = fetch_double(&format!("() => new Response('{answer}')"));
    assert_eq!(seen(&settle(client_with(&fetch, json!({})).reconciliation()).await.unwrap()), answer);
    assert_eq!(requests(&calls)[0]["url"], "http://api.test/api/transactions/reconciliation");
    let (fetch, _) = fetch_double("() => new Response('{}')");
    let error = error_json(&settle(client_with(&fetch, json!({})).reconciliation()).await.unwrap_err());
    assert_eq!(error["code"], "invalid_response");
}
