//! The door every SnapTrade API request goes through, in this order: call accounting, global
//! latency, partner authentication (known `clientId`, rate limit, fresh `timestamp`, `Signature`
//! over the exact path, query and body received), user authentication (`userId` + `userSecret` on
//! user-scoped endpoints), injected faults; only then the handler. Every answer carries the
//! `X-RateLimit-*` headers.

use super::ratelimit::RateStatus;
use super::{default_error, error, operation, signature, ApiError};
use crate::faults::{FaultKind, Provider, TIMEOUT_HOLD_SECS};
use crate::{lock, util, Sim};
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// How far `timestamp` may be from the simulator's clock, either way.
pub const MAX_SKEW_SECS: i64 = 300;

/// What the gate established about an admitted request, for the handler.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The authenticated `userId` (empty on endpoints that are not user-scoped).
    pub user_id: String,
    /// The parsed JSON body, if any.
    pub body: Option<Value>,
}

/// The middleware: admits, refuses or faults one SnapTrade API request.
pub async fn gate(State(sim): State<Arc<Sim>>, matched: MatchedPath, request: Request, next: Next) -> Response {
    let Some((op, user_scoped)) = operation(matched.as_str()) else {
        return next.run(request).await;
    };
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return error(413, "invalid_request", "Request body too large.");
    };
    let params: HashMap<String, String> = Query::try_from_uri(&parts.uri).map(|q| q.0).unwrap_or_default();
    let body = parse_body(&bytes);
    let subject = match op {
        "register" => body.as_ref().ok().and_then(|b| b.as_ref()?.get("userId")?.as_str().map(str::to_owned)),
        _ => params.get("userId").cloned(),
    };
    lock(&sim.calls).record(Provider::SnapTrade, op, subject.as_deref());
    let global = sim.latency_ms.load(Ordering::Relaxed);
    if global > 0 {
        tokio::time::sleep(Duration::from_millis(global)).await;
    }

    let mut rate = RateStatus::unattributed();
    let mut response = match admit(&sim, &parts, &params, body, user_scoped, &mut rate) {
        Err(refusal) => refusal.into_response(),
        Ok(verified) => {
            let applied = lock(&sim.faults).take(Provider::SnapTrade, op, subject.as_deref());
            if applied.latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(applied.latency_ms)).await;
            }
            if let Some(FaultKind::RateLimit { retry_after }) = applied.action {
                rate = RateStatus { remaining: 0, reset_secs: retry_after, allowed: false, ..rate };
            }
            match applied.action.and_then(fault_response) {
                Some(pending) => pending.await,
                None => {
                    parts.extensions.insert(verified);
                    next.run(Request::from_parts(parts, Body::from(bytes))).await
                }
            }
        }
    };
    rate.apply(response.headers_mut());
    response
}

/// The body as JSON: `Ok(None)` when empty, `Err` when it is not JSON.
fn parse_body(bytes: &Bytes) -> Result<Option<Value>, ()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some).map_err(|_| ())
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(401, "1076", detail)
}

/// Partner then user authentication; `rate` receives the rate-limit status once the client is known.
fn admit(
    sim: &Sim,
    parts: &Parts,
    params: &HashMap<String, String>,
    body: Result<Option<Value>, ()>,
    user_scoped: bool,
    rate: &mut RateStatus,
) -> Result<Verified, ApiError> {
    let client_id = params.get("clientId").ok_or_else(|| unauthorized("Please provide clientId in query params."))?;
    let credentials = sim.config.snaptrade.as_ref().filter(|c| c.client_id == *client_id);
    let credentials = credentials.ok_or_else(|| unauthorized("Invalid clientId provided."))?;
    *rate = lock(&sim.rate).hit(client_id, Instant::now());
    if !rate.allowed {
        let detail = format!("Request was throttled. Expected available in {} seconds.", rate.reset_secs);
        return Err(ApiError::new(429, "0000", detail));
    }
    let timestamp = params.get("timestamp").filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
    let timestamp: i64 =
        timestamp.and_then(|t| t.parse().ok()).ok_or_else(|| unauthorized("Invalid timestamp provided."))?;
    if (util::now_unix() - timestamp).abs() > MAX_SKEW_SECS {
        return Err(unauthorized("Timestamp is more than 5 minutes away from the server time."));
    }
    let content = body.map_err(|()| ApiError::new(400, "1076", "Unable to verify data sent"))?;
    let signature = parts.headers.get("Signature").and_then(|v| v.to_str().ok());
    let signature = signature.ok_or_else(|| unauthorized("Unable to verify signature sent"))?;
    let (path, query) = (parts.uri.path(), parts.uri.query().unwrap_or(""));
    if !signature::verify(&credentials.consumer_key, path, query, content.as_ref(), signature) {
        return Err(unauthorized("Unable to verify signature sent"));
    }
    let user_id = if user_scoped {
        match (params.get("userId"), params.get("userSecret")) {
            (Some(user), Some(secret)) if lock(&sim.snaptrade).authenticate(user, secret) => user.clone(),
            (Some(_), Some(_)) => return Err(ApiError::new(401, "1083", "Invalid userID or userSecret provided")),
            _ => return Err(ApiError::new(401, "1083", "Please provide userId and userSecret in query params.")),
        }
    } else {
        String::new()
    };
    Ok(Verified { user_id, body: content })
}

/// The answer an injected fault gives instead of the handler's (`None`: let the handler answer).
fn fault_response(kind: FaultKind) -> Option<std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>> {
    let response = match kind {
        FaultKind::Latency { .. } | FaultKind::Disabled => return None,
        FaultKind::Status { status } => {
            let (code, detail) = default_error(status);
            error(status, code, detail)
        }
        FaultKind::RateLimit { retry_after } => {
            error(429, "0000", format!("Request was throttled. Expected available in {retry_after} seconds."))
        }
        FaultKind::Malformed => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], "{\"results\": [{\"units\": ")
                .into_response()
        }
        FaultKind::Timeout => {
            return Some(Box::pin(async {
                tokio::time::sleep(Duration::from_secs(TIMEOUT_HOLD_SECS)).await;
                error(504, "timeout", "The simulator held this request to simulate a timeout.")
            }))
        }
    };
    Some(Box::pin(async move { response }))
}
