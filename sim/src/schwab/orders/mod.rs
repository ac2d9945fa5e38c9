//! Schwab's order endpoints under `/trader/v1`, written from the provider reference (§1, §3, §4.5,
//! §4.6, §5, §6, §8): previewOrder, place, replace, cancel, the account's orders and one order —
//! every one behind the gate (Bearer token, faults, call counts) and answered with
//! `Schwab-Client-CorrelId`. Operations: `preview_order`, `place_order`, `replace_order`,
//! `cancel_order`, `orders`, `order`.
//!
//! Routes (accounts addressed by `hashValue` only; a plain number or another customer's hash →
//! 400 `{"message": "Invalid account number"}`):
//! - `POST /accounts/{accountHash}/previewOrder` (an OrderRequest, see [`form`]) → 200
//!   `PreviewOrder` ([`wire`]): `orderId` 0, status ACCEPTED, or REJECTED with
//!   `orderValidationResult.rejects` `[{activityMessage, originalSeverity: "REJECT", …}]`; a limit
//!   price more than 10 % from the last price adds a `warns` entry. Figures follow [`money`] at the
//!   [`quotes`]; nothing is stored and the `reject` setting is shown but not used up.
//! - `POST /accounts/{accountHash}/orders` → **201, empty body**, `Location:
//!   http://<Host>/trader/v1/accounts/{accountHash}/orders/{orderId}` (the request's `Host`
//!   header; ids increase from 1000000000001, unique across the simulator). The order gets the
//!   account's `order_status` setting (default WORKING). Two identical POSTs make two orders: Schwab
//!   has no client order id, and the simulator never deduplicates.
//! - `PUT /accounts/{accountHash}/orders/{orderId}` (replace) → 201 + `Location` of the new order;
//!   the old one becomes REPLACED (with `closeTime`).
//! - `DELETE /accounts/{accountHash}/orders/{orderId}` → 200, empty body; the order becomes
//!   CANCELED (with `closeTime` and `statusDescription`).
//! - `GET /accounts/{accountHash}/orders?fromEnteredTime&toEnteredTime[&maxResults][&status]` →
//!   `[Order]` entered in the window, newest first (see [`query`]); `GET …/orders/{orderId}` →
//!   `Order`, 404 (Schwab's `{"errors": [{id, status: "404", title: "Not Found"}]}`) when unknown
//!   or another account's.
//!
//! Refusals of a write, in the order they are checked: the account (400 `Invalid account
//! number`); the app's trading permission (test setting) → 403 `{"errors": [{"id", "status":
//! "403", "title": "Forbidden", "detail": "This app is not authorized to place orders"}]}` (also
//! for previewOrder; reads still work); the account's order limit → 429 `{"errors": [{status: 429,
//! title: "Too Many Requests"}]}` + `Retry-After`; for replace and cancel, the order (404 unknown,
//! 400 `{"message": "Order cannot be replaced|cancelled: its status is …"}` when no longer open);
//! a body that breaks [`form`]'s rules → 400 `{"message", "errors": [...]}`; the rejection rules
//! (no quote, a BUY beyond the available funds, a SELL beyond the long quantity held) and then the
//! `reject` setting → 400 `{"message": "<activityMessage>"}`, no order made; `accept_then_500` /
//! `accept_then_timeout` make the order, then answer 500 `{"message": "Internal Server Error"}` /
//! hold [`crate::faults::TIMEOUT_HOLD_SECS`] and answer 504 `upstream request timeout` (text/plain).
//! Open orders reserve no funds or shares.
//!
//! Limits (reference §6): order writes (POST/PUT/DELETE orders) are not counted against the
//! per-app 120/min non-order limit; each account allows `order_limit_per_minute` of them (default
//! 120, 0..=120) per trailing 60 s; refused writes do not count. previewOrder and the reads are
//! non-order requests. Injected faults act in the gate, so a faulted placement makes no order.
//!
//! Fills come only from the test control (`POST /__sim/schwab/orders/fill`, see [`control`]): the
//! order becomes FILLED with an EXECUTION activity, the account's positions and balances move as
//! [`holdings`] says, and a TRADE transaction with the order's `orderId` joins its history.

pub mod book;
pub mod control;
pub mod desk;
pub mod fill;
pub mod form;
pub mod holdings;
pub mod money;
pub mod query;
pub mod quotes;
pub mod routes;
pub mod terms;
pub mod wire;

#[cfg(test)]
mod fill_tests;
#[cfg(test)]
mod lifecycle_tests;
#[cfg(test)]
mod tests;

use super::{message, not_found, too_many_requests};
use crate::util::random_uuid;
use crate::{lock, Sim};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use book::{Order, Placement};
use form::FormError;
use serde_json::json;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The `detail` of the 403 an app without trading permission gets.
pub const FORBIDDEN_DETAIL: &str = "This app is not authorized to place orders";

/// The moment of a call: a monotonic instant (the order limit's window) and the wall-clock time
/// in Unix milliseconds (entered, close and fill times).
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub instant: Instant,
    pub unix_ms: i64,
}

impl Now {
    /// The current moment.
    pub fn current() -> Self {
        let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        Self { instant: Instant::now(), unix_ms: i64::try_from(unix_ms).unwrap_or(i64::MAX) }
    }
}

/// Why an order call is refused (each renders as the module doc says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderError {
    /// 400 `{"message": "Invalid account number"}`.
    InvalidAccount,
    /// 403 `{"errors": [{id, status: "403", title: "Forbidden", detail: FORBIDDEN_DETAIL}]}`.
    Forbidden,
    /// 429 + `Retry-After`: over the account's order limit.
    Throttled { retry_after: u64 },
    /// 400 `{"message", "errors"}`: the body is not a valid order.
    Invalid(FormError),
    /// 400 `{"message": activityMessage}`: rejected, no order made.
    Rejected(String),
    /// 400 `{"message"}`: the order is no longer open.
    NotOpen(String),
    /// 400 `{"message"}`: a bad query.
    BadQuery(String),
    /// Schwab's 404.
    NotFound,
}

impl IntoResponse for OrderError {
    fn into_response(self) -> Response {
        match self {
            OrderError::InvalidAccount => message(400, "Invalid account number"),
            OrderError::Forbidden => {
                let body = json!({"errors": [{"id": random_uuid(), "status": "403", "title": "Forbidden",
                                              "detail": FORBIDDEN_DETAIL}]});
                (StatusCode::FORBIDDEN, Json(body)).into_response()
            }
            OrderError::Throttled { retry_after } => too_many_requests(retry_after),
            OrderError::Invalid(error) => {
                let body = json!({"message": error.message(), "errors": error.errors});
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
            OrderError::Rejected(text) | OrderError::NotOpen(text) | OrderError::BadQuery(text) => message(400, &text),
            OrderError::NotFound => not_found(),
        }
    }
}

impl Sim {
    /// Every placement request Schwab customer `customer` made (all accounts), oldest first.
    pub fn schwab_placements(&self, customer: &str) -> Vec<Placement> {
        lock(&self.schwab.state).orders.placements(Some(customer))
    }

    /// The orders of Schwab customer `customer` (all accounts), newest first.
    pub fn schwab_orders(&self, customer: &str) -> Vec<Order> {
        lock(&self.schwab.state).orders.customer_orders(Some(customer)).cloned().collect()
    }
}
