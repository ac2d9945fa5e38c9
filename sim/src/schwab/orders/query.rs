//! The query of `GET /trader/v1/accounts/{accountHash}/orders`, checked as the spec writes it:
//! `fromEnteredTime` and `toEnteredTime` are required request datetimes
//! (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`, millis optional, `Z`, `+0000` or `+00:00`; see
//! [`crate::schwab::transactions::parse_request_time`]), `toEnteredTime` not before `fromEnteredTime` and at most a year
//! (365 days) after it; `maxResults` is an integer ≥ 1 (default [`DEFAULT_MAX_RESULTS`]); `status`
//! is one of [`ORDER_STATUSES`] (exact spelling). Any violation is a message for a 400.

use super::book::{Order, ORDER_STATUSES};
use crate::schwab::transactions::{param, query_pairs, time_window};
use axum::http::Uri;

/// How many orders an answer holds unless `maxResults` says otherwise.
pub const DEFAULT_MAX_RESULTS: usize = 3000;

/// A checked orders query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrdersQuery {
    /// Unix milliseconds, inclusive.
    pub from_ms: i64,
    /// Unix milliseconds, inclusive.
    pub to_ms: i64,
    pub max_results: usize,
    pub status: Option<&'static str>,
}

impl OrdersQuery {
    /// The query of `uri`, or the 400 message saying why not.
    pub fn parse(uri: &Uri) -> Result<Self, String> {
        let pairs = query_pairs(uri)?;
        let param = |k: &str| param(&pairs, k);
        let (from_ms, to_ms) = time_window(&pairs, "fromEnteredTime", "toEnteredTime")?;
        let max_results = match param("maxResults") {
            None => DEFAULT_MAX_RESULTS,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
                _ => return Err(format!("maxResults must be a positive integer, not {text:?}")),
            },
        };
        let status = match param("status") {
            None => None,
            Some(text) => Some(
                *ORDER_STATUSES.iter().find(|s| **s == text).ok_or_else(|| format!("Invalid status value: {text}"))?,
            ),
        };
        Ok(Self { from_ms, to_ms, max_results, status })
    }

    /// Whether `order` was entered in the window and has the asked status.
    pub fn keeps(&self, order: &Order) -> bool {
        (self.from_ms..=self.to_ms).contains(&order.entered_ms)
            && self.status.is_none_or(|s| order.status.as_str() == s)
    }
}
