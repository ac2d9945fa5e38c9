//! `/investments/transactions/get` (InvestmentsTransactionsGetRequest → …Response) over the Item's
//! [`crate::ledger`] rows, and the default history every account of an Item gets at link time.
//!
//! Request: `access_token`, `start_date`, `end_date` (required `YYYY-MM-DD`; missing →
//! `MISSING_FIELDS`, not a date or start after end → `INVALID_FIELD`), `options` (an object when
//! present: `account_ids` (unknown → `INVALID_ACCOUNT_ID`), `count` (default 100, 1..=500, else
//! `INVALID_FIELD`), `offset` (default 0), `async_update` (accepted; no effect); other keys →
//! `UNKNOWN_FIELDS`). Rows dated within [start, end] (on `date`) of the chosen accounts, reverse
//! chronological and stable (date, then time of day, then newest-posted first), paged by
//! `offset`/`count`; `total_investment_transactions` counts every row in the range and accounts.
//! The body also has `accounts` (the chosen accounts, as `/investments/holdings/get` renders
//! them), `securities` (exactly those the page's rows reference, the same objects as the holdings
//! endpoint; a ticker no institution seeds gets a plain `equity` security with a null price),
//! `item`, `is_investments_fallback_item: false` and `request_id`. While the Item's not-ready
//! count ([`super::state::InvestmentsStatus::not_ready`]) is above 0 a call spends one and answers
//! 400 `ITEM_ERROR`/`PRODUCT_NOT_READY`.
//!
//! Rendering follows Plaid's sign convention: `amount` positive when cash is debited (buys, fees,
//! taxes, withdrawals), negative when credited (sells, dividends, interest, deposits); `quantity`
//! positive for buys, splits and transfers in, negative for sells and transfers out, 0 for cash
//! rows; `security_id` null for rows without a ticker; `fees` null unless the row carries a fee
//! (trades always do); exactly one of `iso_currency_code` / `unofficial_currency_code` is set;
//! `transaction_datetime` only when the time of day is known. Kinds map to type/subtype: buy
//! buy/buy, sell sell/sell, dividend cash/dividend, interest cash/interest, fee fee/account fee,
//! tax cash/tax, deposit cash/deposit, withdrawal cash/withdrawal, split transfer/split,
//! transfer_in and transfer_out transfer/transfer.

use super::gate::Admitted;
use super::routes::with_item;
use super::seed::{security_by_ticker, SeedAccount};
use super::seed_json::{account_json, item_json, security_json, stable_id};
use super::state::Item;
use super::{ok, PlaidError};
use crate::ibkr::dates::Date;
use crate::ledger::history::{default_rows, Lot, Profile};
use crate::ledger::{number, Kind, Row};
use crate::util::rfc3339;
use crate::Sim;
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The default number of transactions per page.
pub const DEFAULT_COUNT: u64 = 100;
/// The most transactions one page may ask for.
pub const MAX_COUNT: u64 = 500;
/// Currency codes rendered as `iso_currency_code`; any other code is an `unofficial_currency_code`.
const ISO_CODES: &[&str] =
    &["USD", "CAD", "EUR", "GBP", "JPY", "CHF", "AUD", "NZD", "HKD", "SGD", "SEK", "NOK", "DKK", "MXN"];

/// Plaid's (type, subtype) for a ledger kind.
pub fn plaid_type(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Buy => ("buy", "buy"),
        Kind::Sell => ("sell", "sell"),
        Kind::Dividend => ("cash", "dividend"),
        Kind::Interest => ("cash", "interest"),
        Kind::Fee => ("fee", "account fee"),
        Kind::Tax => ("cash", "tax"),
        Kind::Deposit => ("cash", "deposit"),
        Kind::Withdrawal => ("cash", "withdrawal"),
        Kind::Split => ("transfer", "split"),
        Kind::TransferIn | Kind::TransferOut => ("transfer", "transfer"),
    }
}

/// The `investment_transaction_id` of row `seq` of `account` (37 characters, stable).
pub fn transaction_id(account: &str, seq: u64, version: u32) -> String {
    stable_id(&format!("plaid-investment-transaction:{account}:{seq}:{version}"))
}

/// The history profile of an account showing `seed` (tradable holdings: not cash or money market,
/// with a ticker; `split` for the institution's first account).
pub fn profile(account_id: &str, seed: &'static SeedAccount, split: bool) -> Profile {
    let lots = seed
        .holdings
        .iter()
        .filter(|h| !h.security.cash_equivalent && h.security.kind != "cash")
        .filter_map(|h| {
            Some(Lot {
                symbol: h.security.ticker?.to_owned(),
                currency: h.security.currency.to_owned(),
                units: h.quantity.parse().ok()?,
                price: h.security.price.parse().ok()?,
            })
        })
        .collect();
    let holds_cad = seed.holdings.iter().any(|h| h.security.currency == "CAD");
    Profile { account_id: account_id.to_owned(), currency: seed.currency.to_owned(), lots, split, holds_cad }
}

/// The seeded account account `index` of `item` shows (a widened Item repeats them in order).
pub fn seed_of(item: &Item, index: usize) -> &'static SeedAccount {
    let accounts = item.institution.accounts;
    &accounts[index % accounts.len()]
}

/// Gives every account of `item` that has none its default history, dated back from the Item's
/// creation day (see [`crate::ledger::history`]).
pub fn seed_item(item: &mut Item) {
    let anchor = Date::from_days(item.created.div_euclid(86_400));
    let per_institution = item.institution.accounts.len();
    for (index, account_id) in item.account_ids.clone().iter().enumerate() {
        if item.transactions.has_account(account_id) {
            continue;
        }
        item.transactions.open(account_id);
        let rows =
            default_rows(&profile(account_id, seed_of(item, index), index.is_multiple_of(per_institution)), anchor);
        // Made ids are derived from the account id, so they never collide.
        let _ =
            item.transactions.append(account_id, rows.into_iter().map(|t| (None, t)).collect(), false, &transaction_id);
    }
}

/// The currency a row in `symbol` defaults to: the seeded security's, else the account's.
pub fn default_currency(item: &Item, seed: &'static SeedAccount, symbol: Option<&str>) -> String {
    symbol.and_then(|s| security_by_ticker(Some(item.institution), s)).map_or(seed.currency, |s| s.currency).to_owned()
}

/// (`iso_currency_code`, `unofficial_currency_code`): exactly one is set.
fn currency_codes(code: &str) -> (Value, Value) {
    if ISO_CODES.contains(&code) {
        (json!(code), Value::Null)
    } else {
        (Value::Null, json!(code))
    }
}

/// The `security_id` rows in `ticker` reference (the seeded security's, or the plain one's).
fn ticker_security_id(ticker: &str) -> String {
    stable_id(&format!("plaid-security:{ticker}"))
}

/// The `Security` object of `ticker`: the seeded one when any institution has it, else a plain
/// equity with no price.
fn ticker_security_json(item: &Item, ticker: &str, currency: &str) -> Value {
    if let Some(security) = security_by_ticker(Some(item.institution), ticker) {
        return security_json(security, item.last_update);
    }
    let (iso, unofficial) = currency_codes(currency);
    json!({
        "security_id": ticker_security_id(ticker), "isin": null, "cusip": null, "sedol": null,
        "institution_security_id": null, "institution_id": null, "proxy_security_id": null,
        "name": ticker, "ticker_symbol": ticker, "is_cash_equivalent": false, "type": "equity",
        "subtype": "common stock", "close_price": null, "close_price_as_of": null, "update_datetime": null,
        "iso_currency_code": iso, "unofficial_currency_code": unofficial, "market_identifier_code": null,
        "sector": null, "industry": null, "cfi_code": null, "option_contract": null, "fixed_income": null,
    })
}

/// One `InvestmentTransaction` of `account_id` (see the module doc for the conventions).
pub fn transaction_json(account_id: &str, row: &Row) -> Value {
    let tx = &row.tx;
    let (kind, subtype) = plaid_type(tx.kind);
    let (iso, unofficial) = currency_codes(&tx.currency);
    let datetime = tx.time.map(|t| rfc3339(tx.date.days_since(Date::from_days(0)) * 86_400 + i64::from(t)));
    json!({
        "investment_transaction_id": row.id,
        "account_id": account_id,
        "security_id": tx.symbol.as_deref().map(ticker_security_id),
        "date": tx.date.iso(),
        "transaction_datetime": datetime,
        "name": tx.description(),
        "quantity": number(tx.position_change()),
        "amount": number(-tx.amount),
        "price": number(tx.price),
        "fees": tx.fee.map(number),
        "type": kind,
        "subtype": subtype,
        "iso_currency_code": iso,
        "unofficial_currency_code": unofficial,
    })
}

/// A checked `/investments/transactions/get` request.
#[derive(Debug, PartialEq, Eq)]
struct TransactionsRequest {
    start: Date,
    end: Date,
    account_ids: Option<Vec<String>>,
    count: usize,
    offset: usize,
}

fn date_field(body: &Map<String, Value>, key: &str) -> Result<Date, PlaidError> {
    match body.get(key) {
        Some(Value::String(s)) => Date::parse_iso(s)
            .ok_or_else(|| PlaidError::invalid_field(format!("{key} must be a date in YYYY-MM-DD format"))),
        _ => Err(PlaidError::invalid_field(format!("{key} must be a string"))),
    }
}

fn whole_number(options: &Map<String, Value>, key: &str, default: u64) -> Result<u64, PlaidError> {
    match options.get(key) {
        None => Ok(default),
        Some(v) => {
            v.as_u64().ok_or_else(|| PlaidError::invalid_field(format!("options.{key} must be a non-negative integer")))
        }
    }
}

impl TransactionsRequest {
    fn parse(body: &Map<String, Value>) -> Result<Self, PlaidError> {
        let absent = |k: &str| matches!(body.get(k), None | Some(Value::Null)) || body.get(k) == Some(&json!(""));
        let missing: Vec<&str> = ["access_token", "start_date", "end_date"].into_iter().filter(|k| absent(k)).collect();
        if !missing.is_empty() {
            return Err(PlaidError::missing_fields(&missing));
        }
        let (start, end) = (date_field(body, "start_date")?, date_field(body, "end_date")?);
        if start > end {
            return Err(PlaidError::invalid_field("start_date must be on or before end_date"));
        }
        let empty = Map::new();
        let options = match body.get("options") {
            None => &empty,
            Some(Value::Object(options)) => options,
            Some(_) => return Err(PlaidError::invalid_field("options must be an object")),
        };
        let unknown: Vec<&str> = options
            .keys()
            .map(String::as_str)
            .filter(|k| !matches!(*k, "account_ids" | "count" | "offset" | "async_update"))
            .collect();
        if !unknown.is_empty() {
            let message = format!(
                "the following fields are not recognized by this endpoint: options.{}",
                unknown.join(", options.")
            );
            return Err(PlaidError::invalid_request("UNKNOWN_FIELDS", message));
        }
        let count = whole_number(options, "count", DEFAULT_COUNT)?;
        if !(1..=MAX_COUNT).contains(&count) {
            return Err(PlaidError::invalid_field(format!("options.count must be between 1 and {MAX_COUNT}")));
        }
        let offset = whole_number(options, "offset", 0)?;
        if options.get("async_update").is_some_and(|v| !v.is_boolean()) {
            return Err(PlaidError::invalid_field("options.async_update must be a boolean"));
        }
        let account_ids = match options.get("account_ids") {
            None | Some(Value::Null) => None,
            Some(Value::Array(ids)) if ids.iter().all(Value::is_string) => {
                Some(ids.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            }
            Some(_) => return Err(PlaidError::invalid_field("options.account_ids must be an array of strings")),
        };
        Ok(Self {
            start,
            end,
            account_ids,
            count: count as usize,
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
        })
    }
}

/// The response body (without `request_id`) for `request` over `item`, or the error to answer.
fn page(item: &mut Item, request: &TransactionsRequest) -> Result<Value, PlaidError> {
    if let Some(unknown) = request.account_ids.iter().flatten().find(|id| !item.account_ids.contains(id)) {
        let message = format!("the account_id {unknown:?} is not associated with this Item");
        return Err(PlaidError::invalid_input("INVALID_ACCOUNT_ID", message));
    }
    if item.investments.not_ready > 0 {
        item.investments.not_ready -= 1;
        return Err(PlaidError::product_not_ready());
    }
    let chosen: Vec<(usize, &str)> = item
        .account_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| request.account_ids.as_ref().is_none_or(|wanted| wanted.contains(id)))
        .map(|(i, id)| (i, id.as_str()))
        .collect();
    let ids: Vec<&str> = chosen.iter().map(|(_, id)| *id).collect();
    let rows = item.transactions.query(&ids, Some(request.start), Some(request.end), &|_| true);
    let mut securities: Vec<Value> = Vec::new();
    let mut transactions = Vec::new();
    for (account_id, row) in rows.iter().skip(request.offset).take(request.count) {
        if let Some(ticker) = row.tx.symbol.as_deref() {
            let id = ticker_security_id(ticker);
            if !securities.iter().any(|s| s["security_id"] == id.as_str()) {
                let mut security = ticker_security_json(item, ticker, &row.tx.currency);
                security["security_id"] = json!(id);
                securities.push(security);
            }
        }
        transactions.push(transaction_json(account_id, row));
    }
    let accounts: Vec<Value> = chosen.iter().map(|(i, id)| account_json(id, seed_of(item, *i))).collect();
    Ok(json!({
        "accounts": accounts,
        "securities": securities,
        "investment_transactions": transactions,
        "total_investment_transactions": rows.len(),
        "item": item_json(item, None),
        "is_investments_fallback_item": false,
    }))
}

/// `/investments/transactions/get` → `{accounts, securities, investment_transactions,
/// total_investment_transactions, item, is_investments_fallback_item, request_id}`; never billed.
pub async fn transactions_get(State(sim): State<Arc<Sim>>, Extension(req): Extension<Admitted>) -> Response {
    let request = match TransactionsRequest::parse(&req.body) {
        Ok(request) => request,
        Err(e) => return e.respond(&req.request_id),
    };
    with_item(&sim, &req, |item| match page(item, &request) {
        Ok(body) => ok(&req.request_id, body),
        Err(e) => e.respond(&req.request_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<TransactionsRequest, PlaidError> {
        TransactionsRequest::parse(v.as_object().unwrap())
    }

    #[test]
    fn requests_are_checked_like_plaid() {
        let base = json!({"access_token": "a", "start_date": "2025-01-01", "end_date": "2026-01-31"});
        let ok = parse(base.clone()).unwrap();
        assert_eq!((ok.count, ok.offset, ok.account_ids), (100, 0, None));
        let missing = parse(json!({"access_token": "a", "end_date": "2026-01-31"})).unwrap_err();
        assert_eq!(missing.error_code, "MISSING_FIELDS");
        let with = |k: &str, v: Value| {
            let mut body = base.clone();
            body[k] = v;
            parse(body).map_err(|e| e.error_code)
        };
        assert_eq!(with("start_date", json!("2025-02-30")).unwrap_err(), "INVALID_FIELD");
        assert_eq!(with("start_date", json!("2026-02-01")).unwrap_err(), "INVALID_FIELD");
        assert_eq!(with("options", json!({"count": 501})).unwrap_err(), "INVALID_FIELD");
        assert_eq!(with("options", json!({"count": 0})).unwrap_err(), "INVALID_FIELD");
        assert_eq!(with("options", json!(null)).unwrap_err(), "INVALID_FIELD");
        assert_eq!(with("options", json!({"cursor": "x"})).unwrap_err(), "UNKNOWN_FIELDS");
        assert_eq!(with("options", json!({"count": 500, "offset": 3, "async_update": true})).unwrap().count, 500);
    }

    #[test]
    fn rows_follow_plaids_sign_convention() {
        let mut item_state = super::super::state::PlaidState::default();
        let request = super::super::state::sample_link_request();
        let token = item_state.create_link_token(request, 1_780_000_000).token.clone();
        let done = item_state.complete_link(&token, "ins_56", 1_780_000_000).unwrap();
        let (access, _, _) = item_state.exchange(&done.public_token, 1_780_000_001).unwrap();
        let item = item_state.item(&access).unwrap();
        let chase = &item.account_ids[0];
        let rows = item.transactions.query(&[chase.as_str()], None, None, &|_| true);
        let json_of = |kind: Kind| transaction_json(chase, rows.iter().find(|(_, r)| r.tx.kind == kind).unwrap().1);
        let buy = json_of(Kind::Buy);
        assert!(buy["amount"].as_f64().unwrap() > 0.0 && buy["quantity"].as_f64().unwrap() > 0.0);
        let sell = json_of(Kind::Sell);
        assert!(sell["amount"].as_f64().unwrap() < 0.0 && sell["quantity"].as_f64().unwrap() < 0.0);
        assert_eq!((&sell["type"], &sell["fees"]), (&json!("sell"), &json!(1.0)));
        let deposit = json_of(Kind::Deposit);
        assert_eq!(
            (&deposit["amount"], &deposit["security_id"], &deposit["fees"]),
            (&json!(-10000.0), &Value::Null, &Value::Null)
        );
        assert_eq!(
            (&json_of(Kind::Split)["type"], &json_of(Kind::Split)["subtype"]),
            (&json!("transfer"), &json!("split"))
        );
        assert_eq!(json_of(Kind::Fee)["subtype"], "account fee");
        let cad = rows.iter().find(|(_, r)| r.tx.currency == "CAD").unwrap().1;
        assert_eq!(transaction_json(chase, cad)["iso_currency_code"], "CAD");
        assert!(rows.len() >= 5 && rows.len() <= 12);
    }
}
