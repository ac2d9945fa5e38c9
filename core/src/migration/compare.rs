//! Comparing one institution's holdings as two providers report them, and its totals: pure
//! functions over normalised [`Holdings`], so every provider's shape meets here as one.
//!
//! - **What is compared.** The institution's positions (`position.institution` is the slug), cash
//!   excluded: positions of kind [`SecurityKind::Cash`] and every cash balance (providers model
//!   cash differently: Plaid as `CUR:` holdings, SnapTrade as balances that include money-market
//!   funds, Schwab as account balances). A security that EITHER side reports as cash (a money-market
//!   fund Plaid and Schwab call cash and SnapTrade a mutual fund) is cash on both sides. Cash is
//!   reported in the totals, never compared.
//! - **Identity.** A security is its `security_key` upper-cased with whitespace removed (SnapTrade
//!   writes OCC option symbols with padding spaces, Plaid without); quantities of one security
//!   are summed across the institution's accounts (the providers' account ids never match).
//! - **Tolerance.** Two quantities are equal when they differ by at most [`QUANTITY_TOLERANCE`]
//!   (absolute, in units): a security held on one side only is compared against zero.
//! - **Fingerprint.** [`Comparison::fingerprint`] is SHA-256 over both sides' securities and
//!   quantities (never prices, which move between two reads) and the connection to be removed:
//!   a confirm token binds it, so an execute sees the very holdings its dry run showed.

use crate::domain::{Currency, Holdings, InstitutionSlug, SecurityKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Two quantities of one security are equal when they differ by at most this many units
/// (0.0001: the finest fractional-share step every provider's shape carries, four places).
pub const QUANTITY_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 4);

/// One security's total at the institution, as one provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityTotal {
    /// The compared identity (see the module doc).
    pub security_key: String,
    pub ticker: Option<String>,
    pub kind: SecurityKind,
    /// Summed over the institution's accounts.
    pub quantity: Decimal,
}

/// A figure per currency with how many of its parts were unknown: `amount` is `None` when any was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyTotal {
    pub currency: Currency,
    /// The sum of the known parts; `None` (never 0) when any part was unknown.
    pub amount: Option<Decimal>,
    /// Positions whose market value is unknown.
    pub unpriced_positions: usize,
}

/// The institution's holdings totals at one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionTotals {
    /// Accounts of the institution.
    pub accounts: usize,
    /// Non-cash positions (rows, before summing per security).
    pub positions: usize,
    /// Non-cash securities, summed per security, ordered by key.
    pub securities: Vec<SecurityTotal>,
    /// Market value of the non-cash positions per currency.
    pub market_value: Vec<CurrencyTotal>,
    /// Cash (balances and cash positions) per currency: reported, never compared.
    pub cash: BTreeMap<Currency, Decimal>,
    /// The keys of the securities held as cash here (money-market funds), never compared.
    pub cash_securities: BTreeSet<String>,
}

/// Why two sides differ on one security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Held at the old provider only.
    MissingAtTarget,
    /// Held at the new provider only.
    MissingAtSource,
    /// Held at both, quantities beyond the tolerance apart.
    QuantityDiffers,
}

/// One security the two providers disagree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityDifference {
    pub security_key: String,
    pub ticker: Option<String>,
    pub kind: DifferenceKind,
    /// The old provider's quantity; `None` when it does not hold it.
    pub from_quantity: Option<Decimal>,
    /// The new provider's quantity; `None` when it does not hold it.
    pub to_quantity: Option<Decimal>,
    /// `to − from` (a missing side counted as zero).
    pub difference: Decimal,
}

/// The comparison of one institution's holdings at two providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The tolerance applied ([`QUANTITY_TOLERANCE`]).
    pub tolerance: Decimal,
    /// No difference beyond the tolerance.
    pub equal: bool,
    /// Every security the sides disagree on, ordered by key.
    pub differences: Vec<QuantityDifference>,
}

/// The identity two providers' positions are matched on: upper-cased, whitespace removed.
pub fn comparable_key(security_key: &str) -> String {
    security_key.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

/// The totals of `institution`'s rows in `holdings` (see the module doc for what counts).
pub fn institution_totals(holdings: &Holdings, institution: &InstitutionSlug) -> InstitutionTotals {
    let here = |slug: &Option<InstitutionSlug>| slug.as_ref() == Some(institution);
    let mut securities: BTreeMap<String, SecurityTotal> = BTreeMap::new();
    let mut values: BTreeMap<Currency, (Decimal, usize)> = BTreeMap::new();
    let mut cash: BTreeMap<Currency, Decimal> = BTreeMap::new();
    let mut cash_securities = BTreeSet::new();
    let mut positions = 0;
    for position in holdings.positions.iter().filter(|p| here(&p.institution)) {
        if position.kind == SecurityKind::Cash {
            // Cash positions are priced at one unit of their currency.
            let amount = position.market_value.unwrap_or(position.quantity.0);
            *cash.entry(position.currency.clone()).or_default() += amount;
            cash_securities.insert(comparable_key(&position.security_key));
            continue;
        }
        positions += 1;
        let key = comparable_key(&position.security_key);
        let total = securities.entry(key.clone()).or_insert_with(|| SecurityTotal {
            security_key: key,
            ticker: position.ticker.as_ref().map(|t| t.as_str().to_owned()),
            kind: position.kind,
            quantity: Decimal::ZERO,
        });
        total.quantity += position.quantity.0;
        let value = values.entry(position.currency.clone()).or_default();
        match position.market_value {
            Some(amount) => value.0 += amount,
            None => value.1 += 1,
        }
    }
    for balance in holdings.balances.iter().filter(|b| here(&b.institution)) {
        *cash.entry(balance.currency.clone()).or_default() += balance.amount;
    }
    // Sums are shown with their trailing zeros dropped (`10`, not `10.0`): the same value.
    let market_value = values
        .into_iter()
        .map(|(currency, (sum, unpriced))| CurrencyTotal {
            currency,
            amount: (unpriced == 0).then_some(sum.normalize()),
            unpriced_positions: unpriced,
        })
        .collect();
    let cash = cash.into_iter().map(|(currency, amount)| (currency, amount.normalize())).collect();
    let securities = securities.into_values().map(|t| SecurityTotal { quantity: t.quantity.normalize(), ..t });
    InstitutionTotals {
        accounts: holdings.accounts.iter().filter(|a| here(&a.institution)).count(),
        positions,
        securities: securities.collect(),
        market_value,
        cash,
        cash_securities,
    }
}

/// The non-cash securities of `totals`, leaving out those either side holds as cash.
fn compared<'a>(
    totals: &'a InstitutionTotals,
    other: &'a InstitutionTotals,
) -> impl Iterator<Item = &'a SecurityTotal> {
    totals.securities.iter().filter(|t| !other.cash_securities.contains(&t.security_key))
}

/// Every security `from` and `to` disagree on beyond the tolerance.
pub fn compare_totals(from: &InstitutionTotals, to: &InstitutionTotals) -> Comparison {
    let mut keys: BTreeMap<&str, (Option<&SecurityTotal>, Option<&SecurityTotal>)> = BTreeMap::new();
    for total in compared(from, to) {
        keys.entry(&total.security_key).or_default().0 = Some(total);
    }
    for total in compared(to, from) {
        keys.entry(&total.security_key).or_default().1 = Some(total);
    }
    let differences: Vec<QuantityDifference> = keys
        .into_iter()
        .filter_map(|(key, (old, new))| {
            let (from_quantity, to_quantity) = (old.map(|t| t.quantity), new.map(|t| t.quantity));
            let difference = to_quantity.unwrap_or_default() - from_quantity.unwrap_or_default();
            if difference.abs() <= QUANTITY_TOLERANCE {
                return None;
            }
            let kind = match (old, new) {
                (Some(_), None) => DifferenceKind::MissingAtTarget,
                (None, Some(_)) => DifferenceKind::MissingAtSource,
                _ => DifferenceKind::QuantityDiffers,
            };
            let ticker = old.or(new).and_then(|t| t.ticker.clone());
            Some(QuantityDifference {
                security_key: key.to_owned(),
                ticker,
                kind,
                from_quantity,
                to_quantity,
                difference,
            })
        })
        .collect();
    Comparison { tolerance: QUANTITY_TOLERANCE, equal: differences.is_empty(), differences }
}

/// The fingerprint a confirm token binds: both sides' securities and quantities (normalised
/// decimals, so `2.50` and `2.5` agree) and the external id of the connection to be removed.
pub fn fingerprint(from: &InstitutionTotals, to: &InstitutionTotals, removed_connection: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"tributary-migration-fingerprint-v1\n");
    hash.update(removed_connection.as_bytes());
    for (side, totals, other) in [("from", from, to), ("to", to, from)] {
        for total in compared(totals, other) {
            hash.update(format!("\n{side}\t{}\t{}", total.security_key, total.quantity.normalize()).as_bytes());
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// After an execute: whether the target's re-read `after` still holds what the old provider
/// held before (`before`), by the same rule as the comparison.
pub fn verify_totals(before: &InstitutionTotals, after: &InstitutionTotals) -> Comparison {
    compare_totals(before, after)
}
