//! `GET /trader/v1/accounts/{accountHash}/transactions`: how the reads are asked for (Schwab's
//! window rules) and what comes back normalised into core transactions.
//!
//! Window rules, from the Trader API spec: `startDate`, `endDate` and `types` are all required;
//! one request covers at most a year ([`MAX_WINDOW_DAYS`]) and answers at most [`MAX_ROWS`] rows.
//! So a range is read in windows of at most 365 days ([`request_windows`]), and a window that comes
//! back with exactly 3,000 rows may have been cut short: it is read again as two halves
//! ([`split_if_full`]) until a window holds fewer, or a single full day is refused as `Malformed`.
//!
//! Normalisation ([`normalize_transactions`]), per row of the JSON array:
//! - **Sign**: `amount` is Schwab's `netAmount`, already the ledger's convention (+ = cash into
//!   the account): the reference's dividend is `+8.41`, its 10-share buy `-1502.3`. `quantity` is
//!   the security transfer item's `amount`, which Schwab signs as the position change (negative on
//!   sells and deliveries out); cash-only rows have none. `fees` are the `|amount|`s of the CURRENCY
//!   items carrying a `feeType` (zero-valued fee items give `Some(0)`, no fee items `None`).
//! - **Type**: `TRADE` is a buy or a sell by the sign of the quantity (a "Dividend Reinvest" is a
//!   buy); `DIVIDEND_OR_INTEREST` is interest when its description says "interest", else a dividend;
//!   `JOURNAL` is tax when it says "withholding"/"withheld", a fee when it says "fee"; receipts,
//!   disbursements, wires and `ELECTRONIC_FUND` are deposits or withdrawals by the sign of
//!   `netAmount`; `RECEIVE_AND_DELIVER` is a split when it says "split", else a transfer in or out
//!   by the sign of the quantity; anything else (or unknown) is `other`. `provider_type` keeps the
//!   raw `type`.
//! - **Security**: the first non-CURRENCY transfer item's instrument, keyed exactly as positions
//!   are ([`super::accounts`]: symbol upper-cased, else `cusip:…`); a cash row naming its security
//!   only in the description's `~SYMBOL` suffix (`Ordinary Dividend~SETF`) gets that ticker.
//! - **Dates**: `tradeDate` (else `time`, else `settlementDate`) as the day written in it
//!   (`2024-05-06T04:00:00+0000` and RFC 3339 alike); `settlementDate` when present.
//! - Rows whose `status` is `INVALID` are left out (Schwab's own mark of a row that does not stand).
//!   Currency is USD (Schwab accounts are USD accounts).
//!
//! Numbers are read exactly from their text: the body's bytes are parsed into raw JSON values
//! ([`RawValue`]), never through `f64`, and every amount, price and quantity is the decimal its
//! JSON literal writes (`10.0` stays `10.0`, `0.1234567890123456789` keeps every digit; a quoted
//! decimal string is read the same way). Rows, transfer items and instruments are read as plain
//! maps, so the duplicated `assetType` key Schwab sends is harmless (the last one counts). A body
//! that is not a JSON array, a row without an `activityId` or any date, or a number of the wrong
//! type is `Malformed` (the whole read: a ledger is never taken in part). Nothing panics.

use super::accounts::{decimal, malformed, security_identity};
use crate::domain::{Account, Currency, Provider, Ticker};
use crate::provider_error::ProviderError;
use crate::time::Date;
use crate::transactions::{transaction_id, Transaction, TransactionSecurity, TransactionType};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;

const P: Provider = Provider::Schwab;

/// The longest window one request may cover, in days (both ends included).
pub const MAX_WINDOW_DAYS: i64 = 365;
/// The most rows one response holds; a response this long may be truncated.
pub const MAX_ROWS: usize = 3000;
/// Every Schwab `TransactionType`, comma-joined: the required `types` parameter asking for all.
pub const TYPES: &str = "TRADE,RECEIVE_AND_DELIVER,DIVIDEND_OR_INTEREST,ACH_RECEIPT,ACH_DISBURSEMENT,CASH_RECEIPT,\
CASH_DISBURSEMENT,ELECTRONIC_FUND,WIRE_OUT,WIRE_IN,JOURNAL,MEMORANDUM,MARGIN_CALL,MONEY_MARKET,SMA_ADJUSTMENT";

/// One request's days `(first, last)`, both included.
pub type Window = (Date, Date);

/// The windows `[from, to]` (both inclusive) is read in, **oldest first**: consecutive, each of at
/// most [`MAX_WINDOW_DAYS`] days, covering every day exactly once. Empty when `from > to`.
pub fn request_windows(from: Date, to: Date) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut start = from;
    while start <= to {
        let end = start.add_days(MAX_WINDOW_DAYS - 1).min(to);
        windows.push((start, end));
        if end >= to {
            break;
        }
        start = end.add_days(1);
    }
    windows
}

/// The query of one window's request: `startDate` at the first millisecond of `from` (UTC),
/// `endDate` at the last of `to`, as Schwab writes request times (`2024-03-01T00:00:00.000Z`), and
/// `types` = [`TYPES`]. Values are unencoded; the caller encodes them into the query string.
pub fn request_params(from: Date, to: Date) -> Vec<(&'static str, String)> {
    vec![
        ("startDate", format!("{from}T00:00:00.000Z")),
        ("endDate", format!("{to}T23:59:59.999Z")),
        ("types", TYPES.to_owned()),
    ]
}

/// What to do after the window `[from, to]` answered `received` rows: `Ok(None)` when fewer than
/// [`MAX_ROWS`] (the window is complete); else its two halves `(older, newer)` to read instead
/// (the full answer is discarded). MUST return [`ProviderError::Malformed`] for a full one-day
/// window, which cannot be split further.
pub fn split_if_full(from: Date, to: Date, received: usize) -> Result<Option<(Window, Window)>, ProviderError> {
    if received < MAX_ROWS {
        return Ok(None);
    }
    let days = to.days_since(from) + 1;
    if days < 2 {
        return Err(malformed(format!(
            "transactions: a one-day window answered {MAX_ROWS} rows (Schwab's maximum), so it may be \
             truncated and cannot be split further"
        )));
    }
    let last_of_older = from.add_days((days - 1) / 2);
    Ok(Some(((from, last_of_older), (last_of_older.add_days(1), to))))
}

/// A JSON object's members, each value kept as its raw JSON text; a repeated key (Schwab sends
/// instruments with `assetType` twice) keeps its last value, as a parsed `Value` would.
type Object<'b> = BTreeMap<String, &'b RawValue>;

/// `raw` as an [`Object`]; `None` when it is not a JSON object.
fn object(raw: &RawValue) -> Option<Object<'_>> {
    serde_json::from_str(raw.get()).ok()
}

/// A non-blank string member, trimmed; `None` when absent, blank or not a string.
fn text(object: &Object<'_>, key: &str) -> Option<String> {
    let value: String = serde_json::from_str(object.get(key)?.get()).ok()?;
    Some(value.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A member that is absent or `null`.
fn is_null(object: &Object<'_>, key: &str) -> bool {
    object.get(key).is_none_or(|raw| raw.get().trim() == "null")
}

/// An exact decimal member, read from its JSON text (see [`decimal`]).
fn number(object: &Object<'_>, key: &str, path: &str) -> Result<Option<Decimal>, ProviderError> {
    decimal(object.get(key).copied(), &format!("{path}.{key}"))
}

/// One `transferItems` entry, as far as the ledger needs it.
struct Item<'b> {
    instrument: Option<Object<'b>>,
    currency: bool,
    fee: bool,
    amount: Option<Decimal>,
    price: Option<Decimal>,
}

fn items<'b>(row: &Object<'b>, path: &str) -> Result<Vec<Item<'b>>, ProviderError> {
    let list: Vec<&RawValue> = match row.get("transferItems") {
        None => return Ok(Vec::new()),
        Some(raw) => match serde_json::from_str::<Option<Vec<&RawValue>>>(raw.get()) {
            Ok(list) => list.unwrap_or_default(),
            Err(_) => return Err(malformed(format!("{path}.transferItems is not a list"))),
        },
    };
    let mut read = Vec::with_capacity(list.len());
    for (j, raw) in list.into_iter().enumerate() {
        let at = format!("{path}.transferItems[{j}]");
        let item = object(raw).ok_or_else(|| malformed(format!("{at} is not an object")))?;
        let instrument = item.get("instrument").copied().and_then(object);
        let currency =
            instrument.as_ref().and_then(|i| text(i, "assetType")).is_some_and(|t| t.eq_ignore_ascii_case("CURRENCY"));
        read.push(Item {
            currency,
            fee: !is_null(&item, "feeType"),
            amount: number(&item, "amount", &at)?,
            price: number(&item, "price", &at)?,
            instrument,
        });
    }
    Ok(read)
}

/// Whether `description` has `word` as one of its words (case-insensitive).
fn mentions(description: &str, word: &str) -> bool {
    description.split(|c: char| !c.is_alphanumeric()).any(|w| w.eq_ignore_ascii_case(word))
}

/// The sign of a non-zero value: `Some(true)` positive, `Some(false)` negative.
fn sign(value: Option<Decimal>) -> Option<bool> {
    value.filter(|v| !v.is_zero()).map(|v| v.is_sign_positive())
}

/// Schwab's `type` in the ledger's vocabulary (see the module doc).
fn kind_of(raw: &str, description: &str, quantity: Option<Decimal>, net: Option<Decimal>) -> TransactionType {
    use TransactionType as T;
    let says = |word: &str| mentions(description, word);
    match raw {
        "TRADE" => match sign(quantity).or(sign(net).map(|cash_in| !cash_in)) {
            Some(true) => T::Buy,
            Some(false) => T::Sell,
            None => T::Other,
        },
        "DIVIDEND_OR_INTEREST" if says("interest") => T::Interest,
        "DIVIDEND_OR_INTEREST" => T::Dividend,
        "JOURNAL" if says("withholding") || says("withheld") => T::Tax,
        "JOURNAL" if says("fee") || says("fees") => T::Fee,
        "ACH_RECEIPT" | "CASH_RECEIPT" | "WIRE_IN" | "ACH_DISBURSEMENT" | "CASH_DISBURSEMENT" | "WIRE_OUT"
        | "ELECTRONIC_FUND" => match (sign(net), raw) {
            (Some(true), _) | (None, "ACH_RECEIPT" | "CASH_RECEIPT" | "WIRE_IN") => T::Deposit,
            (Some(false), _) | (None, "ACH_DISBURSEMENT" | "CASH_DISBURSEMENT" | "WIRE_OUT") => T::Withdrawal,
            (None, _) => T::Other,
        },
        "RECEIVE_AND_DELIVER" if says("split") => T::Split,
        "RECEIVE_AND_DELIVER" => match sign(quantity) {
            Some(true) => T::TransferIn,
            Some(false) => T::TransferOut,
            None => T::Other,
        },
        _ => T::Other,
    }
}

/// The security a row concerns: its security item's instrument, else a `~SYMBOL` description suffix.
fn security(item: Option<&Item<'_>>, description: Option<&str>) -> Option<TransactionSecurity> {
    if let Some(instrument) = item.and_then(|i| i.instrument.as_ref()) {
        let (symbol, cusip) = (text(instrument, "symbol"), text(instrument, "cusip"));
        if let Some((security_key, ticker)) = security_identity(symbol.as_deref(), cusip.as_deref()) {
            let name = text(instrument, "description");
            return Some(TransactionSecurity { security_key, ticker: ticker.map(|t| t.as_str().to_owned()), name });
        }
    }
    let suffix = description?.rsplit_once('~')?.1.trim();
    if suffix.is_empty() || suffix.contains(char::is_whitespace) {
        return None;
    }
    let ticker = Ticker::parse(suffix).ok()?;
    Some(TransactionSecurity {
        security_key: ticker.as_str().to_ascii_uppercase(),
        ticker: Some(ticker.as_str().to_owned()),
        name: None,
    })
}

/// The row's `activityId` as text: an integer, or a non-blank string.
fn activity_id(row: &Object<'_>) -> Option<String> {
    match serde_json::from_str::<Value>(row.get("activityId")?.get()).ok()? {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

fn normalize_row(raw: &RawValue, index: usize, account: &Account) -> Result<Option<Transaction>, ProviderError> {
    let path = format!("transactions[{index}]");
    let row = object(raw).ok_or_else(|| malformed(format!("{path} is not an object")))?;
    if text(&row, "status").is_some_and(|s| s.eq_ignore_ascii_case("INVALID")) {
        return Ok(None);
    }
    let provider_id = activity_id(&row).ok_or_else(|| malformed(format!("{path}.activityId is missing")))?;
    let raw_type = text(&row, "type").unwrap_or_else(|| "UNKNOWN".to_owned());
    let description = text(&row, "description");
    let net = number(&row, "netAmount", &path)?;
    let items = items(&row, &path)?;
    let held = items.iter().find(|i| i.instrument.is_some() && !i.currency && !i.fee);
    let fee_items: Vec<&Item<'_>> = items.iter().filter(|i| i.currency && i.fee).collect();
    let fees = (!fee_items.is_empty()).then(|| fee_items.iter().filter_map(|i| i.amount).map(|a| a.abs()).sum());
    let units = held.and_then(|i| i.amount).filter(|a| !a.is_zero());
    let kind = kind_of(&raw_type.to_ascii_uppercase(), description.as_deref().unwrap_or(""), units, net);
    let day = |key: &str| text(&row, key).as_deref().and_then(Date::of_timestamp);
    let settlement_date = day("settlementDate");
    let trade_date = day("tradeDate")
        .or_else(|| day("time"))
        .or(settlement_date)
        .ok_or_else(|| malformed(format!("{path} has no tradeDate, time or settlementDate")))?;
    let moves_units = !kind.is_cash_only();
    Ok(Some(Transaction {
        id: transaction_id(P, &provider_id),
        provider: P,
        provider_transaction_id: provider_id,
        account_id: account.account_id.clone(),
        institution: account.institution.clone(),
        kind,
        provider_type: raw_type,
        trade_date,
        settlement_date,
        security: security(held, description.as_deref()),
        quantity: units.filter(|_| moves_units),
        price: held.and_then(|i| i.price).filter(|_| moves_units),
        amount: net,
        fees,
        currency: Currency::parse("USD").ok(),
        description,
    }))
}

/// Normalises one `GET /accounts/{accountHash}/transactions` answer, its body as received (a JSON
/// array of Schwab `Transaction`s), for `account`: how many rows Schwab sent (the array's length,
/// `INVALID` rows included — what [`split_if_full`] is given) and the transactions, in Schwab's
/// order, `INVALID` rows left out. Every number is read exactly from its JSON text. See the module
/// doc for the rules; MUST return [`ProviderError::Malformed`] for a body that is not a JSON array,
/// a row that is not an object or has no `activityId` or date, or a number of the wrong type.
pub fn normalize_transactions(body: &[u8], account: &Account) -> Result<(usize, Vec<Transaction>), ProviderError> {
    let rows: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("transactions: the body is not a JSON list of rows: {e}")))?;
    let mut transactions = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        transactions.extend(normalize_row(row, index, account)?);
    }
    Ok((rows.len(), transactions))
}

#[cfg(test)]
#[path = "transactions_tests.rs"]
mod tests;
