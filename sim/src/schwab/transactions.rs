//! `GET /trader/v1/accounts/{accountHash}/transactions` from the account's [`crate::ledger`] rows
//! (see [`super::history`] for the default history), after the gate has accepted the token.
//!
//! Query (the spec's rules): `startDate` and `endDate` are required request datetimes
//! (`2024-03-01T00:00:00.000Z`; millis optional; `Z`, `+0000` or `+00:00`), `endDate` not before
//! `startDate` and at most 365 days after it; `types` is required, a comma list of
//! TransactionTypes (unknown names refused); `symbol` optionally keeps one symbol's rows. Any
//! violation → 400 `{"message"}`; an account hash that is not the customer's → 400 `Invalid account
//! number`. Rows are those whose `tradeDate` instant lies in `[startDate, endDate]` and whose type is
//! in `types`, **newest first** (date, time of day, newest-posted first), and at most the first
//! [`MAX_ROWS`] of them in that order: a full answer leaves out the oldest rows.
//! Rows are rendered by [`super::wire`].

use super::history::{accounts_of, ensure_histories, today};
use super::message;
use super::state::Caller;
use super::wire::{instant, schwab_type, wire, WireTransaction};
use crate::ibkr::dates::Date;
use crate::ledger::Row;
use crate::{lock, Sim};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The most rows one answer holds.
pub const MAX_ROWS: usize = 3000;
/// The longest `endDate − startDate`, in milliseconds (365 days).
pub const MAX_RANGE_MS: i64 = 365 * 86_400_000;
/// Schwab's TransactionType values.
pub const TRANSACTION_TYPES: [&str; 15] = [
    "TRADE",
    "RECEIVE_AND_DELIVER",
    "DIVIDEND_OR_INTEREST",
    "ACH_RECEIPT",
    "ACH_DISBURSEMENT",
    "CASH_RECEIPT",
    "CASH_DISBURSEMENT",
    "ELECTRONIC_FUND",
    "WIRE_OUT",
    "WIRE_IN",
    "JOURNAL",
    "MEMORANDUM",
    "MARGIN_CALL",
    "MONEY_MARKET",
    "SMA_ADJUSTMENT",
];
fn two_digits(text: Option<&str>, max: i64) -> Option<i64> {
    let text = text?;
    let value = (text.len() == 2 && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())??;
    (value <= max).then_some(value)
}

/// A request datetime (`yyyy-MM-dd'T'HH:mm:ss[.SSS](Z|±HHmm|±HH:mm)`) as Unix milliseconds; a `+`
/// that a query decoded to a space counts as `+`.
pub fn parse_request_time(text: &str) -> Option<i64> {
    let date = Date::parse_iso(text.get(..10)?)?;
    let rest = text.get(10..)?.strip_prefix(['T', 't'])?;
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" {
        return None;
    }
    let (h, m, s) = (two_digits(rest.get(..2), 23)?, two_digits(rest.get(3..5), 59)?, two_digits(rest.get(6..8), 60)?);
    let mut zone = rest.get(8..)?;
    let mut millis = 0;
    if let Some(fraction) = zone.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        millis = format!("{:0<3}", &fraction[..digits.min(3)]).parse::<i64>().ok()?;
        zone = &fraction[digits..];
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" | " " => 1,
                "-" => -1,
                _ => return None,
            };
            let body = zone.get(1..)?;
            let (hh, mm) = match body.len() {
                4 => (body.get(..2), body.get(2..)),
                5 if body.get(2..3) == Some(":") => (body.get(..2), body.get(3..)),
                _ => return None,
            };
            sign * (two_digits(hh, 23)? * 3600 + two_digits(mm, 59)? * 60)
        }
    };
    let seconds = date.days_since(Date::from_days(0)) * 86_400 + h * 3600 + m * 60 + s - offset;
    Some(seconds * 1000 + millis)
}

/// The checked query of one request.
#[derive(Debug, PartialEq, Eq)]
pub struct TransactionQuery {
    pub start_ms: i64,
    pub end_ms: i64,
    pub types: Vec<&'static str>,
    pub symbol: Option<String>,
}

/// The query pairs of `uri` (`Invalid query` when they cannot be read).
pub fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, String> {
    Query::<Vec<(String, String)>>::try_from_uri(uri).map(|Query(pairs)| pairs).map_err(|_| "Invalid query".to_owned())
}

/// The first value of `key` among `pairs`, trimmed, unless it is empty.
pub fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// The window `[from_key, to_key]` of a query as Unix milliseconds: both are required request
/// datetimes, the end not before the start and at most [`MAX_RANGE_MS`] after it; else the 400 message.
pub fn time_window(pairs: &[(String, String)], from_key: &str, to_key: &str) -> Result<(i64, i64), String> {
    let time = |k: &str| {
        let text = param(pairs, k).ok_or_else(|| format!("{k} is required"))?;
        parse_request_time(text).ok_or_else(|| format!("{k} must be yyyy-MM-dd'T'HH:mm:ss.SSSZ, not {text:?}"))
    };
    let (from_ms, to_ms) = (time(from_key)?, time(to_key)?);
    if to_ms < from_ms {
        return Err(format!("{to_key} must not be before {from_key}"));
    }
    if to_ms - from_ms > MAX_RANGE_MS {
        return Err("Maximum date range is 1 year".into());
    }
    Ok((from_ms, to_ms))
}

impl TransactionQuery {
    /// The query of `uri`, or the 400 message saying why not.
    pub fn parse(uri: &Uri) -> Result<Self, String> {
        let pairs = query_pairs(uri)?;
        let param = |k: &str| param(&pairs, k);
        let (start_ms, end_ms) = time_window(&pairs, "startDate", "endDate")?;
        let mut types = Vec::new();
        for name in param("types").ok_or("types is required")?.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let known = TRANSACTION_TYPES.iter().find(|t| t.eq_ignore_ascii_case(name));
            types.push(*known.ok_or_else(|| format!("Invalid types value: {name}"))?);
        }
        if types.is_empty() {
            return Err("types is required".into());
        }
        Ok(Self { start_ms, end_ms, types, symbol: param("symbol").map(str::to_owned) })
    }

    /// The UTC days the window touches.
    fn days(&self) -> (Date, Date) {
        let day = |ms: i64| Date::from_days(ms.div_euclid(86_400_000));
        (day(self.start_ms), day(self.end_ms))
    }

    fn keeps(&self, row: &Row) -> bool {
        let at = instant(row) * 1000;
        let symbol_ok =
            self.symbol.as_ref().is_none_or(|s| row.tx.symbol.as_ref().is_some_and(|t| t.eq_ignore_ascii_case(s)));
        (self.start_ms..=self.end_ms).contains(&at) && self.types.contains(&schwab_type(row.tx.kind)) && symbol_ok
    }
}

/// `GET /trader/v1/accounts/{accountHash}/transactions` (see the module doc).
pub async fn transactions(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    uri: Uri,
) -> Response {
    let query = match TransactionQuery::parse(&uri) {
        Ok(query) => query,
        Err(why) => return message(400, &why),
    };
    let mut state = lock(&sim.schwab.state);
    let accounts = accounts_of(&state, &caller.customer);
    let Some(account) = accounts.iter().find(|a| a.hash == hash) else {
        return message(400, "Invalid account number");
    };
    ensure_histories(&mut state, &caller.customer, today());
    let mut known: HashMap<String, Value> = HashMap::new();
    for other in &accounts {
        let positions = other.account.pointer("/securitiesAccount/positions").and_then(Value::as_array);
        for instrument in positions.into_iter().flatten().filter_map(|p| p.get("instrument")) {
            if let Some(symbol) = instrument.get("symbol").and_then(Value::as_str) {
                known.entry(symbol.to_owned()).or_insert_with(|| instrument.clone());
            }
        }
    }
    let (first, last) = query.days();
    let rows = state.transactions.query(&[hash.as_str()], Some(first), Some(last), &|_| true);
    let body: Vec<WireTransaction> = rows
        .iter()
        .filter(|(_, row)| query.keeps(row))
        .take(MAX_ROWS)
        .map(|(_, row)| wire(row, &account.number, &known))
        .collect();
    match serde_json::to_string(&body) {
        Ok(text) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(_) => message(500, "Internal Server Error"),
    }
}

#[cfg(test)]
#[path = "transactions_tests.rs"]
mod tests;
