//! SnapTrade payloads (`/accounts`, `/accounts/{id}/positions/all`, `/accounts/{id}/balances`)
//! normalised into core accounts, positions and cash balances. Decimal strings stay exact;
//! JSON numbers are read through their shortest decimal form, never through arithmetic on `f64`.

use crate::domain::{
    Account, CashBalance, Currency, InstitutionSlug, Position, Provider, Quantity, SecurityKind, Ticker,
};
use crate::provider_error::ProviderError;
use crate::time::parse_rfc3339;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use std::str::FromStr;

pub(super) fn malformed(detail: impl Into<String>) -> ProviderError {
    ProviderError::Malformed { provider: Provider::SnapTrade, detail: detail.into() }
}

/// A decimal from a JSON string (`"10.5"`) or number (`300.71`); `null`/absent is `None`.
pub(super) fn decimal(value: Option<&Value>, field: &str) -> Result<Option<Decimal>, ProviderError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(malformed(format!("{field} is not a number: {other}"))),
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .map(Some)
        .map_err(|_| malformed(format!("{field} is not a decimal: {text:?}")))
}

pub(super) fn string(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The fields of a SnapTrade `Account` Tributary keeps.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapTradeAccount {
    pub id: String,
    pub brokerage_authorization: Option<String>,
    pub name: Option<String>,
    pub number: Option<String>,
    pub institution_name: Option<String>,
    pub raw_type: Option<String>,
    #[serde(default)]
    pub balance: Option<Value>,
}

fn mask(number: &str) -> String {
    let tail: String = number.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("••{tail}")
}

/// Normalises one `/accounts` entry; `resolve` turns the institution name into a slug.
pub fn normalize_account(
    value: &Value,
    resolve: &dyn Fn(&str) -> Option<InstitutionSlug>,
) -> Result<Account, ProviderError> {
    let raw: SnapTradeAccount =
        serde_json::from_value(value.clone()).map_err(|e| malformed(format!("account: {e}")))?;
    if raw.id.trim().is_empty() {
        return Err(malformed("account without an id"));
    }
    let currency = raw
        .balance
        .as_ref()
        .and_then(|b| b.get("total"))
        .and_then(|t| string(t.get("currency")))
        .and_then(|c| Currency::parse(&c).ok());
    Ok(Account {
        provider: Provider::SnapTrade,
        institution: raw.institution_name.as_deref().and_then(resolve),
        institution_name: raw.institution_name,
        connection_id: raw.brokerage_authorization,
        name: raw.name,
        number_mask: raw.number.as_deref().filter(|n| !n.is_empty()).map(mask),
        account_type: raw.raw_type,
        currency,
        account_id: raw.id,
    })
}

fn kind_of(instrument_kind: &str) -> SecurityKind {
    match instrument_kind {
        "stock" | "adr" | "cef" => SecurityKind::Equity,
        "etf" => SecurityKind::Etf,
        "mutualfund" => SecurityKind::MutualFund,
        "option" => SecurityKind::Option,
        "crypto" => SecurityKind::Crypto,
        "future" | "cfd" => SecurityKind::Derivative,
        _ => SecurityKind::Other,
    }
}

/// Normalises a `positions/all` body for `account`, fetched at `fetched_at` (Unix seconds).
///
/// Options are valued per share × multiplier; a missing price leaves value unknown (never zero);
/// a value too large to represent is `Malformed`.
pub fn normalize_positions(body: &Value, account: &Account, fetched_at: i64) -> Result<Vec<Position>, ProviderError> {
    let results =
        body.get("results").and_then(Value::as_array).ok_or_else(|| malformed("positions: no results list"))?;
    let as_of = body
        .get("data_freshness")
        .and_then(|f| f.get("as_of"))
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
        .unwrap_or(fetched_at);
    results.iter().map(|row| normalize_position(row, account, as_of)).collect()
}

fn normalize_position(row: &Value, account: &Account, as_of: i64) -> Result<Position, ProviderError> {
    let instrument =
        row.get("instrument").filter(|i| i.is_object()).ok_or_else(|| malformed("position without instrument"))?;
    let kind = kind_of(instrument.get("kind").and_then(Value::as_str).unwrap_or("other"));
    let symbol = string(instrument.get("symbol")).or_else(|| string(instrument.get("raw_symbol")));
    let ticker = symbol.as_deref().and_then(|s| Ticker::parse(s).ok());
    let security_key = match (&ticker, string(instrument.get("id"))) {
        (Some(t), _) => t.as_str().to_ascii_uppercase(),
        (None, Some(id)) => format!("snaptrade:{id}"),
        (None, None) => return Err(malformed("position without symbol or instrument id")),
    };
    let currency = string(row.get("currency"))
        .or_else(|| string(instrument.get("currency")))
        .map(|c| Currency::parse(&c).map_err(|e| malformed(format!("position currency: {e}"))))
        .transpose()?
        .or_else(|| account.currency.clone())
        .ok_or_else(|| malformed(format!("position {security_key} has no currency")))?;
    let units = decimal(row.get("units"), "units")?.unwrap_or_default();
    let price = decimal(row.get("price"), "price")?;
    let multiplier = if kind == SecurityKind::Option {
        decimal(instrument.get("multiplier"), "multiplier")?.unwrap_or(Decimal::ONE_HUNDRED)
    } else {
        Decimal::ONE
    };
    let unit_cost = decimal(row.get("cost_basis"), "cost_basis")?;
    // A total too large for a decimal is a malformed answer, never a panic (found by fuzzing).
    let total = |per_unit: Option<Decimal>, field: &str| {
        per_unit
            .map(|value| {
                value.checked_mul(units).and_then(|v| v.checked_mul(multiplier)).ok_or_else(|| {
                    malformed(format!("{field} × units × multiplier of {security_key} is too large to represent"))
                })
            })
            .transpose()
    };
    let (market_value, cost_basis) = (total(price, "price")?, total(unit_cost, "cost_basis")?);
    Ok(Position {
        provider: Provider::SnapTrade,
        account_id: account.account_id.clone(),
        institution: account.institution.clone(),
        security_key,
        ticker,
        name: string(instrument.get("description")),
        kind,
        quantity: Quantity(units),
        market_value,
        cost_basis,
        price,
        currency,
        as_of,
        detail: None,
    })
}

/// Normalises a `/accounts/{id}/balances` body: one cash line per currency reported.
pub fn normalize_balances(body: &Value, account: &Account, fetched_at: i64) -> Result<Vec<CashBalance>, ProviderError> {
    let rows = body.as_array().ok_or_else(|| malformed("balances: expected a list"))?;
    let mut balances = Vec::with_capacity(rows.len());
    for row in rows {
        let code = row
            .get("currency")
            .and_then(|c| string(c.get("code")).or_else(|| c.as_str().map(str::to_owned)))
            .ok_or_else(|| malformed("balance without currency"))?;
        let currency = Currency::parse(&code).map_err(|e| malformed(format!("balance currency: {e}")))?;
        let Some(amount) = decimal(row.get("cash"), "cash")? else { continue };
        balances.push(CashBalance {
            provider: Provider::SnapTrade,
            account_id: account.account_id.clone(),
            institution: account.institution.clone(),
            currency,
            amount,
            buying_power: decimal(row.get("buying_power"), "buying_power")?,
            as_of: fetched_at,
        });
    }
    Ok(balances)
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
