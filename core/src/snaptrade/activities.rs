//! SnapTrade's `GET /accounts/{accountId}/activities` pages normalised into core transactions.
//! SnapTrade already writes cash as the ledger does (positive = into the account); quantities
//! get the ledger's sign from the type (a sale's units leave the position). Its `type` is
//! open-ended: unknown types are `other`, with the raw string kept. Exact decimals throughout.

use super::normalize::{decimal, malformed, string};
use crate::domain::{Account, Currency, Provider, Ticker};
use crate::provider_error::ProviderError;
use crate::time::Date;
use crate::transactions::{transaction_id, Transaction, TransactionSecurity, TransactionType};
use serde_json::Value;

const P: Provider = Provider::SnapTrade;

/// One page of activities: its rows and the total SnapTrade counts in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityPage {
    pub transactions: Vec<Transaction>,
    pub total: u64,
}

/// SnapTrade's activity `type` in the ledger's vocabulary; `units` and `amount` decide the
/// direction of a bare `TRANSFER`.
fn kind_of(raw: &str, units: Option<rust_decimal::Decimal>, amount: Option<rust_decimal::Decimal>) -> TransactionType {
    use TransactionType as T;
    match raw.trim().to_ascii_uppercase().as_str() {
        "BUY" | "REI" => T::Buy,
        "SELL" => T::Sell,
        "DIVIDEND" | "SUBSTITUTE_DIVIDEND" | "STOCK_DIVIDEND" | "DISTRIBUTION" => T::Dividend,
        "INTEREST" => T::Interest,
        "FEE" => T::Fee,
        "TAX" => T::Tax,
        "CONTRIBUTION" | "DEPOSIT" => T::Deposit,
        "WITHDRAWAL" => T::Withdrawal,
        "SPLIT" | "REVERSE_SPLIT" => T::Split,
        "EXTERNAL_ASSET_TRANSFER_IN" | "INTERNAL_CASH_TRANSFER_IN" | "INTERNAL_ASSET_TRANSFER_IN" => T::TransferIn,
        "EXTERNAL_ASSET_TRANSFER_OUT" | "INTERNAL_CASH_TRANSFER_OUT" | "INTERNAL_ASSET_TRANSFER_OUT" => T::TransferOut,
        "TRANSFER" => {
            let outward = units.or(amount).is_some_and(|v| v.is_sign_negative() && !v.is_zero());
            if outward {
                T::TransferOut
            } else {
                T::TransferIn
            }
        }
        _ => T::Other,
    }
}

/// Whether a row of this raw type changes a position even though its kind is a cash kind
/// (shares paid as a dividend).
fn moves_shares(raw: &str) -> bool {
    raw.trim().eq_ignore_ascii_case("STOCK_DIVIDEND")
}

fn security(row: &Value) -> Option<TransactionSecurity> {
    let option = row.get("option_symbol").filter(|o| o.is_object());
    if let Some(ticker) = option.and_then(|o| string(o.get("ticker"))) {
        let name = option.and_then(|o| string(o.get("description")));
        return Some(TransactionSecurity { security_key: ticker.to_ascii_uppercase(), ticker: Some(ticker), name });
    }
    let symbol = row.get("symbol").filter(|s| s.is_object())?;
    let text = string(symbol.get("symbol")).or_else(|| string(symbol.get("raw_symbol")));
    let ticker = text.as_deref().and_then(|t| Ticker::parse(t).ok());
    let security_key = match (&ticker, string(symbol.get("id"))) {
        (Some(t), _) => t.as_str().to_ascii_uppercase(),
        (None, Some(id)) => format!("snaptrade:{id}"),
        (None, None) => return None,
    };
    Some(TransactionSecurity {
        security_key,
        ticker: ticker.map(|t| t.as_str().to_owned()),
        name: string(symbol.get("description")),
    })
}

fn currency(row: &Value) -> Option<Currency> {
    let code = |v: Option<&Value>| v.filter(|c| c.is_object()).and_then(|c| string(c.get("code")));
    code(row.get("currency"))
        .or_else(|| code(row.get("symbol").and_then(|s| s.get("currency"))))
        .and_then(|c| Currency::parse(&c).ok())
}

fn normalize_row(row: &Value, index: usize, account: &Account) -> Result<Transaction, ProviderError> {
    let path = |field: &str| format!("activities.data[{index}].{field}");
    let provider_id = string(row.get("id")).ok_or_else(|| malformed(format!("{} is missing", path("id"))))?;
    let raw_type = string(row.get("type")).unwrap_or_else(|| "UNKNOWN".to_owned());
    let units = decimal(row.get("units"), &path("units"))?;
    let amount = decimal(row.get("amount"), &path("amount"))?;
    let kind = kind_of(&raw_type, units, amount);
    let day = |field: &str| string(row.get(field)).and_then(|t| Date::of_timestamp(&t));
    let settlement_date = day("settlement_date");
    let trade_date = day("trade_date")
        .or(settlement_date)
        .ok_or_else(|| malformed(format!("{} has no trade_date or settlement_date", path("id"))))?;
    let security = security(row);
    let quantity = if security.is_none() || (kind.is_cash_only() && !moves_shares(&raw_type)) {
        None
    } else {
        units.filter(|u| !u.is_zero()).map(|u| match kind {
            TransactionType::Buy | TransactionType::TransferIn | TransactionType::Dividend => u.abs(),
            TransactionType::Sell | TransactionType::TransferOut => -u.abs(),
            _ => u,
        })
    };
    Ok(Transaction {
        id: transaction_id(P, &provider_id),
        provider: P,
        provider_transaction_id: provider_id,
        account_id: account.account_id.clone(),
        institution: account.institution.clone(),
        kind,
        provider_type: raw_type,
        trade_date,
        settlement_date,
        security,
        quantity,
        price: decimal(row.get("price"), &path("price"))?,
        amount,
        fees: decimal(row.get("fee"), &path("fee"))?.map(|f| f.abs()),
        currency: currency(row),
        description: string(row.get("description")),
    })
}

/// Normalises one `PaginatedUniversalActivity` page of `account`'s activities. A row without an
/// id or any date, or a number of the wrong type, is `Malformed` (the whole page: a ledger is
/// never read in part); a page without `pagination` counts its own rows as the total.
pub fn normalize_activities(body: &Value, account: &Account) -> Result<ActivityPage, ProviderError> {
    let rows = body.get("data").and_then(Value::as_array).ok_or_else(|| malformed("activities: no data list"))?;
    let transactions =
        rows.iter().enumerate().map(|(i, row)| normalize_row(row, i, account)).collect::<Result<Vec<_>, _>>()?;
    let pagination = body.get("pagination").filter(|p| p.is_object());
    let total = match pagination.and_then(|p| p.get("total")) {
        None | Some(Value::Null) => transactions.len() as u64,
        Some(total) => total.as_u64().ok_or_else(|| malformed(format!("activities pagination.total: {total}")))?,
    };
    Ok(ActivityPage { transactions, total })
}
