//! Plaid update mode repairing an Item in place, end to end: an Item linked through the
//! simulator's hosted page has its login broken at the simulator; the next holdings read fails
//! with Plaid's re-login code and flags the connection `needs_repair` (also in
//! `GET /api/connections/health`); the repair check before the update-mode session is finished is
//! a 409 that keeps the flag; finishing the update-mode hosted link then the check clears it and
//! the holdings read again — with one Item, one exchange, one billed Item creation. Another user's
//! Item id is refused without a word about it.

use crate::plaid::{link_plaid, plaid_user};
use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        plaid_repair_update_mode_clears_needs_repair_only_when_plaid_says_the_item_is_healthy,
        plaid_repair_refuses_another_users_item_and_a_repair_with_an_institution,
    ]
}

/// Past Plaid's 72-hour cache TTL, so the next holdings read goes to Plaid.
const PAST_TTL_S: u64 = 73 * 3600;
const RETURN: &str = "http://127.0.0.1:9/repaired";

/// The user's only Plaid connection as `GET /api/plaid/items` lists it.
async fn plaid_connection(ctx: &Ctx, token: &str) -> Value {
    let items = ctx.get(&ctx.dev, "/api/plaid/items", Some(token)).await;
    assert_eq!(items.status, 200, "{:?}", items.body);
    let connections = items.body["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{connections:?}");
    connections[0].clone()
}

/// The Plaid connection's status in `GET /api/connections/health`.
async fn health_status(ctx: &Ctx, token: &str) -> (String, Option<String>) {
    let health = ctx.get(&ctx.dev, "/api/connections/health", Some(token)).await;
    assert_eq!(health.status, 200, "{:?}", health.body);
    let list = health.body["connections"].as_array().unwrap();
    let plaid = list.iter().find(|c| c["provider"] == "plaid").unwrap_or_else(|| panic!("{list:?}"));
    (plaid["status"].as_str().unwrap().to_owned(), plaid["reason"].as_str().map(str::to_owned))
}

/// The error code a holdings read reports: the answer's own, or the failed read kept beside the cache.
fn read_failure(reply: &Reply) -> Option<&str> {
    reply.body["error"]["code"].as_str().or_else(|| reply.body["last_error"]["code"].as_str())
}

async fn repair(ctx: &Ctx, token: &str, item: &str) -> Reply {
    ctx.post(&ctx.dev, &format!("/api/plaid/items/{item}/repair"), token, json!({})).await
}

/// Opens the update-mode hosted link for `item` and finishes it; returns the completion redirect.
async fn finish_update_mode(ctx: &Ctx, token: &str, item: &str) -> reqwest::Url {
    let link = ctx.post(&ctx.dev, "/api/plaid/link", token, json!({"repair": item, "redirect": RETURN})).await;
    assert_eq!(link.status, 200, "{:?}", link.body);
    assert_eq!(link.body["mode"], "update", "{:?}", link.body);
    assert!(link.body["link_token"].as_str().is_some_and(|t| t.starts_with("link-")), "{:?}", link.body);
    let url = link.body["hosted_link_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&ctx.sim), "{url}");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = no_redirects.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("reconnect") && page.contains("Chase"), "the update-mode page names the Item's bank: {page}");
    let done = no_redirects.post(&url).form(&[("continue", "1")]).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 302);
    reqwest::Url::parse(done.headers()["location"].to_str().unwrap()).unwrap()
}

async fn plaid_repair_update_mode_clears_needs_repair_only_when_plaid_says_the_item_is_healthy(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("pl-repair");
    let token = ctx.token(&user);
    let item = link_plaid(&ctx, &token, "Chase", "ins_56").await;
    assert_eq!(plaid_connection(&ctx, &token).await["needs_repair"], false);

    let broken = ctx.sim_control("/__sim/plaid/items/break", &json!({"item_id": item})).await;
    assert_eq!(broken["error_code"], "ITEM_LOGIN_REQUIRED", "{broken}");
    ctx.advance_user_clock(&ctx.dev, &user, PAST_TTL_S).await;
    let read = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
    assert_eq!(read_failure(&read), Some("plaid_reauth_required"), "{} {:?}", read.status, read.body);
    let flagged = plaid_connection(&ctx, &token).await;
    assert_eq!((&flagged["needs_repair"], &flagged["repair_reason"]), (&json!(true), &json!("plaid_reauth_required")));
    assert_eq!(health_status(&ctx, &token).await.0, "needs_repair");

    // Before the update-mode session is finished, Plaid still reports the error: the flag stays.
    let early = repair(&ctx, &token, &item).await;
    assert_eq!((early.status, early.code()), (409, "plaid_item_still_broken"), "{:?}", early.body);
    assert_eq!(early.body["error"]["plaid_error_code"], "ITEM_LOGIN_REQUIRED", "{:?}", early.body);
    assert_eq!(plaid_connection(&ctx, &token).await["needs_repair"], true);

    let back = finish_update_mode(&ctx, &token, &item).await;
    assert!(back.as_str().starts_with(RETURN), "{back}");
    assert!(
        !back.query_pairs().any(|(k, _)| k == "public_token"),
        "update mode hands back nothing to exchange: {back}"
    );

    let repaired = repair(&ctx, &token, &item).await;
    assert_eq!(repaired.status, 200, "{:?}", repaired.body);
    assert_eq!((&repaired.body["repaired"], &repaired.body["item"]["external_id"]), (&json!(true), &json!(item)));
    assert_eq!(repaired.body["accounts"], 2, "{:?}", repaired.body);
    assert!(!repaired.body.to_string().contains("access-sandbox"), "never returned to the browser");
    let cleared = plaid_connection(&ctx, &token).await;
    assert_eq!((&cleared["needs_repair"], &cleared["repair_reason"]), (&json!(false), &Value::Null));
    assert_ne!(health_status(&ctx, &token).await.0, "needs_repair");
    let read = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert!(read.body["last_error"].is_null(), "the holdings read again: {:?}", read.body);
    assert_eq!(read.body["accounts"].as_array().map(Vec::len), Some(2));

    // Still one Item: no new one at the simulator, no second exchange, one billed creation.
    let calls = ctx.sim_calls().await;
    let mine = &calls["plaid"]["users"][plaid_user(&user)];
    assert_eq!(mine["operations"]["item_public_token_exchange"], 1, "{mine}");
    assert_eq!(mine["billed"], 1, "{mine}");
    let items = tributary_sim::lock(&ctx.sim_state.plaid.state).items_of(&plaid_user(&user));
    assert_eq!(items, vec![item.clone()], "one Item at the simulator");
    assert_eq!(ctx.d1("SELECT id FROM provider_items WHERE user_id = ?1", &[&user]).len(), 1);
    Ok(())
}

async fn plaid_repair_refuses_another_users_item_and_a_repair_with_an_institution(ctx: Arc<Ctx>) -> TestResult {
    let owner = ctx.user("pl-repair-owner");
    let owner_token = ctx.token(&owner);
    let item = link_plaid(&ctx, &owner_token, "Chase", "ins_56").await;
    ctx.sim_control("/__sim/plaid/items/break", &json!({"item_id": item})).await;
    let other = ctx.token(&ctx.user("pl-repair-other"));
    let calls_before = ctx.sim_calls().await["plaid"]["users"][plaid_user(&owner)].clone();

    let link = ctx.post(&ctx.dev, "/api/plaid/link", &other, json!({"repair": item, "redirect": RETURN})).await;
    assert_eq!((link.status, link.code()), (404, "provider_not_found"), "{:?}", link.body);
    let check = repair(&ctx, &other, &item).await;
    assert_eq!((check.status, check.code()), (404, "provider_not_found"), "{:?}", check.body);
    for reply in [&link, &check] {
        let text = reply.body.to_string();
        assert!(!text.contains(&item) && !text.contains("Chase"), "nothing about the owner's Item: {text}");
    }
    let both = json!({"repair": item, "institution": "Chase", "redirect": RETURN});
    let both = ctx.post(&ctx.dev, "/api/plaid/link", &owner_token, both).await;
    assert_eq!((both.status, both.code()), (400, "invalid_input"), "{:?}", both.body);
    let calls_after = ctx.sim_calls().await["plaid"]["users"][plaid_user(&owner)].clone();
    assert_eq!(calls_before, calls_after, "nothing was asked of Plaid for the owner's Item");
    Ok(())
}
