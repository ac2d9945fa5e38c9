//! `Trades/Trade` and `CashTransactions/CashTransaction` rows (reference §3.6, §3.7) read into the
//! normalised ledger ([`crate::transactions`], whose sign convention IBKR already writes: `netCash`
//! and `amount` are + = cash into the account, `quantity` + = units in). One [`AccountLedger`] per
//! FlexStatement, even with no rows. Exact decimals, real dates, never a panic; a bad value is
//! `Malformed` naming the row and attribute, and fails the whole statement (a ledger is never read
//! in part). An absent section is no rows (the statement's own rules require both sections).
//!
//! Rules, in the order they apply:
//! 1. **Period**: the FlexStatement's `fromDate`..=`toDate`, the span the statement covers
//!    completely. Without `fromDate` it is `toDate` alone (the one day it surely covers);
//!    `fromDate` after `toDate` is `Malformed`. Rows dated outside the period are kept.
//! 2. **Which rows**: in `Trades`, only `Trade` elements whose `levelOfDetail` is `EXECUTION` or
//!    absent (the field not selected: a `Trade` element is an execution). Every other level
//!    (`ORDER`, `CLOSED_LOT`, `SYMBOL_SUMMARY`, `ASSET_SUMMARY`) and every other element (`Order`,
//!    `Lot`, `SymbolSummary`, …) repeats executions and is skipped, never counted twice. In
//!    `CashTransactions`, only `CashTransaction` elements whose `levelOfDetail` is `DETAIL` or
//!    absent. Levels match in any case. A row naming another account is `Malformed`.
//! 3. **Ids**: the provider id is `transactionID`, else (trades) `tradeID`, else a content id
//!    `<Element>:<dateTime or date>:<currency>:<amount>:<type or buySell>:<conid or symbol>#<n>`
//!    (n counts identical rows) that re-reads of the same rows reproduce; the ledger id is
//!    [`transaction_id`]`(ibkr_flex, provider id)`. Two counted rows with one id is `Malformed`.
//! 4. **Trades**: `buySell` `BUY` → buy, `SELL` → sell, anything else by the sign of `quantity`
//!    (0 → other); `quantity` as sent; price `tradePrice`; amount `netCash` (without it,
//!    `proceeds` + `ibCommission` + `taxes`); fees |`ibCommission`| + |`taxes`|, the commission
//!    only when charged in the trade's currency (a row has one currency), `None` when neither is
//!    sent; trade date `tradeDate`, else `dateTime`, else `reportDate`; settlement
//!    `settleDateTarget`. A currency conversion (`assetCategory="CASH"`, e.g. `EUR.USD`) is
//!    `other` without security or quantity: its units are cash, not a position.
//! 5. **Cancellations**: a row with `buySell` `BUY (Ca.)`/`SELL (Ca.)` or `transactionType`
//!    `TradeCancel`/`FracShareCancel` cancels the execution whose `transactionID` is its
//!    `origTransactionID`, or whose `tradeID` is its `origTradeID`. When that execution is in the
//!    same statement, both are dropped (the trade never happened). Otherwise (the original came in
//!    an earlier statement) the cancel is listed as `other` with its reversing quantity and cash as
//!    sent, so the ledger still adds up.
//! 6. **Cash transactions**: `type` (trimmed, any case) `Dividends`, `Payment In Lieu Of
//!    Dividends` → dividend; `Withholding Tax`, `871(m) Withholding` → tax; `Broker Interest
//!    Received`/`Paid`, `Bond Interest Received`/`Paid` → interest (paid interest keeps its
//!    negative amount: it is interest, the sign says which way); `Other Fees`, `Advisor Fees`,
//!    `Commission Adjustments`, `Broker Fees` → fee; `Deposits & Withdrawals` /
//!    `Deposits/Withdrawals` → deposit when `amount` > 0, withdrawal when < 0 (0 → other);
//!    anything else → other. Amount `amount` (required); trade date `dateTime`, else `reportDate`,
//!    else `settleDate`; settlement `settleDate`; a security when the row names one and its
//!    `assetCategory` is not `CASH`; no quantity, price or fees.

use super::dates::SlashOrder;
use super::error::FlexError;
use super::positions::{instrument, InstrumentKey};
use super::values::{elements, shown, Row};
use crate::domain::{Account, Currency, Provider, SecurityKind};
use crate::time::Date;
use crate::transactions::{transaction_id, Transaction, TransactionSecurity, TransactionType};
use roxmltree::Node;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const P: Provider = Provider::IbkrFlex;
const MAX_ID_LEN: usize = 64;

/// One account's activity in one statement, with the period the statement covers completely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLedger {
    pub account_id: String,
    /// The FlexStatement's `fromDate` (its `toDate` when it has none).
    pub from: Date,
    /// The FlexStatement's `toDate`.
    pub to: Date,
    /// Executions, then cash transactions, in document order (see the module rules).
    pub transactions: Vec<Transaction>,
}

/// One ledger per account from the ledgers of several statements (a person's Flex queries may
/// cover the same account): the statement that reaches furthest counts, and of two reaching the
/// same day the one that starts earlier (it covers more). Accounts in account-id order.
pub fn latest_per_account(ledgers: impl IntoIterator<Item = AccountLedger>) -> Vec<AccountLedger> {
    let mut latest: std::collections::BTreeMap<String, AccountLedger> = std::collections::BTreeMap::new();
    for ledger in ledgers {
        let further = |kept: &AccountLedger| (ledger.to, kept.from) > (kept.to, ledger.from);
        if latest.get(&ledger.account_id).is_none_or(further) {
            latest.insert(ledger.account_id.clone(), ledger);
        }
    }
    latest.into_values().collect()
}

/// The calendar day of an ISO date or date-time the row reader produced.
fn day_of(row: &Row, attribute: &str, iso: &str) -> Result<Date, FlexError> {
    Date::of_timestamp(iso)
        .ok_or_else(|| FlexError::malformed(format!("{} {attribute} is not a date: {}", row.kind, shown(iso))))
}

/// The first of `attributes` that carries a date, as a day.
fn first_day(row: &Row, attributes: &[&str]) -> Result<Option<Date>, FlexError> {
    for attribute in attributes {
        if let Some(iso) = row.date_time(attribute)? {
            return day_of(row, attribute, &iso).map(Some);
        }
    }
    Ok(None)
}

fn currency(row: &Row) -> Result<Option<Currency>, FlexError> {
    row.text("currency")
        .map(|c| Currency::parse(c).map_err(|_| FlexError::malformed(format!("{} currency {}", row.kind, shown(c)))))
        .transpose()
}

fn id_attribute(row: &Row, attribute: &str) -> Result<Option<String>, FlexError> {
    let Some(id) = row.text(attribute) else { return Ok(None) };
    let valid = id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    match valid {
        true => Ok(Some(id.to_owned())),
        false => Err(FlexError::malformed(format!("{} {attribute} {} is not an id", row.kind, shown(id)))),
    }
}

fn level_is(row: &Row, wanted: &str) -> bool {
    row.text("levelOfDetail").is_none_or(|level| level.eq_ignore_ascii_case(wanted))
}

/// A row's security as positions key it, unless the row is about cash.
fn security(row: &Row) -> Result<Option<TransactionSecurity>, FlexError> {
    let Some(InstrumentKey { security_key, ticker, kind, .. }) = instrument(row)? else { return Ok(None) };
    Ok((kind != SecurityKind::Cash).then(|| TransactionSecurity {
        security_key,
        ticker: ticker.map(|t| t.as_str().to_owned()),
        name: row.text("description").map(str::to_owned),
    }))
}

/// The counted rows of one account, with the content ids handed out so far.
struct Reader<'a> {
    account: &'a Account,
    dates: SlashOrder,
    seen: BTreeMap<String, u32>,
}

impl Reader<'_> {
    fn row<'a, 'input>(&self, node: Node<'a, 'input>, kind: &'static str) -> Result<Row<'a, 'input>, FlexError> {
        let row = Row { node, kind, dates: self.dates };
        match row.text("accountId").is_some_and(|id| id != self.account.account_id) {
            true => Err(FlexError::malformed(format!("a {kind} row of another account"))),
            false => Ok(row),
        }
    }

    /// The provider id from `attributes`, else a content id.
    fn provider_id(&mut self, row: &Row, attributes: &[&str], content: [&str; 4]) -> Result<String, FlexError> {
        for attribute in attributes {
            if let Some(id) = id_attribute(row, attribute)? {
                return Ok(id);
            }
        }
        let instrument = row.text("conid").or_else(|| row.text("symbol")).unwrap_or_default();
        let base = format!("{}:{}:{}", row.kind, content.join(":"), instrument);
        let n = self.seen.entry(base.clone()).or_default();
        *n += 1;
        Ok(format!("{base}#{n}"))
    }

    fn transaction(&self, provider_id: String, kind: TransactionType, provider_type: String, day: Date) -> Transaction {
        Transaction {
            id: transaction_id(P, &provider_id),
            provider: P,
            provider_transaction_id: provider_id,
            account_id: self.account.account_id.clone(),
            institution: self.account.institution.clone(),
            kind,
            provider_type,
            trade_date: day,
            settlement_date: None,
            security: None,
            quantity: None,
            price: None,
            amount: None,
            fees: None,
            currency: None,
            description: None,
        }
    }
}

/// What a counted Trade row says beyond its transaction: how to find it and what it cancels.
struct Execution {
    transaction: Transaction,
    trade_id: Option<String>,
    /// `Some((origTransactionID, origTradeID))` when the row is a cancellation.
    cancels: Option<(Option<String>, Option<String>)>,
}

fn is_cancel(row: &Row) -> bool {
    let buy_sell = row.text("buySell").unwrap_or_default();
    let kind = row.text("transactionType").unwrap_or_default();
    buy_sell.to_ascii_uppercase().ends_with("(CA.)")
        || kind.eq_ignore_ascii_case("TradeCancel")
        || kind.eq_ignore_ascii_case("FracShareCancel")
}

fn execution(reader: &mut Reader, row: &Row) -> Result<Execution, FlexError> {
    let quantity = row.required_decimal("quantity")?;
    let date = first_day(row, &["tradeDate", "dateTime", "reportDate"])?
        .ok_or_else(|| FlexError::malformed("a Trade without tradeDate, dateTime or reportDate"))?;
    let currency = currency(row)?;
    let commission = row.decimal("ibCommission")?;
    let taxes = row.decimal("taxes")?;
    let commission_currency = row.text("ibCommissionCurrency");
    let same_currency = commission_currency.is_none_or(|c| currency.as_ref().is_none_or(|t| t.as_str() == c));
    let fees = match (commission.filter(|_| same_currency), taxes) {
        (None, None) => None,
        (c, t) => Some(c.unwrap_or_default().abs() + t.unwrap_or_default().abs()),
    };
    let amount = match row.decimal("netCash")? {
        Some(net) => Some(net),
        None => row.decimal("proceeds")?.map(|p| p + commission.unwrap_or_default() + taxes.unwrap_or_default()),
    };
    let buy_sell = row.text("buySell");
    let security = security(row)?;
    let fx = row.text("assetCategory").is_some_and(|c| c.eq_ignore_ascii_case("CASH"));
    let kind = match buy_sell.map(str::to_ascii_uppercase).as_deref() {
        _ if fx || is_cancel(row) => TransactionType::Other,
        Some("BUY") => TransactionType::Buy,
        Some("SELL") => TransactionType::Sell,
        _ if quantity > Decimal::ZERO => TransactionType::Buy,
        _ if quantity < Decimal::ZERO => TransactionType::Sell,
        _ => TransactionType::Other,
    };
    let provider_type = buy_sell.or_else(|| row.text("transactionType")).unwrap_or("Trade").to_owned();
    let when = row.date_time("dateTime")?.unwrap_or_else(|| date.to_string());
    let amount_text = amount.map(|a| a.to_string()).unwrap_or_default();
    let content = [when.as_str(), row.text("currency").unwrap_or_default(), &amount_text, &provider_type];
    let id = reader.provider_id(row, &["transactionID", "tradeID"], content)?;
    let mut transaction = reader.transaction(id, kind, provider_type, date);
    transaction.settlement_date = first_day(row, &["settleDateTarget"])?;
    transaction.quantity = (!fx).then_some(quantity);
    transaction.security = security.filter(|_| !fx);
    transaction.price = row.decimal("tradePrice")?;
    (transaction.amount, transaction.fees, transaction.currency) = (amount, fees, currency);
    transaction.description = row.text("description").map(str::to_owned);
    let cancels = is_cancel(row)
        .then(|| (row.text("origTransactionID").map(str::to_owned), row.text("origTradeID").map(str::to_owned)));
    Ok(Execution { transaction, trade_id: row.text("tradeID").map(str::to_owned), cancels })
}

/// The executions left once every cancellation has met its original (rule 5).
fn resolve_cancellations(executions: Vec<Execution>) -> Vec<Transaction> {
    let mut dropped = vec![false; executions.len()];
    for (at, cancel) in executions.iter().enumerate() {
        let Some((orig_transaction, orig_trade)) = &cancel.cancels else { continue };
        let original = executions.iter().enumerate().position(|(i, e)| {
            let same_transaction = orig_transaction.as_deref() == Some(e.transaction.provider_transaction_id.as_str());
            let same_trade = orig_trade.is_some() && *orig_trade == e.trade_id;
            !dropped[i] && e.cancels.is_none() && (same_transaction || same_trade)
        });
        if let Some(original) = original {
            (dropped[original], dropped[at]) = (true, true);
        }
    }
    executions.into_iter().zip(dropped).filter(|(_, gone)| !gone).map(|(e, _)| e.transaction).collect()
}

fn cash_kind(kind: &str, amount: Decimal) -> TransactionType {
    use TransactionType as T;
    match kind.trim().to_ascii_lowercase().as_str() {
        "dividends" | "payment in lieu of dividends" => T::Dividend,
        "withholding tax" | "871(m) withholding" => T::Tax,
        "broker interest received" | "broker interest paid" | "bond interest received" | "bond interest paid" => {
            T::Interest
        }
        "other fees" | "advisor fees" | "commission adjustments" | "broker fees" => T::Fee,
        "deposits & withdrawals" | "deposits/withdrawals" if amount > Decimal::ZERO => T::Deposit,
        "deposits & withdrawals" | "deposits/withdrawals" if amount < Decimal::ZERO => T::Withdrawal,
        _ => T::Other,
    }
}

fn cash_transaction(reader: &mut Reader, row: &Row) -> Result<Transaction, FlexError> {
    let amount = row.required_decimal("amount")?;
    let date = first_day(row, &["dateTime", "reportDate", "settleDate"])?
        .ok_or_else(|| FlexError::malformed("a CashTransaction without dateTime, reportDate or settleDate"))?;
    let provider_type = row.text("type").unwrap_or_default().to_owned();
    let when = row.date_time("dateTime")?.unwrap_or_else(|| date.to_string());
    let content = [when.as_str(), row.text("currency").unwrap_or_default(), &amount.to_string(), &provider_type];
    let id = reader.provider_id(row, &["transactionID"], content)?;
    let mut transaction = reader.transaction(id, cash_kind(&provider_type, amount), provider_type, date);
    transaction.settlement_date = first_day(row, &["settleDate"])?;
    transaction.security = security(row)?;
    (transaction.amount, transaction.currency) = (Some(amount), currency(row)?);
    transaction.description = row.text("description").map(str::to_owned);
    Ok(transaction)
}

fn period(statement: &Row) -> Result<(Date, Date), FlexError> {
    let day = |attribute: &str| -> Result<Option<Date>, FlexError> {
        statement.date(attribute)?.map(|iso| day_of(statement, attribute, &iso)).transpose()
    };
    let to = day("toDate")?.ok_or_else(|| FlexError::malformed("FlexStatement has no toDate"))?;
    let from = day("fromDate")?.unwrap_or(to);
    match from <= to {
        true => Ok((from, to)),
        false => Err(FlexError::malformed("FlexStatement fromDate is after its toDate")),
    }
}

/// The ledger of one FlexStatement (`statement`) of `account`, from its `Trades` and
/// `CashTransactions` sections (either may be absent).
pub(crate) fn read(
    statement: Row,
    account: &Account,
    trades: Option<Node>,
    cash: Option<Node>,
) -> Result<AccountLedger, FlexError> {
    let (from, to) = period(&statement)?;
    let mut reader = Reader { account, dates: statement.dates, seen: BTreeMap::new() };
    let mut executions = Vec::new();
    for node in trades.into_iter().flat_map(|t| elements(t, "Trade")) {
        let row = reader.row(node, "Trade")?;
        if level_is(&row, "EXECUTION") {
            executions.push(execution(&mut reader, &row)?);
        }
    }
    let mut counted: Vec<String> = executions.iter().map(|e| e.transaction.provider_transaction_id.clone()).collect();
    let mut transactions = resolve_cancellations(executions);
    for node in cash.into_iter().flat_map(|c| elements(c, "CashTransaction")) {
        let row = reader.row(node, "CashTransaction")?;
        if level_is(&row, "DETAIL") {
            let transaction = cash_transaction(&mut reader, &row)?;
            counted.push(transaction.provider_transaction_id.clone());
            transactions.push(transaction);
        }
    }
    counted.sort_unstable();
    if let Some(pair) = counted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(FlexError::malformed(format!("two Trades/CashTransactions rows with the id {}", shown(&pair[0]))));
    }
    Ok(AccountLedger { account_id: account.account_id.clone(), from, to, transactions })
}
