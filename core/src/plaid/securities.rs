//! Plaid's `securities[]`: what kind each one is, whether it is currency itself, and the key it
//! is known by across providers. Pure functions over the wire shape; no I/O.

use crate::domain::{Currency, SecurityKind, Ticker};
use serde::Deserialize;
use serde_json::Value;

/// The fields of a Plaid `Security` Tributary reads.
#[derive(Deserialize)]
pub(super) struct PlaidSecurity {
    pub(super) security_id: String,
    pub(super) name: Option<String>,
    pub(super) ticker_symbol: Option<String>,
    pub(super) cusip: Option<String>,
    pub(super) isin: Option<String>,
    pub(super) sedol: Option<String>,
    #[serde(rename = "type")]
    pub(super) security_type: Option<String>,
    pub(super) subtype: Option<String>,
    pub(super) option_contract: Option<Value>,
    pub(super) iso_currency_code: Option<String>,
    pub(super) unofficial_currency_code: Option<String>,
}

/// A trimmed string, or `None` when absent or blank.
pub(super) fn non_empty(text: Option<&String>) -> Option<&str> {
    text.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Plaid's security `type` (and `subtype`) as a core kind; unknown or missing is `Other`.
pub(super) fn kind_of(security: &PlaidSecurity) -> SecurityKind {
    match security.security_type.as_deref().map(str::trim) {
        Some("cash") => SecurityKind::Cash,
        Some("cryptocurrency") => SecurityKind::Crypto,
        Some("derivative")
            if security.subtype.as_deref() == Some("option")
                || security.option_contract.as_ref().is_some_and(Value::is_object) =>
        {
            SecurityKind::Option
        }
        Some("derivative") => SecurityKind::Derivative,
        Some("equity") => SecurityKind::Equity,
        Some("etf") => SecurityKind::Etf,
        Some("fixed income") => SecurityKind::FixedIncome,
        Some("loan") => SecurityKind::Loan,
        Some("mutual fund") => SecurityKind::MutualFund,
        _ => SecurityKind::Other,
    }
}

/// Whether the security is currency itself (cash) rather than a fund or instrument.
pub(super) fn is_currency_line(security: &PlaidSecurity, currency: &Currency) -> bool {
    if security.security_type.as_deref().map(str::trim) != Some("cash") {
        return false;
    }
    match non_empty(security.subtype.as_ref()) {
        Some(subtype) => subtype == "cash",
        None => non_empty(security.ticker_symbol.as_ref()).is_none_or(|ticker| {
            let code = ticker.strip_prefix("CUR:").unwrap_or(ticker);
            code.eq_ignore_ascii_case(currency.as_str())
        }),
    }
}

/// The ticker-based key, or a recognisable provider-scoped identifier when there is no ticker.
pub(super) fn security_key(security: &PlaidSecurity, ticker: Option<&Ticker>) -> String {
    if let Some(ticker) = ticker {
        return ticker.as_str().to_ascii_uppercase();
    }
    [("cusip", &security.cusip), ("isin", &security.isin), ("sedol", &security.sedol)]
        .into_iter()
        .find_map(|(scheme, id)| non_empty(id.as_ref()).map(|id| format!("{scheme}:{}", id.to_ascii_uppercase())))
        .unwrap_or_else(|| format!("plaid:{}", security.security_id))
}
