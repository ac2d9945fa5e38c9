//! Loopback test controls for SnapTrade trading (not part of SnapTrade's API). Settings are per
//! account, so concurrent tests on different accounts never meet. Bad input → 400 `{"error"}`,
//! an unknown account or order → 404 `{"error"}`.
//!
//! - `POST /__sim/snaptrade/trading` `{"account_id", "app_trading_enabled"?: true, "broker_dedupes_client_order_id"?:
//!   false, "next_place"?: {"outcome": "reject", "reason"?: "…"} | {"outcome": "accept_then_500"} | {"outcome":
//!   "accept_then_timeout"}, "times"?: 1 (1..=10000, placements `next_place` applies to), "rate_limit"?: false,
//!   "order_status"?: "ACCEPTED"|"PENDING"|"QUEUED"}` → the account's settings, `{"account_id",
//!   "app_trading_enabled", "broker_dedupes_client_order_id", "next_place": {…}|null, "times", "rate_limit",
//!   "order_status"}`. Each call REPLACES all of the account's settings (absent fields take their defaults).
//!   `reject` answers 400 `broker_rejected` with `detail` "Failed to submit order to broker: <reason>" (the
//!   reason as given when it already starts so; default reason "insufficient buying power") and records no order.
//! - `POST /__sim/snaptrade/orders/fill` `{"account_id", "brokerage_order_id", "price"?: number|"decimal" (default:
//!   the quote), "webhook"?: false}` → `{"order": AccountOrderRecord, "webhook"?: {"webhook_id", "status", "body"} |
//!   {"webhook_id"?, "error"}}`: executes an open order (400 when it is not open); positions, balances and
//!   activities show it. `webhook: true` also sends the signed `ACCOUNT_HOLDINGS_UPDATED` webhook for the account
//!   to the stored SnapTrade webhook URL.
//! - `GET /__sim/snaptrade/placements?account_id=` (every account when absent) → `{"placements": [{"account_id",
//!   "client_order_id", "trade_id", "brokerage_order_id", "created", "outcome", "at"}], "duplicates": n}`:
//!   `outcome` is `created`, `deduplicated`, `rejected`, `created_then_500` or `created_then_timeout`;
//!   `duplicates` counts placements that made a second order for a `client_order_id` or `tradeId` already used.

use super::book::{NextPlace, OrderStatus, Placement, TradingSettings};
use super::desk;
use super::wire::order_json;
use crate::control::{bad, fill_price, next_place_times, parse, unknown, NextPlaceSpec};
use crate::util::{now_unix, rfc3339, stable_uuid};
use crate::webhooks::snaptrade::{send_spec, WebhookSpec};
use crate::webhooks::Delivery;
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
/// The prefix of a broker rejection's `detail`.
pub const REJECT_PREFIX: &str = "Failed to submit order to broker";

/// The `/__sim/snaptrade/trading`, `/orders/fill` and `/placements` routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/snaptrade/trading", post(set_trading))
        .route("/__sim/snaptrade/orders/fill", post(fill))
        .route("/__sim/snaptrade/placements", get(placements))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TradingSpec {
    account_id: String,
    #[serde(default)]
    app_trading_enabled: Option<bool>,
    #[serde(default)]
    broker_dedupes_client_order_id: Option<bool>,
    #[serde(default)]
    next_place: Option<NextPlaceSpec>,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default)]
    rate_limit: Option<bool>,
    #[serde(default)]
    order_status: Option<String>,
}

/// The detail of a broker rejection for `reason`.
pub fn reject_detail(reason: Option<&str>) -> String {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.starts_with(REJECT_PREFIX) => r.to_owned(),
        Some(r) => format!("{REJECT_PREFIX}: {r}"),
        None => format!("{REJECT_PREFIX}: insufficient buying power"),
    }
}

fn settings_from(spec: TradingSpec) -> Result<TradingSettings, String> {
    let next_place = spec.next_place.map(|next| match next {
        NextPlaceSpec::Reject { reason } => NextPlace::Reject { reason: reject_detail(reason.as_deref()) },
        NextPlaceSpec::AcceptThen500 => NextPlace::AcceptThen500,
        NextPlaceSpec::AcceptThenTimeout => NextPlace::AcceptThenTimeout,
    });
    let times = next_place_times(spec.times, next_place.is_some(), MAX_TIMES)?;
    let order_status = match spec.order_status.as_deref() {
        None => OrderStatus::Accepted,
        Some(s) => {
            OrderStatus::parse_open(s).ok_or(format!("order_status must be ACCEPTED, PENDING or QUEUED, not {s:?}"))?
        }
    };
    Ok(TradingSettings {
        app_trading_enabled: spec.app_trading_enabled.unwrap_or(true),
        broker_dedupes_client_order_id: spec.broker_dedupes_client_order_id.unwrap_or(false),
        next_place,
        times,
        rate_limit: spec.rate_limit.unwrap_or(false),
        order_status,
    })
}

/// The control's rendering of an account's settings.
pub fn settings_json(account_id: &str, s: &TradingSettings) -> Value {
    let next_place = match &s.next_place {
        None => Value::Null,
        Some(NextPlace::Reject { reason }) => json!({"outcome": "reject", "reason": reason}),
        Some(NextPlace::AcceptThen500) => json!({"outcome": "accept_then_500"}),
        Some(NextPlace::AcceptThenTimeout) => json!({"outcome": "accept_then_timeout"}),
    };
    json!({
        "account_id": account_id,
        "app_trading_enabled": s.app_trading_enabled,
        "broker_dedupes_client_order_id": s.broker_dedupes_client_order_id,
        "next_place": next_place,
        "times": s.times,
        "rate_limit": s.rate_limit,
        "order_status": s.order_status.as_str(),
    })
}

async fn set_trading(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec = match parse::<TradingSpec>(&body) {
        Ok(spec) => spec,
        Err(message) => return bad(message),
    };
    let account_id = spec.account_id.clone();
    let settings = match settings_from(spec) {
        Ok(settings) => settings,
        Err(message) => return bad(message),
    };
    let mut state = lock(&sim.snaptrade);
    if !state.accounts.contains_key(&account_id) {
        return unknown(format!("no SnapTrade account {account_id:?}"));
    }
    state.trading.set_settings(&account_id, settings.clone());
    Json(settings_json(&account_id, &settings)).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FillSpec {
    account_id: String,
    brokerage_order_id: String,
    #[serde(default)]
    price: Option<Value>,
    #[serde(default)]
    webhook: bool,
}

fn webhook_json(result: Result<(String, Result<Delivery, String>), String>) -> Value {
    match result {
        Ok((id, Ok(Delivery { status, body }))) => json!({"webhook_id": id, "status": status, "body": body}),
        Ok((id, Err(error))) => json!({"webhook_id": id, "error": error}),
        Err(error) => json!({"error": error}),
    }
}

async fn fill(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec = match parse::<FillSpec>(&body) {
        Ok(spec) => spec,
        Err(message) => return bad(message),
    };
    let price = match fill_price(spec.price.as_ref(), super::form::MAX_AMOUNT) {
        Ok(price) => price,
        Err(message) => return bad(message),
    };
    let (order, webhook) = {
        let mut state = lock(&sim.snaptrade);
        let (order, authorization_id) =
            match desk::fill(&mut state, &spec.account_id, &spec.brokerage_order_id, price, now_unix()) {
                Ok(filled) => filled,
                Err((404, message)) => return unknown(message),
                Err((_, message)) => return bad(message),
            };
        let auth = &state.authorizations[&authorization_id];
        let webhook = spec.webhook.then(|| WebhookSpec {
            url: None,
            event_type: "ACCOUNT_HOLDINGS_UPDATED".into(),
            user_id: auth.user_id.clone(),
            account_id: Some(spec.account_id.clone()),
            authorization_id: Some(authorization_id.clone()),
            brokerage_id: Some(stable_uuid(&format!("brokerage:{}", auth.brokerage.slug))),
            details: None,
            webhook_id: None,
            event_timestamp: None,
            tamper: None,
            webhook_secret: None,
        });
        (order, webhook)
    };
    let mut answer = json!({ "order": order_json(&order) });
    if let Some(webhook) = webhook {
        answer["webhook"] = webhook_json(send_spec(&sim, webhook).await);
    }
    Json(answer).into_response()
}

/// The control's rendering of one placement.
pub fn placement_json(p: &Placement) -> Value {
    json!({
        "account_id": p.account_id,
        "client_order_id": p.client_order_id,
        "trade_id": p.trade_id,
        "brokerage_order_id": p.brokerage_order_id,
        "created": p.outcome.created(),
        "outcome": p.outcome.as_str(),
        "at": rfc3339(p.at),
    })
}

async fn placements(State(sim): State<Arc<Sim>>, Query(params): Query<HashMap<String, String>>) -> Response {
    let state = lock(&sim.snaptrade);
    let accounts = match params.get("account_id") {
        Some(account) => vec![account.clone()],
        None => state.trading.placement_accounts(),
    };
    let mut listed = Vec::new();
    let mut duplicates = 0;
    for account in &accounts {
        listed.extend(state.trading.placements(account).iter().map(placement_json));
        duplicates += state.trading.duplicates(account);
    }
    Json(json!({ "placements": listed, "duplicates": duplicates })).into_response()
}
