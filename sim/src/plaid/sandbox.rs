//! Breaking an Item's login, the two ways a test can:
//!
//! - Plaid's sandbox endpoint `POST /sandbox/item/reset_login {access_token}` →
//!   `{"reset_login": true, "request_id"}` (behind the gate like every Plaid API call; operation
//!   `sandbox_item_reset_login`). Unlike Plaid it fires no `ITEM` `ERROR` webhook; send one with
//!   `POST /__sim/plaid/webhook`.
//! - The loopback control `POST /__sim/plaid/items/break {"item_id"}` →
//!   `{"item_id", "error_code": "ITEM_LOGIN_REQUIRED"}` (404 `{"error"}` for an unknown or removed
//!   Item, 400 `{"error"}` for a bad body), for tests that know the Item id but never its access token.
//!
//! Either way the Item's product calls (`/investments/holdings/get`, `/investments/transactions/get`,
//! `/investments/refresh`) answer 400 `ITEM_ERROR`/`ITEM_LOGIN_REQUIRED` and `/item/get` shows that
//! error object in `item.error`, until an update-mode Link session for the Item finishes.

use super::fields::required_str;
use super::gate::Admitted;
use super::ok;
use crate::control::{bad, parse, unknown};
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Where the break control lives.
pub const BREAK_PATH: &str = "/__sim/plaid/items/break";

/// `/sandbox/item/reset_login {access_token}` → `{reset_login: true, request_id}`.
pub async fn reset_login(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let reset = required_str(&req.body, "access_token", "access_token")
        .and_then(|token| lock(&sim.plaid.state).reset_login(token));
    match reset {
        Ok(()) => ok(&req.request_id, json!({ "reset_login": true })),
        Err(e) => e.respond(&req.request_id),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakRequest {
    item_id: String,
}

/// `POST /__sim/plaid/items/break {item_id}`: the Item's login is broken.
pub async fn break_item(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let request = match parse::<BreakRequest>(&body) {
        Ok(request) => request,
        Err(message) => return bad(message),
    };
    if !lock(&sim.plaid.state).break_login(&request.item_id) {
        return unknown(format!("no active Item {:?}", request.item_id));
    }
    Json(json!({ "item_id": request.item_id, "error_code": "ITEM_LOGIN_REQUIRED" })).into_response()
}
