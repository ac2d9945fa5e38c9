//! Loopback test controls for investment transactions (not part of any provider's API). Every
//! body is JSON; `provider` is `"snaptrade"` (with `user`, the SnapTrade userId; `user_id` is
//! accepted too), `"plaid"` (with `item_id`) or `"schwab"` (with `customer`, the simulated Schwab
//! customer who logs in on the consent page, as the `/__sim/schwab/*` controls name it; its
//! `account_id` is the account's `hashValue` or its plain `accountNumber`, and answers name the
//! hash). Answers 400 `{"error"}` for bad input and 404 `{"error"}` for an unknown user, account,
//! Item or transaction.
//!
//! - `POST /__sim/transactions` `{provider, user?|item_id?|customer?, account_id, rows: [{kind, symbol?,
//!   quantity?, price?, amount?, fee?, currency?, date, id?, description?, external_reference_id?}],
//!   apply_to_holdings?: false}` → `{provider, account_id, ids: [...]}`: appends the rows (see
//!   [`super::spec`]: `kind` one of buy, sell, dividend, interest, fee, tax, deposit, withdrawal,
//!   split, transfer_in, transfer_out; decimals as strings; `amount` + = into the account, rendered
//!   in each provider's own convention; a past `date` is a late-posting row that later reads of that
//!   date include). All rows or none. With `apply_to_holdings`, buy/sell/split/transfer rows also
//!   move the account's position in that ticker (`positions/all`, `/investments/holdings/get`;
//!   Plaid needs a ticker some institution seeds). Plaid rows count as new for the next
//!   `INVESTMENTS_TRANSACTIONS` webhook.
//!   Schwab: `{"provider": "schwab", "customer": "ann", "account_id": "<hashValue>|12345678",
//!   "rows": [...]}`; the customer's default histories are made first (see
//!   [`crate::schwab::history`]); a given `id` is the `activityId` (1 to 18 digits); rows are rendered
//!   by [`crate::schwab::wire`]; `apply_to_holdings` is refused (replace the positions with
//!   `POST /__sim/schwab/accounts` instead).
//! - `POST /__sim/transactions/history` `{provider, user?|item_id?|customer?, account_id?, count
//!   (1..=20000), end_date?}` → `{provider, account_id, count, ids, oldest_date, newest_date}`:
//!   appends `count` generated rows (four per day back from `end_date`, default the day before the
//!   account was created — for Schwab, the day before the customer's history anchor; see
//!   [`super::history::generated_rows`]) to the account, or the user's / Item's / customer's first.
//! - `POST /__sim/transactions/cancel` `{provider: "plaid", item_id, investment_transaction_id}` →
//!   `{provider, item_id, account_id, cancelled}`: the row leaves later reads (holdings it moved are
//!   not moved back) and counts in the next webhook's `cancelled_investments_transactions`.
//! - `POST /__sim/transactions/reissue` `{provider: "snaptrade", user, account_id}` → `{provider,
//!   account_id, reissued: n, ids: {old: new}}`: every activity of the account gets a new id, same
//!   content and order (SnapTrade deleted and re-fetched the data).
//! - `POST /__sim/plaid/transactions-not-ready` `{item_id, times (0..=1000)}` → `{item_id, times}`:
//!   the Item's next `times` `/investments/transactions/get` calls answer `PRODUCT_NOT_READY` (0 clears).

use super::history::generated_rows;
use super::spec::{parse_rows, RowSpec};
use super::{Ledger, Tx};
use crate::control::{bad, parse};
use crate::ibkr::dates::Date;
use crate::plaid::seed::security_by_ticker;
use crate::plaid::transactions as plaid_tx;
use crate::schwab::history as schwab_tx;
use crate::schwab::oauth::valid_customer;
use crate::snaptrade::activities as snap;
use crate::{lock, Sim};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The most rows one history request may generate.
pub const MAX_HISTORY: usize = 20_000;
/// The most not-ready answers one request may arm.
pub const MAX_NOT_READY: u32 = 1000;

/// The transactions control routes.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .route("/__sim/transactions", post(append))
        .route("/__sim/transactions/history", post(history))
        .route("/__sim/transactions/cancel", post(cancel))
        .route("/__sim/transactions/reissue", post(reissue))
        .route("/__sim/plaid/transactions-not-ready", post(not_ready))
}

fn not_found(message: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response()
}

/// Why a control request was refused: bad input (400) or an unknown target (404).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    BadRequest(String),
    NotFound(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::BadRequest(message) => bad(message),
            Refusal::NotFound(message) => not_found(message),
        }
    }
}

/// Whose ledger a request addresses.
enum Target {
    SnapTrade { user: String },
    Plaid { item_id: String },
    Schwab { customer: String },
}

/// Who a request names: exactly one of SnapTrade's `user`, Plaid's `item_id`, Schwab's `customer`.
struct Owner {
    user: Option<String>,
    item_id: Option<String>,
    customer: Option<String>,
}

fn target(provider: &str, owner: Owner) -> Result<Target, Refusal> {
    let refuse = |m: String| Err(Refusal::BadRequest(m));
    match (provider, owner.user, owner.item_id, owner.customer) {
        ("snaptrade", Some(user), None, None) => Ok(Target::SnapTrade { user }),
        ("snaptrade", ..) => {
            refuse("provider \"snaptrade\" needs \"user\" (the SnapTrade userId) and no item_id or customer".into())
        }
        ("plaid", None, Some(item_id), None) => Ok(Target::Plaid { item_id }),
        ("plaid", ..) => refuse("provider \"plaid\" needs \"item_id\" and no user or customer".into()),
        ("schwab", None, None, Some(customer)) if valid_customer(&customer) => Ok(Target::Schwab { customer }),
        ("schwab", None, None, Some(_)) => refuse("customer must be 1 to 64 characters of [A-Za-z0-9._-]".into()),
        ("schwab", ..) => {
            refuse("provider \"schwab\" needs \"customer\" (the Schwab customer) and no user or item_id".into())
        }
        (other, ..) => refuse(format!("provider must be \"snaptrade\", \"plaid\" or \"schwab\", not {other:?}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendBody {
    provider: String,
    #[serde(default, alias = "user_id")]
    user: Option<String>,
    #[serde(default)]
    item_id: Option<String>,
    #[serde(default)]
    customer: Option<String>,
    account_id: String,
    rows: Vec<RowSpec>,
    #[serde(default)]
    apply_to_holdings: bool,
}

fn appended(provider: &str, account_id: &str, ids: Result<Vec<String>, super::LedgerError>) -> Response {
    match ids {
        Ok(ids) => Json(json!({ "provider": provider, "account_id": account_id, "ids": ids })).into_response(),
        Err(e) => bad(e.to_string()),
    }
}

async fn append(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<AppendBody>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    let (account_id, apply) = (req.account_id.as_str(), req.apply_to_holdings);
    let owner = Owner { user: req.user.clone(), item_id: req.item_id.clone(), customer: req.customer.clone() };
    match target(&req.provider, owner) {
        Err(refusal) => refusal.into_response(),
        Ok(Target::SnapTrade { user }) => {
            let mut state = lock(&sim.snaptrade);
            let Ok(seed) = state.account(&user, account_id).map(|view| view.seed) else {
                return not_found(format!("SnapTrade user {user:?} has no account {account_id:?}"));
            };
            let drafts = match parse_rows(req.rows, &|symbol| snap::default_currency(seed, symbol)) {
                Ok(drafts) => drafts,
                Err(message) => return bad(message),
            };
            appended("snaptrade", account_id, state.activities.append(account_id, drafts, apply, &snap::activity_id))
        }
        Ok(Target::Plaid { item_id }) => {
            let mut state = lock(&sim.plaid.state);
            let Some(item) = state.item_by_id_mut(&item_id) else {
                return not_found(format!("no Plaid Item {item_id:?}"));
            };
            let Some(index) = item.account_ids.iter().position(|a| a == account_id) else {
                return not_found(format!("Item {item_id:?} has no account {account_id:?}"));
            };
            let seed = plaid_tx::seed_of(item, index);
            let drafts = match parse_rows(req.rows, &|symbol| plaid_tx::default_currency(item, seed, symbol)) {
                Ok(drafts) => drafts,
                Err(message) => return bad(message),
            };
            let unseeded = |tx: &Tx| {
                tx.kind.moves_units()
                    && tx.symbol.as_deref().is_none_or(|s| security_by_ticker(Some(item.institution), s).is_none())
            };
            if let Some((_, tx)) = drafts.iter().find(|(_, tx)| apply && unseeded(tx)) {
                let symbol = tx.symbol.as_deref().unwrap_or_default();
                return bad(format!(
                    "apply_to_holdings needs a seeded Plaid security; no institution holds {symbol:?}"
                ));
            }
            let ids = item.transactions.append(account_id, drafts, apply, &plaid_tx::transaction_id);
            if let Ok(ids) = &ids {
                item.investments.new_since_webhook += ids.len() as u64;
            }
            appended("plaid", account_id, ids)
        }
        Ok(Target::Schwab { customer }) => append_schwab(&sim, &customer, account_id, req.rows, apply),
    }
}

/// Appends `rows` to the Schwab `customer`'s account `account_id` (its hash or number).
fn append_schwab(sim: &Sim, customer: &str, account_id: &str, rows: Vec<RowSpec>, apply: bool) -> Response {
    if apply {
        return bad(
            "apply_to_holdings is not supported for schwab; replace the positions with POST /__sim/schwab/accounts",
        );
    }
    let mut state = lock(&sim.schwab.state);
    let Some(account) = schwab_tx::find_account(&state, customer, account_id) else {
        return not_found(format!("Schwab customer {customer:?} has no account {account_id:?}"));
    };
    let drafts = match parse_rows(rows, &|_| "USD".to_owned()) {
        Ok(drafts) => drafts,
        Err(message) => return bad(message),
    };
    if let Some(id) = drafts.iter().filter_map(|(id, _)| id.as_deref()).find(|id| !schwab_tx::is_activity_id(id)) {
        return bad(format!("a Schwab id is the activityId: 1 to 18 digits, not {id:?}"));
    }
    schwab_tx::ensure_histories(&mut state, customer, schwab_tx::today());
    let ids = state.transactions.append(&account.hash, drafts, false, &schwab_tx::activity_id);
    appended("schwab", &account.hash, ids)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryBody {
    provider: String,
    #[serde(default, alias = "user_id")]
    user: Option<String>,
    #[serde(default)]
    item_id: Option<String>,
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    account_id: Option<String>,
    count: usize,
    #[serde(default)]
    end_date: Option<String>,
}

/// Generates and appends `count` rows for `account_id` of `ledger`; the answer.
fn generate(
    ledger: &mut Ledger,
    provider: &str,
    account_id: &str,
    profile: &super::history::Profile,
    count: usize,
    end: Date,
    make_id: super::IdMaker<'_>,
) -> Result<Value, Refusal> {
    let rows = generated_rows(profile, count, end, ledger.generated(account_id));
    let oldest = rows.last().map(|t| t.date.iso());
    let ids = ledger.append(account_id, rows.into_iter().map(|t| (None, t)).collect(), false, make_id);
    let ids = ids.map_err(|e| Refusal::BadRequest(e.to_string()))?;
    ledger.count_generated(account_id, count as u64);
    Ok(json!({"provider": provider, "account_id": account_id, "count": count, "ids": ids,
              "oldest_date": oldest, "newest_date": end.iso()}))
}

async fn history(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<HistoryBody>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if !(1..=MAX_HISTORY).contains(&req.count) {
        return bad(format!("count must be between 1 and {MAX_HISTORY}"));
    }
    let end = match req.end_date.as_deref().map(|d| Date::parse_iso(d).ok_or(d)) {
        Some(Err(d)) => return bad(format!("end_date {d:?} is not YYYY-MM-DD")),
        Some(Ok(end)) => Some(end),
        None => None,
    };
    append_history(&sim, &req, end).map_or_else(IntoResponse::into_response, |body| Json(body).into_response())
}

/// The history control's answer for `req` (rows generated back from `end`, else the day before
/// the account was created).
fn append_history(sim: &Sim, req: &HistoryBody, end: Option<Date>) -> Result<Value, Refusal> {
    let day_before = |created: i64| Date::from_days(created.div_euclid(86_400) - 1);
    let owner = Owner { user: req.user.clone(), item_id: req.item_id.clone(), customer: req.customer.clone() };
    match target(&req.provider, owner)? {
        Target::SnapTrade { user } => {
            let mut state = lock(&sim.snaptrade);
            let chosen = match &req.account_id {
                Some(id) => state.account(&user, id).ok(),
                None => state.user_accounts(&user).into_iter().next(),
            };
            let Some(view) = chosen else {
                return Err(Refusal::NotFound(format!("SnapTrade user {user:?} has no such account")));
            };
            let (account_id, created) = (view.id.to_owned(), view.created);
            let seed_index = view.brokerage.accounts.iter().position(|a| std::ptr::eq(a, view.seed)).unwrap_or(0);
            let profile = snap::profile(&account_id, view.brokerage, seed_index);
            let end = end.unwrap_or_else(|| day_before(created));
            generate(&mut state.activities, "snaptrade", &account_id, &profile, req.count, end, &snap::activity_id)
        }
        Target::Plaid { item_id } => {
            let mut state = lock(&sim.plaid.state);
            let Some(item) = state.item_by_id_mut(&item_id) else {
                return Err(Refusal::NotFound(format!("no Plaid Item {item_id:?}")));
            };
            let index = match &req.account_id {
                Some(id) => item.account_ids.iter().position(|a| a == id),
                None => (!item.account_ids.is_empty()).then_some(0),
            };
            let Some(index) = index else {
                return Err(Refusal::NotFound(format!("Item {item_id:?} has no such account")));
            };
            let account_id = item.account_ids[index].clone();
            let split = index.is_multiple_of(item.institution.accounts.len());
            let profile = plaid_tx::profile(&account_id, plaid_tx::seed_of(item, index), split);
            let end = end.unwrap_or_else(|| day_before(item.created));
            let made = generate(
                &mut item.transactions,
                "plaid",
                &account_id,
                &profile,
                req.count,
                end,
                &plaid_tx::transaction_id,
            );
            if made.is_ok() {
                item.investments.new_since_webhook += req.count as u64;
            }
            made
        }
        Target::Schwab { customer } => {
            let mut state = lock(&sim.schwab.state);
            let chosen = match &req.account_id {
                Some(id) => schwab_tx::find_account(&state, &customer, id),
                None => schwab_tx::accounts_of(&state, &customer).into_iter().next(),
            };
            let Some(account) = chosen else {
                return Err(Refusal::NotFound(format!("Schwab customer {customer:?} has no such account")));
            };
            let anchor = state.history_anchor(&customer, schwab_tx::today());
            schwab_tx::ensure_histories(&mut state, &customer, anchor);
            let profile = schwab_tx::profile(&account.hash, &account.account, account.index == 0);
            let end = end.unwrap_or_else(|| anchor.add_days(-1));
            generate(
                &mut state.transactions,
                "schwab",
                &account.hash,
                &profile,
                req.count,
                end,
                &schwab_tx::activity_id,
            )
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    provider: String,
    item_id: String,
    investment_transaction_id: String,
}

async fn cancel(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<CancelBody>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if req.provider != "plaid" {
        return bad(
            "only \"plaid\" transactions can be cancelled (SnapTrade activities hold no pending or cancelled rows)",
        );
    }
    let mut state = lock(&sim.plaid.state);
    let Some(item) = state.item_by_id_mut(&req.item_id) else {
        return not_found(format!("no Plaid Item {:?}", req.item_id));
    };
    match item.transactions.remove(&req.investment_transaction_id) {
        None => not_found(format!("Item {:?} has no transaction {:?}", req.item_id, req.investment_transaction_id)),
        Some((account_id, row)) => {
            item.investments.cancelled_since_webhook += 1;
            Json(json!({"provider": "plaid", "item_id": req.item_id, "account_id": account_id, "cancelled": row.id}))
                .into_response()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReissueBody {
    provider: String,
    #[serde(alias = "user_id")]
    user: String,
    account_id: String,
}

async fn reissue(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<ReissueBody>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if req.provider != "snaptrade" {
        return bad("only \"snaptrade\" activities are reissued (Plaid's investment_transaction_id does not change)");
    }
    let mut state = lock(&sim.snaptrade);
    if state.account(&req.user, &req.account_id).is_err() {
        return not_found(format!("SnapTrade user {:?} has no account {:?}", req.user, req.account_id));
    }
    let changed = state.activities.reissue(&req.account_id, &snap::activity_id);
    let ids: Map<String, Value> = changed.iter().map(|(old, new)| (old.clone(), json!(new))).collect();
    Json(json!({"provider": "snaptrade", "account_id": req.account_id, "reissued": changed.len(), "ids": ids}))
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotReadyBody {
    item_id: String,
    times: u32,
}

async fn not_ready(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let req = match parse::<NotReadyBody>(&body) {
        Ok(req) => req,
        Err(message) => return bad(message),
    };
    if req.times > MAX_NOT_READY {
        return bad(format!("times must be at most {MAX_NOT_READY}"));
    }
    let mut state = lock(&sim.plaid.state);
    let Some(item) = state.item_by_id_mut(&req.item_id) else {
        return not_found(format!("no Plaid Item {:?}", req.item_id));
    };
    item.investments.not_ready = req.times;
    Json(json!({ "item_id": req.item_id, "times": req.times })).into_response()
}
