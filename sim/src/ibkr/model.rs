//! The typed shape of a simulated IBKR account's day: instruments, positions made of tax lots,
//! per-currency cash, and the executions and cash transactions a statement shows. Derived amounts
//! (position value, cost basis, starting and settled cash, proceeds) are computed here with exact
//! decimals, so every row that shows them agrees: a SUMMARY is the sum of its lots,
//! `positionValue` is `position × markPrice × multiplier`, `startingCash` + the period's flows is
//! `endingCash`.

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
    pub symbol: String,
    pub description: String,
    pub conid: String,
    /// Also the `securityID` (type `ISIN`); empty for options.
    pub isin: String,
    pub cusip: String,
    pub listing_exchange: String,
    pub currency: String,
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

/// One currency's cash: its conversion rate and the cash it ends the report date with (cash, like
/// positions, does not move with posted activity).
#[derive(Clone, Debug)]
pub struct CashBalance {
    pub currency: &'static str,
    pub fx_rate_to_base: Decimal,
    pub ending_cash: Decimal,
}

/// What one currency's cash did over a statement's period, from the period's executions and cash
/// transactions (all + = into the account).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CashFlows {
    pub commissions: Decimal,
    pub deposits: Decimal,
    pub withdrawals: Decimal,
    pub dividends: Decimal,
    pub withholding_tax: Decimal,
    pub broker_interest: Decimal,
    pub other_fees: Decimal,
    pub net_trades_sales: Decimal,
    pub net_trades_purchases: Decimal,
    /// The net cash of the period's trades that settle after its last day.
    pub unsettled: Decimal,
}

impl CashBalance {
    /// Every `CashReportCurrency` amount in attribute order: `startingCash` (ending cash minus
    /// the flows), the flows, `depositWithdrawals`, `endingCash` and `endingSettledCash` (ending
    /// minus the trade cash that settles after the period).
    pub fn amounts(&self, flows: &CashFlows) -> [(&'static str, Decimal); 13] {
        let f = flows;
        let moved = f.commissions
            + f.deposits
            + f.withdrawals
            + f.dividends
            + f.withholding_tax
            + f.broker_interest
            + f.other_fees
            + f.net_trades_sales
            + f.net_trades_purchases;
        [
            ("startingCash", self.ending_cash - moved),
            ("commissions", f.commissions),
            ("deposits", f.deposits),
            ("withdrawals", f.withdrawals),
            ("depositWithdrawals", f.deposits + f.withdrawals),
            ("dividends", f.dividends),
            ("withholdingTax", f.withholding_tax),
            ("brokerInterest", f.broker_interest),
            ("otherFees", f.other_fees),
            ("netTradesSales", f.net_trades_sales),
            ("netTradesPurchases", f.net_trades_purchases),
            ("endingCash", self.ending_cash),
            ("endingSettledCash", self.ending_cash - f.unsettled),
        ]
    }
}

/// One execution as the statement shows it (from a ledger row of the account).
#[derive(Clone, Debug)]
pub struct Trade {
    pub instrument: Instrument,
    pub fx_rate_to_base: Decimal,
    /// Signed: positive buys, negative sells.
    pub quantity: Decimal,
    pub price: Decimal,
    /// Negative (or zero).
    pub commission: Decimal,
    /// `netCash`: proceeds + commission, + = into the account.
    pub net_cash: Decimal,
    pub date: Date,
    pub time: Time,
    pub settle: Date,
    /// `O` (opening) or `C` (closing).
    pub open_close: &'static str,
    pub fifo_pnl_realized: Decimal,
    pub close_price: Decimal,
    /// The lot a closing execution closes: when it was opened and its cost per unit.
    pub closed_lot: Option<((Date, Time), Decimal)>,
    pub trade_id: String,
    pub transaction_id: String,
    pub order_id: String,
    pub exec_id: String,
}

impl Trade {
    /// `proceeds`: net cash before the commission (negative for buys).
    pub fn proceeds(&self) -> Decimal {
        self.net_cash - self.commission
    }
}

/// One cash movement as the statement shows it (`kind` is IBKR's `type`, e.g. `Deposits &
/// Withdrawals`).
#[derive(Clone, Debug)]
pub struct CashTransaction {
    pub kind: &'static str,
    pub currency: String,
    pub fx_rate_to_base: Decimal,
    /// The security it belongs to (dividends, their tax), if any.
    pub instrument: Option<Instrument>,
    pub description: String,
    pub amount: Decimal,
    pub date: Date,
    /// `None`: `dateTime` carries only the date, as IBKR writes some deposits.
    pub time: Option<Time>,
    pub transaction_id: String,
}

/// One account's statement data (its activity lives in the user's ledger, see
/// [`super::activity`]).
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
}

impl Account {
    /// The account's position in `symbol`, if it holds one.
    pub fn position(&self, symbol: &str) -> Option<&Position> {
        self.positions.iter().find(|p| p.instrument.symbol == symbol)
    }

    /// The conversion rate of `currency` to the base currency (1 when the account holds none).
    pub fn fx_rate(&self, currency: &str) -> Decimal {
        let held = self.cash.iter().find(|c| c.currency == currency).map(|c| c.fx_rate_to_base);
        held.or_else(|| self.positions.iter().find(|p| p.instrument.currency == currency).map(|p| p.fx_rate_to_base))
            .unwrap_or(Decimal::ONE)
    }
}
