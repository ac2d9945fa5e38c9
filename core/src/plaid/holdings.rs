//! `/investments/holdings/get` normalised into core accounts, positions and cash balances — the
//! same shapes SnapTrade's data becomes, so merge treats both alike.
//!
//! Promises:
//! - Holdings are joined to securities by `security_id`; a holding naming an unknown security,
//!   or any field of the wrong type, is `Malformed` with the path of the field, never a panic.
//! - Amounts are exact: each JSON number is read through its shortest decimal text, never through
//!   arithmetic on `f64`. `institution_value` and `cost_basis` are totals for the whole holding and
//!   are kept as Plaid reports them (never derived from price × quantity; options need no multiplier).
//! - A holding is *either* a position *or* cash, never both, so nothing is counted twice: only
//!   currency lines (security `type` `cash` whose `subtype` is `cash`, or with no subtype and no
//!   ticker other than its currency, e.g. `CUR:USD`) become [`CashBalance`]s, summed per account and
//!   currency. Money-market and other cash-equivalent funds stay positions, as SnapTrade's do
//!   (`type` `cash` → [`SecurityKind::Cash`], `mutual fund` → `MutualFund`). Account balances are
//!   never turned into cash: Plaid reports investment cash as holdings.
//! - A position's `security_key` is its upper-cased ticker; without a ticker it is the first of
//!   `cusip:…`, `isin:…`, `sedol:…`, else `plaid:<security_id>`, and `ticker` stays `None`.
//!
//! It does not price, convert currencies or call Plaid.

use super::securities::{is_currency_line, kind_of, non_empty, security_key, PlaidSecurity};
use crate::domain::Ticker;
use crate::domain::{Account, CashBalance, Currency, Holdings, InstitutionSlug, Position, Provider, Quantity};
use crate::institutions::resolve_institution;
use crate::provider_error::ProviderError;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Number, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

pub(super) fn malformed(detail: impl Into<String>) -> ProviderError {
    ProviderError::Malformed { provider: Provider::Plaid, detail: detail.into() }
}

/// The parts of the answer Tributary reads (missing `Option` fields are `None`).
#[derive(Deserialize)]
struct Response {
    accounts: Vec<Value>,
    holdings: Vec<Value>,
    securities: Vec<Value>,
    item: Option<Item>,
}

#[derive(Deserialize)]
struct Item {
    item_id: Option<String>,
    institution_name: Option<String>,
}

#[derive(Deserialize)]
struct PlaidAccount {
    account_id: String,
    name: Option<String>,
    official_name: Option<String>,
    mask: Option<String>,
    #[serde(rename = "type")]
    account_type: Option<String>,
    subtype: Option<String>,
    balances: Option<CurrencyCodes>,
}

/// `iso_currency_code` / `unofficial_currency_code`, which Plaid never sets both of.
#[derive(Deserialize)]
struct CurrencyCodes {
    iso_currency_code: Option<String>,
    unofficial_currency_code: Option<String>,
}

impl CurrencyCodes {
    fn code(&self) -> Option<&str> {
        currency_code(&self.iso_currency_code, &self.unofficial_currency_code)
    }
}

/// The ISO code, else the unofficial one (crypto, some regional currencies); blanks are absent.
pub(super) fn currency_code<'a>(iso: &'a Option<String>, unofficial: &'a Option<String>) -> Option<&'a str> {
    non_empty(iso.as_ref()).or(non_empty(unofficial.as_ref()))
}

#[derive(Deserialize)]
struct PlaidHolding {
    account_id: String,
    security_id: String,
    institution_price: Option<Number>,
    institution_value: Option<Number>,
    cost_basis: Option<Number>,
    quantity: Option<Number>,
    iso_currency_code: Option<String>,
    unofficial_currency_code: Option<String>,
}

pub(super) fn parse<T: DeserializeOwned>(value: &Value, path: &str) -> Result<T, ProviderError> {
    T::deserialize(value).map_err(|e| malformed(format!("{path}: {e}")))
}

/// An exact decimal from a JSON number, through its shortest round-trip text.
pub(super) fn decimal(number: Option<&Number>, path: &str) -> Result<Option<Decimal>, ProviderError> {
    let Some(number) = number else { return Ok(None) };
    let text = number.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(Some)
        .map_err(|_| malformed(format!("{path} is not a representable decimal: {text}")))
}

fn mask(digits: &str) -> String {
    let tail: Vec<char> = digits.chars().rev().take(4).collect();
    format!("••{}", tail.into_iter().rev().collect::<String>())
}

pub(super) fn currency(code: &str, path: &str) -> Result<Currency, ProviderError> {
    Currency::parse(code).map_err(|e| malformed(format!("{path}: {e}")))
}

/// What the Item tells every row: its id, institution, and when it was fetched.
struct ItemContext {
    item_id: Option<String>,
    institution: Option<InstitutionSlug>,
    institution_name: Option<String>,
    fetched_at: i64,
}

/// One account and its Plaid `type`, which decides whether it is kept without holdings.
fn normalize_account(value: &Value, i: usize, item: &ItemContext) -> Result<(Option<String>, Account), ProviderError> {
    let raw: PlaidAccount = parse(value, &format!("accounts[{i}]"))?;
    let path = format!("accounts[{i}].balances");
    let currency = raw.balances.as_ref().and_then(CurrencyCodes::code).map(|c| currency(c, &path)).transpose()?;
    let account = Account {
        provider: Provider::Plaid,
        account_id: raw.account_id,
        connection_id: item.item_id.clone(),
        institution: item.institution.clone(),
        institution_name: item.institution_name.clone(),
        name: non_empty(raw.name.as_ref()).or(non_empty(raw.official_name.as_ref())).map(str::to_owned),
        number_mask: non_empty(raw.mask.as_ref()).map(mask),
        account_type: non_empty(raw.subtype.as_ref()).or(non_empty(raw.account_type.as_ref())).map(str::to_owned),
        currency,
    };
    Ok((raw.account_type, account))
}

/// A holding is a position or an amount of cash, never both.
enum Row {
    Position(Position),
    Cash { account_id: String, currency: Currency, amount: Decimal },
}

/// One holding joined to its security; the account's currency is the last currency fallback.
fn normalize_holding(
    value: &Value,
    path: &str,
    securities: &BTreeMap<String, PlaidSecurity>,
    account_currency: impl Fn(&str) -> Option<Currency>,
    item: &ItemContext,
) -> Result<Row, ProviderError> {
    let holding: PlaidHolding = parse(value, path)?;
    let security = securities.get(&holding.security_id).ok_or_else(|| {
        malformed(format!("{path} names security_id {:?}, which is not in securities", holding.security_id))
    })?;
    let code = currency_code(&holding.iso_currency_code, &holding.unofficial_currency_code)
        .or(currency_code(&security.iso_currency_code, &security.unofficial_currency_code));
    let currency = match code {
        Some(code) => currency(code, &format!("{path} currency"))?,
        None => account_currency(&holding.account_id)
            .ok_or_else(|| malformed(format!("{path} ({}) has no currency", holding.security_id)))?,
    };
    let quantity = decimal(holding.quantity.as_ref(), &format!("{path}.quantity"))?
        .ok_or_else(|| malformed(format!("{path}.quantity is missing")))?;
    let value = decimal(holding.institution_value.as_ref(), &format!("{path}.institution_value"))?;
    if is_currency_line(security, &currency) {
        return Ok(Row::Cash { account_id: holding.account_id, currency, amount: value.unwrap_or(quantity) });
    }
    let ticker = non_empty(security.ticker_symbol.as_ref()).and_then(|t| Ticker::parse(t).ok());
    Ok(Row::Position(Position {
        provider: Provider::Plaid,
        account_id: holding.account_id,
        institution: item.institution.clone(),
        security_key: security_key(security, ticker.as_ref()),
        ticker,
        name: non_empty(security.name.as_ref()).map(str::to_owned),
        kind: kind_of(security),
        quantity: Quantity(quantity),
        price: decimal(holding.institution_price.as_ref(), &format!("{path}.institution_price"))?,
        market_value: value,
        cost_basis: decimal(holding.cost_basis.as_ref(), &format!("{path}.cost_basis"))?,
        currency,
        as_of: item.fetched_at,
        detail: None,
    }))
}

/// Normalises a `/investments/holdings/get` body fetched at `fetched_at` (Unix seconds, every
/// row's `as_of`). `institution` is the Item's institution when the shell knows it; otherwise
/// `item.institution_name` is resolved with the embedded alias table (unknown → `None`).
///
/// Accounts of another `type` than `investment`/`brokerage` are left out unless a holding is in them.
pub fn normalize_holdings(
    response: &Value,
    institution: Option<&InstitutionSlug>,
    fetched_at: i64,
) -> Result<Holdings, ProviderError> {
    let response: Response = parse(response, "holdings response")?;
    let (item_id, institution_name) = response.item.map_or((None, None), |item| (item.item_id, item.institution_name));
    let institution_name = non_empty(institution_name.as_ref()).map(str::to_owned);
    let item = ItemContext {
        item_id,
        institution: institution.cloned().or_else(|| institution_name.as_deref().and_then(resolve_institution)),
        institution_name,
        fetched_at,
    };
    let mut securities: BTreeMap<String, PlaidSecurity> = BTreeMap::new();
    for (i, value) in response.securities.iter().enumerate() {
        let security: PlaidSecurity = parse(value, &format!("securities[{i}]"))?;
        securities.entry(security.security_id.clone()).or_insert(security);
    }
    let accounts: Vec<(Option<String>, Account)> = response
        .accounts
        .iter()
        .enumerate()
        .map(|(i, value)| normalize_account(value, i, &item))
        .collect::<Result<_, _>>()?;
    let account_currency =
        |id: &str| accounts.iter().find(|(_, a)| a.account_id == id).and_then(|(_, a)| a.currency.clone());

    let mut positions = Vec::new();
    let mut cash: BTreeMap<(String, Currency), Decimal> = BTreeMap::new();
    for (i, value) in response.holdings.iter().enumerate() {
        let path = format!("holdings[{i}]");
        match normalize_holding(value, &path, &securities, account_currency, &item)? {
            Row::Position(position) => positions.push(position),
            Row::Cash { account_id, currency, amount } => {
                let total = cash.entry((account_id, currency)).or_default();
                *total = total.checked_add(amount).ok_or_else(|| malformed(format!("{path}: cash total overflows")))?;
            }
        }
    }
    let held_in: BTreeSet<&str> =
        positions.iter().map(|p| p.account_id.as_str()).chain(cash.keys().map(|(id, _)| id.as_str())).collect();
    let accounts = accounts
        .iter()
        .filter(|(kind, account)| {
            matches!(kind.as_deref(), None | Some("investment" | "brokerage"))
                || held_in.contains(account.account_id.as_str())
        })
        .map(|(_, account)| account.clone())
        .collect();
    let balances = cash
        .into_iter()
        .map(|((account_id, currency), amount)| CashBalance {
            provider: Provider::Plaid,
            account_id,
            institution: item.institution.clone(),
            currency,
            amount,
            buying_power: None,
            as_of: fetched_at,
        })
        .collect();
    Ok(Holdings { accounts, positions, balances })
}

#[cfg(test)]
#[path = "holdings_tests.rs"]
mod tests;
