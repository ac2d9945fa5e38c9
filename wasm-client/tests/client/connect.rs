//! `connect` in Chromium: the popup opened at once, the flow's return posted from the popup's
//! own window, a popup closed by the person, and a 409 from the API.

use super::{client_with, fetch_double, requests, seen, settle};
use js_sys::{Array, Function};
use serde_json::{json, Value};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

/// A fetch answering `POST /api/connections` with `connections` (JS source of a Response) and
/// everything else with `{}`.
fn connect_fetch(connections: &str) -> (Function, Array) {
    fetch_double(&format!("(url) => url.endsWith('/api/connections') ? {connections} : new Response('{{}}')"))
}

const SNAPTRADE_FLOW: &str = r#"new Response(JSON.stringify({provider: "snaptrade",
    flow: {kind: "snaptrade_portal", url: "about:blank#flow"}, decision: {institution: "charles_schwab"}}))"#;

/// The open connection popup (same origin while it shows about:blank).
fn popup() -> JsValue {
    Function::new_no_args("return window.open('', 'tributary-connect');").call0(&JsValue::NULL).unwrap()
}

/// Runs `source` inside the popup's own window, as the returning page's script would.
fn run_in_popup(source: &str) {
    let make: Function = js_sys::Reflect::get(&popup(), &"Function".into()).unwrap().unchecked_into();
    let function: Function = js_sys::Reflect::construct(&make, &Array::of1(&source.into())).unwrap().unchecked_into();
    function.call0(&JsValue::NULL).unwrap();
}

async fn until_requests(calls: &Array, n: u32) {
    for _ in 0..250 {
        if calls.length() >= n {
            return;
        }
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |resolve, _| {
            Function::new_with_args("r", "setTimeout(r, 20)").call1(&JsValue::NULL, &resolve).unwrap();
        }))
        .await
        .unwrap();
    }
}

/// Waits (bounded, failing if it never happens) until the client has sent the popup to the flow's page (`about:blank#flow`):
/// a provider's return page can only post once the flow has been shown, so a test that posts
/// earlier races the client's own navigation of the popup.
async fn until_flow_shown() {
    for _ in 0..500 {
        let hash = js_sys::Reflect::get(&js_sys::Reflect::get(&popup(), &"location".into()).unwrap(), &"hash".into());
        if hash.ok().and_then(|h| h.as_string()).as_deref() == Some("#flow") {
            return;
        }
        wasm_bindgen_futures::JsFuture::from(js_sys::Promise::new(&mut |resolve, _| {
            Function::new_with_args("r", "setTimeout(r, 20)").call1(&JsValue::NULL, &resolve).unwrap();
        }))
        .await
        .unwrap();
    }
    panic!("the client never sent the popup to the flow's page within 10 s");
}

#[wasm_bindgen_test]
async fn a_snaptrade_return_posted_by_the_popup_is_synced_and_connected() {
    let (fetch, calls) = connect_fetch(SNAPTRADE_FLOW);
    let pending = client_with(&fetch, json!({})).connect("Charles Schwab".into(), JsValue::UNDEFINED);
    until_requests(&calls, 1).await;
    until_flow_shown().await;
    run_in_popup(
        "opener.postMessage({type: 'tributary:connected', result: {flow: 'return', status: 'SUCCESS', connection_id: 'a-1'}}, opener.location.origin)",
    );
    let result = seen(&settle(pending).await.unwrap());
    assert_eq!(result, json!({"status": "connected", "provider": "snaptrade", "institution": "charles_schwab"}));
    let sent = requests(&calls);
    let start: Value = serde_json::from_str(sent[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!((&start["institution"], &start["need_trading"]), (&json!("Charles Schwab"), &json!(false)));
    assert!(start["redirect"].as_str().unwrap().ends_with("/?flow=return"), "{start}");
    assert_eq!(sent[1]["url"], "http://api.test/api/snaptrade/connections/sync");
    assert_eq!(sent.len(), 2);
}

#[wasm_bindgen_test]
async fn closing_the_popup_cancels_without_finishing_anything() {
    let (fetch, calls) = connect_fetch(SNAPTRADE_FLOW);
    let pending = client_with(&fetch, json!({})).connect("charles_schwab".into(), JsValue::UNDEFINED);
    until_requests(&calls, 1).await;
    Function::new_with_args("w", "w.close()").call1(&JsValue::NULL, &popup()).unwrap();
    let result = seen(&settle(pending).await.unwrap());
    assert_eq!((&result["status"], &result["reason"]), (&json!("cancelled"), &json!("popup_closed")));
    assert_eq!(calls.length(), 1, "no sync, no exchange");
}

#[wasm_bindgen_test]
async fn an_institution_already_linked_is_a_409_already_connected() {
    let conflict = r#"new Response(JSON.stringify({error: {code: "already_connected", message: "Chase is already linked"}}), {status: 409})"#;
    let (fetch, calls) = connect_fetch(conflict);
    let options = super::js(json!({"needTrading": true}));
    let error = settle(client_with(&fetch, json!({})).connect("Chase".into(), options)).await.unwrap_err();
    let error = super::error_json(&error);
    assert_eq!(
        (&error["code"], &error["status"], &error["attempts"]),
        (&json!("already_connected"), &json!(409), &json!(1))
    );
    let start: Value = serde_json::from_str(requests(&calls)[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(start["need_trading"], true);
}

#[wasm_bindgen_test]
async fn a_snaptrade_reconnect_reopens_the_portal_for_that_connection_and_syncs() {
    let portal = r#"new Response(JSON.stringify({redirect_url: "about:blank#flow"}))"#;
    let (fetch, calls) =
        fetch_double(&format!("(url) => url.endsWith('/connection-url') ? {portal} : new Response('{{}}')"));
    let pending = client_with(&fetch, json!({})).reconnect("snaptrade:auth-9".into(), JsValue::UNDEFINED);
    until_requests(&calls, 1).await;
    until_flow_shown().await;
    run_in_popup("opener.postMessage({type: 'tributary:connected', result: {flow: 'return', status: 'SUCCESS'}}, opener.location.origin)");
    let result = seen(&settle(pending).await.unwrap());
    assert_eq!(result, json!({"status": "connected", "provider": "snaptrade", "institution": "snaptrade:auth-9"}));
    let sent = requests(&calls);
    assert_eq!(sent[0]["url"], "http://api.test/api/snaptrade/connection-url");
    let start: Value = serde_json::from_str(sent[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(start["reconnect"], "auth-9");
    assert_eq!(sent[1]["url"], "http://api.test/api/snaptrade/connections/sync");
}

#[wasm_bindgen_test]
async fn a_schwab_reconnect_is_refused_before_any_request() {
    // Schwab direct is repaired by signing in again (`connect`); Plaid now has its update mode.
    let (fetch, calls) = connect_fetch(SNAPTRADE_FLOW);
    let error =
        settle(client_with(&fetch, json!({})).reconnect("schwab:acct-1".into(), JsValue::UNDEFINED)).await.unwrap_err();
    assert_eq!(super::error_json(&error)["code"], "reconnect_not_supported");
    assert_eq!(calls.length(), 0);
}
