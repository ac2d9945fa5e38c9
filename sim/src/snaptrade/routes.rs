//! The SnapTrade API handlers. Each runs only after the gate has verified the partner signature
//! and (where the spec requires them) the user's `userId`/`userSecret`.

use super::gate::Verified;
use super::portal;
use super::seed::{self, BROKERAGES};
use super::seed_json::{account_json, balances_json, brokerage_json, positions_json};
use super::state::{Authorization, ConnectionType, PortalSession, PORTAL_LINK_TTL};
use super::{denied, error, ApiError};
use crate::faults::Provider;
use crate::util::{now_unix, random_bytes, rfc3339};
use crate::{lock, Sim};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How soon after a refresh the same connection may be refreshed again (else 429 `throttled`).
pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(10);

fn bad_request(detail: impl Into<String>) -> ApiError {
    ApiError::new(400, "invalid_request", detail)
}

/// `POST /snapTrade/registerUser {userId}` → `{userId, userSecret}`; 400 `1010` when it exists.
pub async fn register(State(sim): State<Arc<Sim>>, Extension(v): Extension<Verified>) -> Response {
    let user_id =
        v.body.as_ref().and_then(|b| b.get("userId")).and_then(Value::as_str).filter(|u| !u.trim().is_empty());
    let Some(user_id) = user_id else {
        return bad_request("userId is required.").into_response();
    };
    match lock(&sim.snaptrade).register(user_id) {
        Some(secret) => Json(json!({ "userId": user_id, "userSecret": secret })).into_response(),
        None => error(400, "1010", format!("User with the following userId already exist: '{user_id}'")),
    }
}

/// An optional string field of a login body; `Err` when present with another type.
fn optional_str<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{key} must be a string."))),
    }
}

/// The login body's fields: connection type, forced brokerage, customRedirect, reconnect.
type LoginFields = (ConnectionType, Option<&'static seed::Brokerage>, Option<String>, Option<String>);

fn parse_login(body: &Value) -> Result<LoginFields, ApiError> {
    if !(body.is_null() || body.is_object()) {
        return Err(bad_request("The body must be a JSON object."));
    }
    let kind = optional_str(body, "connectionType")?.unwrap_or("read");
    let kind = ConnectionType::parse(kind).ok_or_else(|| bad_request(format!("Invalid connectionType {kind:?}.")))?;
    let broker = match optional_str(body, "broker")? {
        Some(slug) => Some(seed::brokerage(slug).ok_or_else(|| bad_request(format!("Unknown brokerage {slug:?}.")))?),
        None => None,
    };
    let redirect = optional_str(body, "customRedirect")?;
    if redirect.is_some_and(|r| !(r.starts_with("http://") || r.starts_with("https://"))) {
        return Err(bad_request("customRedirect must be an http(s) URL."));
    }
    Ok((kind, broker, redirect.map(str::to_owned), optional_str(body, "reconnect")?.map(str::to_owned)))
}

/// `POST /snapTrade/login` → `{redirectURI, sessionId}`: a portal link on this simulator, valid 5 minutes.
pub async fn login(State(sim): State<Arc<Sim>>, Extension(v): Extension<Verified>) -> Response {
    let (connection_type, mut broker, custom_redirect, reconnect) = match parse_login(&v.body.unwrap_or(Value::Null)) {
        Ok(fields) => fields,
        Err(refusal) => return refusal.into_response(),
    };
    let mut state = lock(&sim.snaptrade);
    if let Some(id) = &reconnect {
        match state.authorization(&v.user_id, id) {
            Ok(auth) if broker.is_some_and(|b| b.slug != auth.brokerage.slug) => {
                return bad_request("broker does not match the connection being reconnected.").into_response()
            }
            Ok(auth) => broker = Some(auth.brokerage),
            Err(why) => return denied(why),
        }
    }
    if let Some(b) = broker.filter(|b| connection_type == ConnectionType::Trade && !b.allows_trading) {
        return bad_request(format!("{} does not support trading connections.", b.name)).into_response();
    }
    let token: String = random_bytes(24).iter().map(|b| format!("{b:02x}")).collect();
    let now = Instant::now();
    let session = PortalSession {
        token: token.clone(),
        user_id: v.user_id.clone(),
        broker,
        custom_redirect,
        reconnect,
        connection_type,
        expires: now + PORTAL_LINK_TTL,
        used: false,
    };
    let session_id = state.add_session(session, now);
    let client_id = sim.config.snaptrade.as_ref().map(|c| c.client_id.as_str()).unwrap_or_default();
    let mut uri = format!(
        "{}{}?token={token}&clientId={client_id}&connectionPortalVersion=v4&sessionId={session_id}",
        sim.base_url,
        portal::PATH
    );
    if let Some(b) = broker {
        uri.push_str(&format!("&broker={}", b.slug));
    }
    Json(json!({ "redirectURI": uri, "sessionId": session_id })).into_response()
}

/// `GET /accounts` → every account of the user, across connections.
pub async fn accounts(State(sim): State<Arc<Sim>>, Extension(v): Extension<Verified>) -> Response {
    let state = lock(&sim.snaptrade);
    let accounts: Vec<Value> = state.user_accounts(&v.user_id).iter().map(account_json).collect();
    Json(accounts).into_response()
}

/// `GET /accounts/{accountId}/positions/all` → the seeded positions with decimal strings (moved by
/// activities posted with `apply_to_holdings`).
pub async fn positions(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
) -> Response {
    let state = lock(&sim.snaptrade);
    match state.account(&v.user_id, &account_id) {
        Ok(view) => {
            Json(positions_json(view.seed, state.activities.holdings(&account_id), view.synced)).into_response()
        }
        Err(why) => denied(why),
    }
}

/// `GET /accounts/{accountId}/balances` → one balance per currency (cash moved by filled orders).
pub async fn balances(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
) -> Response {
    let state = lock(&sim.snaptrade);
    match state.account(&v.user_id, &account_id) {
        Ok(view) => Json(balances_json(view.seed, state.trading.cash_changes(&account_id))).into_response(),
        Err(why) => denied(why),
    }
}

/// `GET /accounts/{accountId}/holdings` → 410 Gone, as for every app created after May 11, 2026.
pub async fn holdings() -> Response {
    error(
        410,
        "gone",
        "This endpoint is no longer available to new customers. Use /accounts/{accountId}/positions/all and \
         /accounts/{accountId}/balances instead.",
    )
}

fn authorization_json(a: &Authorization) -> Value {
    json!({
        "id": a.id,
        "created_date": rfc3339(a.created),
        "brokerage": brokerage_json(a.brokerage),
        "name": format!("{} connection", a.brokerage.name),
        "type": if a.trade { "trade" } else { "read" },
        "disabled": a.disabled,
        "disabled_date": a.disabled_at.map(rfc3339),
        "meta": {},
        "updated_date": rfc3339(a.updated),
        "is_eligible_for_payout": false,
        "data_freshness_mode": "delayed",
    })
}

/// `GET /authorizations` → the user's connections.
pub async fn authorizations(State(sim): State<Arc<Sim>>, Extension(v): Extension<Verified>) -> Response {
    let state = lock(&sim.snaptrade);
    Json(state.user_authorizations(&v.user_id).into_iter().map(authorization_json).collect::<Vec<_>>()).into_response()
}

/// `GET /authorizations/{authorizationId}` → one connection (type, disabled, disabled_date, brokerage).
pub async fn authorization(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(id): Path<String>,
) -> Response {
    match lock(&sim.snaptrade).authorization(&v.user_id, &id) {
        Ok(auth) => Json(authorization_json(auth)).into_response(),
        Err(why) => denied(why),
    }
}

/// `POST /authorizations/{authorizationId}/refresh`: billed per successful call; 402 when disabled,
/// 429 within [`REFRESH_COOLDOWN`] of the previous refresh.
pub async fn refresh(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(id): Path<String>,
) -> Response {
    let mut state = lock(&sim.snaptrade);
    let auth = match state.authorization_mut(&v.user_id, &id) {
        Ok(auth) => auth,
        Err(why) => return denied(why),
    };
    if auth.disabled {
        return error(402, "3003", "Unable to sync with brokerage account because the connection is disabled.");
    }
    let now = Instant::now();
    if let Some(wait) = auth.last_refresh.map(|last| REFRESH_COOLDOWN.saturating_sub(now.duration_since(last))) {
        if !wait.is_zero() {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = error(429, "throttled", "Connection refreshed too recently. Please try again later.");
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
            return response;
        }
    }
    (auth.last_refresh, auth.synced, auth.updated) = (Some(now), now_unix(), now_unix());
    drop(state);
    lock(&sim.calls).bill(Provider::SnapTrade, "refresh", Some(&v.user_id));
    Json(json!({ "detail": format!("Connection {id} scheduled for refresh") })).into_response()
}

/// `POST /authorizations/{authorizationId}/disable` (SnapTrade's testing aid): disables the connection.
pub async fn disable(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(id): Path<String>,
) -> Response {
    let mut state = lock(&sim.snaptrade);
    match state.authorization_mut(&v.user_id, &id) {
        Ok(auth) if auth.disabled => error(402, "3011", "This connection is already disabled."),
        Ok(auth) => {
            (auth.disabled, auth.disabled_at, auth.updated) = (true, Some(now_unix()), now_unix());
            (StatusCode::OK, Json(json!({ "detail": format!("Connection {id} has been disabled") }))).into_response()
        }
        Err(why) => denied(why),
    }
}

/// `DELETE /connection/{connectionId}` → 200 `{detail, connection_id}`: the connection, its accounts
/// and their data are gone (at once; SnapTrade queues it); 404 `1011` unknown, 403 `1066` another user's.
pub async fn delete_connection(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(id): Path<String>,
) -> Response {
    match lock(&sim.snaptrade).delete_authorization(&v.user_id, &id) {
        Ok(()) => Json(json!({
            "detail": "Connection queued for deletion; please wait for webhook for confirmation.",
            "connection_id": id,
        }))
        .into_response(),
        Err(why) => denied(why),
    }
}

/// `GET /brokerages` → the simulated brokerages.
pub async fn brokerages() -> Response {
    Json(BROKERAGES.iter().map(brokerage_json).collect::<Vec<_>>()).into_response()
}
