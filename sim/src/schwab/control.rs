//! Loopback test controls for the Schwab half (not part of Schwab's API):
//!
//! - `POST /__sim/schwab/ratelimit` `{"per_minute": n}` (1..=100000) → `{"per_minute": n}`: the
//!   per-app limit on non-order requests (token + Trader calls) per trailing 60 s (default 120); resets the window.
//! - `POST /__sim/schwab/age` `{"customer": "…", "seconds": n}` (1..=31536000) → `{"customer",
//!   "aged": {"codes": a, "access_tokens": b, "logins": c}}`: everything of that customer becomes
//!   `n` seconds older, so a test can expire a code (30), an access token (1801) or a login's
//!   refresh token (604800) without waiting.
//! - `POST /__sim/schwab/accounts` `{"customer": "…", "accounts": [Account, …]}` → `{"accounts": n}`:
//!   replaces the customer's account data with `Account` objects exactly as `GET /trader/v1/accounts?fields=positions`
//!   serves them; each needs `securitiesAccount.accountNumber` as a string of digits (unique; hashes derive from it).
//!
//! Bad input → 400 `{"error"}`.

use super::oauth::valid_customer;
use super::seed::account_number;
use crate::control::{bad, parse};
use crate::snaptrade::ratelimit::MAX_LIMIT;
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The longest ageing one call may apply (a year).
pub const MAX_AGE_SECS: u64 = 31_536_000;
/// The most accounts one customer may be given.
pub const MAX_ACCOUNTS: usize = 100;
/// The longest account number accepted.
const MAX_ACCOUNT_NUMBER_LEN: usize = 32;

/// The `/__sim/schwab/*` routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/schwab/ratelimit", post(set_rate_limit))
        .route("/__sim/schwab/age", post(age))
        .route("/__sim/schwab/accounts", post(set_accounts))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimit {
    per_minute: usize,
}

async fn set_rate_limit(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    match parse::<RateLimit>(&body) {
        Ok(RateLimit { per_minute }) if (1..=MAX_LIMIT).contains(&per_minute) => {
            let mut rate = lock(&sim.schwab.rate);
            rate.set_limit(per_minute);
            Json(json!({ "per_minute": rate.limit() })).into_response()
        }
        Ok(_) => bad(format!("per_minute must be between 1 and {MAX_LIMIT}")),
        Err(message) => bad(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Age {
    customer: String,
    seconds: u64,
}

async fn age(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let Age { customer, seconds } = match parse::<Age>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if !valid_customer(&customer) {
        return bad("customer must be 1 to 64 characters of [A-Za-z0-9._-]");
    }
    if !(1..=MAX_AGE_SECS).contains(&seconds) {
        return bad(format!("seconds must be between 1 and {MAX_AGE_SECS}"));
    }
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    let aged = lock(&sim.schwab.state).age(&customer, seconds);
    let counts = json!({"codes": aged.codes, "access_tokens": aged.access_tokens, "logins": aged.logins});
    Json(json!({ "customer": customer, "aged": counts })).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accounts {
    customer: String,
    accounts: Vec<Value>,
}

/// Checks replacement account data: objects with a unique all-digit `securitiesAccount.accountNumber`.
pub fn check_accounts(accounts: &[Value]) -> Result<(), String> {
    if accounts.len() > MAX_ACCOUNTS {
        return Err(format!("at most {MAX_ACCOUNTS} accounts"));
    }
    let mut seen = BTreeSet::new();
    for (i, account) in accounts.iter().enumerate() {
        if !account.get("securitiesAccount").is_some_and(Value::is_object) {
            return Err(format!("accounts[{i}] needs a securitiesAccount object"));
        }
        let number = account_number(account)
            .filter(|n| !n.is_empty() && n.len() <= MAX_ACCOUNT_NUMBER_LEN && n.bytes().all(|b| b.is_ascii_digit()));
        let Some(number) = number else {
            return Err(format!("accounts[{i}].securitiesAccount.accountNumber must be a string of digits"));
        };
        if !seen.insert(number) {
            return Err(format!("account number {number} appears twice"));
        }
    }
    Ok(())
}

async fn set_accounts(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let Accounts { customer, accounts } = match parse::<Accounts>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if !valid_customer(&customer) {
        return bad("customer must be 1 to 64 characters of [A-Za-z0-9._-]");
    }
    if let Err(message) = check_accounts(&accounts) {
        return bad(message);
    }
    let n = accounts.len();
    lock(&sim.schwab.state).set_accounts(&customer, accounts);
    Json(json!({ "accounts": n })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_accounts_need_unique_digit_numbers() {
        let account = |n: Value| json!({"securitiesAccount": {"accountNumber": n}});
        assert!(check_accounts(&[account(json!("1")), account(json!("22"))]).is_ok());
        assert!(check_accounts(&[]).is_ok());
        assert!(check_accounts(&[account(json!("1")), account(json!("1"))]).is_err());
        assert!(check_accounts(&[account(json!(1))]).is_err());
        assert!(check_accounts(&[account(json!("12a"))]).is_err());
        assert!(check_accounts(&[account(json!(""))]).is_err());
        assert!(check_accounts(&[json!({"accountNumber": "1"})]).is_err());
    }
}
