//! The cash side of a trade, used alike by impact (estimate) and by a fill (the real move).
//!
//! Rules, in order: the trade settles in the security's currency when the account holds a balance
//! in it, else in the account's currency at the seed's fixed rate (1 USD = 1.40 CAD) plus a forex
//! fee of [`FOREX_FEE_RATE`] of the converted amount, to the cent (`forex_fees` is null otherwise);
//! the commission is [`commission`] of the brokerage, in the settlement currency; a BUY moves cash
//! by −(gross + commission + forex fee), a SELL by +gross − commission − forex fee; the remaining
//! cash is the account's cash in that currency (seeded balance plus earlier fills) plus that move,
//! to the cent.

use super::form::Action;
use crate::ledger::cents;
use crate::snaptrade::seed::SeedAccount;
use crate::snaptrade::seed_json::convert;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The forex fee rate on a converted trade (1.5 %).
pub const FOREX_FEE_RATE: Decimal = Decimal::from_parts(15, 0, 0, false, 3);

/// The simulated commission per order at `brokerage` (slug): 4.95 at IBKR, 0 elsewhere.
pub fn commission(brokerage: &str) -> Decimal {
    match brokerage {
        "IBKR" => Decimal::new(495, 2),
        _ => Decimal::ZERO,
    }
}

/// The account's cash in `currency` (seeded balance plus fills), `None` if it holds none there.
pub fn cash(seed: &SeedAccount, changes: Option<&BTreeMap<String, Decimal>>, currency: &str) -> Option<Decimal> {
    let seeded = seed.balances.iter().find(|b| b.currency == currency).and_then(|b| b.cash.parse::<Decimal>().ok());
    let moved = changes.and_then(|c| c.get(currency)).copied();
    match (seeded, moved) {
        (None, None) => None,
        (s, m) => Some(s.unwrap_or_default() + m.unwrap_or_default()),
    }
}

/// How one trade moves cash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CashEffect {
    /// The settlement currency.
    pub currency: String,
    /// Units × price, in the settlement currency.
    pub gross: Decimal,
    pub commission: Decimal,
    pub forex_fee: Option<Decimal>,
    /// The signed change to cash (+ = in).
    pub delta: Decimal,
    /// Cash after the trade, to the cent.
    pub remaining: Decimal,
}

/// The cash effect of trading `gross` (in `security_currency`) in the account.
pub fn cash_effect(
    seed: &SeedAccount,
    changes: Option<&BTreeMap<String, Decimal>>,
    security_currency: &str,
    action: Action,
    gross: Decimal,
    commission: Decimal,
) -> CashEffect {
    let (currency, gross, forex_fee) = match cash(seed, changes, security_currency) {
        Some(_) => (security_currency.to_owned(), gross, None),
        None => {
            let converted = convert(gross, security_currency, seed.currency);
            (seed.currency.to_owned(), converted, Some(cents(converted * FOREX_FEE_RATE)))
        }
    };
    let costs = commission + forex_fee.unwrap_or_default();
    let delta = match action {
        Action::Buy => -(gross + costs),
        Action::Sell => gross - costs,
    };
    let remaining = cents(cash(seed, changes, &currency).unwrap_or_default() + delta);
    CashEffect { currency, gross, commission, forex_fee, delta, remaining }
}
