//! Trading through `TributaryClient` against real `Response`s: the contract's paths and bodies,
//! answers passed on exactly (decimals strings, unknown figures null), refusals typed with the
//! worker's codes and `retryAfter`, and the `Idempotency-Key` kept per order — the same key for
//! every retry of an order whose outcome is not definitive (no answer, 5xx, 409, 202 unknown, a
//! new preview of the same order), a new one after a definitive outcome.

use super::{client_with, error_json, fetch_double, js, requests, seen, settle};
use js_sys::Array;
use serde_json::{json, Value};
use tributary_client::TributaryClient;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

fn preview_body(id: &str, units: &str, limit: &str) -> Value {
    json!({"preview_id": id, "account_id": "acc 1", "provider": "snaptrade", "brokerage": "Robinhood",
           "expires_at": 1_800_000_300,
           "order": {"symbol_id": "sym-msft", "symbol": "MSFT", "action": "BUY", "order_type": "Limit",
                     "time_in_force": "Day", "units": units, "notional": null, "limit_price": limit, "stop_price": null},
           "estimate": {"price": "401.25", "commission": "0.00", "fees": null, "remaining_cash": "9598.75", "currency": "USD",
                        "source": {"price": "brokerage", "commission": "brokerage", "fees": "unavailable", "remaining_cash": "estimate"}},
           "warnings": []})
}

fn order_body(state: &str) -> Value {
    json!({"id": "ord-1", "account_id": "acc 1", "provider": "snaptrade", "brokerage_order_id": "b-1", "client_order_id": "c-1",
           "symbol": "MSFT", "symbol_id": "sym-msft", "action": "BUY", "order_type": "Limit", "time_in_force": "Day",
           "units": "1", "notional": null, "limit_price": "401.25", "stop_price": null, "state": state, "status": null,
           "filled_units": null, "execution_price": null, "placed_at": 1_800_000_001, "sent_at": 1_800_000_000,
           "updated_at": 1_800_000_001, "message": null, "error": null})
}

/// A fetch answering previews with `previews` (by the body's `limit_price`, keyed preview ids
/// `p-<n>`) and each `POST /api/orders` with the next of `places` (JS source of Responses, or
/// `"offline"` for a network failure); every other request `{}`.
fn trading_fetch(places: &[&str]) -> (js_sys::Function, Array) {
    let places = places.iter().map(|p| format!("() => {p}")).collect::<Vec<_>>().join(", ");
    fetch_double(&format!(
        "((places) => (url, init, n) => {{
           if (url.endsWith('/api/orders/preview')) {{
             const order = JSON.parse(init.body);
             const body = {preview};
             body.preview_id = 'p-' + n;
             body.order.units = order.units;
             body.order.limit_price = order.limit_price;
             return new Response(JSON.stringify(body));
           }}
           if (url.endsWith('/api/orders') && init.method === 'POST') {{
             const next = places.shift();
             return next ? next() : new Response('{{}}', {{status: 500}});
           }}
           return new Response('{{}}');
         }})([{places}])",
        preview = preview_body("p", "1", "401.25")
    ))
}

const OFFLINE: &str = "Promise.reject(new TypeError('Failed to fetch'))";

fn answer(status: u16, body: &Value) -> String {
    format!("new Response('{body}', {{status: {status}}})")
}

fn refusal(status: u16, code: &str, retry_after: Option<u32>) -> String {
    let body = json!({"error": {"code": code, "message": format!("{code}: as the worker says")}});
    let headers = retry_after.map(|s| format!(", headers: {{'Retry-After': '{s}'}}")).unwrap_or_default();
    format!("new Response('{body}', {{status: {status}{headers}}})")
}

async fn preview(client: &TributaryClient, units: &str, limit: &str) -> Value {
    let order = json!({"account_id": "acc 1", "symbol_id": "sym-msft", "action": "BUY", "order_type": "Limit",
                       "time_in_force": "Day", "units": units, "limit_price": limit});
    seen(&settle(client.preview_order(js(order))).await.unwrap())
}

async fn place(client: &TributaryClient, preview_id: &str, options: Value) -> Result<Value, Value> {
    let outcome = settle(client.place_order(preview_id.into(), js(options))).await;
    outcome.map(|v| seen(&v)).map_err(|e| error_json(&e))
}

/// The `Idempotency-Key` of every `POST /api/orders` sent, in order.
fn keys_sent(calls: &Array) -> Vec<String> {
    requests(calls)
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["url"].as_str().unwrap().ends_with("/api/orders"))
        .map(|r| r["headers"]["Idempotency-Key"].as_str().expect("an Idempotency-Key").to_owned())
        .collect()
}

fn is_uuid_v4(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    lengths == [8, 4, 4, 4, 12]
        && key.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && groups[2].starts_with('4')
        && "89ab".contains(&groups[3][..1])
}

#[wasm_bindgen_test]
async fn a_retried_order_keeps_its_key_until_a_definitive_outcome_then_gets_a_new_one() {
    let places = [
        refusal(409, "order_in_progress", Some(1)),
        OFFLINE.to_owned(),
        refusal(503, "provider_unavailable", None),
        answer(202, &json!({"order": order_body("unknown"), "replayed": false})),
        answer(201, &json!({"order": order_body("open"), "replayed": false})),
        answer(201, &json!({"order": order_body("open"), "replayed": false})),
    ];
    let (fetch, calls) = trading_fetch(&places.iter().map(String::as_str).collect::<Vec<_>>());
    let client = client_with(&fetch, json!({"maxAttempts": 1}));
    let first = preview(&client, "1", "401.25").await;
    let id = first["preview_id"].as_str().unwrap();

    let busy = place(&client, id, json!({})).await.unwrap_err();
    assert_eq!(
        (&busy["code"], &busy["status"], &busy["retryAfter"]),
        (&json!("order_in_progress"), &json!(409), &json!(1)),
        "the worker's code, status and Retry-After: {busy}"
    );
    assert_eq!(place(&client, id, json!({})).await.unwrap_err()["code"], "network_error");
    assert_eq!(place(&client, id, json!({})).await.unwrap_err()["status"], 503);
    let unknown = place(&client, id, json!({})).await.unwrap();
    assert_eq!(unknown["order"]["state"], "unknown");
    // The preview expired meanwhile: a new preview of the same order (written "1.0") keeps the key.
    let again = preview(&client, "1.0", "401.250").await;
    let placed = place(&client, again["preview_id"].as_str().unwrap(), json!(null)).await.unwrap();
    assert_eq!((&placed["order"]["state"], &placed["replayed"]), (&json!("open"), &json!(false)));
    assert_eq!(placed["order"], order_body("open"), "the order exactly as the worker wrote it");

    let keys = keys_sent(&calls);
    assert_eq!(keys.len(), 5);
    assert!(keys.iter().all(|k| *k == keys[0]), "one key for every retry of the order: {keys:?}");
    assert!(is_uuid_v4(&keys[0]), "{}", keys[0]);
    assert_eq!((&unknown["idempotency_key"], &placed["idempotency_key"]), (&json!(keys[0]), &json!(keys[0])));

    // Placed for good: the same order again is a new order, with a new key.
    let third = preview(&client, "1", "401.25").await;
    let next = place(&client, third["preview_id"].as_str().unwrap(), json!({})).await.unwrap();
    let keys = keys_sent(&calls);
    assert_ne!(keys[5], keys[0]);
    assert!(is_uuid_v4(&keys[5]));
    assert_eq!(next["idempotency_key"], json!(keys[5]));
}

#[wasm_bindgen_test]
async fn automatic_retries_of_a_place_send_the_same_key() {
    let places = [
        OFFLINE.to_owned(),
        refusal(502, "http_502", None),
        answer(201, &json!({"order": order_body("open"), "replayed": false})),
    ];
    let (fetch, calls) = trading_fetch(&places.iter().map(String::as_str).collect::<Vec<_>>());
    let client = client_with(&fetch, json!({}));
    let id = preview(&client, "1", "401.25").await["preview_id"].as_str().unwrap().to_owned();
    let placed = place(&client, &id, json!({})).await.unwrap();
    assert_eq!(placed["order"]["state"], "open");
    let keys = keys_sent(&calls);
    assert_eq!(keys.len(), 3, "the default three attempts");
    assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
}

#[wasm_bindgen_test]
async fn a_final_refusal_forgets_the_key_and_other_orders_have_their_own() {
    let places = [
        refusal(422, "order_rejected", None),
        OFFLINE.to_owned(),
        refusal(410, "preview_expired", None),
        answer(201, &json!({"order": order_body("open"), "replayed": false})),
        refusal(422, "idempotency_key_reused", None),
    ];
    let (fetch, calls) = trading_fetch(&places.iter().map(String::as_str).collect::<Vec<_>>());
    let client = client_with(&fetch, json!({"maxAttempts": 1}));
    let one = preview(&client, "1", "401.25").await["preview_id"].as_str().unwrap().to_owned();
    let rejected = place(&client, &one, json!({})).await.unwrap_err();
    assert_eq!((&rejected["code"], &rejected["status"]), (&json!("order_rejected"), &json!(422)));
    assert!(rejected["message"].as_str().unwrap().contains("as the worker says"));
    assert_eq!(place(&client, &one, json!({})).await.unwrap_err()["code"], "network_error");
    // Another order (another limit) while the first is unsettled: its own key.
    let other = preview(&client, "1", "399").await["preview_id"].as_str().unwrap().to_owned();
    assert_eq!(place(&client, &other, json!({})).await.unwrap_err()["code"], "preview_expired");
    // The caller's own key is sent as given, and replaces the one kept.
    let mine = "0b7f8e9c-1d2e-4f30-8a41-5b6c7d8e9f00";
    place(&client, &one, json!({"idempotencyKey": mine})).await.unwrap();
    assert_eq!(place(&client, "p-unseen", json!({})).await.unwrap_err()["code"], "idempotency_key_reused");

    let keys = keys_sent(&calls);
    assert_eq!(keys.len(), 5);
    assert_ne!(keys[1], keys[0], "a rejection is final: the retry is a new order");
    assert_ne!(keys[2], keys[1], "another order, another key");
    assert_eq!(keys[3], mine);
    assert!(![&keys[0], &keys[1], &keys[2], &keys[3]].contains(&&keys[4]), "a preview never seen: a fresh key");
}

#[wasm_bindgen_test]
async fn trading_calls_use_the_contracts_paths_and_pass_answers_on_exactly() {
    let search = json!({"account_id": "acc 1", "provider": "snaptrade", "symbols": [{"symbol_id": "sym-msft", "symbol": "MSFT",
                        "raw_symbol": "MSFT", "description": "Microsoft", "currency": "USD", "exchange": "NASDAQ", "type": "cs"}]});
    let list = json!({"orders": [order_body("open")], "warnings": []});
    let detail = json!({"order": order_body("open"), "events": [{"at": 1, "kind": "placed", "state": "open", "detail": null, "request_id": "r"}], "warnings": []});
    let cancelled = json!({"order": order_body("cancelled")});
    let (fetch, calls) = fetch_double(&format!(
        "(url, init) => new Response(
           url.includes('/symbols?') ? '{search}'
           : url.endsWith('/cancel') ? '{cancelled}'
           : url.includes('/api/orders?') || url.endsWith('/api/orders') ? '{list}'
           : url.includes('/api/orders/preview') ? '{preview}'
           : '{detail}')",
        preview = preview_body("p-1", "1", "401.25")
    ));
    let client = client_with(&fetch, json!({}));
    assert_eq!(seen(&settle(client.search_symbols("acc 1".into(), "MS FT&".into())).await.unwrap()), search);
    let order = json!({"account_id": "acc 1", "symbol": "MSFT", "action": "BUY", "order_type": "Limit",
                       "time_in_force": "Day", "units": 1, "limit_price": "401.25"});
    let previewed = seen(&settle(client.preview_order(js(order.clone()))).await.unwrap());
    assert_eq!(previewed, preview_body("p-1", "1", "401.25"), "decimals strings, an unknown fee null");
    assert_eq!(seen(&settle(client.orders(js(json!({"accountId": "acc 1", "state": "open"})))).await.unwrap()), list);
    assert_eq!(seen(&settle(client.orders(JsValue::UNDEFINED)).await.unwrap()), list);
    assert_eq!(seen(&settle(client.order("ord/1".into())).await.unwrap()), detail);
    assert_eq!(seen(&settle(client.cancel_order("ord-1".into())).await.unwrap()), cancelled);

    let sent = requests(&calls);
    let lines: Vec<(String, String)> =
        sent.iter().map(|r| (r["method"].as_str().unwrap().into(), r["url"].as_str().unwrap().into())).collect();
    let expected = [
        ("GET", "http://api.test/api/accounts/acc%201/symbols?q=MS%20FT%26"),
        ("POST", "http://api.test/api/orders/preview"),
        ("GET", "http://api.test/api/orders?account_id=acc%201&state=open"),
        ("GET", "http://api.test/api/orders"),
        ("GET", "http://api.test/api/orders/ord%2F1"),
        ("POST", "http://api.test/api/orders/ord-1/cancel"),
    ];
    assert_eq!(lines, expected.map(|(m, u)| (m.to_owned(), u.to_owned())));
    let body: Value = serde_json::from_str(sent[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, order, "the order sent as given");
    assert_eq!(sent[0]["headers"]["authorization"], "Bearer tok-1");
}

#[wasm_bindgen_test]
async fn empty_ids_are_refused_before_anything_is_sent_and_refusals_keep_the_workers_code() {
    let (fetch, calls) = fetch_double(&format!("() => {}", refusal(403, "trading_not_allowed", None)));
    let client = client_with(&fetch, json!({}));
    for promise in [
        client.search_symbols(" ".into(), "MSFT".into()),
        client.place_order("".into(), JsValue::UNDEFINED),
        client.order("".into()),
        client.cancel_order(" ".into()),
        client.preview_order(JsValue::UNDEFINED),
        client.place_order("p-1".into(), js(json!({"idempotencyKey": 7}))),
    ] {
        assert_eq!(error_json(&settle(promise).await.unwrap_err())["code"], "invalid_input");
    }
    assert_eq!(calls.length(), 0);
    let error = error_json(&settle(client.search_symbols("acc-1".into(), "MSFT".into())).await.unwrap_err());
    assert_eq!(
        (&error["code"], &error["status"], &error["name"]),
        (&json!("trading_not_allowed"), &json!(403), &json!("TributaryError"))
    );
}
