//! The Trader API account handlers. Each runs only after the gate has accepted the access token;
//! accounts are addressed by their `hashValue` (never the plain number), and `positions` appear
//! only with `fields=positions` — and never as an empty array.

use super::message;
use super::seed::{account_hash, account_number};
use super::state::Caller;
use crate::{lock, Sim};
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};
use std::sync::Arc;

/// Whether the query asks for positions: `Some(true)` for `fields=positions`, `Some(false)`
/// without `fields`, `None` (400 `Invalid fields value`) for any other `fields` value.
pub fn wants_positions(uri: &Uri) -> Option<bool> {
    let Query(params) = Query::<Vec<(String, String)>>::try_from_uri(uri).ok()?;
    let mut positions = false;
    for (_, value) in params.iter().filter(|(k, _)| k == "fields") {
        if value != "positions" {
            return None;
        }
        positions = true;
    }
    Some(positions)
}

fn invalid_fields() -> Response {
    message(400, "Invalid fields value")
}

/// `account` as served: without `positions` unless asked for, and never with an empty or null list.
pub fn render(account: &Value, positions: bool) -> Value {
    let mut account = account.clone();
    if let Some(Value::Object(securities)) = account.get_mut("securitiesAccount") {
        let empty = securities.get("positions").is_none_or(|p| p.as_array().is_none_or(Vec::is_empty));
        if !positions || empty {
            securities.remove("positions");
        }
    }
    account
}

/// `GET /trader/v1/accounts/accountNumbers` → `[{accountNumber, hashValue}]` of the caller's customer.
pub async fn account_numbers(State(sim): State<Arc<Sim>>, Extension(caller): Extension<Caller>) -> Response {
    let accounts = lock(&sim.schwab.state).accounts(&caller.customer);
    let pairs: Vec<Value> = accounts
        .iter()
        .filter_map(account_number)
        .map(|n| json!({"accountNumber": n, "hashValue": account_hash(&caller.customer, n)}))
        .collect();
    Json(pairs).into_response()
}

/// `GET /trader/v1/accounts[?fields=positions]` → every account of the caller's customer.
pub async fn accounts(State(sim): State<Arc<Sim>>, Extension(caller): Extension<Caller>, uri: Uri) -> Response {
    let Some(positions) = wants_positions(&uri) else {
        return invalid_fields();
    };
    let accounts = lock(&sim.schwab.state).accounts(&caller.customer);
    Json(accounts.iter().map(|a| render(a, positions)).collect::<Vec<_>>()).into_response()
}

/// `GET /trader/v1/accounts/{accountHash}[?fields=positions]` → that account; 400 `Invalid account
/// number` for a plain number or a hash that is not the customer's.
pub async fn account(
    State(sim): State<Arc<Sim>>,
    Extension(caller): Extension<Caller>,
    Path(hash): Path<String>,
    uri: Uri,
) -> Response {
    let Some(positions) = wants_positions(&uri) else {
        return invalid_fields();
    };
    let accounts = lock(&sim.schwab.state).accounts(&caller.customer);
    let found = accounts.iter().find(|a| account_number(a).is_some_and(|n| account_hash(&caller.customer, n) == hash));
    match found {
        Some(account) => Json(render(account, positions)).into_response(),
        None => message(400, "Invalid account number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn only_fields_positions_is_accepted() {
        assert_eq!(wants_positions(&uri("/trader/v1/accounts")), Some(false));
        assert_eq!(wants_positions(&uri("/trader/v1/accounts?fields=positions")), Some(true));
        assert_eq!(wants_positions(&uri("/trader/v1/accounts?other=1")), Some(false));
        assert_eq!(wants_positions(&uri("/trader/v1/accounts?fields=orders")), None);
        assert_eq!(wants_positions(&uri("/trader/v1/accounts?fields=")), None);
        assert_eq!(wants_positions(&uri("/trader/v1/accounts?fields=positions&fields=x")), None);
    }

    #[test]
    fn positions_are_shown_only_when_asked_and_never_empty() {
        let account = json!({"securitiesAccount": {"accountNumber": "1", "positions": [{"longQuantity": 1.0}]}});
        assert!(render(&account, true)["securitiesAccount"].get("positions").is_some());
        assert!(render(&account, false)["securitiesAccount"].get("positions").is_none());
        let empty = json!({"securitiesAccount": {"accountNumber": "1", "positions": []}});
        assert!(render(&empty, true)["securitiesAccount"].get("positions").is_none());
    }
}
