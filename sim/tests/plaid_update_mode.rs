//! A broken Plaid login and its repair over HTTP: `/sandbox/item/reset_login` and the break
//! control make product calls answer `ITEM_LOGIN_REQUIRED` and `/item/get` show it; an update-mode
//! link token (the Item's `access_token`, no `products`) opens a hosted page that repairs the same
//! Item — no new Item, no public token, nothing to exchange.

mod common;
#[path = "common/plaid.rs"]
mod plaid;

use plaid::{assert_plaid_error, Plaid, DONE_URL};
use serde_json::{json, Value};

fn update_body(user: &str, access_token: &str) -> Value {
    let mut body = Plaid::link_body(user, None);
    body.as_object_mut().unwrap().remove("products");
    body["access_token"] = json!(access_token);
    body["update"] = json!({"account_selection_enabled": false});
    body
}

#[tokio::test]
async fn reset_login_breaks_the_item_and_update_mode_repairs_it_without_a_new_item() {
    let p = Plaid::start().await;
    let linked = p.link_item("user-1", "ins_56", None).await;
    let reset = p.post("/sandbox/item/reset_login", json!({"access_token": linked.access_token})).await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(reset.json["reset_login"], true);
    assert!(reset.json["request_id"].as_str().is_some());
    assert_plaid_error(&p.holdings(&linked).await, 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    let refresh = p.post("/investments/refresh", json!({"access_token": linked.access_token})).await;
    assert_plaid_error(&refresh, 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    let item = p.post("/item/get", json!({"access_token": linked.access_token})).await;
    assert_eq!(item.status, 200, "{}", item.text);
    assert_eq!(item.json["item"]["error"]["error_code"], "ITEM_LOGIN_REQUIRED", "{}", item.text);

    let created = p.post("/link/token/create", update_body("user-1", &linked.access_token)).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let link_token = created.json["link_token"].as_str().unwrap().to_owned();
    let url = created.json["hosted_link_url"].as_str().unwrap().to_owned();
    let page = p.http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("reconnect") && page.contains("Chase"), "{page}");
    let response = p.http.post(&url).form(&[("ignored", "x")]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(DONE_URL), "{location}");
    assert!(!location.query_pairs().any(|(k, _)| k == "public_token"), "nothing to exchange: {location}");
    assert!(location.query_pairs().any(|(k, _)| k == "link_session_id"), "{location}");

    let item = p.post("/item/get", json!({"access_token": linked.access_token})).await;
    assert!(item.json["item"]["error"].is_null(), "{}", item.text);
    assert_eq!(item.json["item"]["item_id"], linked.item_id.as_str());
    assert_eq!(p.holdings(&linked).await.status, 200, "the same access token works again");
    let got = p.post("/link/token/get", json!({"link_token": link_token})).await;
    assert_eq!(got.json["link_sessions"][0]["results"]["item_add_results"], json!([]), "{}", got.text);
    assert_eq!(got.json["metadata"]["initial_products"], json!([]));
    let again = p.http.post(&url).form(&[("ignored", "x")]).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 410, "an update session finishes once");
    let calls = p.calls().await;
    assert_eq!(calls["plaid"]["operations"]["item_public_token_exchange"], 1, "only the first link: {calls}");
    assert_eq!(calls["plaid"]["billed"], 1, "one Item created: {calls}");
}

#[tokio::test]
async fn update_mode_refuses_products_unknown_tokens_and_new_account_selection() {
    let p = Plaid::start().await;
    let linked = p.link_item("user-2", "ins_11", None).await;
    let mut with_products = update_body("user-2", &linked.access_token);
    with_products["products"] = json!(["investments"]);
    assert_plaid_error(&p.post("/link/token/create", with_products).await, 400, "INVALID_REQUEST", "INVALID_FIELD");
    let unknown = update_body("user-2", "access-sandbox-00000000-0000-0000-0000-000000000000");
    let unknown = p.post("/link/token/create", unknown).await;
    assert_plaid_error(&unknown, 400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN");
    let mut selection = update_body("user-2", &linked.access_token);
    selection["update"] = json!({"account_selection_enabled": true});
    assert_plaid_error(&p.post("/link/token/create", selection).await, 400, "INVALID_REQUEST", "INVALID_FIELD");
    let mut without_update = update_body("user-2", &linked.access_token);
    without_update.as_object_mut().unwrap().remove("update");
    assert_eq!(p.post("/link/token/create", without_update).await.status, 200);

    let removed = p.link_item("user-2", "ins_56", None).await;
    assert_eq!(p.post("/item/remove", json!({"access_token": removed.access_token})).await.status, 200);
    let gone = p.post("/link/token/create", update_body("user-2", &removed.access_token)).await;
    assert_plaid_error(&gone, 400, "ITEM_ERROR", "ITEM_NOT_FOUND");
    let reset = p.post("/sandbox/item/reset_login", json!({"access_token": "access-sandbox-never"})).await;
    assert_plaid_error(&reset, 400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN");
}

#[tokio::test]
async fn the_break_control_needs_only_the_item_id() {
    let p = Plaid::start().await;
    let linked = p.link_item("user-3", "ins_56", None).await;
    let (status, body) = p.control("/__sim/plaid/items/break", json!({"item_id": linked.item_id})).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    assert_eq!(body, json!({"item_id": linked.item_id, "error_code": "ITEM_LOGIN_REQUIRED"}));
    assert_plaid_error(&p.holdings(&linked).await, 400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED");
    let (status, _) = p.control("/__sim/plaid/items/break", json!({"item_id": "nope"})).await;
    assert_eq!(status.as_u16(), 404);
    let (status, _) = p.control("/__sim/plaid/items/break", json!({"item": "x"})).await;
    assert_eq!(status.as_u16(), 400);
}
