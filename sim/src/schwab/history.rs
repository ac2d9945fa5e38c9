//! Each Schwab account's transactions, kept in the provider-neutral [`crate::ledger`] under the
//! account's `hashValue`: the default history every account gets the first time a customer's
//! transactions are needed (read or control), the numeric `activityId`s, and how the controls name
//! an account.
//!
//! The default history is [`crate::ledger::history::default_rows`] for the account's tradable
//! positions (long, priced, not options, not cash equivalents or money-market funds, in seed
//! order; price = `marketValue / longQuantity`), dated back from the customer's anchor day (the UTC
//! day its histories were first needed), with the split on the customer's first account. So the
//! net units of every ticker in a default history equal the position `GET /accounts` shows.
//! Replacing a customer's accounts (`POST /__sim/schwab/accounts`) drops the histories of its old
//! accounts; the next read makes new ones from the new positions.

use super::seed::{account_hash, account_number};
use super::state::SchwabState;
use crate::ibkr::dates::Date;
use crate::ledger::history::{default_rows, Lot, Profile};
use crate::ledger::{cents, Ledger};
use crate::util::now_unix;
use rust_decimal::Decimal;
use serde_json::Value;

/// Made `activityId`s are this plus the row's insertion number (11 digits, like Schwab's).
pub const ACTIVITY_ID_BASE: u64 = 80_000_000_000;

/// The `activityId` of row `seq` (ids never change: Schwab has no reissue).
pub fn activity_id(_account: &str, seq: u64, _version: u32) -> String {
    (ACTIVITY_ID_BASE + seq).to_string()
}

/// Whether `id` can be an `activityId` given through the control: 1 to 18 digits (an int64).
pub fn is_activity_id(id: &str) -> bool {
    (1..=18).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// The UTC day now.
pub fn today() -> Date {
    Date::from_days(now_unix().div_euclid(86_400))
}

/// A JSON number (or numeric string) as a decimal, through its shortest text.
pub fn decimal_of(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The instrument of a position, if it has one.
fn instrument(position: &Value) -> Option<&Value> {
    position.get("instrument").filter(|i| i.is_object())
}

/// Whether a position can be bought, sold and paid dividends on by a history.
fn tradable(instrument: &Value) -> bool {
    let asset = instrument.get("assetType").and_then(Value::as_str).unwrap_or("");
    let subtype = instrument.get("type").and_then(Value::as_str).unwrap_or("");
    !matches!(asset, "OPTION" | "CASH_EQUIVALENT" | "CURRENCY") && subtype != "MONEY_MARKET_FUND"
}

/// The history profile of `account` (an `Account` object), ledger id `hash`.
pub fn profile(hash: &str, account: &Value, split: bool) -> Profile {
    let positions = account.pointer("/securitiesAccount/positions").and_then(Value::as_array);
    let lots = positions
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let instrument = instrument(p).filter(|i| tradable(i))?;
            let symbol = instrument.get("symbol")?.as_str()?.trim();
            let long = decimal_of(p.get("longQuantity")).filter(|q| *q > Decimal::ZERO)?;
            let price = match decimal_of(p.get("marketValue")) {
                Some(value) if value > Decimal::ZERO => cents(value / long),
                _ => decimal_of(p.get("averagePrice")).filter(|a| *a > Decimal::ZERO)?,
            };
            (!symbol.is_empty()).then(|| Lot { symbol: symbol.to_owned(), currency: "USD".into(), units: long, price })
        })
        .collect();
    Profile { account_id: hash.to_owned(), currency: "USD".into(), lots, split, holds_cad: false }
}

/// One account of a customer: its hash, its plain number, its place among the customer's
/// accounts and its `Account` object.
pub struct SchwabAccount {
    pub hash: String,
    pub number: String,
    pub index: usize,
    pub account: Value,
}

/// The customer's accounts, in the order `GET /accounts` lists them.
pub fn accounts_of(state: &SchwabState, customer: &str) -> Vec<SchwabAccount> {
    state
        .accounts(customer)
        .into_iter()
        .enumerate()
        .filter_map(|(index, account)| {
            let number = account_number(&account)?.to_owned();
            Some(SchwabAccount { hash: account_hash(customer, &number), number, index, account })
        })
        .collect()
}

/// The customer's account named by `id`: its `hashValue`, or its plain account number.
pub fn find_account(state: &SchwabState, customer: &str, id: &str) -> Option<SchwabAccount> {
    accounts_of(state, customer).into_iter().find(|a| a.hash == id || a.number == id)
}

/// Gives every account of `customer` its default history once, dated back from the customer's
/// anchor day (fixed, on first use, to `today`).
pub fn ensure_histories(state: &mut SchwabState, customer: &str, today: Date) {
    let anchor = state.history_anchor(customer, today);
    for account in accounts_of(state, customer) {
        let ledger: &mut Ledger = &mut state.transactions;
        if ledger.has_account(&account.hash) {
            continue;
        }
        ledger.open(&account.hash);
        let rows = default_rows(&profile(&account.hash, &account.account, account.index == 0), anchor);
        // Made ids come from the ledger's insertion numbers, so they never collide with each other.
        let _ = ledger.append(&account.hash, rows.into_iter().map(|t| (None, t)).collect(), false, &activity_id);
    }
}

#[cfg(test)]
mod tests {
    use super::super::seed::{CASH_ACCOUNT_NUMBER, MARGIN_ACCOUNT_NUMBER};
    use super::*;

    fn net_units(ledger: &Ledger, hash: &str, symbol: &str) -> Decimal {
        ledger
            .rows(hash)
            .iter()
            .filter(|r| r.tx.symbol.as_deref() == Some(symbol))
            .map(|r| r.tx.position_change())
            .sum()
    }

    #[test]
    fn default_histories_net_to_the_seeded_positions() {
        let mut state = SchwabState::default();
        let anchor = Date::parse_iso("2026-06-15").unwrap();
        ensure_histories(&mut state, "ann", anchor);
        let margin = account_hash("ann", MARGIN_ACCOUNT_NUMBER);
        let cash = account_hash("ann", CASH_ACCOUNT_NUMBER);
        assert_eq!(net_units(&state.transactions, &margin, "SYNT"), Decimal::from(10));
        assert_eq!(net_units(&state.transactions, &margin, "SETF"), Decimal::from(25));
        assert_eq!(net_units(&state.transactions, &cash, "SWTSX"), Decimal::from(40));
        for symbol in ["SWVXX", "SYNT  260605C00121000"] {
            assert_eq!(net_units(&state.transactions, &margin, symbol), Decimal::ZERO, "{symbol} is not traded");
        }
        let rows = state.transactions.rows(&margin).len();
        ensure_histories(&mut state, "ann", anchor.add_days(3));
        assert_eq!(state.transactions.rows(&margin).len(), rows, "made once");
        assert!(state.transactions.rows(&margin).iter().all(|r| is_activity_id(&r.id)));
        assert!(find_account(&state, "ann", MARGIN_ACCOUNT_NUMBER).is_some_and(|a| a.hash == margin));
        assert!(find_account(&state, "ann", &cash).is_some_and(|a| a.index == 1));
        assert!(find_account(&state, "bob", &cash).is_none(), "hashes are per customer");
    }

    #[test]
    fn activity_ids_are_int64_digits() {
        assert_eq!(activity_id("x", 7, 0), "80000000007");
        assert!(is_activity_id("81234567890") && !is_activity_id("") && !is_activity_id("12a"));
        assert!(!is_activity_id("1234567890123456789"));
    }
}
