//! Fault injection, call accounting, billed refreshes and the client rate limit, over HTTP.

mod common;

use common::{assert_error, Harness};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn status_faults_count_down_and_target_one_user() {
    let h = Harness::start().await;
    let (a, b) = (h.register("hank").await, h.register("ivy").await);
    let fault = json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": "hank", "kind": "status",
                       "status": 503, "times": 2});
    assert!(h.fault(fault).await["id"].as_u64().is_some());
    let listed = h.control(Method::GET, "/__sim/faults", None).await;
    assert_eq!((&listed["faults"][0]["kind"], &listed["faults"][0]["times"]), (&json!("status"), &json!(2)));
    assert_eq!(h.get("/accounts", &b).await.status, 200, "other users are unaffected");
    assert_error(&h.get("/accounts", &a).await, 503, "3002");
    assert_eq!(h.get("/authorizations", &a).await.status, 200, "other endpoints are unaffected");
    assert_error(&h.get("/accounts", &a).await, 503, "3002");
    assert_eq!(h.get("/accounts", &a).await.status, 200, "times ran out");

    h.fault(json!({"provider": "snaptrade", "endpoint": "*", "kind": "status", "status": 500})).await;
    assert_error(&h.get("/accounts", &b).await, 500, "1000");
    assert_error(&h.get("/authorizations", &b).await, 500, "1000");
    assert_eq!(h.control(Method::DELETE, "/__sim/faults", None).await, json!({"cleared": true}));
    assert_eq!(h.get("/accounts", &b).await.status, 200);
}

#[tokio::test]
async fn latency_rate_limit_and_malformed_faults() {
    let h = Harness::start().await;
    let user = h.register("jack").await;
    h.fault(json!({"provider": "snaptrade", "endpoint": "accounts", "kind": "latency", "ms": 300, "times": 1})).await;
    let started = Instant::now();
    assert_eq!(h.get("/accounts", &user).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Used up: no longer listed (a state, not a timing a busy machine could outlast).
    assert_eq!(
        h.control(Method::GET, "/__sim/faults", None).await["faults"],
        json!([]),
        "the latency fault was used up"
    );
    assert_eq!(h.get("/accounts", &user).await.status, 200);

    h.fault(
        json!({"provider": "snaptrade", "endpoint": "positions", "kind": "rate_limit", "retry_after": 7, "times": 1}),
    )
    .await;
    let auth = h.connect(&user, "ROBINHOOD", "read").await;
    let account = h.get("/accounts", &user).await.json[0]["id"].as_str().unwrap().to_owned();
    let limited = h.get(&format!("/accounts/{account}/positions/all"), &user).await;
    assert_error(&limited, 429, "0000");
    assert_eq!((limited.header("retry-after"), limited.header("x-ratelimit-remaining")), ("7".into(), "0".into()));

    h.fault(json!({"provider": "snaptrade", "endpoint": "positions", "kind": "malformed", "times": 1})).await;
    let malformed = h.get(&format!("/accounts/{account}/positions/all"), &user).await;
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&malformed.text).is_err(), "{}", malformed.text);
    let fine = h.get(&format!("/accounts/{account}/positions/all"), &user).await;
    assert_eq!(fine.json["results"][0]["units"], "3");

    h.control(Method::POST, "/__sim/latency", Some(json!({"ms": 200}))).await;
    let started = Instant::now();
    h.get(&format!("/authorizations/{auth}"), &user).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    h.control(Method::POST, "/__sim/latency", Some(json!({"ms": 0}))).await;
}

#[tokio::test]
async fn a_timeout_fault_holds_the_request() {
    let h = Harness::start().await;
    let user = h.register("kate").await;
    h.fault(json!({"provider": "snaptrade", "endpoint": "accounts", "kind": "timeout", "times": 1})).await;
    let q = common::query(Some(&user));
    let signature = tributary_sim::snaptrade::signature::sign(common::CONSUMER_KEY, "/accounts", &q, None);
    let client = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let result = client.get(format!("{}/accounts?{q}", h.base)).header("Signature", signature).send().await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert_eq!(h.get("/accounts", &user).await.status, 200, "the fault applied once");
}

#[tokio::test]
async fn disabled_connections_refuse_refresh_until_reconnected() {
    let h = Harness::start().await;
    let user = h.register("liam").await;
    let auth = h.connect(&user, "IBKR", "trade").await;
    let reply = h.fault(json!({"provider": "snaptrade", "endpoint": "*", "user_id": "liam", "kind": "disabled"})).await;
    assert_eq!(reply["disabled_connections"], 1);
    let detail = h.get(&format!("/authorizations/{auth}"), &user).await.json;
    assert_eq!(detail["disabled"], true);
    assert!(detail["disabled_date"].as_str().is_some());
    assert_eq!(detail["type"], "trade");
    assert_error(
        &h.call(Method::POST, &format!("/authorizations/{auth}/refresh"), Some(&user), None).await,
        402,
        "3003",
    );
    let account = h.get("/accounts", &user).await.json[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        h.get(&format!("/accounts/{account}/positions/all"), &user).await.status,
        200,
        "cached data stays readable"
    );

    let url = h
        .login(&user, json!({"reconnect": auth, "customRedirect": "https://app.test/back", "connectionType": "trade"}))
        .await;
    assert!(url.contains("broker=IBKR"), "{url}");
    let (status, location, _) = h.portal_submit(&url, "IBKR").await;
    assert_eq!(
        (status.as_u16(), location),
        (302, format!("https://app.test/back?status=SUCCESS&connection_id={auth}"))
    );
    assert_eq!(h.get(&format!("/authorizations/{auth}"), &user).await.json["disabled"], false);
    assert_eq!(h.get("/authorizations", &user).await.json.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn refresh_is_billed_and_throttled() {
    let h = Harness::start().await;
    let user = h.register("mia").await;
    let auth = h.connect(&user, "FIDELITY", "read").await;
    h.control(Method::POST, "/__sim/calls/reset", None).await;
    let path = format!("/authorizations/{auth}/refresh");
    let first = h.call(Method::POST, &path, Some(&user), None).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["detail"], format!("Connection {auth} scheduled for refresh"));
    let second = h.call(Method::POST, &path, Some(&user), None).await;
    assert_error(&second, 429, "throttled");
    assert!(second.header("retry-after").parse::<u64>().is_ok_and(|s| (1..=10).contains(&s)));
    h.get("/accounts", &user).await;

    // Ending the throttle (instead of waiting it out) lets exactly the next refresh through.
    let end =
        |who: &str| h.control(Method::POST, "/__sim/snaptrade/refresh-throttle/end", Some(json!({"user_id": who})));
    assert_eq!(end("someone-else").await, json!({"ended": 0}), "another user's throttle is untouched");
    assert_error(&h.call(Method::POST, &path, Some(&user), None).await, 429, "throttled");
    assert_eq!(end("mia").await, json!({"ended": 1}));
    assert_eq!(h.call(Method::POST, &path, Some(&user), None).await.status, 200);
    assert_error(&h.call(Method::POST, &path, Some(&user), None).await, 429, "throttled");

    let calls = h.control(Method::GET, "/__sim/calls", None).await;
    let mine = &calls["snaptrade"]["users"]["mia"];
    assert_eq!((&mine["total"], &mine["billed"]), (&json!(6), &json!(2)));
    assert_eq!((&mine["operations"]["refresh"], &mine["operations"]["accounts"]), (&json!(5), &json!(1)));
    assert_eq!(calls["snaptrade"]["billed"], 2);
    assert_eq!(calls["plaid"]["total"], 0);
    h.control(Method::POST, "/__sim/calls/reset", None).await;
    assert_eq!(h.control(Method::GET, "/__sim/calls", None).await["snaptrade"]["total"], 0);
}

#[tokio::test]
async fn every_answer_carries_rate_limit_headers_and_the_limit_holds() {
    let h = Harness::start().await;
    let user = h.register("noah").await;
    let first = h.get("/accounts", &user).await;
    let second = h.get("/accounts", &user).await;
    assert_eq!(first.header("x-ratelimit-limit"), "250");
    let remaining = |r: &common::Reply| r.header("x-ratelimit-remaining").parse::<u64>().unwrap();
    assert_eq!(remaining(&first), remaining(&second) + 1);
    assert!(second.header("x-ratelimit-reset").parse::<u64>().is_ok_and(|s| s <= 60));
    let refused = h.raw(Method::GET, "/accounts", &common::query(Some(&user)), None, None).await;
    assert_error(&refused, 401, "1076");
    assert_eq!(refused.header("x-ratelimit-limit"), "250");

    assert_eq!(h.control(Method::POST, "/__sim/ratelimit", Some(json!({"per_minute": 2}))).await["per_minute"], 2);
    assert_eq!(h.get("/accounts", &user).await.status, 200);
    assert_eq!(h.get("/accounts", &user).await.status, 200);
    let limited = h.get("/accounts", &user).await;
    assert_error(&limited, 429, "0000");
    assert!(limited.header("retry-after").parse::<u64>().is_ok_and(|s| (1..=60).contains(&s)));
    assert_eq!(limited.header("x-ratelimit-remaining"), "0");
}

#[tokio::test]
async fn control_endpoints_reject_bad_input() {
    let h = Harness::start().await;
    for bad in [
        json!({"provider": "snaptrade", "endpoint": "everything", "kind": "timeout"}),
        json!({"provider": "snaptrade", "endpoint": "accounts", "kind": "status", "status": 200}),
        json!({"provider": "nope", "endpoint": "accounts", "kind": "timeout"}),
        json!({"provider": "snaptrade", "endpoint": "accounts", "kind": "explode"}),
    ] {
        let response = h.http.post(format!("{}/__sim/faults", h.base)).json(&bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
    let listed = h.control(Method::GET, "/__sim/faults", None).await;
    assert_eq!(listed["faults"], json!([]));
}

#[tokio::test]
async fn one_fault_is_removed_by_id_and_the_others_stay() {
    let h = Harness::start().await;
    let (a, b) = (h.register("olga").await, h.register("pete").await);
    let mine = h
        .fault(json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": "olga", "kind": "status",
                              "status": 500}))
        .await["id"]
        .as_u64()
        .unwrap();
    h.fault(
        json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": "pete", "kind": "status", "status": 502}),
    )
    .await;
    assert_eq!(h.control(Method::DELETE, &format!("/__sim/faults/{mine}"), None).await, json!({"removed": mine}));
    assert_eq!(h.get("/accounts", &a).await.status, 200, "olga's fault is gone");
    assert_error(&h.get("/accounts", &b).await, 502, "3002");
    let again = h.http.delete(format!("{}/__sim/faults/{mine}", h.base)).send().await.unwrap();
    assert_eq!(again.status(), 404, "already removed");
}
