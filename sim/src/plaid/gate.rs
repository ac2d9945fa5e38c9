//! The door every Plaid API request goes through, in this order: a fresh `request_id`, call
//! accounting, global latency, a JSON-object body (else `INVALID_BODY`), app authentication
//! (`client_id` + `secret` from the `PLAID-CLIENT-ID`/`PLAID-SECRET` headers or the body, else
//! `INVALID_API_KEYS`), unknown body fields (`UNKNOWN_FIELDS`), injected faults; only then the
//! handler, which receives an [`Admitted`] request.

use super::{malformed, operation, subject_user, PlaidError};
use crate::faults::{FaultKind, Provider, TIMEOUT_HOLD_SECS};
use crate::{lock, Sim};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// What the gate established about an admitted request, for the handler.
#[derive(Clone, Debug)]
pub struct Admitted {
    /// The `request_id` every answer to this request carries.
    pub request_id: String,
    /// The JSON body (credentials included, as sent).
    pub body: Map<String, Value>,
    /// The user the request concerns, when known.
    pub user: Option<String>,
    /// An injected `disabled` fault matched: Item-scoped calls must answer `ITEM_LOGIN_REQUIRED`.
    pub login_required: bool,
}

/// The middleware: admits, refuses or faults one Plaid API request.
pub async fn gate(State(sim): State<Arc<Sim>>, matched: MatchedPath, request: Request, next: Next) -> Response {
    let Some(op) = operation(matched.as_str()) else {
        return next.run(request).await;
    };
    let request_id = super::random_id(15);
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return PlaidError::invalid_request("INVALID_BODY", "request body too large").respond(&request_id);
    };
    let body = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let user = body.as_ref().and_then(|b| subject_user(&sim, op.subject, b));
    lock(&sim.calls).record(Provider::Plaid, op.name, user.as_deref());
    let global = sim.latency_ms.load(Ordering::Relaxed);
    if global > 0 {
        tokio::time::sleep(Duration::from_millis(global)).await;
    }
    let Some(body) = body else {
        let message = "body could not be parsed as JSON: the request body must be a JSON object";
        return PlaidError::invalid_request("INVALID_BODY", message).respond(&request_id);
    };
    if let Err(e) = authenticate(&sim, &parts.headers, &body) {
        return e.respond(&request_id);
    }
    let unknown: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|k| !matches!(*k, "client_id" | "secret") && !op.fields.contains(k))
        .collect();
    if !unknown.is_empty() {
        let message = format!("the following fields are not recognized by this endpoint: {}", unknown.join(", "));
        return PlaidError::invalid_request("UNKNOWN_FIELDS", message).respond(&request_id);
    }

    let applied = lock(&sim.faults).take(Provider::Plaid, op.name, user.as_deref());
    if applied.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(applied.latency_ms)).await;
    }
    let mut login_required = false;
    match applied.action {
        None | Some(FaultKind::Latency { .. }) => {}
        Some(FaultKind::Disabled) => login_required = true,
        Some(FaultKind::Status { status }) => return PlaidError::for_status(status).respond(&request_id),
        Some(FaultKind::RateLimit { retry_after }) => {
            let mut response = PlaidError::for_status(429).respond(&request_id);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return response;
        }
        Some(FaultKind::Malformed) => return malformed(),
        Some(FaultKind::Timeout) => {
            tokio::time::sleep(Duration::from_secs(TIMEOUT_HOLD_SECS)).await;
            let timed_out = PlaidError::new(504, "API_ERROR", "INTERNAL_SERVER_ERROR", "the request timed out");
            return timed_out.respond(&request_id);
        }
    }
    parts.extensions.insert(Admitted { request_id, body, user, login_required });
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Checks the app credentials: each of `client_id` and `secret` is taken from its header when
/// present, else from the body.
fn authenticate(sim: &Sim, headers: &HeaderMap, body: &Map<String, Value>) -> Result<(), PlaidError> {
    let pick = |header_name: &str, field: &str| {
        headers
            .get(header_name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| body.get(field).and_then(Value::as_str).map(str::to_owned))
    };
    let (client_id, secret) = (pick("PLAID-CLIENT-ID", "client_id"), pick("PLAID-SECRET", "secret"));
    let (Some(client_id), Some(secret)) = (client_id, secret) else {
        return Err(PlaidError::invalid_input(
            "INVALID_API_KEYS",
            "client_id and secret must be provided in the request body or in the PLAID-CLIENT-ID and PLAID-SECRET headers",
        ));
    };
    let accepted = sim.config.plaid.as_ref().is_some_and(|c| {
        let id_ok = c.client_id.as_bytes().ct_eq(client_id.as_bytes());
        let secret_ok = c.secret.as_bytes().ct_eq(secret.as_bytes());
        bool::from(id_ok & secret_ok)
    });
    if accepted {
        Ok(())
    } else {
        Err(PlaidError::invalid_input("INVALID_API_KEYS", "invalid client_id or secret provided"))
    }
}
