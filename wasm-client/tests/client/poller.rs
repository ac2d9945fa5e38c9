//! `PendingUpdatesPoller` against real `Response`s: flags with a combined one, `onChange` on the
//! first answer and on changes, and refreshes of only the flagged providers.

use super::{client_with, fetch_double, js, requests, seen, settle};
use js_sys::{Array, Function};
use serde_json::{json, Value};
use tributary_client::PendingUpdatesPoller;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

/// A fetch whose pending-updates answers are `flags` in turn (the last one repeats) and whose
/// refresh answers `allowed`.
fn pending_fetch(flags: &[Value]) -> (Function, Array) {
    let answers = Value::from(flags.iter().map(Value::to_string).collect::<Vec<_>>());
    fetch_double(&format!(
        "(() => {{ const answers = {answers}; let polls = 0;
           return (url) => url.endsWith('/api/pending-updates')
             ? new Response(answers[Math.min(polls++, answers.length - 1)])
             : new Response(JSON.stringify({{decision: 'allowed', results: []}})); }})()"
    ))
}

/// A poller with an `onChange` that records every call; returns (poller, recorded flags).
fn poller_with(fetch: &Function, interval_ms: Option<u32>) -> (PendingUpdatesPoller, Array) {
    let heard = Array::new();
    let on_change =
        Function::new_with_args("heard", "return (flags) => heard.push(flags);").call1(&JsValue::NULL, &heard).unwrap();
    let options = js(json!({"intervalMs": interval_ms}));
    js_sys::Reflect::set(&options, &"onChange".into(), &on_change).unwrap();
    (PendingUpdatesPoller::new(&client_with(fetch, json!({})), options).unwrap(), heard)
}

fn refresh_bodies(calls: &Array) -> Vec<Value> {
    requests(calls)
        .into_iter()
        .filter(|r| r["url"].as_str().unwrap().ends_with("/api/holdings/refresh"))
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn the_poller_refreshes_only_flagged_providers_then_polls_again() {
    let (fetch, calls) =
        pending_fetch(&[json!({"snaptrade": true, "plaid": false}), json!({"snaptrade": false, "plaid": false})]);
    let (poller, heard) = poller_with(&fetch, None);
    assert_eq!(
        seen(&poller.flags()),
        json!({"snaptrade": false, "plaid": false, "schwab": false, "any": false}),
        "before any poll"
    );
    let flags = seen(&settle(poller.poll()).await.unwrap());
    assert_eq!(flags, json!({"snaptrade": true, "plaid": false, "schwab": false, "any": true}));
    assert_eq!(seen(&poller.flags()), flags);

    let result = seen(&settle(poller.refresh(js(json!({"confirmCost": true})))).await.unwrap());
    assert_eq!(result["decision"], "allowed");
    assert_eq!(refresh_bodies(&calls), vec![json!({"providers": ["snaptrade"], "confirm_cost": true})]);
    assert_eq!(seen(&poller.flags())["any"], false, "polled again after the refresh");
    let heard: Vec<Value> = heard.iter().map(|f| seen(&f)["any"].clone()).collect();
    assert_eq!(heard, vec![json!(true), json!(false)], "onChange: the first answer, then the change");
}

#[wasm_bindgen_test]
async fn with_nothing_flagged_the_poller_makes_no_refresh_request() {
    let (fetch, calls) = pending_fetch(&[json!({"snaptrade": false, "plaid": false})]);
    let (poller, heard) = poller_with(&fetch, None);
    let result = seen(&settle(poller.refresh(JsValue::UNDEFINED)).await.unwrap());
    assert_eq!(result, json!({"decision": "nothing_pending", "results": []}));
    assert!(refresh_bodies(&calls).is_empty());
    assert_eq!(calls.length(), 1, "one poll (it had never polled), no refresh");
    let _ = settle(poller.poll()).await.unwrap();
    assert_eq!(heard.length(), 1, "an unchanged answer is not news");
}

/// Waits (in 20 ms steps, at most `steps` of them) until `done` holds; returns whether it did.
async fn within(steps: u32, done: impl Fn() -> bool) -> bool {
    for _ in 0..steps {
        if done() {
            return true;
        }
        settle(js_sys::Promise::new(&mut |resolve, _| web_timeout(&resolve, 20))).await.unwrap();
    }
    done()
}

fn dispatch_focus() {
    Function::new_no_args("globalThis.dispatchEvent(new Event('focus'))").call0(&JsValue::NULL).unwrap();
}

#[wasm_bindgen_test]
async fn a_started_poller_polls_on_its_timer() {
    let (fetch, _) = pending_fetch(&[json!({"plaid": false}), json!({"plaid": true})]);
    let (poller, heard) = poller_with(&fetch, Some(100));
    poller.start();
    assert!(within(250, || heard.length() >= 2).await, "the timer polled again");
    assert_eq!(seen(&heard.get(1))["plaid"], true, "and the change was heard");
    poller.stop();
}

#[wasm_bindgen_test]
async fn a_started_poller_polls_on_focus_until_stopped() {
    let (fetch, calls) = pending_fetch(&[json!({"snaptrade": false})]);
    let (poller, _) = poller_with(&fetch, None);
    poller.start();
    poller.start(); // a second start adds nothing
    assert!(within(250, || calls.length() == 1).await, "start polls at once");
    dispatch_focus();
    assert!(within(250, || calls.length() == 2).await, "focus polls (the 5-minute timer has not fired)");
    poller.stop();
    dispatch_focus();
    assert!(!within(25, || calls.length() > 2).await, "a stopped poller no longer listens to focus");
}

#[wasm_bindgen_test]
fn poller_options_out_of_range_are_invalid_input() {
    let (fetch, _) = pending_fetch(&[json!({})]);
    let client = client_with(&fetch, json!({}));
    for bad in [json!({"intervalMs": 50}), json!({"intervalMs": "soon"})] {
        assert!(PendingUpdatesPoller::new(&client, js(bad.clone())).is_err(), "{bad}");
    }
    assert!(PendingUpdatesPoller::new(&client, js(json!({"onChange": 3}))).is_err());
}

fn web_timeout(handler: &Function, ms: i32) {
    let set_timeout: Function = js_sys::Reflect::get(&js_sys::global(), &"setTimeout".into()).unwrap().unchecked_into();
    set_timeout.call2(&JsValue::NULL, handler, &ms.into()).unwrap();
}
