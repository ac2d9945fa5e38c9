//! Loopback test controls (not part of any provider's API):
//!
//! - `POST /__sim/faults` `{"provider": "snaptrade"|"plaid"|"schwab"|"ibkr", "endpoint": "<operation>"|"*",
//!   "user_id"?: "<SnapTrade userId | Plaid client_user_id | Schwab customer | IBKR user>", "kind":
//!   "latency"|"status"|"rate_limit"|"timeout"|"malformed"|"disabled", "ms"?: n (latency), "status"?:
//!   400..599 (status), "retry_after"?: seconds (rate_limit, default 60), "times"?: n (default: until
//!   cleared), "after"?: n (matching requests let through first, default 0: `after: 1` fails a
//!   read's second page)}` → `{"id": n}`; a SnapTrade `disabled` fault is applied at once (the user's connections,
//!   or everyone's, become disabled) and also answers `"disabled_connections": n` (0 for Plaid,
//!   Schwab and IBKR, whose `disabled` faults act per request). SnapTrade endpoints include `activities`,
//!   Plaid's `investments_transactions_get` (see [`crate::faults`]). Schwab endpoints: `token`, `account_numbers`,
//!   `accounts`, `account`, `transactions`, `preview_order`, `orders`, `place_order`, `order`, `cancel_order`,
//!   `replace_order` (see [`crate::schwab`]; a fault on an order write answers before any order exists); IBKR endpoints: `send_request`, `get_statement`
//!   (see [`crate::ibkr`]).
//! - `GET /__sim/faults` → `{"faults": [...]}`; `DELETE /__sim/faults` clears them → `{"cleared": true}`;
//!   `DELETE /__sim/faults/{id}` removes just that one → `{"removed": id}` (404 when not active).
//! - `POST /__sim/latency` `{"ms": n}` → `{"ms": n}`: latency added to every provider API request (0 = off).
//! - `GET /__sim/calls` → per-provider (`snaptrade`, `plaid`, `schwab`, `ibkr`) `{total, billed, operations:
//!   {op: n}, users: {user: {total, billed, operations}}}`. Schwab operations: `token_code`, `token_refresh`,
//!   `account_numbers`, `accounts`, `account`, `transactions` and the order operations above (users keyed by
//!   Schwab customer; `billed` always 0). IBKR
//!   operations: `send_request`, `get_statement` (users keyed by the token's IBKR user, `(none)` for an
//!   unknown token; `billed` always 0).
//! - `POST /__sim/calls/reset` → `{"reset": true}`.
//! - `POST /__sim/ratelimit` `{"per_minute": n}` → `{"per_minute": n}`: the SnapTrade client rate limit (default 250).
//! - `POST /__sim/snaptrade/refresh-throttle/end` `{"user_id": "…"}` → `{"ended": n}`: the user's connections may
//!   be refreshed again at once, as if SnapTrade's per-connection refresh cooldown had passed (`n`: how many
//!   were still throttled); lets a test pass that cooldown without waiting.
//! - `POST /__sim/snaptrade/webhook` `{"url"?: "http://127.0.0.1:<port>/webhooks/snaptrade", "event_type": "…",
//!   "user_id": "…", "account_id"?, "authorization_id"?, "brokerage_id"?, "details"?: {…}, "webhook_id"?: "…"
//!   (reuse one to send a replay with a fresh timestamp), "event_timestamp"?: Unix seconds | "RFC 3339",
//!   "tamper"?: "bad_signature"|"stale"|"future"|"missing_timestamp"|"malformed_timestamp"|"wrong_client"|
//!   "reordered_keys"|"non_json"|"no_signature"}` → `{"webhook_id", "status": <receiver's HTTP status>,
//!   "body": "<receiver's answer>"}` (502 `{"error", "webhook_id"}` when delivery failed). Sends a webhook
//!   signed the way SnapTrade documents it; each tamper adds exactly one defect, and `reordered_keys` is
//!   still correctly signed (the receiver canonicalises), see [`crate::webhooks::snaptrade::Tamper`].
//!   `url` defaults to the stored SnapTrade webhook URL; only http loopback URLs are accepted (else 400).
//!   `"webhook_secret"?` sets `webhookSecret`; the transactions events `ACCOUNT_TRANSACTIONS_INITIAL_UPDATE`
//!   and `ACCOUNT_TRANSACTIONS_UPDATED` always carry one (default derived from the client id) and, when
//!   `account_id` is a simulated account, its `brokerageAuthorizationId` unless one is given.
//! - `POST /__sim/snaptrade/webhook/replay` `{"webhook_id"}` → same answer: resends the exact bytes and
//!   headers last sent under that id (404 for an unknown id).
//! - `POST /__sim/snaptrade/webhook/sign` (same body as `/__sim/snaptrade/webhook`; `url` is ignored)
//!   and `POST /__sim/plaid/webhook/sign` (same body as `/__sim/plaid/webhook`) build and sign a webhook
//!   exactly as those would, but RETURN it instead of sending it: `{"webhook_id"?, "headers": [[name,
//!   value], ...], "body": "<exact body text>"}`. For tests that mutate genuine deliveries themselves.
//! - `POST /__sim/schwab/ratelimit` `{"per_minute": n}` (1..=100000) → `{"per_minute": n}`: the Schwab
//!   per-app limit on token + Trader non-order requests per trailing 60 s (default 120; order writes have
//!   their own per-account limit, set with `/__sim/schwab/trading`); resets the window.
//! - `POST /__sim/schwab/age` `{"customer", "seconds": 1..=31536000}` → `{"customer", "aged": {"codes",
//!   "access_tokens", "logins"}}`: that customer's codes, access tokens and logins become `seconds` older.
//! - `POST /__sim/schwab/accounts` `{"customer", "accounts": [Account, …]}` → `{"accounts": n}`: replaces
//!   that customer's Schwab account data (see [`crate::schwab::control`]).
//! - Schwab orders (see [`crate::schwab::orders::control`]): `POST /__sim/schwab/trading` (per-account app
//!   trading permission, order limit per minute, the next placements' outcome, new orders' status),
//!   `POST /__sim/schwab/orders/fill` (execute an open order, moving positions, balances and transactions)
//!   and `GET /__sim/schwab/placements?customer=` (every placement request and its outcome).
//! - `POST /__sim/ibkr/users`, `/__sim/ibkr/tokens`, `/__sim/ibkr/expire`, `/__sim/ibkr/queries`,
//!   `/__sim/ibkr/ratelimit`, `/__sim/ibkr/errors`, `/__sim/ibkr/report_date`: Flex users, tokens,
//!   queries, the per-token throttle, injected Flex codes and the report date (see [`crate::ibkr::control`]).
//! - Investment transactions (see [`crate::ledger::control`]): `POST /__sim/transactions` (append rows,
//!   optionally moving holdings), `POST /__sim/transactions/history` (append generated rows),
//!   `POST /__sim/transactions/cancel` (Plaid), `POST /__sim/transactions/reissue` (SnapTrade: new ids),
//!   `POST /__sim/plaid/transactions-not-ready` (`PRODUCT_NOT_READY` for the next N reads). The Plaid
//!   `INVESTMENTS_TRANSACTIONS` webhook is sent with `POST /__sim/plaid/webhook` (see [`crate::plaid::webhook`]).
//! - SnapTrade trading (see [`crate::snaptrade::trading::control`]): `POST /__sim/snaptrade/trading`
//!   (per-account broker behaviour: app trading permission, `client_order_id` dedupe, the next placements'
//!   outcome, the soft rate limit), `POST /__sim/snaptrade/orders/fill` (execute an open order, moving
//!   positions and cash) and `GET /__sim/snaptrade/placements?account_id=` (every placement request and
//!   how many made a duplicate order). SnapTrade fault endpoints include `symbols`, `impact`, `place`,
//!   `orders`, `recent_orders`, `order_detail`, `cancel` and `cancel_legacy`.
//! - `POST /__sim/webhook-url` `{"snaptrade"?: url|null, "plaid"?: url|null}` → `{"snaptrade": url|null,
//!   "plaid": url|null}`: stores (null clears) the default webhook targets; `GET /__sim/webhook-url` reads them.

use crate::faults::{FaultKind, FaultSpec, Provider, MAX_LATENCY_MS};
use crate::snaptrade::ratelimit::MAX_LIMIT;
use crate::util::now_unix;
use crate::{lock, webhooks, Sim};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The `/__sim/*` routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/__sim/faults/{id}", delete(remove_fault))
        .route("/__sim/latency", post(set_latency))
        .route("/__sim/calls", get(calls))
        .route("/__sim/calls/reset", post(reset_calls))
        .route("/__sim/ratelimit", post(set_rate_limit))
        .route("/__sim/snaptrade/refresh-throttle/end", post(end_refresh_throttle))
        .route("/__sim/snaptrade/webhook", post(webhooks::snaptrade::send))
        .route("/__sim/snaptrade/webhook/replay", post(webhooks::snaptrade::replay))
        .route("/__sim/snaptrade/webhook/sign", post(webhooks::snaptrade::sign_only))
        .route(crate::plaid::webhook::SIGN_PATH, post(crate::plaid::webhook::sign_only))
        .route("/__sim/webhook-url", post(webhooks::set_default_urls).get(webhooks::default_urls))
}

/// A 400 answer `{"error": message}`.
pub(crate) fn bad(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

/// A 404 answer `{"error": message}` (an unknown account, order or id named by a control).
pub(crate) fn unknown(message: impl Into<String>) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message.into() }))).into_response()
}

/// The `next_place` of a trading control (SnapTrade's and Schwab's): what the next placements do
/// instead of succeeding.
#[derive(Debug, Deserialize)]
#[serde(tag = "outcome")]
pub(crate) enum NextPlaceSpec {
    /// Refuse them, with this reason (or the provider's default).
    #[serde(rename = "reject")]
    Reject {
        #[serde(default)]
        reason: Option<String>,
    },
    /// Make the order, then answer 500.
    #[serde(rename = "accept_then_500")]
    AcceptThen500,
    /// Make the order, then hold the answer and time out.
    #[serde(rename = "accept_then_timeout")]
    AcceptThenTimeout,
}

/// How many placements a `next_place` applies to: `times` (1..=`max`, only with a `next_place`),
/// else 1 with a `next_place` and 0 without.
pub(crate) fn next_place_times(times: Option<u32>, has_next_place: bool, max: u32) -> Result<u32, String> {
    match (times, has_next_place) {
        (Some(_), false) => Err("times needs next_place".into()),
        (Some(n), true) if !(1..=max).contains(&n) => Err(format!("times must be 1 to {max}")),
        (Some(n), true) => Ok(n),
        (None, true) => Ok(1),
        (None, false) => Ok(0),
    }
}

/// An optional fill price of a trading control: absent or `null`, else a JSON number or decimal
/// string above 0 and at most `max`.
pub(crate) fn fill_price(price: Option<&serde_json::Value>, max: i64) -> Result<Option<Decimal>, String> {
    let parsed = match price {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.to_string().parse::<Decimal>().ok(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<Decimal>().ok(),
        Some(_) => None,
    };
    let allowed = |p: &Decimal| *p > Decimal::ZERO && *p <= Decimal::from(max);
    parsed.filter(allowed).map(Some).ok_or_else(|| format!("price must be a decimal above 0, at most {max}"))
}

/// `body` as JSON of type `T`, or a message saying why not.
pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn add_fault(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fault = match parse::<FaultSpec>(&body).and_then(FaultSpec::validate) {
        Ok(fault) => fault,
        Err(message) => return bad(message),
    };
    let disables = (fault.kind == FaultKind::Disabled).then(|| (fault.provider, fault.user_id.clone()));
    let id = lock(&sim.faults).add(fault);
    match disables {
        Some((Provider::SnapTrade, user)) => {
            let changed = lock(&sim.snaptrade).disable_all(user.as_deref(), now_unix());
            Json(json!({ "id": id, "disabled_connections": changed })).into_response()
        }
        Some((Provider::Plaid | Provider::Schwab | Provider::Ibkr, _)) => {
            Json(json!({ "id": id, "disabled_connections": 0 })).into_response()
        }
        None => Json(json!({ "id": id })).into_response(),
    }
}

async fn list_faults(State(sim): State<Arc<Sim>>) -> Response {
    Json(lock(&sim.faults).to_json()).into_response()
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    lock(&sim.faults).clear();
    Json(json!({ "cleared": true })).into_response()
}

async fn remove_fault(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    if lock(&sim.faults).remove(id) {
        Json(json!({ "removed": id })).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({ "error": format!("no active fault {id}") }))).into_response()
    }
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

async fn set_latency(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Latency>(&body) {
        Ok(Latency { ms }) if ms <= MAX_LATENCY_MS => {
            sim.latency_ms.store(ms, Ordering::Relaxed);
            Json(json!({ "ms": ms })).into_response()
        }
        Ok(_) => bad(format!("ms must be at most {MAX_LATENCY_MS}")),
        Err(message) => bad(message),
    }
}

async fn calls(State(sim): State<Arc<Sim>>) -> Response {
    Json(lock(&sim.calls).to_json()).into_response()
}

async fn reset_calls(State(sim): State<Arc<Sim>>) -> Response {
    lock(&sim.calls).reset();
    Json(json!({ "reset": true })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThrottleEnd {
    user_id: String,
}

async fn end_refresh_throttle(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<ThrottleEnd>(&body) {
        Ok(ThrottleEnd { user_id }) => {
            let ended = lock(&sim.snaptrade).end_refresh_throttle(&user_id);
            Json(json!({ "ended": ended })).into_response()
        }
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
struct RateLimit {
    per_minute: usize,
}

async fn set_rate_limit(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<RateLimit>(&body) {
        Ok(RateLimit { per_minute }) if (1..=MAX_LIMIT).contains(&per_minute) => {
            let mut rate = lock(&sim.rate);
            rate.set_limit(per_minute);
            Json(json!({ "per_minute": rate.limit() })).into_response()
        }
        Ok(_) => bad(format!("per_minute must be between 1 and {MAX_LIMIT}")),
        Err(message) => bad(message),
    }
}
