//! The SnapTrade half of the simulator, built from SnapTrade's OpenAPI spec: signed partner API
//! endpoints (behind [`gate`]), per-user state ([`state`]), seeded brokerage data ([`seed`]),
//! account activities with their default histories ([`activities`], served at the root path
//! `/accounts/{accountId}/activities`, operation `activities`, never billed), equity trading over a
//! seeded symbol universe ([`trading`], [`symbols`]) and the connection portal ([`portal`]).
//!
//! `DELETE /connection/{connectionId}` (SnapTrade's "Delete connection") ends a connection: the
//! spec queues the deletion and confirms it by webhook; the simulator deletes at once (the
//! connection, its accounts and their data), answering 200 `{detail, connection_id}`.
//!
//! Error bodies have SnapTrade's shape `{"detail", "status_code", "code"}`. Codes used (documented
//! by SnapTrade unless marked *sim*): `1076` bad/missing signature, unknown clientId, bad timestamp
//! (401) or an unparseable body (400); `1083` missing or wrong userId/userSecret (401); `1010` userId
//! already registered (400); `1011` unknown id (404); `1066` another user's id (403); `3003`
//! connection disabled (402); `3011` already disabled (402); `0000` client rate limit (429);
//! `throttled` refreshed too recently (429); `1000` unexpected error (500, and injected 5xx);
//! `3002` brokerage unavailable (injected 502/503); *sim* `invalid_request` (other 400s), *sim*
//! `gone` (410 on the removed holdings and legacy order-cancel endpoints), *sim* `timeout` (504 after
//! an injected timeout or an `accept_then_timeout` placement). Trading adds (see [`trading`]): `1066`
//! on a read-only connection (403), the spec's other 403 shape `{"default_detail": "User does not
//! have permissions to place trades", "default_code": 1066}` when the app may not trade, `0000` for
//! the one-trade-per-second soft limit (429), `1000` after an `accept_then_500` placement (500),
//! *sim* `trade_expired` (400, a `tradeId` older than 5 minutes) and *sim* `broker_rejected` (400,
//! "Failed to submit order to broker: …").

pub mod activities;
pub mod gate;
pub mod portal;
pub mod ratelimit;
pub mod routes;
pub mod seed;
pub mod seed_json;
pub mod signature;
pub mod state;
pub mod symbols;
pub mod trading;

use crate::Sim;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{middleware, Json, Router};
use serde_json::json;
use state::Denied;
use std::sync::Arc;

/// A SnapTrade error answer: HTTP status, `code` and `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub detail: String,
}

impl ApiError {
    /// An error with this status, code and detail.
    pub fn new(status: u16, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let http = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (http, Json(json!({ "detail": self.detail, "status_code": self.status, "code": self.code }))).into_response()
    }
}

/// SnapTrade's error body `{detail, status_code, code}` with HTTP status `status`.
pub fn error(status: u16, code: &'static str, detail: impl Into<String>) -> Response {
    ApiError::new(status, code, detail).into_response()
}

/// The error for an id that does not exist (404) or belongs to another user (403).
pub fn denied_error(why: Denied) -> ApiError {
    match why {
        Denied::NotFound => ApiError::new(404, "1011", "The requested resource does not exist."),
        Denied::Forbidden => ApiError::new(403, "1066", "User does not have permission to access this resource"),
    }
}

/// The answer for an id that does not exist (404) or belongs to another user (403).
pub fn denied(why: Denied) -> Response {
    denied_error(why).into_response()
}

/// The code and detail SnapTrade would send with an injected HTTP `status`.
pub fn default_error(status: u16) -> (&'static str, &'static str) {
    match status {
        401 => ("1076", "Unable to verify signature sent"),
        402 => ("3003", "Unable to sync with brokerage account because the connection is disabled."),
        403 => ("1066", "User does not have permission to access this resource"),
        404 => ("1011", "The requested resource does not exist."),
        429 => ("0000", "Request was throttled."),
        502 | 503 => ("3002", "Unable to sync with brokerage account. Invalid response from Brokerage API."),
        400..=499 => ("invalid_request", "The request could not be processed."),
        _ => ("1000", "Encountered an unexpected exception."),
    }
}

/// Answers unknown paths with a 404 in SnapTrade's error shape.
pub async fn not_found() -> Response {
    error(404, "1011", "Not found.")
}

/// The operation name (as used by faults and call counts) and whether it needs `userId`/`userSecret`,
/// for a matched route path; `None` for routes outside the signed API.
pub fn operation(route: &str) -> Option<(&'static str, bool)> {
    Some(match route {
        "/snapTrade/registerUser" => ("register", false),
        "/snapTrade/login" => ("login", true),
        "/accounts" => ("accounts", true),
        "/accounts/{accountId}/positions/all" => ("positions", true),
        "/accounts/{accountId}/balances" => ("balances", true),
        "/accounts/{accountId}/holdings" => ("holdings", true),
        "/accounts/{accountId}/activities" => ("activities", true),
        "/authorizations" | "/authorizations/{authorizationId}" => ("authorizations", true),
        "/authorizations/{authorizationId}/refresh" => ("refresh", true),
        "/authorizations/{authorizationId}/disable" => ("disable", true),
        "/connection/{connectionId}" => ("delete_connection", true),
        "/brokerages" => ("brokerages", false),
        "/accounts/{accountId}/symbols" => ("symbols", true),
        "/trade/impact" => ("impact", true),
        "/trade/place" | "/trade/{tradeId}" => ("place", true),
        "/accounts/{accountId}/orders" => ("orders", true),
        "/accounts/{accountId}/recentOrders" => ("recent_orders", true),
        "/accounts/{accountId}/orders/details" => ("order_detail", true),
        "/accounts/{accountId}/trading/cancel" => ("cancel", true),
        "/accounts/{accountId}/orders/cancel" => ("cancel_legacy", true),
        _ => return None,
    })
}

/// The SnapTrade API routes (signed, behind the gate) and the connection-portal pages.
pub fn router(sim: Arc<Sim>) -> Router<Arc<Sim>> {
    Router::new()
        .route("/snapTrade/registerUser", post(routes::register))
        .route("/snapTrade/login", post(routes::login))
        .route("/accounts", get(routes::accounts))
        .route("/accounts/{accountId}/positions/all", get(routes::positions))
        .route("/accounts/{accountId}/balances", get(routes::balances))
        .route("/accounts/{accountId}/holdings", get(routes::holdings))
        .route("/accounts/{accountId}/activities", get(activities::activities))
        .route("/authorizations", get(routes::authorizations))
        .route("/authorizations/{authorizationId}", get(routes::authorization))
        .route("/authorizations/{authorizationId}/refresh", post(routes::refresh))
        .route("/authorizations/{authorizationId}/disable", post(routes::disable))
        .route("/connection/{connectionId}", delete(routes::delete_connection))
        .route("/brokerages", get(routes::brokerages))
        .merge(trading::routes::router())
        .route_layer(middleware::from_fn_with_state(sim, gate::gate))
        .route(portal::PATH, get(portal::page).post(portal::connect))
}
