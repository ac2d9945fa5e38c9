//! `TributaryClient` and `PendingUpdatesPoller` decision paths in Chromium, against real
//! `Response` objects: each test gives the client a `fetch` that answers with
//! `new Response(body, {status, headers})` and records every request, so the real client code
//! (header reading, body reading, classification, retries, merging) runs as it does in an app.

mod connect;
mod ledger;
mod poller;
mod trading;

use js_sys::{Array, Function, Reflect};
use serde_json::{json, Value};
use tributary_client::TributaryClient;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

/// A `fetch` answering with `answer(url, init, n)` (JavaScript source; `n` counts from 1) and the
/// list it records each request in (`{url, method, headers, body}`).
pub fn fetch_double(answer: &str) -> (Function, Array) {
    let calls = Array::new();
    let source = format!(
        "const answer = {answer};
         return (url, init) => {{
           calls.push({{url, method: init.method, headers: init.headers, body: init.body}});
           return Promise.resolve().then(() => answer(url, init, calls.length));
         }};"
    );
    let make = Function::new_with_args("calls", &source);
    (make.call1(&JsValue::NULL, &calls).unwrap().unchecked_into(), calls)
}

/// A client on `http://api.test` whose token getter resolves `"tok-1"` asynchronously, with
/// `fetch` and 1 ms backoff (so retries do not slow the suite; delays are the core's, tested there).
pub fn client_with(fetch: &Function, extra: Value) -> TributaryClient {
    let mut options = json!({"baseDelayMs": 1});
    for (key, value) in extra.as_object().into_iter().flatten() {
        options[key] = value.clone();
    }
    let options = js(options);
    Reflect::set(&options, &"fetch".into(), fetch).unwrap();
    let get_token = Function::new_no_args("return Promise.resolve('tok-1');");
    TributaryClient::new("http://api.test/".into(), get_token.into(), options).unwrap()
}

/// A plain JS value from JSON.
pub fn js(value: Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

/// A JS value as JSON.
pub fn seen(value: &JsValue) -> Value {
    serde_json::from_str(&String::from(js_sys::JSON::stringify(value).unwrap())).unwrap_or(Value::Null)
}

/// How long one awaited call may take before the test fails (instead of the whole suite hanging
/// until the runner gives up on it): everything here answers from a local `fetch` double, so only
/// a call that never settles reaches it, even on a busy machine.
const SETTLE_LIMIT_MS: u32 = 15_000;

/// What a promise resolved with, or the error it was rejected with; a promise still pending after
/// [`SETTLE_LIMIT_MS`] is rejected with a `settle_timed_out` error that names the wait.
pub async fn settle(promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    let bounded = Function::new_with_args(
        "p, ms",
        "return new Promise((resolve, reject) => { \
           const timer = setTimeout(() => { const e = new Error(`still pending after ${ms} ms`); \
             e.code = 'settle_timed_out'; reject(e); }, ms); \
           p.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); }); });",
    );
    let race: js_sys::Promise =
        bounded.call2(&JsValue::NULL, &promise, &SETTLE_LIMIT_MS.into()).unwrap().unchecked_into();
    let outcome = JsFuture::from(race).await;
    if let Err(error) = &outcome {
        let code = Reflect::get(error, &"code".into()).ok().and_then(|c| c.as_string());
        assert_ne!(code.as_deref(), Some("settle_timed_out"), "a call never settled: {error:?}");
    }
    outcome
}

/// The properties of a thrown `TributaryError`, as JSON (name and message included).
pub fn error_json(error: &JsValue) -> Value {
    assert!(error.is_instance_of::<js_sys::Error>(), "thrown as an Error: {error:?}");
    let mut value = seen(&js_sys::Object::assign(&js_sys::Object::new(), error.unchecked_ref()));
    for key in ["name", "message"] {
        value[key] = json!(Reflect::get(error, &key.into()).unwrap().as_string());
    }
    value
}

/// The recorded requests as JSON.
pub fn requests(calls: &Array) -> Vec<Value> {
    calls.iter().map(|c| seen(&c)).collect()
}

const COOLING_DOWN: &str = r#"JSON.stringify({error: {code: "refresh_cooling_down", message: "Refreshed moments ago; try again in 7 s."}, decision: "cooling_down", retry_after_s: 7})"#;

#[wasm_bindgen_test]
async fn a_429_is_thrown_once_never_retried_with_status_and_retry_after() {
    let (fetch, calls) =
        fetch_double(&format!("() => new Response({COOLING_DOWN}, {{status: 429, headers: {{'Retry-After': '7'}}}})"));
    let error = settle(client_with(&fetch, json!({"maxAttempts": 5})).refresh(JsValue::UNDEFINED)).await.unwrap_err();
    let error = error_json(&error);
    assert_eq!(
        (&error["name"], &error["code"], &error["status"], &error["retryAfter"], &error["attempts"]),
        (&json!("TributaryError"), &json!("refresh_cooling_down"), &json!(429), &json!(7), &json!(1))
    );
    assert_eq!(calls.length(), 1, "a 429 is never retried, even with maxAttempts 5");
}

#[wasm_bindgen_test]
async fn retry_after_is_read_from_an_http_date_or_else_from_the_body() {
    let date_in_two_minutes = "new Date(Date.now() + 120000).toUTCString()";
    let (fetch, _) = fetch_double(&format!(
        "() => new Response('', {{status: 429, headers: {{'Retry-After': {date_in_two_minutes}}}}})"
    ));
    let error = error_json(&settle(client_with(&fetch, json!({})).pending_updates()).await.unwrap_err());
    let seconds = error["retryAfter"].as_u64().expect("retryAfter from the HTTP-date");
    assert!((1..=120).contains(&seconds), "{seconds}");
    assert_eq!((&error["code"], &error["status"]), (&json!("rate_limited"), &json!(429)));

    let (fetch, _) = fetch_double(&format!("() => new Response({COOLING_DOWN}, {{status: 429}})"));
    let error = error_json(&settle(client_with(&fetch, json!({})).refresh(JsValue::UNDEFINED)).await.unwrap_err());
    assert_eq!(error["retryAfter"], 7, "no header: the body's retry_after_s");
}

#[wasm_bindgen_test]
async fn a_402_cost_cap_carries_next_allowed_at_reason_and_provider_and_is_not_retried() {
    let body = r#"JSON.stringify({error: {code: "refresh_cost_capped", message: "billed"}, decision: "cost_capped",
                   provider: "plaid", next_allowed_at: 1800086400, reason: "Plaid bills each refresh; next free refresh tomorrow"})"#;
    let (fetch, calls) = fetch_double(&format!("() => new Response({body}, {{status: 402}})"));
    let options = js(json!({"providers": ["plaid"]}));
    let error = error_json(&settle(client_with(&fetch, json!({})).refresh(options)).await.unwrap_err());
    assert_eq!(
        (&error["code"], &error["status"], &error["nextAllowedAt"], &error["provider"]),
        (&json!("refresh_cost_capped"), &json!(402), &json!(1_800_086_400_i64), &json!("plaid"))
    );
    assert_eq!(error["reason"], "Plaid bills each refresh; next free refresh tomorrow");
    assert_eq!(calls.length(), 1);
    let sent: Value = serde_json::from_str(seen(&calls.get(0))["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent, json!({"providers": ["plaid"], "confirm_cost": false}));
}

#[wasm_bindgen_test]
async fn a_503_then_a_200_is_retried_and_succeeds() {
    let (fetch, calls) = fetch_double(
        r#"(url, init, n) => n === 1
             ? new Response(JSON.stringify({error: {code: "unavailable", message: "D1 is unavailable right now"}}), {status: 503})
             : new Response(JSON.stringify({plaid: true, snaptrade: false}), {status: 200})"#,
    );
    let flags = settle(client_with(&fetch, json!({})).pending_updates()).await.unwrap();
    assert_eq!(
        seen(&flags),
        json!({"snaptrade": false, "plaid": true, "schwab": false, "any": true, "transactions": {}, "any_transactions": false}),
        "an answer without transactions flags has none pending"
    );
    assert_eq!(calls.length(), 2);
}

#[wasm_bindgen_test]
async fn transient_failures_stop_after_max_attempts_and_keep_their_status() {
    let (fetch, calls) = fetch_double("() => new Response('<html>bad gateway</html>', {status: 502})");
    let error = error_json(&settle(client_with(&fetch, json!({})).pending_updates()).await.unwrap_err());
    assert_eq!((&error["code"], &error["status"], &error["attempts"]), (&json!("http_502"), &json!(502), &json!(3)));
    assert_eq!(calls.length(), 3, "the default three attempts, no more");

    let (fetch, calls) = fetch_double("() => Promise.reject(new TypeError('Failed to fetch'))");
    let error =
        error_json(&settle(client_with(&fetch, json!({"maxAttempts": 2})).pending_updates()).await.unwrap_err());
    assert_eq!((&error["code"], &error["status"], &error["attempts"]), (&json!("network_error"), &json!(0), &json!(2)));
    assert!(error["message"].as_str().unwrap().contains("Failed to fetch"));
    assert_eq!(calls.length(), 2);
}

#[wasm_bindgen_test]
async fn a_4xx_and_a_501_are_thrown_at_once_with_their_code_and_status() {
    for (status, code) in [(401, "token_expired"), (409, "already_connected"), (501, "not_implemented")] {
        let body = format!("JSON.stringify({{error: {{code: '{code}', message: 'no'}}}})");
        let (fetch, calls) = fetch_double(&format!("() => new Response({body}, {{status: {status}}})"));
        let error = error_json(&settle(client_with(&fetch, json!({})).institutions("x".into())).await.unwrap_err());
        assert_eq!((&error["code"], &error["status"], &error["message"]), (&json!(code), &json!(status), &json!("no")));
        assert_eq!(calls.length(), 1, "{status} is not retried");
    }
}

#[wasm_bindgen_test]
async fn requests_carry_the_async_token_the_base_url_and_a_json_body() {
    let (fetch, calls) =
        fetch_double("() => new Response(JSON.stringify({query: 'x', institutions: [{slug: 'chase'}]}))");
    let client = client_with(&fetch, json!({}));
    let list = settle(client.institutions("Schwab & Co".into())).await.unwrap();
    assert_eq!(seen(&list), json!([{"slug": "chase"}]));
    let sent = &requests(&calls)[0];
    assert_eq!(sent["url"], "http://api.test/api/institutions?q=Schwab%20%26%20Co");
    assert_eq!((&sent["method"], &sent["headers"]["authorization"]), (&json!("GET"), &json!("Bearer tok-1")));
    assert!(sent["headers"].get("content-type").is_none(), "no body, no content type");

    let _ = settle(client.refresh(js(json!({"providers": ["snaptrade"], "confirmCost": true})))).await;
    let sent = &requests(&calls)[1];
    assert_eq!((&sent["url"], &sent["method"]), (&json!("http://api.test/api/holdings/refresh"), &json!("POST")));
    assert_eq!(sent["headers"]["content-type"], "application/json");
    let body: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"providers": ["snaptrade"], "confirm_cost": true}));
}

#[wasm_bindgen_test]
async fn bad_arguments_are_invalid_input_and_a_failing_token_getter_sends_nothing() {
    let (fetch, calls) = fetch_double("() => new Response('{}')");
    let options = js(json!({"maxAttempts": 0}));
    Reflect::set(&options, &"fetch".into(), &fetch).unwrap();
    let getter = Function::new_no_args("return 't';");
    let error = TributaryClient::new("".into(), getter.clone().into(), options).err().unwrap();
    assert_eq!(error_json(&error.into())["code"], "invalid_input");
    assert!(
        TributaryClient::new("".into(), JsValue::from_str("tok"), JsValue::UNDEFINED).is_err(),
        "getToken must be a function"
    );
    let client = client_with(&fetch, json!({}));
    let error = error_json(&settle(client.refresh(js(json!({"providers": ["ibkr"]})))).await.unwrap_err());
    assert_eq!(error["code"], "unknown_provider", "the worker's code for it");
    let error = error_json(&settle(client.refresh(js(json!({"confirmCost": "yes"})))).await.unwrap_err());
    assert_eq!(error["code"], "invalid_input");
    let error = error_json(&settle(client.holdings(JsValue::from_str("flat"))).await.unwrap_err());
    assert_eq!(error["code"], "invalid_input");

    let options = js(json!({}));
    Reflect::set(&options, &"fetch".into(), &fetch).unwrap();
    let throwing = Function::new_no_args("throw new Error('signed out');");
    let client = TributaryClient::new("".into(), throwing.into(), options).unwrap();
    let error = error_json(&settle(client.pending_updates()).await.unwrap_err());
    assert_eq!((&error["code"], &error["status"]), (&json!("token_unavailable"), &json!(0)));
    assert!(error["message"].as_str().unwrap().contains("signed out"));
    assert_eq!(calls.length(), 0, "no request without a token");
}

/// `GET /api/snaptrade/holdings` as the worker answers it: one account, AAPL and VTI.
pub fn snaptrade_body() -> Value {
    let position = |ticker: &str, quantity: &str, value: &str| {
        json!({"provider": "snaptrade", "account_id": "st-1", "institution": "charles_schwab", "security_key": ticker,
               "ticker": ticker, "name": ticker, "kind": "equity", "quantity": quantity, "price": null,
               "market_value": value, "cost_basis": null, "currency": "USD", "as_of": 1_800_000_000})
    };
    json!({"provider": "snaptrade", "status": "ok",
           "accounts": [{"provider": "snaptrade", "account_id": "st-1", "connection_id": "auth-1", "institution": "charles_schwab",
                         "institution_name": "Charles Schwab", "name": "Individual", "number_mask": "1234",
                         "account_type": "margin", "currency": "USD"}],
           "positions": [position("AAPL", "10", "1905.00"), position("VTI", "3.5", "850.25")], "balances": [],
           "last_updated": 1_800_000_000, "cache_info": {"age_hours": "1.0", "ttl_hours": 24, "from_cache": true},
           "has_pending_updates": false, "last_error": null})
}

/// A fetch serving `/api/connections` (both providers connected unless `plaid_connected` is
/// false), SnapTrade's holdings, and `plaid` (JS source of a Response) for Plaid's.
fn holdings_fetch(plaid_connected: bool, plaid: &str) -> (Function, Array) {
    let connections = json!({"providers": [{"provider": "snaptrade", "connected": true},
                                           {"provider": "plaid", "connected": plaid_connected}]});
    fetch_double(&format!(
        "(url) => url.endsWith('/api/connections') ? new Response('{connections}')
                : url.endsWith('/api/snaptrade/holdings') ? new Response('{}')
                : {plaid}",
        snaptrade_body()
    ))
}

fn report<'a>(merged: &'a Value, provider: &str) -> &'a Value {
    merged["providers"].as_array().unwrap().iter().find(|r| r["provider"] == provider).unwrap()
}

#[wasm_bindgen_test]
async fn holdings_merge_partially_when_one_provider_fails() {
    let plaid_down = r#"new Response(JSON.stringify({error: {code: "provider_unavailable", message: "Plaid is down"}}), {status: 400})"#;
    let (fetch, calls) = holdings_fetch(true, plaid_down);
    let merged = seen(&settle(client_with(&fetch, json!({})).holdings(JsValue::from_str("by_account"))).await.unwrap());
    assert_eq!(merged["view"], "by_account");
    let positions = merged["by_account"][0]["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 2, "every SnapTrade position kept");
    assert_eq!(report(&merged, "snaptrade")["status"], "ok");
    let plaid = report(&merged, "plaid");
    assert_eq!(
        (&plaid["status"], &plaid["error"]),
        (&json!("failed"), &json!({"code": "provider_unavailable", "message": "Plaid is down"}))
    );
    let usd = &merged["totals"][0];
    assert_eq!((&usd["currency"], &usd["total"]), (&json!("USD"), &json!("2755.25")));
    assert_eq!(calls.length(), 3, "connections, then both providers once (a 400 is not retried)");

    let (fetch, _) = holdings_fetch(true, "new Response('<html>oops</html>', {status: 200})");
    let merged = seen(&settle(client_with(&fetch, json!({})).holdings(JsValue::UNDEFINED)).await.unwrap());
    assert_eq!(merged["view"], "consolidated", "the default view");
    assert_eq!(report(&merged, "plaid")["error"]["code"], "invalid_response");
    assert_eq!(merged["consolidated"].as_array().unwrap().len(), 2);
}

#[wasm_bindgen_test]
async fn holdings_fetch_only_connected_providers() {
    let (fetch, calls) = holdings_fetch(false, "new Response('should not be asked', {status: 500})");
    let merged =
        seen(&settle(client_with(&fetch, json!({})).holdings(JsValue::from_str("consolidated"))).await.unwrap());
    assert_eq!(report(&merged, "plaid")["status"], "not_connected");
    assert_eq!(report(&merged, "snaptrade")["positions"], 2);
    let urls: Vec<Value> = requests(&calls).into_iter().map(|r| r["url"].clone()).collect();
    assert_eq!(urls, vec![json!("http://api.test/api/connections"), json!("http://api.test/api/snaptrade/holdings")]);

    let (fetch, _) = fetch_double("() => new Response('down', {status: 404})");
    let error = error_json(&settle(client_with(&fetch, json!({})).holdings(JsValue::UNDEFINED)).await.unwrap_err());
    assert_eq!(
        (&error["status"], &error["code"]),
        (&json!(404), &json!("http_404")),
        "not knowing the providers is thrown"
    );
}

#[wasm_bindgen_test]
fn handle_connect_redirect_does_nothing_outside_a_return_page() {
    assert!(!tributary_client::handle_connect_redirect(), "the test page has no ?flow=return");
}
