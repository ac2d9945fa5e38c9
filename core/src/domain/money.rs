//! Currencies, quantities and money: exact decimals with the currency always attached.

use crate::error::ValidationError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A currency code, upper-cased: ISO 4217 (`USD`) or an unofficial code (`BTC`, `USDC`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    /// Accepts 3–10 ASCII letters or digits, case-insensitively.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ValidationError::Empty { field: "currency" });
        }
        if !(3..=10).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ValidationError::BadCharacters {
                field: "currency",
                allowed: "3 to 10 letters or digits, e.g. USD",
            });
        }
        Ok(Self(value.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The decimals of the currency's minor unit for display: 0 for currencies without one
    /// (JPY, KRW, …), 2 for other fiat; `None` for crypto units, which show what they carry.
    pub fn minor_unit_scale(&self) -> Option<u32> {
        const ZERO_DECIMAL: [&str; 12] =
            ["JPY", "KRW", "CLP", "ISK", "VND", "UGX", "XOF", "XAF", "PYG", "RWF", "KMF", "GNF"];
        if self.min_display_scale() == 0 {
            None
        } else if ZERO_DECIMAL.contains(&self.0.as_str()) {
            Some(0)
        } else {
            Some(2)
        }
    }

    /// Fiat amounts show two decimals at least; other units show what they carry.
    fn min_display_scale(&self) -> u32 {
        const CRYPTO: [&str; 6] = ["BTC", "ETH", "USDC", "USDT", "SOL", "DOGE"];
        if CRYPTO.contains(&self.0.as_str()) {
            0
        } else {
            2
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> String {
        value.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_decimal(field: &'static str, value: &str) -> Result<Decimal, ValidationError> {
    let trimmed = value.trim();
    Decimal::from_str(trimmed)
        .or_else(|_| Decimal::from_scientific(trimmed))
        .map_err(|_| ValidationError::NotADecimal { field, value: value.to_owned() })
}

/// A number of units (shares, contracts, coins); fractional and negative (short) allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(pub Decimal);

impl Quantity {
    /// Parses a decimal string exactly (`"0.125"`, `"1e-3"`); never goes through `f64`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        parse_decimal("quantity", value).map(Self)
    }
}

/// An exact amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    /// Parses an amount string and a currency code into money, or says which one is wrong.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, ValidationError> {
        Ok(Self { amount: parse_decimal("amount", amount)?, currency: Currency::parse(currency)? })
    }

    /// Human form with thousands separators: `1,234.50 USD`, `-0.5 BTC`. Exact: nothing is rounded.
    pub fn display(&self) -> String {
        self.display_of(self.amount)
    }

    /// [`Money::display`] rounded (half away from zero) to the currency's minor unit, for a page:
    /// `26,790.22 USD` for `26790.22305 USD`, `1,235 JPY`; crypto units keep every digit. The
    /// amount itself stays exact; only its display is rounded.
    pub fn display_rounded(&self) -> String {
        match self.currency.minor_unit_scale() {
            Some(scale) => self.display_of(
                self.amount.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
            ),
            None => self.display(),
        }
    }

    fn display_of(&self, amount: Decimal) -> String {
        let mut amount = amount.normalize();
        // At least the minor unit's decimals (none for JPY), never padding crypto units.
        let min_scale = self.currency.min_display_scale().min(self.currency.minor_unit_scale().unwrap_or(u32::MAX));
        if amount.scale() < min_scale {
            amount.rescale(min_scale);
        }
        let text = amount.abs().to_string();
        let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3 + 8);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if amount.is_sign_negative() && !amount.is_zero() { "-" } else { "" };
        match fraction {
            Some(f) => format!("{sign}{grouped}.{f} {}", self.currency),
            None => format!("{sign}{grouped} {}", self.currency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn currency_is_upper_cased_and_validated() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "USD");
        assert_eq!(Currency::parse("USDC").unwrap().as_str(), "USDC");
        for bad in ["", "US", "U$D", "ABCDEFGHIJK"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn money_displayed_rounded_keeps_the_minor_unit_and_crypto_digits() {
        let rounded = |amount: &str, currency: &str| Money::parse(amount, currency).unwrap().display_rounded();
        assert_eq!(rounded("26790.22305", "USD"), "26,790.22 USD");
        assert_eq!(rounded("4725.375", "USD"), "4,725.38 USD");
        assert_eq!(rounded("-4725.375", "USD"), "-4,725.38 USD");
        assert_eq!(rounded("1234.5", "usd"), "1,234.50 USD");
        assert_eq!(rounded("1234.5", "JPY"), "1,235 JPY");
        assert_eq!(rounded("0.00012345", "BTC"), "0.00012345 BTC");
        assert_eq!(rounded("-0.004", "EUR"), "0.00 EUR", "no negative zero");
        assert_eq!(Money::parse("26790.22305", "USD").unwrap().display(), "26,790.22305 USD", "display stays exact");
    }

    #[test]
    fn money_display_groups_thousands_and_keeps_every_digit() {
        let cases = [
            ("1234.5", "USD", "1,234.50 USD"),
            ("1234567.891", "CAD", "1,234,567.891 CAD"),
            ("-0.5", "BTC", "-0.5 BTC"),
            ("0", "EUR", "0.00 EUR"),
            ("100", "BTC", "100 BTC"),
            ("999", "USD", "999.00 USD"),
            ("-1000", "USD", "-1,000.00 USD"),
        ];
        for (amount, currency, expected) in cases {
            assert_eq!(Money::parse(amount, currency).unwrap().display(), expected);
        }
    }

    #[test]
    fn quantity_parses_decimal_strings_exactly() {
        assert_eq!(
            Quantity::parse("0.1").unwrap().0 + Quantity::parse("0.2").unwrap().0,
            Decimal::from_str("0.3").unwrap()
        );
        assert_eq!(Quantity::parse("1e-3").unwrap().0, Decimal::from_str("0.001").unwrap());
        assert!(matches!(Quantity::parse("12abc"), Err(ValidationError::NotADecimal { .. })));
    }

    proptest! {
        #[test]
        fn display_never_loses_a_digit(units in -10_000_000_000i64..10_000_000_000i64, scale in 0u32..8) {
            let money = Money { amount: Decimal::new(units, scale), currency: Currency::parse("USD").unwrap() };
            let shown = money.display();
            let digits: String = shown.trim_end_matches(" USD").chars().filter(|c| *c != ',').collect();
            prop_assert_eq!(Decimal::from_str(&digits).unwrap(), money.amount);
        }
    }
}
