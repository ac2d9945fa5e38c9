//! Plaid's `/investments/transactions/get` pages normalised into core transactions. Plaid writes
//! cash the other way round (positive = cash debited, a purchase), so every amount is negated into
//! the ledger's convention (positive = into the account); quantities are already signed as the
//! ledger signs them (buys positive, sells negative). Rows of type `cancel` (the cancellation of a
//! pending transaction) are not activity and are left out; the cancelled row itself is gone from
//! the next complete read, which removes it from the ledger.

use super::holdings::{currency, currency_code, decimal, malformed, parse};
use super::securities::{non_empty, security_key, PlaidSecurity};
use crate::domain::{InstitutionSlug, Provider, Ticker};
use crate::institutions::resolve_institution;
use crate::provider_error::ProviderError;
use crate::time::Date;
use crate::transactions::{transaction_id, Transaction, TransactionSecurity, TransactionType};
use serde::Deserialize;
use serde_json::{Number, Value};
use std::collections::BTreeMap;

const P: Provider = Provider::Plaid;

/// One page of investment transactions: its rows, the total Plaid counts in the window, and how
/// many `cancel` rows it left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestmentTransactionPage {
    pub transactions: Vec<Transaction>,
    /// Rows this page held on the wire (the offset of the next page moves by this much).
    pub received: usize,
    pub total: u64,
    pub cancels: usize,
}

#[derive(Deserialize)]
struct Response {
    investment_transactions: Vec<Value>,
    #[serde(default)]
    securities: Vec<Value>,
    total_investment_transactions: u64,
    item: Option<Item>,
}

#[derive(Deserialize)]
struct Item {
    institution_name: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    investment_transaction_id: String,
    account_id: String,
    security_id: Option<String>,
    date: String,
    transaction_datetime: Option<String>,
    name: Option<String>,
    quantity: Option<Number>,
    amount: Option<Number>,
    price: Option<Number>,
    fees: Option<Number>,
    #[serde(rename = "type")]
    kind: String,
    subtype: Option<String>,
    iso_currency_code: Option<String>,
    unofficial_currency_code: Option<String>,
}

/// Plaid's `type` and `subtype` in the ledger's vocabulary (`None` for `cancel`); `quantity`
/// decides the direction of a bare transfer.
fn kind_of(kind: &str, subtype: &str, quantity: Option<rust_decimal::Decimal>) -> Option<TransactionType> {
    use TransactionType as T;
    Some(match (kind, subtype) {
        ("cancel", _) => return None,
        ("buy", _) => T::Buy,
        ("sell", _) => T::Sell,
        (_, "tax" | "tax withheld") => T::Tax,
        ("fee", _) => T::Fee,
        (
            "cash",
            "dividend"
            | "qualified dividend"
            | "non-qualified dividend"
            | "long-term capital gain"
            | "short-term capital gain",
        ) => T::Dividend,
        ("cash", "interest") => T::Interest,
        ("cash", "deposit" | "contribution") => T::Deposit,
        ("cash", "withdrawal" | "distribution") => T::Withdrawal,
        ("transfer", "split") => T::Split,
        ("transfer", "transfer") | ("cash", "transfer") => {
            if quantity.is_some_and(|q| q.is_sign_negative() && !q.is_zero()) {
                T::TransferOut
            } else {
                T::TransferIn
            }
        }
        _ => T::Other,
    })
}

/// Normalises one `/investments/transactions/get` answer. `institution` is the Item's
/// institution when the shell knows it (else the Item's name is resolved). A row naming a
/// security the page does not list, a date that is not a date, or a field of the wrong type is
/// `Malformed` (the whole page).
pub fn normalize_investment_transactions(
    response: &Value,
    institution: Option<&InstitutionSlug>,
) -> Result<InvestmentTransactionPage, ProviderError> {
    let response: Response = parse(response, "investment transactions response")?;
    let institution = institution.cloned().or_else(|| {
        response.item.as_ref().and_then(|i| non_empty(i.institution_name.as_ref())).and_then(resolve_institution)
    });
    let mut securities: BTreeMap<String, PlaidSecurity> = BTreeMap::new();
    for (i, value) in response.securities.iter().enumerate() {
        let security: PlaidSecurity = parse(value, &format!("securities[{i}]"))?;
        securities.entry(security.security_id.clone()).or_insert(security);
    }
    let mut transactions = Vec::new();
    let mut cancels = 0;
    for (i, value) in response.investment_transactions.iter().enumerate() {
        let path = format!("investment_transactions[{i}]");
        let row: Row = parse(value, &path)?;
        let quantity = decimal(row.quantity.as_ref(), &format!("{path}.quantity"))?;
        let subtype = row.subtype.as_deref().unwrap_or("").trim().to_ascii_lowercase();
        let Some(kind) = kind_of(row.kind.trim(), &subtype, quantity) else {
            cancels += 1;
            continue;
        };
        let posted = Date::parse(row.date.trim()).ok_or_else(|| malformed(format!("{path}.date: {:?}", row.date)))?;
        let traded = row.transaction_datetime.as_deref().and_then(Date::of_timestamp);
        let security = match row.security_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(id) => {
                let security = securities
                    .get(id)
                    .ok_or_else(|| malformed(format!("{path} names security_id {id:?}, which is not in securities")))?;
                let ticker = non_empty(security.ticker_symbol.as_ref()).and_then(|t| Ticker::parse(t).ok());
                Some(TransactionSecurity {
                    security_key: security_key(security, ticker.as_ref()),
                    ticker: ticker.map(|t| t.as_str().to_owned()),
                    name: non_empty(security.name.as_ref()).map(str::to_owned),
                })
            }
        };
        let currency = currency_code(&row.iso_currency_code, &row.unofficial_currency_code)
            .map(|code| currency(code, &format!("{path} currency")))
            .transpose()?;
        let quantity = if security.is_none() || kind.is_cash_only() { None } else { quantity.filter(|q| !q.is_zero()) };
        let provider_type =
            if subtype.is_empty() { row.kind.clone() } else { format!("{}/{subtype}", row.kind.trim()) };
        transactions.push(Transaction {
            id: transaction_id(P, &row.investment_transaction_id),
            provider: P,
            provider_transaction_id: row.investment_transaction_id,
            account_id: row.account_id,
            institution: institution.clone(),
            kind,
            provider_type,
            trade_date: traded.unwrap_or(posted),
            settlement_date: traded.map(|_| posted),
            security,
            quantity,
            price: decimal(row.price.as_ref(), &format!("{path}.price"))?,
            // Plaid: positive = cash debited. The ledger: positive = cash into the account.
            amount: decimal(row.amount.as_ref(), &format!("{path}.amount"))?.map(|a| -a),
            fees: decimal(row.fees.as_ref(), &format!("{path}.fees"))?.map(|f| f.abs()),
            currency,
            description: non_empty(row.name.as_ref()).map(str::to_owned),
        });
    }
    Ok(InvestmentTransactionPage {
        transactions,
        received: response.investment_transactions.len(),
        total: response.total_investment_transactions,
        cancels,
    })
}
