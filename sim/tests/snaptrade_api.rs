//! The SnapTrade API over HTTP: request verification, registration, the portal flow and the seeded data.

mod common;

use common::{assert_error, now, query, Harness, CLIENT_ID, CONSUMER_KEY};
use reqwest::Method;
use serde_json::json;
use tributary_sim::snaptrade::signature::sign;
use tributary_sim::SimConfig;

#[tokio::test]
async fn a_signed_request_passes_and_any_one_byte_change_fails() {
    let h = Harness::start().await;
    let user = h.register("alice").await;
    let auth = h.connect(&user, "SCHWAB", "read").await;
    let accounts = h.get("/accounts", &user).await;
    assert_eq!(accounts.status, 200, "{}", accounts.text);
    let account = accounts.json[0]["id"].as_str().unwrap().to_owned();
    let other = accounts.json[1]["id"].as_str().unwrap().to_owned();

    // Path: signed for one account, sent for another (both the user's, so only the signature differs).
    let q = query(Some(&user));
    let signed_for = format!("/accounts/{account}/balances");
    let signature = sign(CONSUMER_KEY, &signed_for, &q, None);
    assert_eq!(h.raw(Method::GET, &signed_for, &q, None, Some(&signature)).await.status, 200);
    let sent = format!("/accounts/{other}/balances");
    assert_error(&h.raw(Method::GET, &sent, &q, None, Some(&signature)).await, 401, "1076");
    // Query: one extra byte.
    assert_error(&h.raw(Method::GET, &signed_for, &format!("{q}&"), None, Some(&signature)).await, 401, "1076");
    // Body: one byte different from what was signed.
    let q = query(Some(&user));
    let body = json!({"connectionType": "read", "broker": "SCHWAB"});
    let signature = sign(CONSUMER_KEY, "/snapTrade/login", &q, Some(&body));
    let sent = body.to_string().replace("SCHWAB", "SCHWAC");
    assert_error(&h.raw(Method::POST, "/snapTrade/login", &q, Some(&sent), Some(&signature)).await, 401, "1076");
    let ok = h.raw(Method::POST, "/snapTrade/login", &q, Some(&body.to_string()), Some(&signature)).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // Key order and whitespace of the body do not matter: the parsed content is signed.
    let q = query(Some(&user));
    let signature = sign(CONSUMER_KEY, "/snapTrade/login", &q, Some(&body));
    let reordered = r#"{ "broker": "SCHWAB", "connectionType": "read" }"#;
    assert_eq!(h.raw(Method::POST, "/snapTrade/login", &q, Some(reordered), Some(&signature)).await.status, 200);
    // No signature, wrong key, unknown client id.
    let q = query(Some(&user));
    assert_error(&h.raw(Method::GET, "/accounts", &q, None, None).await, 401, "1076");
    let wrong = sign("not-the-key", "/accounts", &q, None);
    assert_error(&h.raw(Method::GET, "/accounts", &q, None, Some(&wrong)).await, 401, "1076");
    let q = q.replace(CLIENT_ID, "SOMEONE-ELSE");
    let signature = sign(CONSUMER_KEY, "/accounts", &q, None);
    assert_error(&h.raw(Method::GET, "/accounts", &q, None, Some(&signature)).await, 401, "1076");
    // An empty object body signs like no body.
    let q = query(Some(&user));
    let signature = sign(CONSUMER_KEY, &format!("/authorizations/{auth}/refresh"), &q, None);
    let reply = h.raw(Method::POST, &format!("/authorizations/{auth}/refresh"), &q, Some("{}"), Some(&signature)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn stale_future_and_malformed_timestamps_fail() {
    let h = Harness::start().await;
    let user = h.register("bob").await;
    let user_q = format!("&userId={}&userSecret={}", user.id, user.secret);
    for (timestamp, ok) in [
        ((now() - 200).to_string(), true),
        ((now() - 301).to_string(), false),
        ((now() + 400).to_string(), false),
        ((now() * 1000).to_string(), false),
        ("abc".to_owned(), false),
        ("".to_owned(), false),
    ] {
        let q = format!("clientId={CLIENT_ID}&timestamp={timestamp}{user_q}");
        let reply = h.raw(Method::GET, "/accounts", &q, None, Some(&sign(CONSUMER_KEY, "/accounts", &q, None))).await;
        if ok {
            assert_eq!(reply.status, 200, "{timestamp}: {}", reply.text);
        } else {
            assert_error(&reply, 401, "1076");
        }
    }
    let q = format!("clientId={CLIENT_ID}{user_q}");
    assert_error(
        &h.raw(Method::GET, "/accounts", &q, None, Some(&sign(CONSUMER_KEY, "/accounts", &q, None))).await,
        401,
        "1076",
    );
}

#[tokio::test]
async fn users_register_once_and_need_their_secret() {
    let h = Harness::start().await;
    let user = h.register("carol").await;
    let again = h.call(Method::POST, "/snapTrade/registerUser", None, Some(json!({"userId": "carol"}))).await;
    assert_error(&again, 400, "1010");
    let wrong = common::User { id: user.id.clone(), secret: "nope".into() };
    assert_error(&h.get("/accounts", &wrong).await, 401, "1083");
    let unknown = common::User { id: "nobody".into(), secret: user.secret.clone() };
    assert_error(&h.get("/accounts", &unknown).await, 401, "1083");
    assert_error(&h.call(Method::GET, "/accounts", None, None).await, 401, "1083");
    let reply = h.get("/accounts", &user).await;
    assert_eq!((reply.status.as_u16(), reply.json.clone()), (200, json!([])));
    // No credentials configured: everything is refused.
    let bare = Harness::with_config(SimConfig::default()).await;
    assert_error(&bare.call(Method::GET, "/brokerages", None, None).await, 401, "1076");
}

#[tokio::test]
async fn the_portal_flow_connects_the_seeded_accounts() {
    let h = Harness::start().await;
    let user = h.register("dana").await;
    let url = h.login(&user, json!({"customRedirect": "http://app.test/done?x=1"})).await;
    assert!(url.starts_with(&format!("{}/snapTrade/redeemToken?token=", h.base)), "{url}");
    let (status, html) = h.portal_page(&url).await;
    assert_eq!(status, 200);
    for needle in [
        "<form method=\"post\"",
        "name=\"broker\" value=\"SCHWAB\"",
        "<label for=\"broker-FIDELITY\">",
        ">Connect</button>",
    ] {
        assert!(html.contains(needle), "{needle} missing from {html}");
    }
    let (status, location, _) = h.portal_submit(&url, "SCHWAB").await;
    assert_eq!(status, 302);
    let auth = location.strip_prefix("http://app.test/done?x=1&status=SUCCESS&connection_id=").unwrap().to_owned();
    assert_eq!(h.portal_submit(&url, "SCHWAB").await.0, 410, "a portal link works once");

    let accounts = h.get("/accounts", &user).await.json;
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    assert_eq!(accounts[0]["brokerage_authorization"], auth.as_str());
    assert_eq!(
        (accounts[0]["name"].as_str(), accounts[0]["institution_name"].as_str()),
        (Some("Schwab Individual Brokerage"), Some("Charles Schwab"))
    );
    assert_eq!(accounts[0]["balance"]["total"], json!({"amount": 9644.25, "currency": "USD"}));
    let (first, roth) = (accounts[0]["id"].as_str().unwrap(), accounts[1]["id"].as_str().unwrap());

    let positions = h.get(&format!("/accounts/{first}/positions/all"), &user).await.json;
    let results = positions["results"].as_array().unwrap();
    assert!(positions["data_freshness"]["as_of"].as_str().unwrap().ends_with('Z'));
    assert_eq!(results[0]["instrument"]["symbol"], "AAPL");
    assert_eq!(
        (&results[0]["units"], &results[0]["price"], &results[0]["cost_basis"]),
        (&json!("10"), &json!("189.25"), &json!("150.10"))
    );
    assert_eq!(results[1]["units"], "2.5");
    assert_eq!(results[2]["instrument"]["kind"], "option");
    assert_eq!(results[2]["instrument"]["symbol"], "AAPL  271217C00240000");
    assert_eq!(results[3]["cash_equivalent"], true);
    let roth_positions = h.get(&format!("/accounts/{roth}/positions/all"), &user).await.json;
    assert_eq!(roth_positions["results"][0]["units"], "0.125");
    assert_eq!(roth_positions["results"][1]["instrument"]["kind"], "crypto");
    assert_eq!(roth_positions["results"][2]["price"], json!(null));
    let balances = h.get(&format!("/accounts/{roth}/balances"), &user).await.json;
    assert_eq!(balances[0]["currency"]["code"], "USD");
    assert_eq!(balances[0]["cash"], json!(310.2));
    assert_eq!((&balances[1]["currency"]["code"], &balances[1]["cash"]), (&json!("CAD"), &json!(125.0)));

    let detail = h.get(&format!("/authorizations/{auth}"), &user).await.json;
    assert_eq!(
        (&detail["type"], &detail["disabled"], &detail["disabled_date"]),
        (&json!("read"), &json!(false), &json!(null))
    );
    assert_eq!(detail["brokerage"]["slug"], "SCHWAB");
    assert_eq!(h.get("/authorizations", &user).await.json.as_array().unwrap().len(), 1);
    assert_error(&h.get(&format!("/accounts/{first}/holdings"), &user).await, 410, "gone");
}

#[tokio::test]
async fn connection_types_follow_the_brokerage() {
    let h = Harness::start().await;
    let user = h.register("erin").await;
    let fidelity = h.connect(&user, "FIDELITY", "trade-if-available").await;
    let robinhood = h.connect(&user, "ROBINHOOD", "trade-if-available").await;
    assert_eq!(h.get(&format!("/authorizations/{fidelity}"), &user).await.json["type"], "read");
    assert_eq!(h.get(&format!("/authorizations/{robinhood}"), &user).await.json["type"], "trade");
    let refused = h
        .call(
            Method::POST,
            "/snapTrade/login",
            Some(&user),
            Some(json!({"broker": "FIDELITY", "connectionType": "trade"})),
        )
        .await;
    assert_error(&refused, 400, "invalid_request");
    // A forced broker shows only that brokerage, preselected.
    let url = h.login(&user, json!({"broker": "IBKR", "connectionType": "trade"})).await;
    let (_, html) = h.portal_page(&url).await;
    assert!(html.contains("value=\"IBKR\" required checked") && !html.contains("value=\"SCHWAB\""), "{html}");
    // The forced broker wins over the form, and without customRedirect a confirmation page is shown.
    let (status, location, page) = h.portal_submit(&url, "SCHWAB").await;
    assert_eq!((status.as_u16(), location.as_str()), (200, ""));
    assert!(page.contains("Connected"), "{page}");
    let auths = h.get("/authorizations", &user).await.json;
    assert_eq!(auths[2]["brokerage"]["slug"], "IBKR");
    assert_eq!(h.get("/accounts", &user).await.json.as_array().unwrap().len(), 2 + 1 + 3);
    // Connecting a brokerage again reuses the connection (SnapTrade de-duplicates), with the new type.
    assert_eq!(h.connect(&user, "ROBINHOOD", "read").await, robinhood);
    assert_eq!(h.get(&format!("/authorizations/{robinhood}"), &user).await.json["type"], "read");
    assert_eq!(h.get("/accounts", &user).await.json.as_array().unwrap().len(), 2 + 1 + 3);
}

#[tokio::test]
async fn users_cannot_reach_each_others_data() {
    let h = Harness::start().await;
    let (a, b) = (h.register("frank").await, h.register("grace").await);
    let auth = h.connect(&a, "WEALTHSIMPLE", "read").await;
    let account = h.get("/accounts", &a).await.json[0]["id"].as_str().unwrap().to_owned();
    assert_error(&h.get(&format!("/accounts/{account}/positions/all"), &b).await, 403, "1066");
    assert_error(&h.get(&format!("/accounts/{account}/balances"), &b).await, 403, "1066");
    assert_error(&h.get(&format!("/authorizations/{auth}"), &b).await, 403, "1066");
    assert_error(&h.call(Method::POST, &format!("/authorizations/{auth}/refresh"), Some(&b), None).await, 403, "1066");
    assert_error(&h.get("/accounts/00000000-0000-0000-0000-000000000000/positions/all", &a).await, 404, "1011");
    let reconnect = h.call(Method::POST, "/snapTrade/login", Some(&b), Some(json!({"reconnect": auth}))).await;
    assert_error(&reconnect, 403, "1066");
    assert_eq!(h.get("/accounts", &b).await.json, json!([]));
}

#[tokio::test]
async fn brokerages_are_listed_with_trading_support() {
    let h = Harness::start().await;
    let list = h.call(Method::GET, "/brokerages", None, None).await.json;
    let slugs: Vec<&str> = list.as_array().unwrap().iter().map(|b| b["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["SCHWAB", "FIDELITY", "ROBINHOOD", "IBKR", "WEALTHSIMPLE"]);
    assert_eq!(list[1]["allows_trading"], false);
    assert_eq!(list[0]["allows_trading"], true);
}

#[tokio::test]
async fn deleting_a_connection_ends_it_and_its_accounts_and_needs_a_signature_and_the_owner() {
    let h = Harness::start().await;
    let (a, b) = (h.register("hana").await, h.register("ivan").await);
    let auth = h.connect(&a, "SCHWAB", "read").await;
    let other = h.connect(&a, "FIDELITY", "read").await;
    let path = format!("/connection/{auth}");
    assert_error(&h.call(Method::DELETE, &path, Some(&b), None).await, 403, "1066");
    let q = query(Some(&a));
    assert_error(&h.raw(Method::DELETE, &path, &q, None, Some("bad")).await, 401, "1076");
    let deleted = h.call(Method::DELETE, &path, Some(&a), None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(deleted.json["connection_id"], auth.as_str());
    assert!(deleted.json["detail"].as_str().unwrap().contains("queued for deletion"));
    let left: Vec<String> = h
        .get("/authorizations", &a)
        .await
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, std::slice::from_ref(&other));
    let accounts = h.get("/accounts", &a).await.json;
    assert!(
        accounts.as_array().unwrap().iter().all(|acc| acc["brokerage_authorization"] == other.as_str()),
        "{accounts}"
    );
    assert_error(&h.get(&format!("/authorizations/{auth}"), &a).await, 404, "1011");
    assert_error(&h.call(Method::DELETE, &path, Some(&a), None).await, 404, "1011");
}
