//! The trading handlers: each parses its input, locks the state, calls one [`desk`] function and
//! renders the outcome (see the module doc of [`super`] for the rules).

use super::book::OrderStatus;
use super::desk::{self, After, Checks};
use super::form;
use super::wire::{cancel_json, order_json};
use super::TradeError;
use crate::faults::TIMEOUT_HOLD_SECS;
use crate::snaptrade::gate::Verified;
use crate::snaptrade::symbols::{search, universal_symbol_json};
use crate::snaptrade::{error, ApiError};
use crate::util::now_unix;
use crate::{lock, Sim};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Orders `recentOrders` returns at most (SnapTrade: "the default page size is 100").
pub const RECENT_PAGE: usize = 100;
/// The window `recentOrders` covers.
pub const RECENT_SECS: i64 = 86_400;

/// The trading routes (to be put behind the gate).
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/accounts/{accountId}/symbols", post(symbols))
        .route("/trade/impact", post(impact))
        .route("/trade/place", post(place))
        .route("/trade/{tradeId}", post(place_checked))
        .route("/accounts/{accountId}/orders", get(orders))
        .route("/accounts/{accountId}/recentOrders", get(recent_orders))
        .route("/accounts/{accountId}/orders/details", post(order_detail))
        .route("/accounts/{accountId}/trading/cancel", post(cancel))
        .route("/accounts/{accountId}/orders/cancel", post(cancel_legacy))
}

fn invalid(detail: impl Into<String>) -> Response {
    ApiError::new(400, "invalid_request", detail).into_response()
}

/// `POST /accounts/{accountId}/symbols {substring}` → the first 20 matching `UniversalSymbol`s.
pub async fn symbols(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
) -> Response {
    let substring = match &v.body {
        None | Some(Value::Null) => "",
        Some(body @ Value::Object(_)) => match body.get("substring") {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return invalid("substring must be a string."),
        },
        Some(_) => return invalid("The body must be a JSON object."),
    };
    if let Err(refusal) = desk::desk(&lock(&sim.snaptrade), &v.user_id, &account_id, Checks::Owned) {
        return refusal.into_response();
    }
    Json(search(substring).into_iter().map(universal_symbol_json).collect::<Vec<_>>()).into_response()
}

/// `POST /trade/impact` (`ManualTradeForm`) → `ManualTradeAndImpact`.
pub async fn impact(State(sim): State<Arc<Sim>>, Extension(v): Extension<Verified>) -> Response {
    let request = match form::impact_form(v.body.as_ref()) {
        Ok(request) => request,
        Err(message) => return invalid(message),
    };
    match desk::impact(&mut lock(&sim.snaptrade), &v.user_id, request, Instant::now()) {
        Ok(body) => Json(body).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// The answer to a placement: the order, or the configured failure after recording it.
async fn placed(outcome: Result<desk::Placed, TradeError>) -> Response {
    match outcome {
        Err(refusal) => refusal.into_response(),
        Ok(desk::Placed { order, after: After::Answer }) => Json(order_json(&order)).into_response(),
        Ok(desk::Placed { after: After::Fail500, .. }) => error(500, "1000", "Encountered an unexpected exception."),
        Ok(desk::Placed { after: After::Timeout, .. }) => {
            tokio::time::sleep(Duration::from_secs(TIMEOUT_HOLD_SECS)).await;
            error(504, "timeout", "The simulator held this request to simulate a timeout.")
        }
    }
}

/// `POST /trade/place` (`ManualTradeFormWithOptions`) → `AccountOrderRecord`.
pub async fn place(State(sim): State<Arc<Sim>>, Extension(v): Extension<Verified>) -> Response {
    let request = match form::place_form(v.body.as_ref()) {
        Ok(request) => request,
        Err(message) => return invalid(message),
    };
    let outcome = desk::place(&mut lock(&sim.snaptrade), &v.user_id, &request, None, true, Instant::now(), now_unix());
    placed(outcome).await
}

/// `POST /trade/{tradeId}` (optional `{wait_to_confirm}`) → `AccountOrderRecord`.
pub async fn place_checked(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(trade_id): Path<String>,
) -> Response {
    let wait = match form::wait_to_confirm(v.body.as_ref()) {
        Ok(wait) => wait,
        Err(message) => return invalid(message),
    };
    let outcome = {
        let mut state = lock(&sim.snaptrade);
        let now = Instant::now();
        desk::checked_trade(&state, &v.user_id, &trade_id, now)
            .and_then(|request| desk::place(&mut state, &v.user_id, &request, Some(&trade_id), wait, now, now_unix()))
    };
    placed(outcome).await
}

/// The `state` and `days` of `GET /orders`: which orders, and since when (Unix seconds).
fn orders_query(params: &HashMap<String, String>, now: i64) -> Result<(&'static str, i64), String> {
    let state = match params.get("state").map(String::as_str) {
        None | Some("all") => "all",
        Some("open") => "open",
        Some("executed") => "executed",
        Some(other) => return Err(format!("state must be one of all, open, executed; got {other:?}.")),
    };
    let days = match params.get("days").map(|d| d.parse::<i64>()) {
        None => 30,
        Some(Ok(days)) if days >= 1 => days.min(90),
        Some(_) => return Err("days must be an integer from 1 to 90.".into()),
    };
    Ok((state, now - days * 86_400))
}

/// `GET /accounts/{accountId}/orders?state=&days=` → `AccountOrderRecord[]`, newest first.
pub async fn orders(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let (wanted, since) = match orders_query(&params, now_unix()) {
        Ok(query) => query,
        Err(message) => return invalid(message),
    };
    let state = lock(&sim.snaptrade);
    if let Err(refusal) = desk::desk(&state, &v.user_id, &account_id, Checks::Owned) {
        return refusal.into_response();
    }
    let keep = |status: OrderStatus| match wanted {
        "open" => status.is_open(),
        "executed" => status == OrderStatus::Executed,
        _ => true,
    };
    let found = state.trading.orders(&account_id).filter(|o| o.placed >= since && keep(o.status));
    Json(found.map(order_json).collect::<Vec<_>>()).into_response()
}

/// `GET /accounts/{accountId}/recentOrders?only_executed=` → `{orders: [...]}` of the last 24 h.
pub async fn recent_orders(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let only_executed = match params.get("only_executed").map(String::as_str) {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => return invalid(format!("only_executed must be true or false; got {other:?}.")),
    };
    let state = lock(&sim.snaptrade);
    if let Err(refusal) = desk::desk(&state, &v.user_id, &account_id, Checks::Live) {
        return refusal.into_response();
    }
    let since = now_unix() - RECENT_SECS;
    let found = state.trading.orders(&account_id).filter(|o| o.placed >= since);
    let found = found.filter(|o| !only_executed || o.status == OrderStatus::Executed).take(RECENT_PAGE);
    Json(json!({ "orders": found.map(order_json).collect::<Vec<_>>() })).into_response()
}

/// `POST /accounts/{accountId}/orders/details {brokerage_order_id}` → `AccountOrderRecord`, or 404.
pub async fn order_detail(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
) -> Response {
    let id = match form::brokerage_order_id(v.body.as_ref()) {
        Ok(id) => id,
        Err(message) => return invalid(message),
    };
    let state = lock(&sim.snaptrade);
    if let Err(refusal) = desk::desk(&state, &v.user_id, &account_id, Checks::Live) {
        return refusal.into_response();
    }
    match state.trading.order(&account_id, &id) {
        Some(order) => Json(order_json(order)).into_response(),
        None => error(404, "1011", "The requested resource does not exist."),
    }
}

/// `POST /accounts/{accountId}/trading/cancel {brokerage_order_id}` → `CancelOrderResponse`.
pub async fn cancel(
    State(sim): State<Arc<Sim>>,
    Extension(v): Extension<Verified>,
    Path(account_id): Path<String>,
) -> Response {
    let id = match form::brokerage_order_id(v.body.as_ref()) {
        Ok(id) => id,
        Err(message) => return invalid(message),
    };
    match desk::cancel(&mut lock(&sim.snaptrade), &v.user_id, &account_id, &id, now_unix()) {
        Ok(order) => Json(cancel_json(&order.brokerage_order_id)).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

/// `POST /accounts/{accountId}/orders/cancel` → 410 Gone: removed from the spec on 2026-08-10.
pub async fn cancel_legacy() -> Response {
    error(410, "gone", "This endpoint was removed. Use POST /accounts/{accountId}/trading/cancel instead.")
}
