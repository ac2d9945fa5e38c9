//! SnapTrade's equity trading API, written from the OpenAPI spec and the trading notes: symbol
//! search, order impact, force and checked placement, orders, recent orders, order detail and
//! cancel — every one behind the signature and user gate, counted and faulted like the other
//! endpoints (operations `symbols`, `impact`, `place` (both placements), `orders`, `recent_orders`,
//! `order_detail`, `cancel`, `cancel_legacy`).
//!
//! Refusals of a trade call (impact, place, cancel), in the order they are checked: a body that
//! breaks [`form`]'s rules → 400 `invalid_request`; another user's or an unknown account → 403
//! `1066` / 404 `1011`; a disabled connection → 402 `3003`; a `read` connection → 403 `1066`
//! `{detail, status_code, code}`; an account whose app may not trade (test setting) → 403
//! `{"default_detail": "User does not have permissions to place trades", "default_code": 1066}`
//! (the spec's `403FailedRequestResponse` shape); an unknown symbol or a Market order without a
//! quote → 400 `invalid_request`; on placements only, the soft limit (test setting: one per
//! second per account) → 429 `0000` with `Retry-After`; an unknown (or another user's) `tradeId`
//! → 400 `invalid_request`, an expired one → 400 *sim* `trade_expired`; a broker rejection (test
//! setting) → 400 *sim* `broker_rejected` with the broker's reason in `detail`. Cancelling an
//! unknown or no-longer-open order → 400 `invalid_request`. The removed legacy
//! `POST /accounts/{accountId}/orders/cancel` answers 410 *sim* `gone`.
//!
//! Reads: `orders` (`state` all|open|executed, `days` 1..=90, larger capped to 90; served from
//! the last state even when the connection is disabled), `recentOrders` (last 24 h, newest 100,
//! `only_executed` default true) and `orders/details` (404 `1011` for an unknown id) — the last two
//! are realtime and answer 402 `3003` on a disabled connection. A placement is never repeated by
//! the simulator: a repeated `client_order_id` makes a second order unless the account's broker
//! dedupes (test setting), as SnapTrade documents that it does not enforce uniqueness; a `tradeId`
//! stays placeable (again) until it expires. Prices, fills and cash follow [`money`].

pub mod book;
pub mod control;
pub mod desk;
pub mod form;
pub mod money;
pub mod routes;
pub mod wire;

#[cfg(test)]
mod tests;

use super::ApiError;
use crate::{lock, Sim};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use book::{Order, Placement, TradingSettings};
use serde_json::json;

/// Why a trade call is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TradeError {
    /// SnapTrade's `{detail, status_code, code}` error.
    Api(ApiError),
    /// 403 `{"default_detail": "User does not have permissions to place trades", "default_code": 1066}`.
    AppTradingDisabled,
    /// 429 `0000` with `Retry-After: retry_after`: the one-trade-per-second soft limit.
    Throttled { retry_after: u64 },
}

impl IntoResponse for TradeError {
    fn into_response(self) -> Response {
        match self {
            TradeError::Api(error) => error.into_response(),
            TradeError::AppTradingDisabled => {
                let body =
                    json!({"default_detail": "User does not have permissions to place trades", "default_code": 1066});
                (StatusCode::FORBIDDEN, Json(body)).into_response()
            }
            TradeError::Throttled { retry_after } => {
                let detail = format!("Request was throttled. Expected available in {retry_after} seconds.");
                let mut response = ApiError::new(429, "0000", detail).into_response();
                response.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
                response
            }
        }
    }
}

impl From<ApiError> for TradeError {
    fn from(error: ApiError) -> Self {
        TradeError::Api(error)
    }
}

impl Sim {
    /// Every placement request the broker received for SnapTrade account `account_id`, oldest first.
    pub fn snaptrade_placements(&self, account_id: &str) -> Vec<Placement> {
        lock(&self.snaptrade).trading.placements(account_id)
    }

    /// How many placements in `account_id` made a second order for a `client_order_id` or
    /// `tradeId` that had already made one (a client that never double-places keeps this at 0).
    pub fn snaptrade_duplicate_placements(&self, account_id: &str) -> usize {
        lock(&self.snaptrade).trading.duplicates(account_id)
    }

    /// The orders of SnapTrade account `account_id`, newest first.
    pub fn snaptrade_orders(&self, account_id: &str) -> Vec<Order> {
        lock(&self.snaptrade).trading.orders(account_id).cloned().collect()
    }

    /// Replaces the trading settings of SnapTrade account `account_id` (what the control sets).
    pub fn set_snaptrade_trading(&self, account_id: &str, settings: TradingSettings) {
        lock(&self.snaptrade).trading.set_settings(account_id, settings);
    }
}
