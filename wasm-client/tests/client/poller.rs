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
        json!({"snaptrade": false, "plaid": false, "schwab": false, "any": false, "transactions": {}, "any_transactions": false}),
        "before any poll"
    );
    let flags = seen(&settle(poller.poll()).await.unwrap());
    assert_eq!(
        flags,
        json!({"snaptrade": true, "plaid": false, "schwab": false, "any": true, "transactions": {}, "any_transactions": false})
    );
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

/// The bodies of the `POST /api/transactions/sync` requests made.
fn sync_bodies(calls: &Array) -> Vec<Value> {
    requests(calls)
        .into_iter()
        .filter(|r| r["url"].as_str().unwrap().ends_with("/api/transactions/sync"))
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect()
}

/// A poller whose `onChange` and `onTransactions` record what they hear: (poller, flags heard,
/// `[providers, flags]` pairs heard).
fn transactions_poller(fetch: &Function) -> (PendingUpdatesPoller, Array, Array) {
    let (changes, raised) = (Array::new(), Array::new());
    let recorder =
        Function::new_with_args("list", "return (...args) => list.push(args.length === 1 ? args[0] : args);");
    let options = js(json!({}));
    js_sys::Reflect::set(&options, &"onChange".into(), &recorder.call1(&JsValue::NULL, &changes).unwrap()).unwrap();
    js_sys::Reflect::set(&options, &"onTransactions".into(), &recorder.call1(&JsValue::NULL, &raised).unwrap())
        .unwrap();
    (PendingUpdatesPoller::new(&client_with(fetch, json!({})), options).unwrap(), changes, raised)
}

#[wasm_bindgen_test]
async fn transactions_flags_are_reported_beside_holdings_and_synced_alone() {
    let quiet = json!({"snaptrade": false, "plaid": false, "schwab": false, "ibkr_flex": false});
    let answer = |transactions: Value| {
        let mut answer = quiet.clone();
        answer["transactions"] = transactions;
        answer
    };
    let (fetch, calls) = pending_fetch(&[
        answer(
            json!({"snaptrade": false, "plaid": true, "schwab": false, "ibkr_flex": false, "a_newer_provider": true}),
        ),
        answer(json!({"snaptrade": true, "plaid": true, "schwab": false, "ibkr_flex": false})),
        answer(json!({"snaptrade": false, "plaid": false, "schwab": false, "ibkr_flex": false})),
    ]);
    let (poller, changes, raised) = transactions_poller(&fetch);
    let flags = seen(&settle(poller.poll()).await.unwrap());
    assert_eq!(
        (&flags["transactions"], &flags["any_transactions"], &flags["any"]),
        (&json!({"snaptrade": false, "plaid": true, "schwab": false, "ibkr_flex": false}), &json!(true), &json!(false)),
        "known providers only; `any` stays about holdings"
    );
    assert_eq!(seen(&raised.get(0)), json!([["plaid"], flags]), "the first answer's raised flag is heard");

    let flags = seen(&settle(poller.poll()).await.unwrap());
    assert_eq!(flags["transactions"]["snaptrade"], true);
    assert_eq!(raised.length(), 2);
    assert_eq!(seen(&raised.get(1))[0], json!(["snaptrade"]), "only the newly raised one");
    assert_eq!(changes.length(), 2, "a transactions flag changing is news even when holdings are not");

    let result = seen(&settle(poller.refresh(JsValue::UNDEFINED)).await.unwrap());
    assert_eq!(result["decision"], "nothing_pending", "new activity never asks for a holdings refresh");
    let _ = settle(poller.sync_transactions()).await.unwrap();
    assert_eq!(sync_bodies(&calls), vec![json!({"providers": ["snaptrade", "plaid"]})], "only the announced providers");
    assert_eq!(seen(&poller.flags())["any_transactions"], false, "polled again after the sync");
    assert_eq!(raised.length(), 2, "a flag going down is not a raise");
    assert_eq!(changes.length(), 3);
}

#[wasm_bindgen_test]
async fn with_no_transactions_announced_the_poller_syncs_nothing() {
    let (fetch, calls) = pending_fetch(&[json!({"snaptrade": true, "plaid": false})]);
    let (poller, _, raised) = transactions_poller(&fetch);
    let result = seen(&settle(poller.sync_transactions()).await.unwrap());
    assert_eq!(result, json!({"results": []}));
    assert!(sync_bodies(&calls).is_empty());
    assert_eq!(calls.length(), 1, "one poll (it had never polled), no sync");
    assert_eq!(raised.length(), 0);
}

#[wasm_bindgen_test]
async fn a_transactions_flag_that_is_not_a_boolean_is_an_invalid_response() {
    for transactions in [json!({"plaid": "yes"}), json!([true]), json!(true)] {
        let (fetch, _) = pending_fetch(&[json!({"snaptrade": false, "plaid": false, "transactions": transactions})]);
        let (poller, changes, _) = transactions_poller(&fetch);
        let error = super::error_json(&settle(poller.poll()).await.unwrap_err());
        assert_eq!(error["code"], "invalid_response", "{transactions}");
        assert_eq!(changes.length(), 0);
    }
}
