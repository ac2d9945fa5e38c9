//! Plaid end to end: hosted link (driven over HTTP) → exchange (only of public tokens from the
//! user's own Link sessions) → holdings, duplicate links, Item removal, and ES256-signed webhooks —
//! forged ones refused with no change in D1.

use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;
use tributary_core::UserId;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        plaid_link_exchange_and_holdings_show_the_seeded_securities,
        plaid_linking_an_institution_twice_is_409_without_a_second_item,
        plaid_item_removal_dry_run_changes_nothing_and_real_run_removes_once,
        plaid_signed_holdings_webhook_raises_the_flag,
        plaid_forged_webhooks_are_rejected_and_change_nothing,
        plaid_users_never_see_each_others_items,
        plaid_exchange_takes_only_public_tokens_of_the_users_own_link_sessions_before_billing,
    ]
}

/// The id Plaid knows our user by (and the simulator counts calls under).
pub fn plaid_user(user: &str) -> String {
    tributary_core::plaid::client_user_id(&UserId::parse(user).unwrap())
}

/// Links `institution_id` through the worker and the simulator's hosted page; returns the public token.
pub async fn hosted_link(ctx: &Ctx, token: &str, institution: Option<&str>, institution_id: &str) -> String {
    let mut body = json!({"redirect": "http://127.0.0.1:9/linked"});
    if let Some(name) = institution {
        body["institution"] = json!(name);
    }
    let link = ctx.post(&ctx.dev, "/api/plaid/link", token, body).await;
    assert_eq!(link.status, 200, "{:?}", link.body);
    let url = link.body["hosted_link_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&ctx.sim), "{url}");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = no_redirects.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let response = no_redirects.post(&url).form(&[("institution_id", institution_id)]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with("http://127.0.0.1:9/linked?"), "{location}");
    location.query_pairs().find(|(k, _)| k == "public_token").map(|(_, v)| v.into_owned()).expect("public_token")
}

/// Links and exchanges `institution`; returns the stored Item id.
pub async fn link_plaid(ctx: &Ctx, token: &str, institution: &str, institution_id: &str) -> String {
    let public_token = hosted_link(ctx, token, Some(institution), institution_id).await;
    let body = json!({"public_token": public_token, "institution": institution});
    let exchanged = ctx.post(&ctx.dev, "/api/plaid/exchange", token, body).await;
    assert_eq!(exchanged.status, 201, "{:?}", exchanged.body);
    exchanged.body["item"]["external_id"].as_str().unwrap().to_owned()
}

async fn sim_calls(ctx: &Ctx) -> Value {
    ctx.sim_calls().await
}

fn find<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|e| e[key] == value).unwrap_or_else(|| panic!("no {key}={value} in {list}"))
}

async fn plaid_link_exchange_and_holdings_show_the_seeded_securities(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("pl-alice");
    let token = ctx.token(&user);
    let item = link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let holdings = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
    assert_eq!(holdings.status, 200, "{:?}", holdings.body);
    let h = &holdings.body;
    assert_eq!(h["provider"], "plaid");
    assert!(h["last_updated"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(h["accounts"].as_array().unwrap().len(), 2);
    assert!(h["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["institution"] == "chase" && a["connection_id"] == item));
    let positions = &h["positions"];
    assert_eq!(find(positions, "ticker", "VTI")["kind"], "etf");
    assert_eq!(find(positions, "ticker", "VTI")["quantity"], "15.5");
    assert_eq!(find(positions, "ticker", "OLGAX")["kind"], "mutual_fund");
    assert_eq!(find(positions, "ticker", "OLGAX")["quantity"], "42.123");
    assert!(find(positions, "ticker", "OLGAX")["cost_basis"].is_null(), "unknown cost basis stays unknown");
    let no_ticker = find(positions, "security_key", "cusip:48128UAB2");
    assert!(no_ticker["ticker"].is_null(), "{no_ticker}");
    let cash = h["balances"].as_array().unwrap();
    let usd: Vec<&Value> = cash.iter().filter(|b| b["currency"] == "USD").collect();
    assert_eq!(usd.len(), 2, "USD cash in both accounts: {cash:?}");
    let cad = find(&h["balances"], "currency", "CAD");
    assert_eq!(
        cad["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(),
        rust_decimal::Decimal::new(3005, 1)
    );
    assert!(
        !positions.as_array().unwrap().iter().any(|p| p["kind"] == "cash" && p["ticker"] == "CUR:USD"),
        "cash is not a position"
    );

    let rows = ctx.d1("SELECT secret_ciphertext AS ct, key_id FROM provider_items WHERE user_id = ?1", &[&user]);
    assert_eq!(rows.len(), 1);
    assert!(!rows[0]["ct"].as_str().unwrap().contains("access-"), "the access token is sealed: {rows:?}");
    assert!(!holdings.body.to_string().contains("access-sandbox"), "never returned to the browser");
    Ok(())
}

async fn plaid_linking_an_institution_twice_is_409_without_a_second_item(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("pl-twice");
    let token = ctx.token(&user);
    let item = link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let again = ctx
        .post(
            &ctx.dev,
            "/api/plaid/link",
            &token,
            json!({"institution": "JPMorgan Chase", "redirect": "http://127.0.0.1:9/x"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "already_connected"), "{:?}", again.body);
    assert_eq!(again.body["item"]["external_id"], item);
    let routed = ctx
        .post(&ctx.dev, "/api/connections", &token, json!({"institution": "Chase", "redirect": "http://127.0.0.1:9/x"}))
        .await;
    assert_eq!((routed.status, routed.code()), (409, "already_connected"), "{:?}", routed.body);

    // Without saying which institution, the duplicate is found after the exchange and ended at once.
    let public_token = hosted_link(&ctx, &token, None, "ins_56").await;
    let late = ctx.post(&ctx.dev, "/api/plaid/exchange", &token, json!({"public_token": public_token})).await;
    assert_eq!((late.status, late.code()), (409, "already_connected"), "{:?}", late.body);
    let calls = sim_calls(&ctx).await;
    let mine = &calls["plaid"]["users"][plaid_user(&user)];
    assert_eq!(mine["operations"]["item_remove"], 1, "the duplicate Item was removed: {mine}");
    assert_eq!(ctx.d1("SELECT id FROM provider_items WHERE user_id = ?1", &[&user]).len(), 1);
    Ok(())
}

async fn plaid_item_removal_dry_run_changes_nothing_and_real_run_removes_once(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("pl-remove");
    let token = ctx.token(&user);
    let item = link_plaid(&ctx, &token, "Vanguard", "ins_990001").await;
    let snapshot = || {
        json!([
            ctx.d1("SELECT id FROM provider_items WHERE user_id = ?1", &[&user]),
            ctx.d1("SELECT id FROM accounts WHERE user_id = ?1 ORDER BY id", &[&user]),
            ctx.d1("SELECT COUNT(*) AS n FROM positions WHERE user_id = ?1", &[&user]),
        ])
    };
    let before = snapshot();
    let missing = ctx.send(ctx.http.delete(format!("{}/api/plaid/items/{item}", ctx.dev)).bearer_auth(&token)).await;
    assert_eq!((missing.status, missing.code()), (400, "invalid_input"), "dry_run must be explicit");
    let dry =
        ctx.send(ctx.http.delete(format!("{}/api/plaid/items/{item}?dry_run=true", ctx.dev)).bearer_auth(&token)).await;
    assert_eq!(dry.status, 200, "{:?}", dry.body);
    assert_eq!((dry.body["dry_run"].as_bool(), dry.body["accounts"].as_i64()), (Some(true), Some(2)));
    assert!(dry.body["positions"].as_i64().unwrap() > 0);
    assert_eq!(snapshot(), before, "a dry run changes nothing");
    assert_eq!(sim_calls(&ctx).await["plaid"]["users"][plaid_user(&user)]["operations"]["item_remove"], Value::Null);
    let partial = ctx
        .send(
            ctx.http
                .delete(format!("{}/api/plaid/items/{}?dry_run=false", ctx.dev, &item[..item.len() - 1]))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(partial.status, 404, "only an exact id matches: {:?}", partial.body);

    let real = ctx
        .send(ctx.http.delete(format!("{}/api/plaid/items/{item}?dry_run=false", ctx.dev)).bearer_auth(&token))
        .await;
    assert_eq!((real.status, &real.body["removed"]), (200, &json!(true)), "{:?}", real.body);
    assert_eq!(sim_calls(&ctx).await["plaid"]["users"][plaid_user(&user)]["operations"]["item_remove"], 1);
    assert_eq!(snapshot(), json!([[], [], [{"n": 0}]]), "the Item and its rows are gone");
    let gone = ctx
        .send(ctx.http.delete(format!("{}/api/plaid/items/{item}?dry_run=false", ctx.dev)).bearer_auth(&token))
        .await;
    assert_eq!(gone.status, 404);
    Ok(())
}

async fn send_plaid_webhook(ctx: &Ctx, item: &str, tamper: Option<&str>) -> (u16, Value) {
    let mut spec = json!({"item_id": item, "webhook_type": "HOLDINGS", "webhook_code": "DEFAULT_UPDATE", "url": format!("{}/webhooks/plaid", ctx.dev)});
    if let Some(tamper) = tamper {
        spec["tamper"] = json!(tamper);
    }
    let (status, body, _) = ctx.sim_webhook("/__sim/plaid/webhook", &spec).await;
    (status, body)
}

async fn plaid_signed_holdings_webhook_raises_the_flag(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("pl-hook");
    let token = ctx.token(&user);
    let item = link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let (status, body) = send_plaid_webhook(&ctx, &item, None).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("pending_raised")), "{body}");
    let pending = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await.body;
    assert_eq!(
        pending,
        json!({"plaid": true, "snaptrade": false, "schwab": false, "ibkr_flex": false, "transactions": crate::support::no_transactions_pending()})
    );
    let holdings = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
    assert_eq!(holdings.body["has_pending_updates"], true);
    let refreshed = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({})).await;
    assert_eq!(refreshed.body["results"][0]["mode"], "fetch_only", "{:?}", refreshed.body);
    assert_eq!(ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await.body["plaid"], false);
    let billed = &sim_calls(&ctx).await["plaid"]["users"][plaid_user(&user)];
    assert_eq!(billed["operations"]["investments_refresh"], Value::Null, "no paid refresh for webhook data: {billed}");
    Ok(())
}

async fn plaid_forged_webhooks_are_rejected_and_change_nothing(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("pl-forged");
    let token = ctx.token(&user);
    let item = link_plaid(&ctx, &token, "Fidelity", "ins_990002").await;
    let state = || {
        json!([
            // This user's events only: other suites record Plaid events on this worker meanwhile.
            ctx.d1("SELECT COUNT(*) AS n FROM webhook_events WHERE provider = 'plaid' AND user_id = ?1", &[&user]),
            ctx.d1("SELECT pending FROM pending_updates WHERE user_id = ?1", &[&user]),
            ctx.d1("SELECT needs_repair FROM connections WHERE user_id = ?1", &[&user]),
        ])
    };
    let before = state();
    let cases = [
        ("body", 403, "webhook_body_mismatch"),
        ("alg_none", 403, "webhook_unsupported_algorithm"),
        ("alg_hs256", 403, "webhook_unsupported_algorithm"),
        ("stale_iat", 403, "webhook_stale"),
        ("unknown_kid", 401, "webhook_unknown_key"),
        ("other_key", 403, "webhook_signature_invalid"),
        ("missing_hash", 400, "webhook_malformed_token"),
    ];
    for (tamper, status, code) in cases {
        let (got, body) = send_plaid_webhook(&ctx, &item, Some(tamper)).await;
        assert_eq!((got, body["error"]["code"].as_str().unwrap_or_default()), (status, code), "{tamper}: {body}");
        assert_eq!(state(), before, "{tamper} changed D1");
    }
    let unsigned = ctx.send(ctx.http.post(format!("{}/webhooks/plaid", ctx.dev)).body("{}")).await;
    assert_eq!((unsigned.status, unsigned.code()), (401, "webhook_signature_missing"));
    Ok(())
}

async fn plaid_users_never_see_each_others_items(ctx: Arc<Ctx>) -> TestResult {
    let (alice, bob) = (ctx.token(&ctx.user("pl-a")), ctx.token(&ctx.user("pl-b")));
    let item = link_plaid(&ctx, &alice, "Chase", "ins_56").await;
    let bob_holdings = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&bob)).await;
    assert_eq!(bob_holdings.status, 200, "{:?}", bob_holdings.body);
    assert_eq!(bob_holdings.body["accounts"], json!([]));
    assert!(!bob_holdings.body.to_string().contains(&item));
    let steal =
        ctx.send(ctx.http.delete(format!("{}/api/plaid/items/{item}?dry_run=true", ctx.dev)).bearer_auth(&bob)).await;
    assert_eq!(steal.status, 404, "{:?}", steal.body);
    let items = ctx.get(&ctx.dev, "/api/plaid/items", Some(&bob)).await;
    assert_eq!(items.body["items"], json!([]));
    Ok(())
}

async fn plaid_exchange_takes_only_public_tokens_of_the_users_own_link_sessions_before_billing(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("pl-owner");
    let (token, plaid) = (ctx.token(&user), plaid_user(&user));
    let exchange = |public_token: &str| {
        let body = json!({"public_token": public_token, "institution": "Vanguard"});
        ctx.post(&ctx.dev, "/api/plaid/exchange", &token, body)
    };
    let unknown = exchange("public-sandbox-00000000-0000-0000-0000-000000000000").await;
    assert_eq!((unknown.status, unknown.code()), (404, "public_token_unknown"), "{:?}", unknown.body);
    assert_eq!(
        unknown.body["error"]["message"],
        "This Plaid public token was not issued to a Link session you started."
    );
    assert!(sim_calls(&ctx).await["plaid"]["users"][&plaid].is_null(), "no Link session, so nothing asked or billed");

    let public_token = hosted_link(&ctx, &token, Some("Vanguard"), "ins_990001").await;
    // Plaid cannot say whose the token is (our credentials refused): nothing is exchanged.
    let fault = json!({"provider": "plaid", "endpoint": "link_token_get", "user_id": plaid, "kind": "status",
                       "status": 401, "times": 1});
    crate::snaptrade::sim_fault(&ctx, fault).await;
    let refused = exchange(&public_token).await;
    assert_eq!((refused.status, refused.code()), (502, "provider_auth_failed"), "{:?}", refused.body);
    let near_miss = exchange(&format!("{public_token}0")).await;
    assert_eq!((near_miss.status, near_miss.code()), (404, "public_token_unknown"), "{:?}", near_miss.body);
    let calls = sim_calls(&ctx).await;
    let mine = &calls["plaid"]["users"][&plaid];
    assert_eq!((&mine["operations"]["link_token_get"], &mine["billed"]), (&json!(2), &json!(0)), "{mine}");
    assert!(mine["operations"]["item_public_token_exchange"].is_null(), "{mine}");
    assert!(ctx.d1("SELECT id FROM provider_items WHERE user_id = ?1", &[&user]).is_empty());

    let own = exchange(&public_token).await;
    assert_eq!(own.status, 201, "{:?}", own.body);
    assert_eq!(sim_calls(&ctx).await["plaid"]["users"][&plaid]["billed"], 1, "one Item created, once");
    Ok(())
}
