//! Exact totals of ledger rows per currency: the sum of `amount` (the rows' net effect on cash,
//! positive = into the account) and of `fees`, and how many rows each currency has. Decimal text
//! in, decimal text out: nothing passes through a float. A row without a currency is totalled on
//! its own line (`currency: null`), never added to another currency; a row without an amount
//! counts but adds nothing.

use crate::domain::Quantity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a total reads of one transaction (every other field is ignored).
#[derive(Debug, Deserialize)]
pub struct CashEffect {
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub fees: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// The rows of one currency, summed exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrencyActivity {
    /// `None` for rows the provider named no currency for.
    pub currency: Option<String>,
    /// The sum of the rows' `amount`s.
    pub amount: String,
    /// The sum of the rows' `fees`.
    pub fees: String,
    /// How many rows are in this currency.
    pub count: usize,
}

#[derive(Default)]
struct Sums {
    amount: Quantity,
    fees: Quantity,
    count: usize,
}

fn add(sum: &mut Quantity, row: usize, field: &str, text: Option<&str>) -> Result<(), String> {
    let Some(text) = text else { return Ok(()) };
    let value = Quantity::parse(text).map_err(|_| format!("transaction {row}: {field} {text:?} is not a decimal"))?;
    sum.0 =
        sum.0.checked_add(value.0).ok_or_else(|| format!("transaction {row}: the {field} total is out of range"))?;
    Ok(())
}

/// Exact decimal text of a sum (a zero is never written with a minus sign).
fn text(mut sum: Quantity) -> String {
    if sum.0.is_zero() {
        sum.0.set_sign_positive(true);
    }
    sum.0.to_string()
}

/// The totals of `rows` per currency, in currency order (rows without a currency last); `Err`
/// names the first row whose amount or fees is not a decimal.
pub fn totals(rows: impl IntoIterator<Item = CashEffect>) -> Result<Vec<CurrencyActivity>, String> {
    // Keyed (no currency?, code) so that rows without one sort last.
    let mut by_currency: BTreeMap<(bool, String), Sums> = BTreeMap::new();
    for (row, effect) in rows.into_iter().enumerate() {
        let key = match effect.currency {
            Some(code) => (false, code.trim().to_ascii_uppercase()),
            None => (true, String::new()),
        };
        let sums = by_currency.entry(key).or_default();
        add(&mut sums.amount, row, "amount", effect.amount.as_deref())?;
        add(&mut sums.fees, row, "fees", effect.fees.as_deref())?;
        sums.count += 1;
    }
    Ok(by_currency
        .into_iter()
        .map(|((missing, code), sums)| CurrencyActivity {
            currency: (!missing).then_some(code),
            amount: text(sums.amount),
            fees: text(sums.fees),
            count: sums.count,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(amount: Option<&str>, fees: Option<&str>, currency: Option<&str>) -> CashEffect {
        CashEffect { amount: amount.map(Into::into), fees: fees.map(Into::into), currency: currency.map(Into::into) }
    }

    #[test]
    fn totals_are_exact_per_currency_with_unnamed_currencies_apart_and_no_negative_zero() {
        let rows = vec![
            row(Some("0.1"), Some("0.01"), Some("usd")),
            row(Some("0.2"), None, Some("USD")),
            row(Some("-5"), None, Some("EUR")),
            row(Some("5"), None, Some("EUR")),
            row(None, None, None),
            row(Some("1.005"), None, None),
        ];
        let sums = totals(rows).unwrap();
        let seen: Vec<(Option<&str>, &str, &str, usize)> =
            sums.iter().map(|t| (t.currency.as_deref(), t.amount.as_str(), t.fees.as_str(), t.count)).collect();
        assert_eq!(seen, [(Some("EUR"), "0", "0", 2), (Some("USD"), "0.3", "0.01", 2), (None, "1.005", "0", 2)]);
    }

    #[test]
    fn a_row_that_is_not_a_decimal_is_named() {
        let error = totals(vec![row(Some("1"), None, None), row(Some("one"), None, None)]).unwrap_err();
        assert!(error.contains("transaction 1: amount \"one\""), "{error}");
    }
}
