//! The money of one order, used alike by previewOrder (the estimate), the rejection rules and a
//! fill (the real move). Rules, in order:
//!
//! 1. The order is priced at its limit price (LIMIT, STOP_LIMIT) or at the quote's `last`
//!    (MARKET, STOP); a fill is priced at its execution price.
//! 2. `orderValue` = quantity × that price, to the cent (half away from zero).
//! 3. Commission is always 0.00 (Schwab charges none on online equity trades).
//! 4. Fees: a SELL pays the SEC fee = `orderValue` × [`SEC_FEE_RATE`] (0.0000278) rounded UP to the
//!    next cent (so 300.00 → 0.01, 10 000.00 → 0.28); `OPT_REG_FEE` and `TAF_FEE` are 0.00. A BUY
//!    pays no fee.
//! 5. Cash moves by −(orderValue + commission + fees) on a BUY, +(orderValue − commission − fees)
//!    on a SELL.
//! 6. An account's available funds are `currentBalances.availableFunds` (MARGIN), else
//!    `cashAvailableForTrading` (CASH), else `cashBalance`, else 0; its buying power is
//!    `currentBalances.buyingPower`, else its available funds. Open orders reserve nothing.

use super::form::Instruction;
use crate::ledger::cents;
use crate::schwab::history::decimal_of;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

/// The SEC fee rate on the value of a SELL (0.0000278, i.e. $27.80 per million).
pub const SEC_FEE_RATE: Decimal = Decimal::from_parts(278, 0, 0, false, 7);

/// What one order costs or brings in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Costs {
    pub instruction: Instruction,
    /// Quantity × price, to the cent.
    pub value: Decimal,
    pub commission: Decimal,
    pub sec_fee: Decimal,
}

impl Costs {
    /// Commission plus fees.
    pub fn charges(&self) -> Decimal {
        self.commission + self.sec_fee
    }

    /// The signed change to cash (+ = into the account).
    pub fn cash_delta(&self) -> Decimal {
        match self.instruction {
            Instruction::Buy => -(self.value + self.charges()),
            Instruction::Sell => self.value - self.charges(),
        }
    }
}

/// The SEC fee on a trade of `value`: SELLs only, rounded up to the cent.
pub fn sec_fee(instruction: Instruction, value: Decimal) -> Decimal {
    match instruction {
        Instruction::Buy => Decimal::ZERO,
        Instruction::Sell => (value * SEC_FEE_RATE).round_dp_with_strategy(2, RoundingStrategy::ToPositiveInfinity),
    }
}

/// The costs of trading `quantity` at `price`.
pub fn costs(instruction: Instruction, quantity: Decimal, price: Decimal) -> Costs {
    let value = cents(quantity * price);
    Costs { instruction, value, commission: Decimal::ZERO, sec_fee: sec_fee(instruction, value) }
}

/// A `currentBalances` field of `account` as a decimal.
fn current(account: &Value, key: &str) -> Option<Decimal> {
    decimal_of(account.pointer(&format!("/securitiesAccount/currentBalances/{key}")))
}

/// The account's available funds (rule 6).
pub fn available_funds(account: &Value) -> Decimal {
    ["availableFunds", "cashAvailableForTrading", "cashBalance"]
        .iter()
        .find_map(|key| current(account, key))
        .unwrap_or_default()
}

/// The account's buying power (rule 6).
pub fn buying_power(account: &Value) -> Decimal {
    current(account, "buyingPower").unwrap_or_else(|| available_funds(account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn sells_pay_the_sec_fee_rounded_up_to_the_cent_and_buys_pay_nothing() {
        assert_eq!(sec_fee(Instruction::Sell, dec("300.00")), dec("0.01"));
        assert_eq!(sec_fee(Instruction::Sell, dec("10000.00")), dec("0.28"));
        assert_eq!(sec_fee(Instruction::Sell, dec("1550.00")), dec("0.05"), "0.04309 rounds up");
        assert_eq!(sec_fee(Instruction::Sell, Decimal::ZERO), Decimal::ZERO);
        assert_eq!(sec_fee(Instruction::Buy, dec("10000.00")), Decimal::ZERO);
    }

    #[test]
    fn costs_are_exact_to_the_cent_and_move_cash_by_value_and_fees() {
        let buy = costs(Instruction::Buy, dec("3"), dec("10.10"));
        assert_eq!((buy.value, buy.charges(), buy.cash_delta()), (dec("30.30"), dec("0"), dec("-30.30")));
        let sell = costs(Instruction::Sell, dec("0.5"), dec("155.555"));
        assert_eq!(sell.value, dec("77.78"), "77.7775 to the cent");
        assert_eq!((sell.sec_fee, sell.cash_delta()), (dec("0.01"), dec("77.77")));
    }
}
