//! `OpenPositions/OpenPosition` rows read into positions with their lots (reference §3.4).
//!
//! - A row's `levelOfDetail` is `SUMMARY` or `LOT` (any case); when no row has one, every row is a
//!   summary. Some rows with it and some without, or another value, is `Malformed`.
//! - Every SUMMARY row is one [`Position`]. A LOT row becomes a [`Lot`] of the SUMMARY row of the
//!   same account and `conid` (or symbol, without a conid), never a position of its own: LOT rows
//!   without any SUMMARY row are `Query(SummaryMissing)`, a LOT row whose SUMMARY row is missing
//!   while others are there is `Malformed`. A position's lots must sum to its quantity exactly,
//!   else `Malformed` (the statement disagrees with itself).
//! - quantity `position` (signed), price `markPrice`, market value `positionValue`, cost basis
//!   `costBasisMoney` (null when empty, never 0), currency `currency`; all exact decimals.
//! - `security_key`: the upper-cased ticker for stocks, ETFs and funds (`symbol`); for an option,
//!   its OCC symbol in the canonical 21-character form, root padded with spaces to six
//!   (`SYNT  260619C00160000`, as Schwab direct keys the same contract); for crypto the symbol;
//!   for bonds and bills `cusip:…` or `isin:…` (as the aggregators key them); everything else,
//!   and whatever lacks a usable symbol, `conid:<conid>`. Trades and cash transactions key their
//!   security with the same function ([`instrument`]), so activity and holdings always agree.

use super::dates::SlashOrder;
use super::error::{FlexError, QueryProblem};
use super::values::{elements, shown, Row};
use crate::domain::{Account, Currency, Lot, Position, PositionDetail, Provider, Quantity, SecurityKind, Ticker};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

const MAX_CONID_LEN: usize = 20;

/// What one OpenPosition row stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Summary,
    Lot,
    Unspecified,
}

fn level(row: &Row) -> Result<Level, FlexError> {
    match row.text("levelOfDetail") {
        None => Ok(Level::Unspecified),
        Some(l) if l.eq_ignore_ascii_case("SUMMARY") => Ok(Level::Summary),
        Some(l) if l.eq_ignore_ascii_case("LOT") => Ok(Level::Lot),
        Some(other) => {
            Err(FlexError::malformed(format!("OpenPosition levelOfDetail {} is not SUMMARY or LOT", shown(other))))
        }
    }
}

fn kind_of(category: &str, subcategory: Option<&str>) -> SecurityKind {
    match category.to_ascii_uppercase().as_str() {
        "STK" if subcategory.is_some_and(|s| s.eq_ignore_ascii_case("ETF")) => SecurityKind::Etf,
        "STK" => SecurityKind::Equity,
        "FUND" => SecurityKind::MutualFund,
        "OPT" => SecurityKind::Option,
        "FOP" | "FSOPT" | "FSFOP" | "IOPT" | "WAR" | "FUT" | "CFD" | "FXCFD" => SecurityKind::Derivative,
        "BOND" | "BILL" => SecurityKind::FixedIncome,
        "CRYPTO" => SecurityKind::Crypto,
        "CASH" => SecurityKind::Cash,
        _ => SecurityKind::Other,
    }
}

/// The canonical OCC form of an option symbol (`ROOT` padded to six, then `yyMMdd`, `C`/`P` and
/// the strike × 1000 in eight digits), when the symbol is one.
pub(crate) fn occ_symbol(symbol: &str) -> Option<String> {
    let symbol = symbol.trim();
    if !symbol.is_ascii() || symbol.len() < 16 {
        return None;
    }
    let (root, tail) = symbol.split_at(symbol.len() - 15);
    let root = root.trim_end();
    let t = tail.as_bytes();
    let tail_ok = t[..6].iter().all(u8::is_ascii_digit)
        && matches!(t[6], b'C' | b'P' | b'c' | b'p')
        && t[7..].iter().all(u8::is_ascii_digit);
    let root_ok = (1..=6).contains(&root.len()) && root.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    (tail_ok && root_ok).then(|| format!("{:<6}{}", root.to_ascii_uppercase(), tail.to_ascii_uppercase()))
}

/// A row's instrument, keyed the way positions are keyed, so that a trade or a dividend of a
/// security carries the same `security_key` as its position.
pub(crate) struct InstrumentKey {
    /// The instrument within its account: `conid:<conid>`, else `symbol:<symbol>`.
    pub identity: String,
    /// The cross-provider key (see the module rules).
    pub security_key: String,
    /// The ticker, for stocks, ETFs and funds with a usable symbol.
    pub ticker: Option<Ticker>,
    pub kind: SecurityKind,
}

/// The instrument a row is about within its account: its conid, else its symbol; `Ok(None)` when
/// it names neither, `Malformed` when the conid is not a number.
fn identity(row: &Row) -> Result<Option<String>, FlexError> {
    if let Some(conid) = row.text("conid") {
        if conid.len() > MAX_CONID_LEN || !conid.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FlexError::malformed(format!("{} conid {} is not a number", row.kind, shown(conid))));
        }
        return Ok(Some(format!("conid:{conid}")));
    }
    Ok(row.text("symbol").map(|symbol| format!("symbol:{symbol}")))
}

fn security_key(row: &Row, kind: SecurityKind, ticker: Option<&Ticker>, identity: &str) -> String {
    let symbol = row.text("symbol");
    let upper = |s: &str| s.to_ascii_uppercase();
    let key = match kind {
        SecurityKind::Equity | SecurityKind::Etf | SecurityKind::MutualFund => ticker.map(|t| upper(t.as_str())),
        SecurityKind::Option => symbol.and_then(occ_symbol),
        SecurityKind::Crypto => symbol.and_then(|s| Ticker::parse(s).ok()).map(|t| upper(t.as_str())),
        SecurityKind::FixedIncome => (row.text("cusip").map(|c| format!("cusip:{}", upper(c))))
            .or_else(|| row.text("isin").map(|i| format!("isin:{}", upper(i)))),
        _ => None,
    };
    key.unwrap_or_else(|| match identity.strip_prefix("symbol:") {
        Some(symbol) => upper(symbol),
        None => identity.to_owned(),
    })
}

/// The instrument of any Flex row about a security (`OpenPosition`, `Trade`, `CashTransaction`):
/// its identity, key, ticker and kind from `conid`, `symbol`, `assetCategory`, `subCategory`,
/// `cusip` and `isin`. `Ok(None)` when the row names no instrument.
pub(crate) fn instrument(row: &Row) -> Result<Option<InstrumentKey>, FlexError> {
    let Some(identity) = identity(row)? else { return Ok(None) };
    let kind = kind_of(row.text("assetCategory").unwrap_or_default(), row.text("subCategory"));
    let ticker = match kind {
        SecurityKind::Equity | SecurityKind::Etf | SecurityKind::MutualFund => {
            row.text("symbol").and_then(|s| Ticker::parse(s).ok())
        }
        _ => None,
    };
    let security_key = security_key(row, kind, ticker.as_ref(), &identity);
    Ok(Some(InstrumentKey { identity, security_key, ticker, kind }))
}

fn position(row: &Row, account: &Account, instrument: &InstrumentKey, as_of: i64) -> Result<Position, FlexError> {
    let code = row.required_text("currency")?;
    let currency = Currency::parse(code)
        .map_err(|_| FlexError::malformed(format!("OpenPosition currency {} is not a currency", shown(code))))?;
    let detail = PositionDetail {
        conid: row.text("conid").map(str::to_owned),
        isin: row.text("isin").map(str::to_owned),
        cusip: row.text("cusip").map(str::to_owned),
        multiplier: row.decimal("multiplier")?,
        fx_rate_to_base: row.decimal("fxRateToBase")?,
        lots: Vec::new(),
    };
    Ok(Position {
        provider: Provider::IbkrFlex,
        account_id: account.account_id.clone(),
        institution: account.institution.clone(),
        security_key: instrument.security_key.clone(),
        ticker: instrument.ticker.clone(),
        name: row.text("description").map(str::to_owned),
        kind: instrument.kind,
        quantity: Quantity(row.required_decimal("position")?),
        price: row.decimal("markPrice")?,
        market_value: row.decimal("positionValue")?,
        cost_basis: row.decimal("costBasisMoney")?,
        currency,
        as_of,
        detail: Some(Box::new(detail)),
    })
}

fn lot(row: &Row) -> Result<Lot, FlexError> {
    Ok(Lot {
        quantity: Quantity(row.required_decimal("position")?),
        cost_basis: row.decimal("costBasisMoney")?,
        opened_at: row.date_time("openDateTime")?,
    })
}

/// Checks that a position's lots, when it has any, sum to its quantity exactly.
fn check_lots(position: &Position) -> Result<(), FlexError> {
    let Some(detail) = position.detail.as_deref().filter(|d| !d.lots.is_empty()) else { return Ok(()) };
    let sum = detail.lots.iter().try_fold(Decimal::ZERO, |sum, lot| sum.checked_add(lot.quantity.0));
    match sum {
        Some(sum) if sum == position.quantity.0 => Ok(()),
        _ => Err(FlexError::malformed(format!(
            "the LOT rows of {} do not add up to its SUMMARY position",
            position.security_key
        ))),
    }
}

/// The positions of one statement's `OpenPositions` section, in the order of their rows.
pub(crate) fn read(
    open: roxmltree::Node,
    account: &Account,
    dates: SlashOrder,
    as_of: i64,
) -> Result<Vec<Position>, FlexError> {
    let mut rows = Vec::new();
    for node in elements(open, "OpenPosition") {
        let row = Row { node, kind: "OpenPosition", dates };
        if row.text("accountId").is_some_and(|id| id != account.account_id) {
            return Err(FlexError::malformed("an OpenPosition row of another account"));
        }
        let level = level(&row)?;
        let instrument =
            instrument(&row)?.ok_or_else(|| FlexError::malformed("an OpenPosition without conid or symbol"))?;
        rows.push((level, instrument, row));
    }
    let has = |level| rows.iter().any(|(l, ..)| *l == level);
    let (summaries, lots, unspecified) = (has(Level::Summary), has(Level::Lot), has(Level::Unspecified));
    if unspecified && (summaries || lots) {
        return Err(FlexError::malformed("some OpenPosition rows have a levelOfDetail and others do not"));
    }
    if lots && !summaries {
        return Err(FlexError::Query(QueryProblem::SummaryMissing));
    }
    let mut positions = Vec::new();
    let mut by_identity = BTreeMap::new();
    for (level, instrument, row) in &rows {
        if *level == Level::Lot {
            continue;
        }
        let identity = instrument.identity.as_str();
        if by_identity.insert(identity, positions.len()).is_some() {
            return Err(FlexError::malformed(format!("two SUMMARY rows for {identity}")));
        }
        positions.push(position(row, account, instrument, as_of)?);
    }
    for (level, instrument, row) in &rows {
        if *level != Level::Lot {
            continue;
        }
        let identity = instrument.identity.as_str();
        let index = by_identity
            .get(identity)
            .ok_or_else(|| FlexError::malformed(format!("a LOT row of {identity} has no SUMMARY row")))?;
        if let Some(detail) = positions.get_mut(*index).and_then(|p| p.detail.as_deref_mut()) {
            detail.lots.push(lot(row)?);
        }
    }
    positions.iter().try_for_each(check_lots)?;
    Ok(positions)
}
