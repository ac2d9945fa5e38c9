//! The typed shape of a simulated IBKR account's day: instruments, positions made of tax lots,
//! per-currency cash with its flows, executions and cash transactions. Derived amounts (position
//! value, cost basis, ending and settled cash, trade money) are computed here with exact decimals,
//! so every row that shows them agrees: a SUMMARY is the sum of its lots, `positionValue` is
//! `position × markPrice × multiplier`.

use super::dates::{Date, Time};
use rust_decimal::Decimal;

/// An option's contract terms.
#[derive(Clone, Debug)]
pub struct OptionTerms {
    pub underlying_conid: &'static str,
    pub underlying_symbol: &'static str,
    pub strike: Decimal,
    pub expiry: Date,
    pub put_call: &'static str,
}

/// A security as IBKR describes it.
#[derive(Clone, Debug)]
pub struct Instrument {
    pub asset_category: &'static str,
    pub sub_category: &'static str,
    pub symbol: &'static str,
    pub description: &'static str,
    pub conid: &'static str,
    /// Also the `securityID` (type `ISIN`); empty for options.
    pub isin: &'static str,
    pub cusip: &'static str,
    pub listing_exchange: &'static str,
    pub currency: &'static str,
    pub multiplier: Decimal,
    pub option: Option<OptionTerms>,
}

/// One tax lot: signed quantity, cost per unit (not per contract) and when it was opened.
#[derive(Clone, Debug)]
pub struct Lot {
    pub quantity: Decimal,
    pub cost_price: Decimal,
    pub opened: (Date, Time),
}

/// An open position: the instrument, its conversion rate to the account's base currency, the
/// day's mark price and its lots (the SUMMARY row is their sum).
#[derive(Clone, Debug)]
pub struct Position {
    pub instrument: Instrument,
    pub fx_rate_to_base: Decimal,
    pub mark_price: Decimal,
    pub lots: Vec<Lot>,
}

impl Position {
    /// The signed quantity: the sum of the lots.
    pub fn quantity(&self) -> Decimal {
        self.lots.iter().map(|l| l.quantity).sum()
    }

    /// `quantity × markPrice × multiplier`.
    pub fn value_of(&self, quantity: Decimal) -> Decimal {
        quantity * self.mark_price * self.instrument.multiplier
    }

    /// A lot's `costBasisMoney`: `quantity × cost price × multiplier`.
    pub fn lot_cost(&self, lot: &Lot) -> Decimal {
        lot.quantity * lot.cost_price * self.instrument.multiplier
    }

    /// The SUMMARY `costBasisMoney`: the sum of the lots'.
    pub fn cost_basis_money(&self) -> Decimal {
        self.lots.iter().map(|l| self.lot_cost(l)).sum()
    }

    /// The SUMMARY `costBasisPrice`: cost basis per unit (rounded to 6 places if it does not divide).
    pub fn cost_basis_price(&self) -> Decimal {
        let units = self.quantity() * self.instrument.multiplier;
        if units.is_zero() {
            Decimal::ZERO
        } else {
            (self.cost_basis_money() / units).round_dp(6)
        }
    }
}

/// One currency's cash for the day; ending and settled cash follow from the flows.
#[derive(Clone, Debug)]
pub struct CashBalance {
    pub currency: &'static str,
    pub fx_rate_to_base: Decimal,
    pub starting_cash: Decimal,
    pub commissions: Decimal,
    pub deposits: Decimal,
    pub withdrawals: Decimal,
    pub dividends: Decimal,
    pub withholding_tax: Decimal,
    pub broker_interest: Decimal,
    pub net_trades_sales: Decimal,
    pub net_trades_purchases: Decimal,
}

impl CashBalance {
    /// `currency` cash converting to base at `fx_rate_to_base`, starting at `starting_cash`, no flows yet.
    pub fn new(currency: &'static str, fx_rate_to_base: Decimal, starting_cash: Decimal) -> Self {
        let zero = Decimal::ZERO;
        Self {
            currency,
            fx_rate_to_base,
            starting_cash,
            commissions: zero,
            deposits: zero,
            withdrawals: zero,
            dividends: zero,
            withholding_tax: zero,
            broker_interest: zero,
            net_trades_sales: zero,
            net_trades_purchases: zero,
        }
    }

    /// Every `CashReportCurrency` amount in attribute order: starting cash, the flows,
    /// `depositWithdrawals`, `endingCash` (start + flows) and `endingSettledCash` (ending minus
    /// the day's trade cash, which settles on the next business day).
    pub fn amounts(&self) -> [(&'static str, Decimal); 12] {
        let trades = self.net_trades_sales + self.net_trades_purchases + self.commissions;
        let ending = self.starting_cash
            + trades
            + self.deposits
            + self.withdrawals
            + self.dividends
            + self.withholding_tax
            + self.broker_interest;
        [
            ("startingCash", self.starting_cash),
            ("commissions", self.commissions),
            ("deposits", self.deposits),
            ("withdrawals", self.withdrawals),
            ("depositWithdrawals", self.deposits + self.withdrawals),
            ("dividends", self.dividends),
            ("withholdingTax", self.withholding_tax),
            ("brokerInterest", self.broker_interest),
            ("netTradesSales", self.net_trades_sales),
            ("netTradesPurchases", self.net_trades_purchases),
            ("endingCash", ending),
            ("endingSettledCash", ending - trades),
        ]
    }
}

/// One execution of the report date.
#[derive(Clone, Debug)]
pub struct Trade {
    pub instrument: Instrument,
    pub fx_rate_to_base: Decimal,
    /// Signed: positive buys, negative sells.
    pub quantity: Decimal,
    pub price: Decimal,
    /// Negative.
    pub commission: Decimal,
    pub time: Time,
    pub exchange: &'static str,
    pub order_type: &'static str,
    pub open_close: &'static str,
    pub fifo_pnl_realized: Decimal,
    pub close_price: Decimal,
    pub trade_id: u64,
    pub transaction_id: u64,
    pub order_id: u64,
    pub exec_id: String,
}

impl Trade {
    /// `quantity × price × multiplier`.
    pub fn trade_money(&self) -> Decimal {
        self.quantity * self.price * self.instrument.multiplier
    }
}

/// One cash movement of the report date (`type` is IBKR's, e.g. `Deposits & Withdrawals`).
#[derive(Clone, Debug)]
pub struct CashTransaction {
    pub kind: &'static str,
    pub currency: &'static str,
    pub fx_rate_to_base: Decimal,
    pub asset_category: &'static str,
    /// The security it belongs to (dividends, their tax), if any.
    pub instrument: Option<Instrument>,
    pub description: &'static str,
    pub amount: Decimal,
    /// `None`: `dateTime` carries only the date, as IBKR writes some deposits.
    pub time: Option<Time>,
    pub transaction_id: u64,
}

/// One account's statement data.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    /// The base currency.
    pub currency: &'static str,
    pub name: &'static str,
    pub capabilities: &'static str,
    pub permissions: &'static str,
    pub date_opened: Date,
    pub date_funded: Date,
    pub ib_entity: &'static str,
    pub cash: Vec<CashBalance>,
    pub positions: Vec<Position>,
    pub trades: Vec<Trade>,
    pub cash_transactions: Vec<CashTransaction>,
}
