//! Loopback test controls that widen an existing connection to many accounts (for benchmarks of
//! fan-out over accounts; not part of any provider's API):
//!
//! - `POST /__sim/snaptrade/accounts` `{"user_id", "authorization_id", "count"}` → `{"authorization_id",
//!   "accounts": [ids]}`: the connection gets new accounts until it holds `count`; account `i` shows
//!   the brokerage's seeded account `i mod n` (so names and numbers repeat; ids never do).
//! - `POST /__sim/plaid/accounts` `{"item_id", "count"}` → `{"item_id", "accounts": [ids]}`: the
//!   same for a Plaid Item (account `i` shows the institution's seeded account `i mod n`).
//!
//! Each new account gets the default transaction history of the seeded account it shows (see
//! [`crate::ledger::history`]). `count` is from the connection's current account count to
//! [`MAX_ACCOUNTS`]; a connection never shrinks. 400 `{"error"}` for bad input, 404 `{"error"}` for an unknown connection or Item.

use crate::control::{bad, parse};
use crate::plaid::state::Item;
use crate::snaptrade::state::{Account, SnapState};
use crate::util::{now_unix, random_uuid};
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The most accounts a widened connection may hold.
pub const MAX_ACCOUNTS: usize = 100;

/// The `/__sim/*/accounts` routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/snaptrade/accounts", post(widen_snaptrade))
        .route("/__sim/plaid/accounts", post(widen_plaid))
}

fn not_found(message: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response()
}

/// Checks that `count` may replace `current` accounts.
fn check_count(current: usize, count: usize) -> Result<(), String> {
    if count < current || count > MAX_ACCOUNTS {
        return Err(format!("count must be from the current {current} accounts to {MAX_ACCOUNTS}"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapTradeWiden {
    user_id: String,
    authorization_id: String,
    count: usize,
}

/// Why a connection could not be widened.
#[derive(Debug, PartialEq, Eq)]
pub enum WidenError {
    /// `count` is below the current account count or above [`MAX_ACCOUNTS`] (400).
    BadCount(String),
    /// The user has no such connection (404).
    NotFound(String),
}

/// Adds accounts to the user's authorization until it holds `count`; returns every account id.
pub fn widen_authorization(
    state: &mut SnapState,
    user_id: &str,
    authorization_id: &str,
    count: usize,
    unix: i64,
) -> Result<Vec<String>, WidenError> {
    let missing = || WidenError::NotFound(format!("user {user_id:?} has no authorization {authorization_id:?}"));
    let auth = state.authorization(user_id, authorization_id).map_err(|_| missing())?;
    let (current, seeded, brokerage) = (auth.accounts.len(), auth.brokerage.accounts.len(), auth.brokerage);
    check_count(current, count).map_err(WidenError::BadCount)?;
    let mut added = Vec::new();
    for index in current..count {
        let id = random_uuid();
        let account = Account {
            id: id.clone(),
            authorization_id: authorization_id.to_owned(),
            user_id: user_id.to_owned(),
            seed_index: index % seeded,
            created: unix,
        };
        state.accounts.insert(id.clone(), account);
        crate::snaptrade::activities::seed_history(&mut state.activities, &id, brokerage, index % seeded, unix);
        added.push(id);
    }
    let auth = state.authorization_mut(user_id, authorization_id).map_err(|_| missing())?;
    auth.accounts.extend(added);
    Ok(auth.accounts.clone())
}

async fn widen_snaptrade(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<SnapTradeWiden>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    let mut state = lock(&sim.snaptrade);
    match widen_authorization(&mut state, &req.user_id, &req.authorization_id, req.count, now_unix()) {
        Ok(accounts) => Json(json!({ "authorization_id": req.authorization_id, "accounts": accounts })).into_response(),
        Err(WidenError::BadCount(message)) => bad(message),
        Err(WidenError::NotFound(message)) => not_found(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaidWiden {
    item_id: String,
    count: usize,
}

async fn widen_plaid(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<PlaidWiden>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    let mut state = lock(&sim.plaid.state);
    let Some(item) = state.item_by_id_mut(&req.item_id) else {
        return not_found(format!("no Item {:?}", req.item_id));
    };
    match widen_item(item, req.count) {
        Ok(accounts) => Json(json!({ "item_id": req.item_id, "accounts": accounts })).into_response(),
        Err(message) => bad(message),
    }
}

/// Adds account ids to `item` until it holds `count`; returns every account id.
pub fn widen_item(item: &mut Item, count: usize) -> Result<Vec<String>, String> {
    check_count(item.account_ids.len(), count)?;
    while item.account_ids.len() < count {
        item.account_ids.push(crate::plaid::random_id(37));
    }
    crate::plaid::transactions::seed_item(item);
    Ok(item.account_ids.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snaptrade::seed::brokerage;

    fn connected(state: &mut SnapState) -> String {
        state.register("ann").unwrap();
        let auth = crate::snaptrade::state::Authorization {
            id: "auth-1".into(),
            user_id: "ann".into(),
            brokerage: brokerage("IBKR").unwrap(),
            trade: false,
            disabled: false,
            disabled_at: None,
            created: 1,
            updated: 1,
            synced: 1,
            last_refresh: None,
            accounts: Vec::new(),
        };
        state.authorizations.insert(auth.id.clone(), auth);
        state.users.get_mut("ann").unwrap().authorizations.push("auth-1".into());
        "auth-1".into()
    }

    #[test]
    fn a_connection_grows_to_count_accounts_cycling_through_the_seed() {
        let mut state = SnapState::default();
        let auth = connected(&mut state);
        let ids = widen_authorization(&mut state, "ann", &auth, 10, 5).unwrap();
        assert_eq!(ids.len(), 10);
        let seeds: Vec<usize> = ids.iter().map(|id| state.accounts[id].seed_index).collect();
        assert_eq!(seeds, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], "IBKR has three seeded accounts");
        assert_eq!(state.user_accounts("ann").len(), 10);
        assert_eq!(state.user_accounts("ann")[3].seed.name, "IBKR Individual");
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), 10, "ids never repeat");
    }

    #[test]
    fn a_widened_plaid_item_serves_every_account_with_its_seeded_holdings() {
        use crate::plaid::state::PlaidState;
        let mut state = PlaidState::default();
        let request = crate::plaid::state::sample_link_request();
        let token = state.create_link_token(request, 0).token.clone();
        let done = state.complete_link(&token, "ins_56", 1).unwrap();
        let (access, item_id, _) = state.exchange(&done.public_token, 2).unwrap();
        let item = state.item_by_id_mut(&item_id).unwrap();
        assert_eq!(widen_item(item, 10).unwrap().len(), 10);
        assert!(widen_item(item, 9).is_err(), "never shrinks");
        let body = crate::plaid::seed_json::holdings_json(state.item(&access).unwrap(), &|_| true);
        let accounts = body["accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 10);
        let names: Vec<&str> = accounts.iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names[0], names[2], "Chase's two seeded accounts repeat in order");
        assert_ne!(names[0], names[1]);
        // Chase seeds 6 + 2 holdings; five copies of each account.
        assert_eq!(body["holdings"].as_array().unwrap().len(), 5 * 8);
    }

    #[test]
    fn widening_never_shrinks_exceeds_the_cap_or_crosses_users() {
        let mut state = SnapState::default();
        let auth = connected(&mut state);
        widen_authorization(&mut state, "ann", &auth, 4, 5).unwrap();
        assert!(matches!(widen_authorization(&mut state, "ann", &auth, 3, 5), Err(WidenError::BadCount(_))));
        let too_many = widen_authorization(&mut state, "ann", &auth, MAX_ACCOUNTS + 1, 5);
        assert!(matches!(too_many, Err(WidenError::BadCount(_))));
        assert!(matches!(widen_authorization(&mut state, "bob", &auth, 5, 5), Err(WidenError::NotFound(_))));
        assert_eq!(widen_authorization(&mut state, "ann", &auth, 4, 5).unwrap().len(), 4, "same count is a no-op");
    }
}
