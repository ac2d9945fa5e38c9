//! Signed Plaid webhooks on demand (a loopback test control, not part of Plaid's API):
//!
//! `POST /__sim/plaid/webhook` `{"item_id": "<item>", "webhook_type": "HOLDINGS", "webhook_code":
//! "DEFAULT_UPDATE", "url"?: "<loopback URL>", "error"?: {…}, "new_holdings"?: n,
//! "updated_holdings"?: n, "new_investments_transactions"?: n, "cancelled_investments_transactions"?: n,
//! "tamper"?: "body"|"alg_none"|"alg_hs256"|"stale_iat"|"unknown_kid"|
//! "other_key"|"missing_hash"}` builds the webhook body `{webhook_type, webhook_code, item_id,
//! error, environment: "sandbox"}` — plus `new_holdings` (default 0) and `updated_holdings`
//! (default: the Item's holding count) for `HOLDINGS`; for `INVESTMENTS_TRANSACTIONS`
//! (`DEFAULT_UPDATE`, or `HISTORICAL_UPDATE`) `new_investments_transactions` and
//! `cancelled_investments_transactions` (double "l", as Plaid spells it), by default the rows the
//! transactions controls added and cancelled since the Item's last `INVESTMENTS_TRANSACTIONS`
//! webhook was sent (sending one, not signing one, starts the count again; either can be given
//! instead); `error` defaults to
//! `null`, or to an `ITEM_LOGIN_REQUIRED` error for `ITEM` `ERROR` — serialises it (pretty-printed,
//! like Plaid), signs it (see [`super::keys`]; `tamper` injects exactly that defect) and sends
//! `POST <url>` with `Content-Type: application/json` and `Plaid-Verification: <jwt>` to `url`,
//! else to the `webhook` given when the Item's link token was created, else to the default Plaid
//! target stored with `POST /__sim/webhook-url` (delivery is [`crate::webhooks::deliver`]: plain
//! `http://` loopback only, no proxy, no redirects, no retries). `webhook_type: "LINK"`
//! takes `"link_token"` instead of `item_id` and sends `SESSION_FINISHED`-style
//! `{webhook_type, webhook_code, status: "SUCCESS", link_session_id, link_token, public_tokens,
//! environment}` for the token's finished session.
//!
//! Two more optional fields shape the signature itself: `"iat"`: Unix seconds the token says it
//! was issued at (default now; `stale_iat` subtracts its 10 minutes from it), and `"raw_body"`: text
//! to sign and send byte for byte instead of the built body (then `item_id` is not needed).
//!
//! Answers `{"sent": true, "status": <receiver's HTTP status>, "body": <receiver's response text>}`;
//! 400 `{"error"}` for bad input, an unknown item or link token, no URL, or a URL that is not
//! `http://` on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`); 502 `{"sent": false,
//! "error"}` when the receiver cannot be reached.
//!
//! `POST /__sim/plaid/webhook/sign` takes the same body, signs the same way, and returns the
//! delivery instead of sending it: `{"headers": [[name, value], ...], "body": "<exact text>"}`.

use super::keys::Tamper;
use super::PlaidError;
use crate::faults::Provider;
use crate::util::now_unix;
use crate::webhooks::{check_loopback_url, deliver, target_url, unsent, Delivery, SentWebhook};
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Where the control lives.
pub const PATH: &str = "/__sim/plaid/webhook";
/// Where the sign-only control lives.
pub const SIGN_PATH: &str = "/__sim/plaid/webhook/sign";

/// The body of `POST /__sim/plaid/webhook`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub link_token: Option<String>,
    pub webhook_type: String,
    pub webhook_code: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
    #[serde(default)]
    pub new_holdings: Option<u64>,
    #[serde(default)]
    pub updated_holdings: Option<u64>,
    #[serde(default)]
    pub new_investments_transactions: Option<u64>,
    #[serde(default)]
    pub cancelled_investments_transactions: Option<u64>,
    #[serde(default)]
    pub tamper: Option<String>,
    /// The token's `iat` (Unix seconds); now when absent.
    #[serde(default)]
    pub iat: Option<i64>,
    /// Exact text to sign and send instead of the built body.
    #[serde(default)]
    pub raw_body: Option<String>,
}

fn bad(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

/// The webhook body and the URL it goes to (unless the request names one), or the error message.
fn build(sim: &Sim, req: &WebhookRequest) -> Result<(Value, Option<String>), String> {
    let state = lock(&sim.plaid.state);
    if req.webhook_type == "LINK" {
        let token = req.link_token.as_deref().ok_or("LINK webhooks need \"link_token\"")?;
        let link = state.link_token(token).ok_or_else(|| format!("unknown link_token {token:?}"))?;
        let session = link.session.as_ref().ok_or("that link token's Link session has not finished")?;
        let body = json!({
            "webhook_type": req.webhook_type, "webhook_code": req.webhook_code, "status": "SUCCESS",
            "link_session_id": session.id, "link_token": token, "public_tokens": session.public_token.iter().collect::<Vec<_>>(),
            "environment": "sandbox",
        });
        return Ok((body, link.request.webhook.clone()));
    }
    let item_id = req.item_id.as_deref().ok_or("\"item_id\" is required")?;
    let item = state.item_by_id(item_id).ok_or_else(|| format!("unknown item_id {item_id:?}"))?;
    let default_error = (req.webhook_type == "ITEM" && req.webhook_code == "ERROR").then(|| {
        let mut error = PlaidError::item_login_required().body();
        error["status"] = json!(400);
        error
    });
    let mut body = json!({
        "webhook_type": req.webhook_type, "webhook_code": req.webhook_code, "item_id": item_id,
        "error": req.error.clone().or(default_error), "environment": "sandbox",
    });
    match req.webhook_type.as_str() {
        "HOLDINGS" => {
            let holdings: usize = item.institution.accounts.iter().map(|a| a.holdings.len()).sum();
            body["new_holdings"] = json!(req.new_holdings.unwrap_or(0));
            body["updated_holdings"] = json!(req.updated_holdings.unwrap_or(holdings as u64));
        }
        "INVESTMENTS_TRANSACTIONS" => {
            let counts = &item.investments;
            let new = req.new_investments_transactions.unwrap_or(counts.new_since_webhook);
            let cancelled = req.cancelled_investments_transactions.unwrap_or(counts.cancelled_since_webhook);
            body["new_investments_transactions"] = json!(new);
            body["cancelled_investments_transactions"] = json!(cancelled);
        }
        _ => {}
    }
    Ok((body, item.webhook.clone()))
}

/// A signed delivery: where it goes (when asked for), its headers and exact body.
struct Prepared {
    url: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Parses, builds and signs the webhook `body` describes; `needs_url` resolves its target too.
fn prepare(sim: &Sim, body: &Bytes, needs_url: bool) -> Result<(WebhookRequest, Prepared), String> {
    let req: WebhookRequest = serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))?;
    if req.webhook_type.trim().is_empty() || req.webhook_code.trim().is_empty() {
        return Err("webhook_type and webhook_code must not be empty".into());
    }
    let tamper = match req.tamper.as_deref().map(|t| Tamper::parse(t).ok_or(t)) {
        None => None,
        Some(Ok(tamper)) => Some(tamper),
        Some(Err(t)) => {
            return Err(format!(
            "unknown tamper {t:?}; one of body, alg_none, alg_hs256, stale_iat, unknown_kid, other_key, missing_hash"
        ))
        }
    };
    let (bytes, stored_url) = match &req.raw_body {
        Some(raw) => (raw.clone().into_bytes(), None),
        None => {
            let (webhook, stored_url) = build(sim, &req)?;
            (serde_json::to_vec_pretty(&webhook).unwrap_or_default(), stored_url)
        }
    };
    let url = match (needs_url, req.url.clone().or(stored_url)) {
        (false, _) => None,
        (true, Some(url)) => Some(check_loopback_url(&url)?),
        (true, None) => Some(target_url(sim, Provider::Plaid, None)?),
    };
    let signed = sim.plaid.keys.sign(&bytes, tamper, req.iat.unwrap_or_else(now_unix));
    let headers = vec![
        (header::CONTENT_TYPE.to_string(), "application/json".to_owned()),
        ("Plaid-Verification".to_owned(), signed.jwt),
    ];
    Ok((req, Prepared { url, headers, body: signed.body }))
}

/// `POST /__sim/plaid/webhook`: builds, signs and sends one webhook.
pub async fn send(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let (req, prepared) = match prepare(&sim, &body, true) {
        Ok(prepared) => prepared,
        Err(message) => return bad(message),
    };
    if let Some(item_id) = req.item_id.as_deref().filter(|_| req.webhook_type != "LINK" && req.raw_body.is_none()) {
        if let Some(item) = lock(&sim.plaid.state).item_by_id_mut(item_id) {
            item.last_webhook = Some((now_unix(), req.webhook_code.clone()));
            if req.webhook_type == "INVESTMENTS_TRANSACTIONS" {
                (item.investments.new_since_webhook, item.investments.cancelled_since_webhook) = (0, 0);
            }
        }
    }
    let sent = SentWebhook { url: prepared.url.unwrap_or_default(), headers: prepared.headers, body: prepared.body };
    match deliver(&sent).await {
        Ok(Delivery { status, body }) => Json(json!({ "sent": true, "status": status, "body": body })).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, Json(json!({ "sent": false, "error": error }))).into_response(),
    }
}

/// `POST /__sim/plaid/webhook/sign`: signs like [`send`] and returns the delivery unsent.
pub async fn sign_only(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match prepare(&sim, &body, false) {
        Ok((_, prepared)) => {
            let sent = SentWebhook { url: String::new(), headers: prepared.headers, body: prepared.body };
            unsent(None, &sent)
        }
        Err(message) => bad(message),
    }
}
