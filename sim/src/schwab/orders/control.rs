//! Loopback test controls for Schwab orders (not part of Schwab's API). Settings are per account
//! (customer + account number), so concurrent tests on different customers never meet. Bad input
//! → 400 `{"error"}`, an unknown customer account or order → 404 `{"error"}`.
//!
//! - `POST /__sim/schwab/trading` `{"customer", "account_number", "app_trading_enabled"?: true,
//!   "order_limit_per_minute"?: 120 (0..=120), "next_place"?: {"outcome": "reject", "reason"?:
//!   "…"} | {"outcome": "accept_then_500"} | {"outcome": "accept_then_timeout"}, "times"?: 1
//!   (1..=10000, placements `next_place` applies to; needs `next_place`), "order_status"?:
//!   "WORKING"|"QUEUED"|"ACCEPTED"|"PENDING_ACTIVATION"}` → the account's settings as
//!   `{"customer", "account_number", "app_trading_enabled", "order_limit_per_minute", "next_place":
//!   {…}|null, "times", "order_status"}`. Each call REPLACES all of the account's settings (absent
//!   fields take their defaults) and restarts its order-limit window. A `reject` without a reason
//!   uses [`DEFAULT_REJECT_REASON`]; previewOrder shows a pending `reject` without using it up.
//! - `POST /__sim/schwab/orders/fill` `{"customer", "order_id": number|"digits", "price"?:
//!   number|"decimal" (default: the quote's last)}` → `{"order": Order}`: executes an open order in
//!   full (400 when it is not open or sells more than the account holds, 404 unknown); positions,
//!   balances and transactions show it.
//! - `GET /__sim/schwab/placements[?customer=]` (every customer when absent) → `{"placements":
//!   [{"customer", "account_number", "order_id": n|null, "symbol": s|null, "instruction":
//!   "BUY"|"SELL"|null, "quantity": n|null, "outcome": "created"|"rejected"|"created_then_500"|
//!   "created_then_timeout"|"throttled"|"forbidden", "at": "RFC 3339"}], "orders": n}` (oldest
//!   first; `orders`: how many orders those customers have). Placements are the POST and PUT order
//!   requests that reached the desk; a body that is not a valid order is not one.

use super::book::{NextPlace, OrderStatus, Placement, TradingSettings, MAX_ORDER_LIMIT};
use super::desk::DEFAULT_REJECT_REASON;
use super::fill;
use super::form::MAX_PRICE;
use super::wire::order_json;
use super::Now;
use crate::control::{bad, fill_price, next_place_times, parse, unknown, NextPlaceSpec};
use crate::ledger::number;
use crate::schwab::history::accounts_of;
use crate::util::rfc3339;
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The most placements one `next_place` setting may apply to.
pub const MAX_TIMES: u32 = 10_000;

/// The `/__sim/schwab/trading`, `/orders/fill` and `/placements` routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/schwab/trading", post(set_trading))
        .route("/__sim/schwab/orders/fill", post(fill))
        .route("/__sim/schwab/placements", get(placements))
}

/// The body of `POST /__sim/schwab/trading`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TradingSpec {
    customer: String,
    account_number: String,
    #[serde(default)]
    app_trading_enabled: Option<bool>,
    #[serde(default)]
    order_limit_per_minute: Option<u32>,
    #[serde(default)]
    next_place: Option<NextPlaceSpec>,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default)]
    order_status: Option<String>,
}

/// The settings a spec asks for, or why they are invalid.
pub fn settings_from(spec: &TradingSpec) -> Result<TradingSettings, String> {
    let next_place = spec.next_place.as_ref().map(|next| match next {
        NextPlaceSpec::Reject { reason } => {
            let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).unwrap_or(DEFAULT_REJECT_REASON);
            NextPlace::Reject { reason: reason.to_owned() }
        }
        NextPlaceSpec::AcceptThen500 => NextPlace::AcceptThen500,
        NextPlaceSpec::AcceptThenTimeout => NextPlace::AcceptThenTimeout,
    });
    let times = next_place_times(spec.times, next_place.is_some(), MAX_TIMES)?;
    let limit = spec.order_limit_per_minute.unwrap_or(MAX_ORDER_LIMIT);
    if limit > MAX_ORDER_LIMIT {
        return Err(format!("order_limit_per_minute must be 0 to {MAX_ORDER_LIMIT}"));
    }
    let order_status = match spec.order_status.as_deref() {
        None => OrderStatus::Working,
        Some(s) => OrderStatus::parse_open(s)
            .ok_or(format!("order_status must be WORKING, QUEUED, ACCEPTED or PENDING_ACTIVATION, not {s:?}"))?,
    };
    Ok(TradingSettings {
        app_trading_enabled: spec.app_trading_enabled.unwrap_or(true),
        order_limit_per_minute: limit,
        next_place,
        times,
        order_status,
    })
}

/// The control's rendering of an account's settings.
pub fn settings_json(customer: &str, account_number: &str, s: &TradingSettings) -> Value {
    let next_place = match &s.next_place {
        None => Value::Null,
        Some(NextPlace::Reject { reason }) => json!({"outcome": "reject", "reason": reason}),
        Some(NextPlace::AcceptThen500) => json!({"outcome": "accept_then_500"}),
        Some(NextPlace::AcceptThenTimeout) => json!({"outcome": "accept_then_timeout"}),
    };
    json!({
        "customer": customer,
        "account_number": account_number,
        "app_trading_enabled": s.app_trading_enabled,
        "order_limit_per_minute": s.order_limit_per_minute,
        "next_place": next_place,
        "times": s.times,
        "order_status": s.order_status.as_str(),
    })
}

async fn set_trading(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec = match parse::<TradingSpec>(&body) {
        Ok(spec) => spec,
        Err(message) => return bad(message),
    };
    let settings = match settings_from(&spec) {
        Ok(settings) => settings,
        Err(message) => return bad(message),
    };
    let mut state = lock(&sim.schwab.state);
    let Some(account) = accounts_of(&state, &spec.customer).into_iter().find(|a| a.number == spec.account_number)
    else {
        return unknown(format!("Schwab customer {:?} has no account {:?}", spec.customer, spec.account_number));
    };
    state.orders.set_settings(&account.hash, settings.clone());
    Json(settings_json(&spec.customer, &account.number, &settings)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FillSpec {
    customer: String,
    order_id: Value,
    #[serde(default)]
    price: Option<Value>,
}

/// An order id: a JSON integer or a string of digits.
fn order_id(value: &Value) -> Result<u64, String> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| "order_id must be an integer or a string of digits".to_owned())
}

async fn fill(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec = match parse::<FillSpec>(&body) {
        Ok(spec) => spec,
        Err(message) => return bad(message),
    };
    let (id, price) = match (order_id(&spec.order_id), fill_price(spec.price.as_ref(), MAX_PRICE)) {
        (Ok(id), Ok(price)) => (id, price),
        (Err(message), _) | (_, Err(message)) => return bad(message),
    };
    match fill::fill(&mut lock(&sim.schwab.state), &spec.customer, id, price, Now::current()) {
        Ok(order) => Json(json!({ "order": order_json(&order) })).into_response(),
        Err((404, message)) => unknown(message),
        Err((_, message)) => bad(message),
    }
}

/// The control's rendering of one placement.
pub fn placement_json(p: &Placement) -> Value {
    json!({
        "customer": p.customer,
        "account_number": p.account_number,
        "order_id": p.order_id,
        "symbol": p.symbol,
        "instruction": p.instruction.map(|i| i.as_str()),
        "quantity": p.quantity.map(number),
        "outcome": p.outcome.as_str(),
        "at": rfc3339(p.at_ms.div_euclid(1000)),
    })
}

async fn placements(State(sim): State<Arc<Sim>>, Query(params): Query<HashMap<String, String>>) -> Response {
    let state = lock(&sim.schwab.state);
    let customer = params.get("customer").map(String::as_str);
    let listed: Vec<Value> = state.orders.placements(customer).iter().map(placement_json).collect();
    let orders = state.orders.customer_orders(customer).count();
    Json(json!({ "placements": listed, "orders": orders })).into_response()
}
