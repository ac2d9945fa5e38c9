//! Loopback test controls for the IBKR half (not part of IBKR's API). Ids are strings of digits.
//!
//! - `POST /__sim/ibkr/users` `{"user": "<1..64 of [A-Za-z0-9_-]>"}` → `{"user", "token", "query_id",
//!   "accounts": ["U…", "U…"], "expires_at"}`: creates (or resets) that Flex user: the seeded
//!   statement data, one default Activity query (XML, all five sections) and a fresh token valid 6 h
//!   (`expires_at`: Unix seconds). A reset forgets the user's queries and reference codes and
//!   replaces its token; account ids are derived from the name and stay the same.
//! - `POST /__sim/ibkr/tokens` `{"user", "expires_in_seconds"?: 21600..=31536000 (default 21600),
//!   "ip"?: "a.b.c.d"}` → `{"token", "expires_at"}`: a new token; the previous one answers 1015
//!   from now on. With `ip` the token works only from that address (the caller is always 127.0.0.1).
//! - `POST /__sim/ibkr/expire` `{"token"}` → `{"expired": true}`: the token answers 1012 from now on.
//! - `POST /__sim/ibkr/queries` `{"user", "output"?: "xml"|"csv"|"text", "sections"?: [...],
//!   "date_format"?, "time_format"?, "datetime_separator"?, "level_of_detail"?: "summary"|"lot"|"both",
//!   "base_summary"?, "single_quotes"?, "xml_declaration"?, "pending_polls"?: 0..=20}` → `{"query_id"}`:
//!   another query of that user (see [`crate::ibkr::options`] for values and defaults).
//! - `POST /__sim/ibkr/ratelimit` `{"per_second": 1..=1000, "per_minute": 1..=100000}` → the same
//!   object: the per-token throttle (defaults 1 and 10); resets every token's windows.
//! - `POST /__sim/ibkr/errors` `{"endpoint": "send_request"|"get_statement", "code": 1001|1003..=1021,
//!   "times": 1..=100, "user"?}` → `{"queued": times}`: the next `times` requests to that endpoint
//!   (of that user only, if given) that pass the token checks and the throttle answer that code.
//! - `POST /__sim/ibkr/finish` `{"user"}` → `{"user", "finished": n}`: every statement of that user
//!   still being generated is ready on its next poll (a test finishes IBKR's work without a clock).
//! - `POST /__sim/ibkr/pending_polls` `{"user", "query_id", "pending_polls": 0..=20}` → echo: how many
//!   polls of that query's later statements answer 1019.
//! - `POST /__sim/ibkr/report_date` `{"date": "YYYY-MM-DD", "user"?}` → `{"date", "user"}`: the date statements
//!   requested from now on report (default 2026-03-13; mark prices move with it); reference codes
//!   created earlier keep theirs.
//! - `POST /__sim/ibkr/transactions` `{"account_id": "U…", "user"?, "token"?, "rows": [{"kind",
//!   "symbol"?, "quantity"?, "price"?, "amount"?, "fee"?, "currency"?, "date": "YYYY-MM-DD", "id"?,
//!   "description"?}]}` → `{"account_id", "user", "ids": ["<transactionID>", …]}`: appends 1–1000
//!   rows to that account's activity, all or none (`user`/`token`, when given, must be the
//!   account's). Rows as [`crate::ledger::spec`] reads them: `kind` buy, sell, dividend, interest,
//!   fee, tax, deposit or withdrawal (split and transfers are not in an Activity statement's
//!   Trades or CashTransactions and are refused); decimals as strings; `quantity` positive (the
//!   kind gives the direction); `amount` + = cash into the account (a buy or sell without one
//!   costs units × price ± fee); `currency` one the account holds cash in (default: the symbol's
//!   position's, else the base currency); `id` 1–18 digits (default: a made ten-digit
//!   `transactionID`). Every statement requested afterwards whose period covers `date` shows the
//!   row (a buy or sell as an execution with its order and, when closing, its closed lot; the rest
//!   as a `DETAIL` cash transaction) and counts it in the `CashReport` flows; positions and ending
//!   cash do not move. A user's reset forgets posted rows.
//!
//! The seeded accounts, their default history and the report date's activity are in
//! [`crate::ibkr::seed`] and [`crate::ibkr::history`]; `POST /__sim/ibkr/users` answers the
//! account ids and the token.
//!
//! Bad input → 400 `{"error"}`.

use super::activity;
use super::dates::Date;
use super::flex::FlexCode;
use super::injected::Endpoint;
use super::options::QuerySpec;
use super::ratelimit::{MAX_PER_MINUTE, MAX_PER_SECOND};
use super::state::{DEFAULT_TOKEN_TTL_SECS, MAX_TOKEN_TTL_SECS};
use crate::control::{bad, parse};
use crate::ledger::spec::{parse_rows, RowSpec};
use crate::util::now_unix;
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// The most requests one injected code may answer.
pub const MAX_ERROR_TIMES: u32 = 100;
/// The most rows one `POST /__sim/ibkr/transactions` may post.
pub const MAX_POSTED_ROWS: usize = 1000;

/// The `/__sim/ibkr/*` routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/ibkr/users", post(create_user))
        .route("/__sim/ibkr/tokens", post(issue_token))
        .route("/__sim/ibkr/expire", post(expire))
        .route("/__sim/ibkr/queries", post(add_query))
        .route("/__sim/ibkr/ratelimit", post(set_rate_limit))
        .route("/__sim/ibkr/errors", post(queue_error))
        .route("/__sim/ibkr/report_date", post(set_report_date))
        .route("/__sim/ibkr/pending_polls", post(set_pending_polls))
        .route("/__sim/ibkr/finish", post(finish_generating))
        .route("/__sim/ibkr/transactions", post(post_transactions))
}

/// Whether `user` is 1–64 characters of `[A-Za-z0-9_-]`.
pub fn valid_user(user: &str) -> bool {
    (1..=64).contains(&user.len()) && user.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

const BAD_USER: &str = "user must be 1 to 64 characters of [A-Za-z0-9_-]";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    user: String,
}

async fn create_user(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let NewUser { user } = match parse::<NewUser>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if !valid_user(&user) {
        return bad(BAD_USER);
    }
    match lock(&sim.ibkr.state).create_user(&user, now_unix()) {
        Ok(created) => Json(json!({"user": user, "token": created.token, "query_id": created.query_id.to_string(),
                                   "accounts": created.accounts, "expires_at": created.expires_at}))
        .into_response(),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    user: String,
    expires_in_seconds: Option<i64>,
    ip: Option<String>,
}

async fn issue_token(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let NewToken { user, expires_in_seconds, ip } = match parse::<NewToken>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if !valid_user(&user) {
        return bad(BAD_USER);
    }
    let ttl = expires_in_seconds.unwrap_or(DEFAULT_TOKEN_TTL_SECS);
    if !(DEFAULT_TOKEN_TTL_SECS..=MAX_TOKEN_TTL_SECS).contains(&ttl) {
        return bad(format!("expires_in_seconds must be between {DEFAULT_TOKEN_TTL_SECS} and {MAX_TOKEN_TTL_SECS}"));
    }
    let ip = match ip.map(|ip| ip.parse::<Ipv4Addr>()) {
        None => None,
        Some(Ok(ip)) => Some(ip),
        Some(Err(_)) => return bad("ip must be an IPv4 address a.b.c.d"),
    };
    match lock(&sim.ibkr.state).issue_token(&user, ttl, ip, now_unix()) {
        Ok((token, expires_at)) => Json(json!({"token": token, "expires_at": expires_at})).into_response(),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expire {
    token: String,
}

async fn expire(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Expire>(&body) {
        Ok(Expire { token }) if lock(&sim.ibkr.state).expire_token(&token, now_unix()) => {
            Json(json!({"expired": true})).into_response()
        }
        Ok(_) => bad("unknown token"),
        Err(message) => bad(message),
    }
}

async fn add_query(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let spec = match parse::<QuerySpec>(&body) {
        Ok(spec) => spec,
        Err(message) => return bad(message),
    };
    if !valid_user(&spec.user) {
        return bad(BAD_USER);
    }
    let options = match spec.options() {
        Ok(options) => options,
        Err(message) => return bad(message),
    };
    match lock(&sim.ibkr.state).add_query(&spec.user, options) {
        Ok(id) => Json(json!({"query_id": id.to_string()})).into_response(),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimit {
    per_second: usize,
    per_minute: usize,
}

async fn set_rate_limit(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<RateLimit>(&body) {
        Ok(RateLimit { per_second, per_minute })
            if (1..=MAX_PER_SECOND).contains(&per_second) && (1..=MAX_PER_MINUTE).contains(&per_minute) =>
        {
            let mut state = lock(&sim.ibkr.state);
            state.rate.set_limits(per_second, per_minute);
            let (per_second, per_minute) = state.rate.limits();
            Json(json!({"per_second": per_second, "per_minute": per_minute})).into_response()
        }
        Ok(_) => bad(format!("per_second must be 1..={MAX_PER_SECOND} and per_minute 1..={MAX_PER_MINUTE}")),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueuedError {
    endpoint: String,
    code: u16,
    times: u32,
    user: Option<String>,
}

async fn queue_error(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let QueuedError { endpoint, code, times, user } = match parse::<QueuedError>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    let Some(endpoint) = Endpoint::parse(&endpoint) else {
        return bad("endpoint must be \"send_request\" or \"get_statement\"");
    };
    let Some(code) = FlexCode::new(code) else {
        return bad("code must be 1001 or between 1003 and 1021");
    };
    if !(1..=MAX_ERROR_TIMES).contains(&times) {
        return bad(format!("times must be between 1 and {MAX_ERROR_TIMES}"));
    }
    if user.as_deref().is_some_and(|u| !valid_user(u)) {
        return bad(BAD_USER);
    }
    match lock(&sim.ibkr.state).errors.queue(endpoint, code, times, user) {
        Ok(()) => Json(json!({"queued": times})).into_response(),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportDate {
    date: String,
    #[serde(default)]
    user: Option<String>,
}

async fn set_report_date(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let ReportDate { date, user } = match parse::<ReportDate>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    let Some(parsed) = Date::parse_iso(&date) else {
        return bad("date must be a real date YYYY-MM-DD (years 1900 to 9999)");
    };
    if let Err(message) = lock(&sim.ibkr.state).set_report_date(parsed, user.as_deref()) {
        return bad(message);
    }
    Json(json!({"date": parsed.iso(), "user": user})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Finish {
    user: String,
}

async fn finish_generating(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<Finish>(&body) {
        Ok(Finish { user }) if valid_user(&user) => {
            let finished = lock(&sim.ibkr.state).finish_generating(&user);
            Json(json!({"user": user, "finished": finished})).into_response()
        }
        Ok(_) => bad(BAD_USER),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingPolls {
    user: String,
    query_id: String,
    pending_polls: u32,
}

async fn set_pending_polls(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let PendingPolls { user, query_id, pending_polls } = match parse::<PendingPolls>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if pending_polls > 20 {
        return bad("pending_polls must be between 0 and 20");
    }
    let Ok(query) = query_id.parse::<u64>() else { return bad("query_id must be digits") };
    match lock(&sim.ibkr.state).set_pending_polls(&user, query, pending_polls) {
        Ok(()) => Json(json!({"query_id": query_id, "pending_polls": pending_polls})).into_response(),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostedTransactions {
    account_id: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    token: Option<String>,
    rows: Vec<RowSpec>,
}

/// Whether a posted id can be a `transactionID`: 1–18 digits.
fn valid_transaction_id(id: &str) -> bool {
    (1..=18).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

async fn post_transactions(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let PostedTransactions { account_id, user, token, rows } = match parse::<PostedTransactions>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if !(1..=MAX_POSTED_ROWS).contains(&rows.len()) {
        return bad(format!("rows must hold 1 to {MAX_POSTED_ROWS} rows"));
    }
    let mut state = lock(&sim.ibkr.state);
    let Some(owner) = state.account_owner(&account_id).map(str::to_owned) else {
        return bad(format!("unknown IBKR account {account_id:?}; POST /__sim/ibkr/users lists a user's accounts"));
    };
    if user.as_deref().is_some_and(|u| u != owner) {
        return bad(format!("account {account_id:?} is not that user's"));
    }
    if token.as_deref().is_some_and(|t| state.token_user(t) != Some(owner.as_str())) {
        return bad(format!("that token is not of account {account_id:?}'s user"));
    }
    let Some(account) = state.account(&owner, &account_id) else { return bad("unknown IBKR account") };
    let default_currency = |symbol: Option<&str>| {
        symbol.and_then(|s| account.position(s)).map_or(account.currency, |p| p.instrument.currency.as_str()).to_owned()
    };
    let drafts = match parse_rows(rows, &default_currency) {
        Ok(drafts) => drafts,
        Err(message) => return bad(message),
    };
    for (i, (id, tx)) in drafts.iter().enumerate() {
        if !activity::is_shown(tx.kind) {
            return bad(format!(
                "rows[{i}]: a {} row is not in an Activity statement's Trades or CashTransactions",
                tx.kind.name()
            ));
        }
        if !account.cash.iter().any(|c| c.currency == tx.currency) {
            let held: Vec<&str> = account.cash.iter().map(|c| c.currency).collect();
            return bad(format!(
                "rows[{i}]: currency {:?} is not one the account holds ({})",
                tx.currency,
                held.join(", ")
            ));
        }
        if id.as_deref().is_some_and(|id| !valid_transaction_id(id)) {
            return bad(format!("rows[{i}]: id must be 1 to 18 digits (a Flex transactionID)"));
        }
    }
    match state.post_transactions(&owner, &account_id, drafts) {
        Ok(ids) => Json(json!({"account_id": account_id, "user": owner, "ids": ids})).into_response(),
        Err(message) => bad(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posted_ids_are_flex_transaction_ids() {
        assert!(valid_transaction_id("1") && valid_transaction_id(&"9".repeat(18)));
        assert!(!valid_transaction_id("") && !valid_transaction_id(&"9".repeat(19)) && !valid_transaction_id("t-1"));
    }

    #[test]
    fn user_names_are_short_and_plain() {
        assert!(valid_user("ibkr-user_1") && valid_user(&"a".repeat(64)));
        assert!(!valid_user("") && !valid_user(&"a".repeat(65)) && !valid_user("a.b") && !valid_user("a b"));
    }
}
