//! The Item and key endpoints: public-token exchange, holdings, refresh, `/item/get`,
//! `/item/remove` and `/webhook_verification_key/get`. Each runs only after the gate has
//! authenticated the app, rejected unknown fields and applied injected faults; each answers with
//! `request_id`.

use super::fields::required_str;
use super::gate::Admitted;
use super::seed_json::{holdings_json, item_json};
use super::{ok, PlaidError, BILLED_ITEM_CREATE, BILLED_REFRESH};
use crate::faults::Provider;
use crate::util::{now_unix, rfc3339};
use crate::{lock, Sim};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};
use std::sync::Arc;

/// `/item/public_token/exchange` → `{access_token, item_id, request_id}`; bills `item_create`.
pub async fn public_token_exchange(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let exchanged = required_str(&req.body, "public_token", "public_token")
        .and_then(|token| lock(&sim.plaid.state).exchange(token, now_unix()));
    match exchanged {
        Ok((access_token, item_id, user)) => {
            lock(&sim.calls).bill(Provider::Plaid, BILLED_ITEM_CREATE, Some(&user));
            ok(&req.request_id, json!({ "access_token": access_token, "item_id": item_id }))
        }
        Err(e) => e.respond(&req.request_id),
    }
}

/// The request's `access_token`, or the error to answer.
fn access_token(req: &Admitted) -> Result<&str, PlaidError> {
    required_str(&req.body, "access_token", "access_token")
}

/// Runs `f` on the active Item of the request's access token, unless the token, an injected
/// `disabled` fault or the Item's broken login (`ITEM_LOGIN_REQUIRED`) says otherwise.
pub(super) fn with_item(sim: &Sim, req: &Admitted, f: impl FnOnce(&mut super::state::Item) -> Response) -> Response {
    let token = match access_token(req) {
        Ok(token) => token,
        Err(e) => return e.respond(&req.request_id),
    };
    let mut state = lock(&sim.plaid.state);
    match state.item_mut(token) {
        Err(e) => e.respond(&req.request_id),
        Ok(item) if req.login_required || item.login_required => {
            PlaidError::item_login_required().respond(&req.request_id)
        }
        Ok(item) => f(item),
    }
}

/// `/investments/holdings/get` → `{accounts, holdings, securities, item, request_id}`.
pub async fn holdings_get(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let wanted: Option<Vec<String>> = match req.body.get("options") {
        None => None,
        Some(Value::Object(options)) => match options.get("account_ids") {
            None | Some(Value::Null) => None,
            Some(Value::Array(ids)) if ids.iter().all(Value::is_string) => {
                Some(ids.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            }
            Some(_) => {
                return PlaidError::invalid_field("options.account_ids must be an array of strings")
                    .respond(&req.request_id)
            }
        },
        Some(_) => return PlaidError::invalid_field("options must be an object").respond(&req.request_id),
    };
    with_item(&sim, &req, |item| {
        if let Some(unknown) = wanted.iter().flatten().find(|id| !item.account_ids.contains(id)) {
            let message = format!("the account_id {unknown:?} is not associated with this Item");
            return PlaidError::invalid_input("INVALID_ACCOUNT_ID", message).respond(&req.request_id);
        }
        let include = |i: usize| wanted.as_ref().is_none_or(|ids| ids.contains(&item.account_ids[i]));
        ok(&req.request_id, holdings_json(item, &include))
    })
}

/// `/investments/refresh` → `{request_id}`; billed per successful call.
pub async fn investments_refresh(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let response = with_item(&sim, &req, |item| {
        item.last_update = now_unix();
        ok(&req.request_id, json!({}))
    });
    if response.status().is_success() {
        lock(&sim.calls).bill(Provider::Plaid, BILLED_REFRESH, req.user.as_deref());
    }
    response
}

/// `/item/get` → `{item, status, request_id}`; an injected `disabled` fault or a broken login
/// shows as the `ITEM_LOGIN_REQUIRED` object in `item.error` (else `null`).
pub async fn item_get(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let token = match access_token(&req) {
        Ok(token) => token,
        Err(e) => return e.respond(&req.request_id),
    };
    let state = lock(&sim.plaid.state);
    let item = match state.item(token) {
        Ok(item) => item,
        Err(e) => return e.respond(&req.request_id),
    };
    let error = (req.login_required || item.login_required).then(|| PlaidError::item_login_required().body());
    let mut item_body = item_json(item, error);
    item_body["created_at"] = json!(rfc3339(item.created));
    let last_webhook = item.last_webhook.as_ref().map(|(at, code)| json!({"sent_at": rfc3339(*at), "code_sent": code}));
    let status = json!({
        "investments": {"last_successful_update": rfc3339(item.last_update), "last_failed_update": null},
        "transactions": null,
        "last_webhook": last_webhook,
    });
    ok(&req.request_id, json!({ "item": item_body, "status": status }))
}

/// `/item/remove` → `{request_id}`; the access token stops working.
pub async fn item_remove(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let token = match access_token(&req) {
        Ok(token) => token,
        Err(e) => return e.respond(&req.request_id),
    };
    match lock(&sim.plaid.state).remove(token) {
        Ok(()) => ok(&req.request_id, json!({})),
        Err(e) => e.respond(&req.request_id),
    }
}

/// `/webhook_verification_key/get {key_id}` → `{key, request_id}`.
pub async fn verification_key_get(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let key_id = match required_str(&req.body, "key_id", "key_id") {
        Ok(key_id) => key_id,
        Err(e) => return e.respond(&req.request_id),
    };
    match sim.plaid.keys.jwk(key_id) {
        Some(key) => ok(&req.request_id, json!({ "key": key })),
        None => PlaidError::invalid_input("INVALID_WEBHOOK_VERIFICATION_KEY_ID", "invalid key_id provided")
            .respond(&req.request_id)
            .into_response(),
    }
}
