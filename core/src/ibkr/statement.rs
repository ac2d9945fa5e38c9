//! A `FlexQueryResponse` (Activity Flex, reference §3) read into core holdings.
//!
//! Rules, in the order they apply:
//! 1. The root's `type` must be `AF` (or absent); `TCF` is `Query(NotActivity)`, anything else
//!    `Malformed`. `FlexStatements count="N"` must equal its `FlexStatement` children, and there
//!    must be at least one (else `Malformed`: the query covers no account).
//! 2. Every FlexStatement has `AccountInformation`, `OpenPositions`, `CashReport`, `Trades` and
//!    `CashTransactions` (empty containers are fine), else `Query(SectionMissing)` naming the first
//!    missing one; a section twice is `Malformed`.
//! 3. The document's slash-date order is decided ([`SlashOrder::of_document`]).
//! 4. Each statement is one [`Account`]: its `accountId` (1–32 letters or digits), named by the
//!    alias or as `IBKR <accountType> ···<last 4>`, base currency from AccountInformation.
//! 5. Positions: [`super::positions`]. Cash: one balance per `CashReportCurrency` row other than
//!    `BASE_SUMMARY`/`BASE` (or a `levelOfDetail` of `BaseCurrency`), its `endingCash`; the
//!    base roll-up is never added, except as the only cash (in the base currency) when the query
//!    has no per-currency rows. A currency twice in one account is `Malformed`.
//! 6. `statement_date` is the latest `toDate`; `generated_at` the first `whenGenerated`, when it
//!    reads as a date-time.
//! 7. Activity (with the `server` feature, which the ledger's ids need): one
//!    [`AccountLedger`] per statement from its `Trades` and `CashTransactions`
//!    ([`super::transactions`]).

use super::dates::SlashOrder;
use super::error::{FlexError, QueryProblem, REQUIRED_SECTIONS};
use super::positions;
#[cfg(feature = "server")]
use super::transactions::{self, AccountLedger};
use super::values::{elements, shown, Row};
use super::IBKR_INSTITUTION;
use crate::domain::{Account, CashBalance, Currency, Holdings, InstitutionSlug, Provider};
use roxmltree::{Document, Node};
use serde::{Deserialize, Serialize};

const P: Provider = Provider::IbkrFlex;
const INSTITUTION_NAME: &str = "Interactive Brokers";
const MAX_ACCOUNT_ID_LEN: usize = 32;

/// One GetStatement answer read: when it is of, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// ISO `YYYY-MM-DD`: the latest `toDate` across the FlexStatements (what "statement of
    /// <date>" shows).
    pub statement_date: String,
    /// The `whenGenerated` of the first statement, ISO date-time when parseable.
    pub generated_at: Option<String>,
    /// Provider `ibkr_flex`; every account, position and balance `as_of` the fetch time, at
    /// institution `interactive_brokers`.
    pub holdings: Holdings,
    /// Every FlexStatement's trades and cash transactions with the period it covers, one per
    /// account in document order (an account without activity has an empty ledger).
    #[cfg(feature = "server")]
    #[serde(default)]
    pub ledgers: Vec<AccountLedger>,
}

/// The one child called `name`: `Ok(None)` when absent, `Malformed` when there are two.
fn single<'a, 'input>(node: Node<'a, 'input>, name: &'a str) -> Result<Option<Node<'a, 'input>>, FlexError> {
    let mut found = elements(node, name);
    let first = found.next();
    match found.next() {
        Some(_) => Err(FlexError::malformed(format!("a FlexStatement has two {name} sections"))),
        None => Ok(first),
    }
}

/// The FlexStatements, checked against their count and for their sections.
fn statements<'a, 'input>(doc: &'a Document<'input>) -> Result<Vec<Node<'a, 'input>>, FlexError> {
    let root = doc.root_element();
    match root.attribute("type").map(str::trim) {
        None | Some("") | Some("AF") => {}
        Some("TCF") => return Err(FlexError::Query(QueryProblem::NotActivity)),
        Some(other) => return Err(FlexError::malformed(format!("FlexQueryResponse type {} is not AF", shown(other)))),
    }
    let container = elements(root, "FlexStatements").next().ok_or_else(|| FlexError::malformed("no FlexStatements"))?;
    let listed: Vec<Node> = elements(container, "FlexStatement").collect();
    let count = container.attribute("count").map(str::trim).unwrap_or_default();
    if count.len() > 9 || count.parse::<usize>().ok() != Some(listed.len()) {
        return Err(FlexError::malformed(format!(
            "FlexStatements count {} does not match its {} FlexStatement elements",
            shown(count),
            listed.len()
        )));
    }
    if listed.is_empty() {
        return Err(FlexError::malformed("the query covers no account (no FlexStatement)"));
    }
    for statement in &listed {
        for (section, _) in REQUIRED_SECTIONS {
            if single(*statement, section)?.is_none() {
                return Err(FlexError::Query(QueryProblem::SectionMissing { section }));
            }
        }
    }
    Ok(listed)
}

fn section<'a, 'input>(statement: Node<'a, 'input>, name: &'a str) -> Result<Node<'a, 'input>, FlexError> {
    single(statement, name)?.ok_or_else(|| FlexError::malformed(format!("a FlexStatement has no {name}")))
}

fn valid_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ACCOUNT_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn account(statement: Row, info: Row, connection_id: &str) -> Result<Account, FlexError> {
    let id = statement.required_text("accountId")?;
    if !valid_account_id(id) {
        return Err(FlexError::malformed(format!(
            "FlexStatement accountId {} is not 1–32 letters or digits",
            shown(id)
        )));
    }
    if info.text("accountId").is_some_and(|other| other != id) {
        return Err(FlexError::malformed("AccountInformation names another account than its FlexStatement"));
    }
    let mask: String = id.chars().skip(id.len().saturating_sub(4)).collect();
    let account_type = info.text("accountType").map(str::to_owned);
    let name = match info.text("acctAlias") {
        Some(alias) => alias.to_owned(),
        None => format!("IBKR {} ···{mask}", account_type.as_deref().unwrap_or("account")),
    };
    let currency = info
        .text("currency")
        .map(|c| {
            Currency::parse(c).map_err(|_| FlexError::malformed(format!("AccountInformation currency {}", shown(c))))
        })
        .transpose()?;
    Ok(Account {
        provider: P,
        account_id: id.to_owned(),
        connection_id: Some(connection_id.to_owned()),
        institution: InstitutionSlug::parse(IBKR_INSTITUTION).ok(),
        institution_name: Some(INSTITUTION_NAME.to_owned()),
        name: Some(name),
        number_mask: Some(mask),
        account_type,
        currency,
    })
}

/// Whether a CashReportCurrency row is the base-currency roll-up.
fn is_base_summary(row: &Row) -> bool {
    let currency = row.text("currency").unwrap_or_default();
    currency.eq_ignore_ascii_case("BASE_SUMMARY")
        || currency.eq_ignore_ascii_case("BASE")
        || row.text("levelOfDetail").is_some_and(|l| l.eq_ignore_ascii_case("BaseCurrency"))
}

fn cash(report: Node, account: &Account, dates: SlashOrder, as_of: i64) -> Result<Vec<CashBalance>, FlexError> {
    let balance = |currency: Currency, amount| CashBalance {
        provider: P,
        account_id: account.account_id.clone(),
        institution: account.institution.clone(),
        currency,
        amount,
        buying_power: None,
        as_of,
    };
    let mut balances: Vec<CashBalance> = Vec::new();
    let mut base_summary = None;
    for node in elements(report, "CashReportCurrency") {
        let row = Row { node, kind: "CashReportCurrency", dates };
        if row.text("accountId").is_some_and(|id| id != account.account_id) {
            return Err(FlexError::malformed("a CashReportCurrency row of another account"));
        }
        if is_base_summary(&row) {
            base_summary = Some(row);
            continue;
        }
        let code = row.required_text("currency")?;
        let currency = Currency::parse(code).map_err(|_| {
            FlexError::malformed(format!("CashReportCurrency currency {} is not a currency", shown(code)))
        })?;
        if balances.iter().any(|b| b.currency == currency) {
            return Err(FlexError::malformed(format!("two CashReportCurrency rows for {currency}")));
        }
        balances.push(balance(currency, row.required_decimal("endingCash")?));
    }
    if let (true, Some(row)) = (balances.is_empty(), base_summary) {
        let base = account.currency.clone().ok_or_else(|| {
            FlexError::malformed("cash is given only in the base currency, but AccountInformation has no currency")
        })?;
        balances.push(balance(base, row.required_decimal("endingCash")?));
    }
    Ok(balances)
}

/// Reads a parsed `FlexQueryResponse` (see the module rules).
pub(crate) fn read(doc: &Document, connection_id: &str, fetched_at: i64) -> Result<Statement, FlexError> {
    let listed = statements(doc)?;
    let values = doc.descendants().filter(Node::is_element).flat_map(|n| n.attributes().map(|a| a.value()));
    let dates = SlashOrder::of_document(values)?;
    let mut holdings = Holdings::default();
    #[cfg(feature = "server")]
    let mut ledgers = Vec::new();
    let (mut statement_date, mut generated_at) = (None::<String>, None);
    for (index, node) in listed.into_iter().enumerate() {
        let statement = Row { node, kind: "FlexStatement", dates };
        let info = Row { node: section(node, "AccountInformation")?, kind: "AccountInformation", dates };
        let account = account(statement, info, connection_id)?;
        if holdings.accounts.iter().any(|a| a.account_id == account.account_id) {
            return Err(FlexError::malformed("two FlexStatements of one account"));
        }
        let to_date = statement.date("toDate")?.ok_or_else(|| FlexError::malformed("FlexStatement has no toDate"))?;
        if statement_date.as_ref().is_none_or(|latest| *latest < to_date) {
            statement_date = Some(to_date);
        }
        if index == 0 {
            generated_at = node.attribute("whenGenerated").and_then(|t| dates.date_time(t).ok()).flatten();
        }
        let open = section(node, "OpenPositions")?;
        holdings.positions.extend(positions::read(open, &account, dates, fetched_at)?);
        holdings.balances.extend(cash(section(node, "CashReport")?, &account, dates, fetched_at)?);
        #[cfg(feature = "server")]
        ledgers.push(transactions::read(
            statement,
            &account,
            single(node, "Trades")?,
            single(node, "CashTransactions")?,
        )?);
        holdings.accounts.push(account);
    }
    let statement_date = statement_date.ok_or_else(|| FlexError::malformed("no FlexStatement"))?;
    Ok(Statement {
        statement_date,
        generated_at,
        holdings,
        #[cfg(feature = "server")]
        ledgers,
    })
}
