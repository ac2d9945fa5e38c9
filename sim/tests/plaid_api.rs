//! The Plaid API over HTTP: credentials, hosted Link → exchange → holdings, Link sessions read back
//! with `/link/token/get`, token lifetimes, removal, the webhook verification key, signed (and
//! deliberately broken) webhooks, and faults.

mod common;
#[path = "common/plaid.rs"]
mod plaid;

use hmac::{Hmac, Mac};
use plaid::{assert_plaid_error, defects, es256_verifies, Plaid, Receiver, DONE_URL, PLAID_CLIENT_ID, PLAID_SECRET};
use serde_json::{json, Value};
use sha2::Sha256;

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|v| v[key] == value).unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

#[tokio::test]
async fn hosted_link_then_exchange_then_holdings_serves_the_seeded_schwab_portfolio() {
    let p = Plaid::start().await;
    let created = p.post("/link/token/create", Plaid::link_body("user-1", None)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let token = created.json["link_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("link-sandbox-"), "{token}");
    assert!(created.json["expiration"].as_str().is_some_and(|e| e.ends_with('Z')));
    assert!(created.json["request_id"].as_str().is_some());
    let url = created.json["hosted_link_url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("{}/plaid/link/{token}", p.base));

    let page = p.http.get(format!("{url}?institution_id=ins_11")).send().await.unwrap().text().await.unwrap();
    for name in ["Chase", "Charles Schwab", "Vanguard", "Fidelity", "Continue"] {
        assert!(page.contains(name), "{name} missing from the page");
    }
    assert!(page.contains("value=\"ins_11\" required checked"), "ins_11 is preselected");
    let (status, location) = p.submit_link(&url, "ins_11").await;
    assert_eq!(status, 302);
    let location = reqwest::Url::parse(&location).unwrap();
    assert_eq!(format!("{}://{}{}", location.scheme(), location.host_str().unwrap(), location.path()), DONE_URL);
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["institution_id"], "ins_11");
    assert!(query["public_token"].starts_with("public-sandbox-") && !query["link_session_id"].is_empty());

    let got = p.post("/link/token/get", json!({"link_token": token})).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let session = &got.json["link_sessions"][0];
    assert_eq!(session["link_session_id"], query["link_session_id"].as_str());
    let added = &session["results"]["item_add_results"][0];
    assert_eq!(
        (added["public_token"].as_str(), &added["institution"]["name"]),
        (Some(query["public_token"].as_str()), &json!("Charles Schwab"))
    );
    assert_eq!(got.json["metadata"]["initial_products"], json!(["investments"]));

    // Credentials in headers this time.
    let body = json!({"public_token": query["public_token"]}).to_string();
    let headers = [("PLAID-CLIENT-ID", PLAID_CLIENT_ID), ("PLAID-SECRET", PLAID_SECRET)];
    let exchanged = p.post_raw("/item/public_token/exchange", &body, &headers).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text);
    let access_token = exchanged.json["access_token"].as_str().unwrap().to_owned();
    assert!(access_token.starts_with("access-sandbox-"));

    let holdings = p.post("/investments/holdings/get", json!({"access_token": access_token})).await;
    assert_eq!(holdings.status, 200, "{}", holdings.text);
    let h = &holdings.json;
    assert_eq!((&h["item"]["institution_id"], &h["item"]["item_id"]), (&json!("ins_11"), &exchanged.json["item_id"]));
    assert!(h["request_id"].as_str().is_some());
    let accounts = h["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!((&accounts[0]["type"], &accounts[0]["mask"]), (&json!("investment"), &json!("4821")));
    assert_eq!(accounts[0]["balances"]["iso_currency_code"], "USD");
    let securities = &h["securities"];
    let holding_of = |ticker: &str| {
        let id = find(securities, "ticker_symbol", ticker)["security_id"].as_str().unwrap().to_owned();
        find(&h["holdings"], "security_id", &id).clone()
    };
    for holding in h["holdings"].as_array().unwrap() {
        find(securities, "security_id", holding["security_id"].as_str().unwrap());
    }
    assert_eq!(
        (holding_of("AAPL")["quantity"].as_f64(), holding_of("AAPL")["cost_basis"].as_f64()),
        (Some(10.0), Some(1501.0))
    );
    assert_eq!(
        (holding_of("VOO")["quantity"].as_f64(), holding_of("VOO")["institution_price"].as_f64()),
        (Some(2.5), Some(512.4))
    );
    assert_eq!(holding_of("MSFT")["quantity"].as_f64(), Some(0.125));
    assert!(holding_of("SWPPX")["cost_basis"].is_null());
    let usd = find(securities, "ticker_symbol", "CUR:USD");
    assert_eq!(
        (&usd["type"], &usd["is_cash_equivalent"], &usd["iso_currency_code"]),
        (&json!("cash"), &json!(true), &json!("USD"))
    );
    assert_eq!(holding_of("CUR:CAD")["iso_currency_code"], "CAD");
    assert_eq!(find(securities, "ticker_symbol", "VOO")["type"], "etf");
    assert_eq!(find(securities, "ticker_symbol", "SWPPX")["type"], "mutual fund");
    assert_eq!(find(securities, "ticker_symbol", "AAPL")["type"], "equity");
    let untickered = find(securities, "cusip", "808513AZ8");
    assert!(untickered["ticker_symbol"].is_null());
    assert!(holdings.text.contains("33.3333") && holdings.text.contains("82.1234"), "decimals are JSON numbers");

    // options.account_ids narrows the answer; an account of no Item is refused.
    let only = accounts[1]["account_id"].as_str().unwrap();
    let narrowed = p
        .post("/investments/holdings/get", json!({"access_token": access_token, "options": {"account_ids": [only]}}))
        .await;
    assert_eq!(narrowed.json["accounts"].as_array().unwrap().len(), 1);
    assert!(narrowed.json["holdings"].as_array().unwrap().iter().all(|x| x["account_id"] == only));
    let wrong = p
        .post("/investments/holdings/get", json!({"access_token": access_token, "options": {"account_ids": ["nope"]}}))
        .await;
    assert_plaid_error(&wrong, 400, "INVALID_INPUT", "INVALID_ACCOUNT_ID");

    let item = p.post("/item/get", json!({"access_token": access_token})).await;
    assert_eq!(
        (&item.json["item"]["institution_name"], &item.json["item"]["error"]),
        (&json!("Charles Schwab"), &Value::Null)
    );
}

#[tokio::test]
async fn item_creation_and_refreshes_are_billed_per_user() {
    let p = Plaid::start().await;
    let linked = p.link_item("payer", "ins_56", None).await;
    for _ in 0..2 {
        let refreshed = p.post("/investments/refresh", json!({"access_token": linked.access_token})).await;
        assert_eq!(refreshed.status, 200, "{}", refreshed.text);
        assert!(refreshed.json["request_id"].as_str().is_some());
    }
    p.holdings(&linked).await;
    let calls = p.calls().await;
    let mine = &calls["plaid"]["users"]["payer"];
    assert_eq!(mine["billed"], 3, "{calls}");
    let ops = &mine["operations"];
    assert_eq!(
        (&ops["investments_refresh"], &ops["investments_holdings_get"], &ops["item_public_token_exchange"]),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_eq!(ops["link_token_create"], 1);
}

#[tokio::test]
async fn bad_or_missing_credentials_and_bad_bodies_get_plaid_errors() {
    let p = Plaid::start().await;
    let body = Plaid::link_body("u", None);
    assert_plaid_error(
        &p.post_raw("/link/token/create", &body.to_string(), &[]).await,
        400,
        "INVALID_INPUT",
        "INVALID_API_KEYS",
    );
    let mut wrong = body.clone();
    (wrong["client_id"], wrong["secret"]) = (json!(PLAID_CLIENT_ID), json!("not-the-secret"));
    assert_plaid_error(
        &p.post_raw("/link/token/create", &wrong.to_string(), &[]).await,
        400,
        "INVALID_INPUT",
        "INVALID_API_KEYS",
    );
    let headers = [("PLAID-CLIENT-ID", "someone-else"), ("PLAID-SECRET", PLAID_SECRET)];
    assert_plaid_error(
        &p.post_raw("/link/token/create", &body.to_string(), &headers).await,
        400,
        "INVALID_INPUT",
        "INVALID_API_KEYS",
    );
    let no_plaid = tributary_sim::Simulator::start(0, tributary_sim::SimConfig::default()).await.unwrap();
    let refused = p
        .http
        .post(format!("{}/link/token/create", no_plaid.base_url()))
        .json(&json!({"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error_code"], "INVALID_API_KEYS");

    assert_plaid_error(&p.post_raw("/item/get", "{not json", &[]).await, 400, "INVALID_REQUEST", "INVALID_BODY");
    assert_plaid_error(
        &p.post("/item/get", json!({"accessToken": "x"})).await,
        400,
        "INVALID_REQUEST",
        "UNKNOWN_FIELDS",
    );
    assert_plaid_error(&p.post("/item/get", json!({})).await, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    assert_plaid_error(
        &p.post("/item/get", json!({"access_token": "access-sandbox-never"})).await,
        400,
        "INVALID_INPUT",
        "INVALID_ACCESS_TOKEN",
    );

    let mut no_user = body.clone();
    no_user.as_object_mut().unwrap().remove("user");
    assert_plaid_error(&p.post("/link/token/create", no_user).await, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    let mut no_hosted = body.clone();
    no_hosted.as_object_mut().unwrap().remove("hosted_link");
    assert_plaid_error(&p.post("/link/token/create", no_hosted).await, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    let mut not_investments = body.clone();
    not_investments["products"] = json!(["transactions"]);
    assert_plaid_error(&p.post("/link/token/create", not_investments).await, 400, "INVALID_REQUEST", "INVALID_FIELD");
    let mut bad_redirect = body.clone();
    bad_redirect["hosted_link"]["completion_redirect_uri"] = json!("not a url");
    assert_plaid_error(&p.post("/link/token/create", bad_redirect).await, 400, "INVALID_REQUEST", "INVALID_FIELD");
    let mut bad_country = body;
    bad_country["country_codes"] = json!(["XX"]);
    assert_plaid_error(&p.post("/link/token/create", bad_country).await, 400, "INVALID_REQUEST", "INVALID_FIELD");
}

#[tokio::test]
async fn public_tokens_and_hosted_links_are_single_use() {
    let p = Plaid::start().await;
    let linked = p.link_item("once", "ins_990001", None).await;
    let again = p.post("/item/public_token/exchange", json!({"public_token": linked.public_token})).await;
    assert_plaid_error(&again, 400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN");
    let unknown = p.post("/item/public_token/exchange", json!({"public_token": "public-sandbox-nope"})).await;
    assert_plaid_error(&unknown, 400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN");
    let url = format!("{}/plaid/link/{}", p.base, linked.link_token);
    assert_eq!(p.submit_link(&url, "ins_56").await.0, 410);
    assert_eq!(p.http.get(&url).send().await.unwrap().status(), 410);
    assert_eq!(p.http.get(format!("{}/plaid/link/link-sandbox-nope", p.base)).send().await.unwrap().status(), 404);
    let (_, fresh) = p.link_token("once", None).await;
    assert_eq!(p.submit_link(&fresh, "ins_nope").await.0, 400);
    assert_eq!(p.holdings(&linked).await.status, 200, "the first exchange's access token works");
}

#[tokio::test]
async fn a_removed_item_answers_item_not_found() {
    let p = Plaid::start().await;
    let linked = p.link_item("leaver", "ins_990002", None).await;
    let removed = p.post("/item/remove", json!({"access_token": linked.access_token})).await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(removed.json.as_object().unwrap().keys().collect::<Vec<_>>(), ["request_id"]);
    assert_plaid_error(&p.holdings(&linked).await, 400, "ITEM_ERROR", "ITEM_NOT_FOUND");
    let refresh = p.post("/investments/refresh", json!({"access_token": linked.access_token})).await;
    assert_plaid_error(&refresh, 400, "ITEM_ERROR", "ITEM_NOT_FOUND");
    assert_plaid_error(
        &p.post("/item/remove", json!({"access_token": linked.access_token})).await,
        400,
        "ITEM_ERROR",
        "ITEM_NOT_FOUND",
    );
    let calls = p.calls().await;
    assert_eq!(calls["plaid"]["users"]["leaver"]["operations"]["item_remove"], 2);
    assert_eq!(calls["plaid"]["users"]["leaver"]["billed"], 1, "only the Item creation; failed refreshes are free");
}

#[tokio::test]
async fn the_verification_key_is_a_p256_jwk() {
    let p = Plaid::start().await;
    let mut receiver = Receiver::start().await;
    let linked = p.link_item("keys", "ins_56", Some(&receiver.url)).await;
    let sent = p
        .control(
            "/__sim/plaid/webhook",
            json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE"}),
        )
        .await;
    assert_eq!(sent.0, 200, "{}", sent.1);
    let received = receiver.next().await;
    let jwt = received.headers["plaid-verification"].to_str().unwrap().to_owned();
    let header: Value = serde_json::from_slice(&base64_url(jwt.split('.').next().unwrap())).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let jwk = p.jwk(kid).await.unwrap();
    assert_eq!(
        (&jwk["alg"], &jwk["crv"], &jwk["kty"], &jwk["use"], &jwk["kid"], &jwk["expired_at"]),
        (&json!("ES256"), &json!("P-256"), &json!("EC"), &json!("sig"), &json!(kid), &Value::Null)
    );
    assert!(jwk["created_at"].as_i64().is_some());
    for c in ["x", "y"] {
        let text = jwk[c].as_str().unwrap();
        assert!(!text.contains('=') && !text.contains('+') && !text.contains('/'), "{c} is base64url without padding");
    }
    plaid::verifying_key(&jwk);
    let unknown = p.jwk("no-such-kid").await.unwrap_err();
    assert_plaid_error(&unknown, 400, "INVALID_INPUT", "INVALID_WEBHOOK_VERIFICATION_KEY_ID");
}

fn base64_url(part: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()
}

#[tokio::test]
async fn a_signed_webhook_verifies_against_the_published_key_and_hashes_the_raw_body() {
    let p = Plaid::start().await;
    let mut receiver = Receiver::start().await;
    let linked = p.link_item("hooked", "ins_11", Some(&receiver.url)).await;
    let request = json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE"});
    let (status, answer) = p.control("/__sim/plaid/webhook", request).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((&answer["sent"], &answer["status"], &answer["body"]), (&json!(true), &json!(200), &json!("received")));
    let received = receiver.next().await;
    assert_eq!(received.headers["content-type"], "application/json");
    assert_eq!(defects(&p, &received).await, Vec::<&str>::new());
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(
        body,
        json!({"webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "item_id": linked.item_id, "error": null,
               "new_holdings": 0, "updated_holdings": 9, "environment": "sandbox"})
    );
    let item = p.post("/item/get", json!({"access_token": linked.access_token})).await;
    assert_eq!(item.json["status"]["last_webhook"]["code_sent"], "DEFAULT_UPDATE");

    // An explicit url overrides the stored one; only loopback http is allowed.
    let mut other = Receiver::start().await;
    let request = json!({"item_id": linked.item_id, "webhook_type": "ITEM", "webhook_code": "ERROR", "url": other.url});
    assert_eq!(p.control("/__sim/plaid/webhook", request).await.0, 200);
    let received = other.next().await;
    assert_eq!(defects(&p, &received).await, Vec::<&str>::new());
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["error"]["error_code"], "ITEM_LOGIN_REQUIRED");
    for url in ["http://example.com/webhooks/plaid", "http://10.0.0.1/x"] {
        let request = json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "url": url});
        assert_eq!(p.control("/__sim/plaid/webhook", request).await.0, 400, "{url}");
    }
    let request = json!({"item_id": "nope", "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE"});
    assert_eq!(p.control("/__sim/plaid/webhook", request).await.0, 400);
}

#[tokio::test]
async fn each_tamper_variant_breaks_exactly_what_it_says() {
    let p = Plaid::start().await;
    let mut receiver = Receiver::start().await;
    let linked = p.link_item("forger", "ins_56", Some(&receiver.url)).await;
    let cases = [
        ("body", "hash_mismatch"),
        ("alg_none", "alg"),
        ("alg_hs256", "alg"),
        ("stale_iat", "iat"),
        ("unknown_kid", "kid"),
        ("other_key", "signature"),
        ("missing_hash", "hash_missing"),
    ];
    let genuine_kid = {
        p.control(
            "/__sim/plaid/webhook",
            json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE"}),
        )
        .await;
        let jwt = receiver.next().await.headers["plaid-verification"].to_str().unwrap().to_owned();
        let header: Value = serde_json::from_slice(&base64_url(jwt.split('.').next().unwrap())).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let jwk = p.jwk(&genuine_kid).await.unwrap();
    for (tamper, defect) in cases {
        let request = json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "tamper": tamper});
        let (status, answer) = p.control("/__sim/plaid/webhook", request).await;
        assert_eq!((status.as_u16(), &answer["sent"]), (200, &json!(true)), "{tamper}: {answer}");
        let received = receiver.next().await;
        assert_eq!(defects(&p, &received).await, vec![defect], "{tamper}");
        let jwt = received.headers["plaid-verification"].to_str().unwrap();
        let header: Value = serde_json::from_slice(&base64_url(jwt.split('.').next().unwrap())).unwrap();
        match tamper {
            "alg_none" => assert!(jwt.ends_with('.') && header["alg"] == "none"),
            "alg_hs256" => {
                let (input, signature) = jwt.rsplit_once('.').unwrap();
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(&plaid::verifying_key(&jwk).to_encoded_point(false).to_bytes())
                        .unwrap();
                mac.update(input.as_bytes());
                assert!(mac.verify_slice(&base64_url(signature)).is_ok(), "HS256 keyed with the public key");
            }
            "unknown_kid" => assert!(es256_verifies(jwt, &jwk), "only the kid is wrong"),
            "body" => assert!(serde_json::from_slice::<Value>(&received.body).unwrap()["tampered"] == true),
            _ => {}
        }
    }
    let request = json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "tamper": "bogus"});
    assert_eq!(p.control("/__sim/plaid/webhook", request).await.0, 400);
}

#[tokio::test]
async fn injected_faults_answer_in_plaids_error_shape() {
    let p = Plaid::start().await;
    let (a, b) = (p.link_item("faulty", "ins_11", None).await, p.link_item("fine", "ins_11", None).await);
    let fault = json!({"provider": "plaid", "endpoint": "investments_holdings_get", "user_id": "faulty", "kind": "status", "status": 500, "times": 1});
    assert_eq!(p.control("/__sim/faults", fault).await.0, 200);
    assert_eq!(p.holdings(&b).await.status, 200, "other users are unaffected");
    assert_plaid_error(&p.holdings(&a).await, 500, "API_ERROR", "INTERNAL_SERVER_ERROR");
    assert_eq!(p.holdings(&a).await.status, 200, "times ran out");

    let fault = json!({"provider": "plaid", "endpoint": "*", "user_id": "faulty", "kind": "rate_limit", "retry_after": 9, "times": 1});
    p.control("/__sim/faults", fault).await;
    let limited = p.holdings(&a).await;
    assert_plaid_error(&limited, 429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT");
    assert_eq!(limited.headers["retry-after"], "9");

    let fault = json!({"provider": "plaid", "endpoint": "investments_holdings_get", "kind": "malformed", "times": 1});
    p.control("/__sim/faults", fault).await;
    let malformed = p.holdings(&a).await;
    assert_eq!(malformed.status, 200);
    assert!(serde_json::from_str::<Value>(&malformed.text).is_err());

    let fault = json!({"provider": "plaid", "endpoint": "*", "user_id": "faulty", "kind": "disabled"});
    p.control("/__sim/faults", fault).await;
    assert_plaid_error(&p.holdings(&a).await, 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    let item = p.post("/item/get", json!({"access_token": a.access_token})).await;
    assert_eq!((item.status.as_u16(), &item.json["item"]["error"]["error_code"]), (200, &json!("ITEM_LOGIN_REQUIRED")));
    assert_eq!(p.holdings(&b).await.status, 200);
    p.http.delete(format!("{}/__sim/faults", p.base)).send().await.unwrap();
    assert_eq!(p.holdings(&a).await.status, 200, "clearing the fault repairs the Item");

    let unknown = json!({"provider": "plaid", "endpoint": "holdings", "kind": "timeout"});
    assert_eq!(p.control("/__sim/faults", unknown).await.0, 400, "Plaid faults name Plaid operations");
}

#[tokio::test]
async fn sign_returns_a_delivery_with_the_given_iat_or_raw_body_without_sending_it() {
    let p = Plaid::start().await;
    let mut receiver = Receiver::start().await;
    let linked = p.link_item("signer", "ins_56", Some(&receiver.url)).await;
    let signed = |request: Value| sign_only(&p, request);
    let hook = json!({"item_id": linked.item_id, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE"});
    let genuine = signed(hook.clone()).await;
    assert_eq!(defects(&p, &genuine).await, Vec::<&str>::new());
    let body: Value = serde_json::from_slice(&genuine.body).unwrap();
    assert_eq!((&body["item_id"], &body["webhook_code"]), (&json!(linked.item_id), &json!("DEFAULT_UPDATE")));

    let mut old = hook.clone();
    old["iat"] = json!(common::now() - 3600);
    assert_eq!(defects(&p, &signed(old).await).await, vec!["iat"], "only iat is off");
    let raw = json!({"webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "raw_body": "not json at all"});
    let not_json = signed(raw).await;
    assert_eq!(&not_json.body[..], b"not json at all");
    assert_eq!(defects(&p, &not_json).await, Vec::<&str>::new(), "signed over exactly those bytes");
    let mut bad = hook;
    bad["tamper"] = json!("bogus");
    assert_eq!(p.control("/__sim/plaid/webhook/sign", bad).await.0, 400);
    let nothing = tokio::time::timeout(std::time::Duration::from_millis(200), receiver.next()).await;
    assert!(nothing.is_err(), "sign never sends");
}

/// What `/__sim/plaid/webhook/sign` returns, as a receiver would have got it.
async fn sign_only(p: &Plaid, request: Value) -> plaid::Received {
    let (status, answer) = p.control("/__sim/plaid/webhook/sign", request).await;
    assert_eq!(status, 200, "{answer}");
    let mut headers = axum::http::HeaderMap::new();
    for pair in answer["headers"].as_array().unwrap() {
        let name = axum::http::HeaderName::from_bytes(pair[0].as_str().unwrap().as_bytes()).unwrap();
        headers.insert(name, pair[1].as_str().unwrap().parse().unwrap());
    }
    plaid::Received { headers, body: answer["body"].as_str().unwrap().to_owned().into_bytes().into() }
}

#[tokio::test]
async fn link_token_get_lists_only_its_own_finished_sessions_public_token_and_is_never_billed() {
    let p = Plaid::start().await;
    let (token, url) = p.link_token("lister", None).await;
    let get = |link_token: &str| p.post("/link/token/get", json!({"link_token": link_token}));
    let before = get(&token).await;
    assert_eq!(before.status, 200, "{}", before.text);
    assert_eq!((&before.json["link_token"], &before.json["link_sessions"]), (&json!(token), &json!([])));
    for field in ["created_at", "expiration"] {
        assert!(before.json[field].as_str().is_some_and(|t| t.ends_with('Z')), "{field}: {}", before.text);
    }
    assert!(before.json["request_id"].as_str().is_some());

    let public_token = |location: &str| {
        let location = reqwest::Url::parse(location).unwrap();
        location.query_pairs().find(|(k, _)| k == "public_token").unwrap().1.into_owned()
    };
    let (status, location) = p.submit_link(&url, "ins_990001").await;
    assert_eq!(status, 302);
    let mine = public_token(&location);
    let (other_token, other_url) = p.link_token("someone-else", None).await;
    let theirs = public_token(&p.submit_link(&other_url, "ins_990001").await.1);

    let after = get(&token).await;
    let sessions = after.json["link_sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{}", after.text);
    let session = &sessions[0];
    assert!(session["link_session_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(session["started_at"].as_str().unwrap() <= session["finished_at"].as_str().unwrap());
    let added = session["results"]["item_add_results"].as_array().unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["public_token"], json!(mine));
    assert_eq!(added[0]["institution"], json!({"name": "Vanguard", "institution_id": "ins_990001"}));
    let accounts = added[0]["accounts"].as_array().unwrap();
    assert!(!accounts.is_empty() && accounts.iter().all(|a| a["id"].as_str().is_some() && a["type"] == "investment"));
    assert!(!after.text.contains(&theirs), "another user's session never shows");
    assert_eq!(
        get(&other_token).await.json["link_sessions"][0]["results"]["item_add_results"][0]["public_token"],
        json!(theirs)
    );

    assert_plaid_error(&get("link-sandbox-never-issued").await, 400, "INVALID_INPUT", "INVALID_LINK_TOKEN");
    assert_plaid_error(&p.post("/link/token/get", json!({})).await, 400, "INVALID_REQUEST", "MISSING_FIELDS");
    let extra = json!({"link_token": token, "user": {"client_user_id": "lister"}});
    assert_plaid_error(&p.post("/link/token/get", extra).await, 400, "INVALID_REQUEST", "UNKNOWN_FIELDS");

    let calls = p.calls().await;
    let lister = &calls["plaid"]["users"]["lister"];
    assert_eq!((&lister["operations"]["link_token_get"], &lister["billed"]), (&json!(3), &json!(0)), "{calls}");

    // Faults reach it like any operation, matched on the link token's user.
    let fault = json!({"provider": "plaid", "endpoint": "link_token_get", "user_id": "lister", "kind": "status", "status": 503, "times": 1});
    assert_eq!(p.control("/__sim/faults", fault).await.0, 200);
    assert_eq!(get(&other_token).await.status, 200, "other users are unaffected");
    assert_plaid_error(&get(&token).await, 503, "API_ERROR", "PLANNED_MAINTENANCE");
    assert_eq!(get(&token).await.status, 200, "times ran out");
}
