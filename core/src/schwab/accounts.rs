//! `/accounts/accountNumbers` and `/accounts?fields=positions` normalised into core holdings.
//!
//! - Every later call names an account by its `hashValue`; the plain number is kept only as its
//!   last four digits (`number_mask`).
//! - Numbers are Schwab's JSON floats, read as exact decimals from their text (never through f64).
//! - A short position is a negative quantity (`longQuantity − shortQuantity`); cost basis is
//!   `averagePrice × quantity × multiplier` (100 for an option unless Schwab says otherwise).
//! - A money-market fund counts once: as a position when Schwab lists it as one, otherwise the
//!   balance's `moneyMarketFund` is added to cash — never both.
//! - Unknown asset types are `other`; unknown fields are ignored; nothing panics.

use crate::domain::{Account, CashBalance, Currency, Holdings, InstitutionSlug, Position, Provider, Quantity};
use crate::domain::{SecurityKind, Ticker};
use crate::provider_error::ProviderError;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::str::FromStr;

const P: Provider = Provider::Schwab;
/// The institution every Schwab direct account belongs to.
pub const SCHWAB_INSTITUTION: &str = "charles_schwab";
const INSTITUTION_NAME: &str = "Charles Schwab";
const MAX_HASH_LEN: usize = 256;

pub(super) fn malformed(detail: impl Into<String>) -> ProviderError {
    ProviderError::Malformed { provider: P, detail: detail.into() }
}

/// One account's plain number and the hash every call uses instead.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountNumber {
    pub number: String,
    pub hash: String,
}

impl std::fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccountNumber({}, hash)", mask(&self.number))
    }
}

/// A JSON string or number as text (`"12345678"` and `12345678` alike).
fn text_of(raw: &RawValue) -> Option<String> {
    match serde_json::from_str::<Value>(raw.get()).ok()? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(_) => Some(raw.get().trim().to_owned()),
        _ => None,
    }
}

/// An exact decimal from a JSON number's own text (or a decimal string); null/absent/blank is
/// `None`, anything else (a boolean, a list, an object, text that is no decimal) `Malformed`.
pub(super) fn decimal(raw: Option<&RawValue>, field: &str) -> Result<Option<Decimal>, ProviderError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => decimal_text(inner, field),
        Some(_) => match serde_json::from_str::<String>(text) {
            Ok(unescaped) => decimal_text(&unescaped, field),
            Err(_) => decimal_text(text, field),
        },
        None if text == "null" => Ok(None),
        None => decimal_text(text, field),
    }
}

/// The decimal `text` writes (plain or scientific); blank is `None`.
fn decimal_text(text: &str, field: &str) -> Result<Option<Decimal>, ProviderError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map(Some)
        .map_err(|_| malformed(format!("{field} is not a decimal: {}", text.chars().take(40).collect::<String>())))
}

fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_alphanumeric).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("••{tail}")
}

#[derive(Deserialize)]
struct RawNumber {
    #[serde(rename = "accountNumber")]
    number: Option<Box<RawValue>>,
    #[serde(rename = "hashValue")]
    hash: Option<String>,
}

/// Reads `/accounts/accountNumbers`: a list of `{accountNumber, hashValue}`. A hash that could not
/// be put in a path as it is (empty, too long, not alphanumeric) is `Malformed`.
pub fn parse_account_numbers(body: &[u8]) -> Result<Vec<AccountNumber>, ProviderError> {
    let rows: Vec<RawNumber> = serde_json::from_slice(body).map_err(|e| malformed(format!("accountNumbers: {e}")))?;
    rows.into_iter()
        .map(|row| {
            let number =
                row.number.as_deref().and_then(text_of).ok_or_else(|| malformed("accountNumbers: no accountNumber"))?;
            let hash = row.hash.map(|h| h.trim().to_owned()).unwrap_or_default();
            if hash.is_empty() || hash.len() > MAX_HASH_LEN || !hash.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(malformed(format!("accountNumbers: unusable hashValue for {}", mask(&number))));
            }
            Ok(AccountNumber { number, hash })
        })
        .collect()
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "securitiesAccount")]
    securities: Option<RawSecurities>,
}

#[derive(Deserialize)]
struct RawSecurities {
    #[serde(rename = "type")]
    account_type: Option<String>,
    #[serde(rename = "accountNumber")]
    number: Option<Box<RawValue>>,
    positions: Option<Vec<RawPosition>>,
    #[serde(rename = "currentBalances")]
    current: Option<RawBalances>,
    #[serde(rename = "initialBalances")]
    initial: Option<RawBalances>,
}

#[derive(Deserialize)]
struct RawPosition {
    #[serde(rename = "longQuantity")]
    long: Option<Box<RawValue>>,
    #[serde(rename = "shortQuantity")]
    short: Option<Box<RawValue>>,
    #[serde(rename = "averagePrice")]
    average_price: Option<Box<RawValue>>,
    #[serde(rename = "marketValue")]
    market_value: Option<Box<RawValue>>,
    // Read as a map: Schwab has sent instruments with a duplicated key; the last one counts.
    instrument: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct RawBalances {
    #[serde(rename = "cashBalance")]
    cash_balance: Option<Box<RawValue>>,
    #[serde(rename = "totalCash")]
    total_cash: Option<Box<RawValue>>,
    #[serde(rename = "moneyMarketFund")]
    money_market_fund: Option<Box<RawValue>>,
    #[serde(rename = "buyingPower")]
    buying_power: Option<Box<RawValue>>,
    #[serde(rename = "cashAvailableForTrading")]
    cash_available_for_trading: Option<Box<RawValue>>,
}

fn kind_of(asset_type: &str, subtype: Option<&str>) -> SecurityKind {
    match (asset_type, subtype) {
        ("EQUITY", _) => SecurityKind::Equity,
        ("COLLECTIVE_INVESTMENT", Some("EXCHANGE_TRADED_FUND")) => SecurityKind::Etf,
        ("COLLECTIVE_INVESTMENT", Some("CLOSED_END_FUND")) => SecurityKind::Equity,
        ("MUTUAL_FUND", _) => SecurityKind::MutualFund,
        ("OPTION", _) => SecurityKind::Option,
        ("FIXED_INCOME", _) => SecurityKind::FixedIncome,
        ("CASH_EQUIVALENT", _) => SecurityKind::Cash,
        ("FUTURE", _) | ("FOREX", _) => SecurityKind::Derivative,
        _ => SecurityKind::Other,
    }
}

/// A non-blank string field of a JSON object, trimmed.
fn field<'v>(instrument: &'v Value, key: &str) -> Option<&'v str> {
    instrument.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Whether a position is a money-market fund (it then stands for the balance's `moneyMarketFund`).
fn is_money_market(instrument: &Value) -> bool {
    let subtype = field(instrument, "type");
    subtype == Some("MONEY_MARKET_FUND")
        || (field(instrument, "assetType") == Some("CASH_EQUIVALENT") && subtype != Some("SAVINGS"))
}

/// The key an instrument's positions (and transactions) carry, with its ticker, from the
/// instrument's (trimmed, non-blank) `symbol` and `cusip`: the symbol upper-cased, else
/// `cusip:<cusip>`; `None` when the instrument names neither.
pub(super) fn security_identity(symbol: Option<&str>, cusip: Option<&str>) -> Option<(String, Option<Ticker>)> {
    let ticker = symbol.and_then(|s| Ticker::parse(s).ok());
    let key = match (&ticker, cusip) {
        (Some(t), _) => t.as_str().to_ascii_uppercase(),
        (None, Some(cusip)) => format!("cusip:{cusip}"),
        (None, None) => return None,
    };
    Some((key, ticker))
}

fn normalize_position(raw: &RawPosition, account: &Account, as_of: i64) -> Result<(Position, bool), ProviderError> {
    let instrument: Value = match &raw.instrument {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| malformed(format!("instrument: {e}")))?,
        None => return Err(malformed("position without instrument")),
    };
    if !instrument.is_object() {
        return Err(malformed("instrument is not an object"));
    }
    let asset_type = field(&instrument, "assetType").unwrap_or("UNKNOWN");
    let kind = kind_of(asset_type, field(&instrument, "type"));
    let (security_key, ticker) = security_identity(field(&instrument, "symbol"), field(&instrument, "cusip"))
        .ok_or_else(|| malformed("position without symbol or cusip"))?;
    let long = decimal(raw.long.as_deref(), "longQuantity")?.unwrap_or_default();
    let short = decimal(raw.short.as_deref(), "shortQuantity")?.unwrap_or_default();
    let quantity = long.checked_sub(short.abs()).ok_or_else(|| malformed("quantity out of range"))?;
    let multiplier = if kind == SecurityKind::Option {
        let written = instrument.get("optionMultiplier").map(|m| m.to_string());
        match written.as_deref().map(|m| Decimal::from_str(m.trim_matches('"'))) {
            Some(Ok(m)) if m > Decimal::ZERO => m,
            _ => Decimal::ONE_HUNDRED,
        }
    } else {
        Decimal::ONE
    };
    let average = decimal(raw.average_price.as_deref(), "averagePrice")?;
    let cost_basis = average
        .map(|avg| {
            avg.checked_mul(quantity)
                .and_then(|v| v.checked_mul(multiplier))
                .ok_or_else(|| malformed(format!("cost basis of {security_key} is too large to represent")))
        })
        .transpose()?;
    let position = Position {
        provider: P,
        account_id: account.account_id.clone(),
        institution: account.institution.clone(),
        security_key,
        ticker,
        name: field(&instrument, "description").map(str::to_owned),
        kind,
        quantity: Quantity(quantity),
        price: None,
        market_value: decimal(raw.market_value.as_deref(), "marketValue")?,
        cost_basis,
        currency: Currency::parse("USD").expect("USD is a currency"),
        as_of,
        detail: None,
    };
    Ok((position, is_money_market(&instrument)))
}

/// Normalises `/accounts?fields=positions` fetched at `fetched_at`, naming each account by its
/// hash from `numbers` and its connection by `connection_id`. An account without a hash in
/// `numbers` is `Malformed` (the two lists disagree: read both again).
pub fn normalize_accounts(
    body: &[u8],
    numbers: &[AccountNumber],
    connection_id: &str,
    fetched_at: i64,
) -> Result<Holdings, ProviderError> {
    let entries: Vec<RawEntry> = serde_json::from_slice(body).map_err(|e| malformed(format!("accounts: {e}")))?;
    let institution = InstitutionSlug::parse(SCHWAB_INSTITUTION).ok();
    let usd = Currency::parse("USD").expect("USD is a currency");
    let mut holdings = Holdings::default();
    for entry in entries {
        let Some(securities) = entry.securities else { return Err(malformed("account without securitiesAccount")) };
        let number =
            securities.number.as_deref().and_then(text_of).ok_or_else(|| malformed("account without accountNumber"))?;
        let hash = numbers
            .iter()
            .find(|n| n.number == number)
            .map(|n| n.hash.clone())
            .ok_or_else(|| malformed(format!("account {} is missing from accountNumbers", mask(&number))))?;
        let account_type = securities.account_type.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let account = Account {
            provider: P,
            account_id: hash,
            connection_id: Some(connection_id.to_owned()),
            institution: institution.clone(),
            institution_name: Some(INSTITUTION_NAME.to_owned()),
            name: Some(format!(
                "Schwab {} {}",
                account_type.as_deref().unwrap_or("account").to_lowercase(),
                mask(&number)
            )),
            number_mask: Some(mask(&number)),
            account_type,
            currency: Some(usd.clone()),
        };
        let mut money_market_position = false;
        for raw in securities.positions.iter().flatten() {
            let (position, money_market) = normalize_position(raw, &account, fetched_at)?;
            money_market_position |= money_market;
            holdings.positions.push(position);
        }
        if let Some(balances) = securities.current.as_ref().or(securities.initial.as_ref()) {
            let cash = decimal(balances.cash_balance.as_deref(), "cashBalance")?;
            let cash = match cash {
                Some(cash) => Some(cash),
                None => decimal(balances.total_cash.as_deref(), "totalCash")?,
            };
            let fund = decimal(balances.money_market_fund.as_deref(), "moneyMarketFund")?.unwrap_or_default();
            let amount = match (cash, money_market_position) {
                (Some(cash), true) => Some(cash),
                (Some(cash), false) => Some(cash.checked_add(fund).ok_or_else(|| malformed("cash out of range"))?),
                (None, false) if !fund.is_zero() => Some(fund),
                (None, _) => None,
            };
            let buying_power = match decimal(balances.buying_power.as_deref(), "buyingPower")? {
                Some(power) => Some(power),
                None => decimal(balances.cash_available_for_trading.as_deref(), "cashAvailableForTrading")?,
            };
            if let Some(amount) = amount {
                holdings.balances.push(CashBalance {
                    provider: P,
                    account_id: account.account_id.clone(),
                    institution: account.institution.clone(),
                    currency: usd.clone(),
                    amount,
                    buying_power,
                    as_of: fetched_at,
                });
            }
        }
        holdings.accounts.push(account);
    }
    Ok(holdings)
}
