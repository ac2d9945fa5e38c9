//! An account's [`crate::ledger`] rows as one statement shows them over its period: the executions
//! of `Trades`, the cash movements of `CashTransactions`, and each currency's flows for
//! `CashReport`. Pure: the same rows and period give the same activity, with the same ids, in
//! every statement that covers them.
//!
//! - Rows dated `from..=to` count, in date, time and posting order.
//! - buy and sell rows are executions: `quantity` signed (sells negative), `ibCommission` = −fee,
//!   `netCash` = the row's amount, `proceeds` = netCash − commission (so sells are positive and
//!   buys negative), settled the next business day, at 10:00:00 when the row has no time. An
//!   execution is closing (`C`) when an earlier opposite trade of its symbol exists (a sale after a
//!   purchase, a purchase after a short sale); it closes the latest such trade's lot (its open
//!   date-time and price), realising (price − open) × units × multiplier − fee (the other way round
//!   for a purchase). Otherwise it is opening (`O`).
//! - dividend, tax, interest, fee, deposit and withdrawal rows are cash transactions of type
//!   `Dividends`, `Withholding Tax`, `Broker Interest Received`/`Paid` (by sign), `Other Fees` and
//!   `Deposits & Withdrawals`, settled on their own date. split, transfer_in and transfer_out rows
//!   are not in these sections (IBKR reports them elsewhere) and are never shown.
//! - Ids: `transactionID` is the ledger row's id; `tradeID`, `ibOrderID` and `ibExecID` derive
//!   from it.
//! - Instruments: the account's position in the row's symbol, else a plain stock (`STK`) with a
//!   conid derived from the symbol.

use super::dates::{Date, Time};
use super::model::{Account, CashFlows, CashTransaction, Instrument, Trade};
use super::seed::derived;
use crate::ledger::{Kind, Row, Tx};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// What a statement shows of one account's ledger over its period.
#[derive(Clone, Debug, Default)]
pub struct Activity {
    pub trades: Vec<Trade>,
    pub cash: Vec<CashTransaction>,
    /// The period's flows per currency.
    pub flows: BTreeMap<String, CashFlows>,
}

/// The `CashTransaction` `type` of a cash kind (`None` for trades and for rows these sections
/// never show).
pub fn cash_type(kind: Kind, amount: Decimal) -> Option<&'static str> {
    Some(match kind {
        Kind::Dividend => "Dividends",
        Kind::Tax => "Withholding Tax",
        Kind::Interest if amount.is_sign_negative() && !amount.is_zero() => "Broker Interest Paid",
        Kind::Interest => "Broker Interest Received",
        Kind::Fee => "Other Fees",
        Kind::Deposit | Kind::Withdrawal => "Deposits & Withdrawals",
        Kind::Buy | Kind::Sell | Kind::Split | Kind::TransferIn | Kind::TransferOut => return None,
    })
}

/// Whether a ledger row of this kind appears in a Flex statement.
pub fn is_shown(kind: Kind) -> bool {
    kind.is_trade() || cash_type(kind, Decimal::ZERO).is_some()
}

/// The instrument `symbol` stands for in `account`: its position's, else a plain stock.
pub fn instrument(account: &Account, symbol: &str, currency: &str) -> Instrument {
    if let Some(position) = account.position(symbol) {
        return position.instrument.clone();
    }
    Instrument {
        asset_category: "STK",
        sub_category: "COMMON",
        symbol: symbol.to_owned(),
        description: symbol.to_ascii_uppercase(),
        conid: (10_000_000 + derived(&format!("ibkr-conid:{symbol}"), 89_999_999)).to_string(),
        isin: String::new(),
        cusip: String::new(),
        listing_exchange: String::new(),
        currency: currency.to_owned(),
        multiplier: Decimal::ONE,
        option: None,
    }
}

fn time_of(seconds: u32) -> Time {
    Time::hms(seconds / 3600 % 24, seconds / 60 % 60, seconds % 60)
}

fn derived_id(kind: &str, id: &str) -> String {
    (100_000_000 + derived(&format!("ibkr-{kind}:{id}"), 900_000_000)).to_string()
}

/// The execution a buy or sell row is, given the rows before it (oldest first).
fn execution(account: &Account, row: &Row, earlier: &[&Row]) -> Trade {
    let tx = &row.tx;
    let symbol = tx.symbol.as_deref().unwrap_or_default();
    let instrument = instrument(account, symbol, &tx.currency);
    let quantity = tx.position_change();
    let fee = tx.fee.unwrap_or_default();
    let opposite = if tx.kind == Kind::Buy { Kind::Sell } else { Kind::Buy };
    let opened = earlier.iter().rev().find(|r| r.tx.kind == opposite && r.tx.symbol.as_deref() == Some(symbol));
    let closed_lot = opened.map(|r| ((r.tx.date, time_of(r.tx.time.unwrap_or(0))), r.tx.price));
    let fifo_pnl_realized = closed_lot.map_or(Decimal::ZERO, |(_, open)| {
        let per_unit = if tx.kind == Kind::Sell { tx.price - open } else { open - tx.price };
        per_unit * tx.units * instrument.multiplier - fee
    });
    let close_price = account.position(symbol).map_or(tx.price, |p| p.mark_price);
    Trade {
        fx_rate_to_base: account.fx_rate(&tx.currency),
        quantity,
        price: tx.price,
        commission: -fee,
        net_cash: tx.amount,
        date: tx.date,
        time: time_of(tx.time.unwrap_or(10 * 3600)),
        settle: tx.settlement_date(),
        open_close: if closed_lot.is_some() { "C" } else { "O" },
        fifo_pnl_realized,
        close_price,
        closed_lot,
        trade_id: derived_id("trade", &row.id),
        transaction_id: row.id.clone(),
        order_id: derived_id("order", &row.id),
        exec_id: format!("0000e0d5.{:08x}.01.01", derived(&format!("ibkr-exec:{}", row.id), 1 << 32)),
        instrument,
    }
}

fn default_description(tx: &Tx) -> String {
    let symbol = tx.symbol.as_deref().unwrap_or_default();
    match tx.kind {
        Kind::Dividend => format!("{symbol} CASH DIVIDEND (Ordinary Dividend)").trim_start().to_owned(),
        Kind::Tax => format!("{symbol} CASH DIVIDEND - US TAX").trim_start().to_owned(),
        Kind::Interest if tx.amount.is_sign_negative() => format!("{} DEBIT INT", tx.currency),
        Kind::Interest => format!("{} CREDIT INT", tx.currency),
        Kind::Fee => "OTHER FEE".to_owned(),
        _ => "ELECTRONIC FUND TRANSFER".to_owned(),
    }
}

fn cash_transaction(account: &Account, row: &Row, kind: &'static str) -> CashTransaction {
    let tx = &row.tx;
    CashTransaction {
        kind,
        currency: tx.currency.clone(),
        fx_rate_to_base: account.fx_rate(&tx.currency),
        instrument: tx.symbol.as_deref().map(|s| instrument(account, s, &tx.currency)),
        description: tx.description.clone().unwrap_or_else(|| default_description(tx)),
        amount: tx.amount,
        date: tx.date,
        time: tx.time.map(time_of),
        transaction_id: row.id.clone(),
    }
}

fn add_trade(flows: &mut CashFlows, trade: &Trade, to: Date) {
    flows.commissions += trade.commission;
    match trade.quantity.is_sign_negative() {
        true => flows.net_trades_sales += trade.proceeds(),
        false => flows.net_trades_purchases += trade.proceeds(),
    }
    if trade.settle > to {
        flows.unsettled += trade.net_cash;
    }
}

fn add_cash(flows: &mut CashFlows, kind: Kind, amount: Decimal) {
    let into = match kind {
        Kind::Deposit | Kind::Withdrawal if amount.is_sign_negative() => &mut flows.withdrawals,
        Kind::Deposit | Kind::Withdrawal => &mut flows.deposits,
        Kind::Dividend => &mut flows.dividends,
        Kind::Tax => &mut flows.withholding_tax,
        Kind::Interest => &mut flows.broker_interest,
        _ => &mut flows.other_fees,
    };
    *into += amount;
}

/// What the statement over `from..=to` shows of `account`'s ledger `rows` (see the module rules).
pub fn of_period(account: &Account, rows: &[Row], from: Date, to: Date) -> Activity {
    let mut ordered: Vec<&Row> = rows.iter().filter(|r| is_shown(r.tx.kind)).collect();
    ordered.sort_by_key(|r| (r.tx.date, r.tx.time.unwrap_or(0), r.seq));
    let mut activity = Activity::default();
    for (at, row) in ordered.iter().enumerate() {
        let tx = &row.tx;
        if tx.date < from || tx.date > to {
            continue;
        }
        let flows = activity.flows.entry(tx.currency.clone()).or_default();
        if tx.kind.is_trade() {
            let trade = execution(account, row, &ordered[..at]);
            add_trade(flows, &trade, to);
            activity.trades.push(trade);
        } else if let Some(kind) = cash_type(tx.kind, tx.amount) {
            add_cash(flows, tx.kind, tx.amount);
            activity.cash.push(cash_transaction(account, row, kind));
        }
    }
    activity
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ibkr::history::seeded_ledger;
    use crate::ibkr::seed::{accounts, base_date, dec};
    use crate::ledger::Ledger;

    fn ledger() -> (Ledger, [Account; 2]) {
        let ids = ["U1000001".to_owned(), "U1000002".to_owned()];
        let ledger = seeded_ledger(&ids);
        assert_eq!(ledger.len(&ids[0]) + ledger.len(&ids[1]), 15 + 7, "every default row");
        (ledger, accounts(&ids, base_date()))
    }

    #[test]
    fn the_report_dates_round_trip_closes_the_lot_it_opened() {
        let (ledger, [first, _]) = ledger();
        let day = of_period(&first, ledger.rows(&first.id), base_date(), base_date());
        let trades: Vec<_> = day.trades.iter().map(|t| (t.quantity, t.proceeds(), t.net_cash, t.open_close)).collect();
        assert_eq!(trades, [(dec("5"), dec("-749"), dec("-750"), "O"), (dec("-5"), dec("755"), dec("754"), "C")]);
        let sale = &day.trades[1];
        assert_eq!(sale.closed_lot, Some(((base_date(), Time::hms(10, 31, 7)), dec("149.80"))));
        assert_eq!((sale.fifo_pnl_realized, sale.settle.iso()), (dec("5"), "2026-03-16".to_owned()));
        let kinds: Vec<_> = day.cash.iter().map(|c| (c.kind, c.currency.as_str(), c.amount)).collect();
        assert_eq!(
            kinds,
            [
                ("Deposits & Withdrawals", "EUR", dec("1000")),
                ("Dividends", "USD", dec("12.50")),
                ("Withholding Tax", "USD", dec("-1.88")),
            ],
            "a row without a time of day comes first on its date"
        );
        let usd = &day.flows["USD"];
        assert_eq!(
            (usd.commissions, usd.net_trades_sales, usd.net_trades_purchases),
            (dec("-2"), dec("755"), dec("-749"))
        );
        assert_eq!((usd.dividends, usd.withholding_tax, usd.unsettled), (dec("12.50"), dec("-1.88"), dec("4")));
        assert_eq!(day.flows["EUR"].deposits, dec("1000"));
    }

    #[test]
    fn a_period_shows_only_its_rows_and_the_ids_do_not_depend_on_it() {
        let (ledger, [first, second]) = ledger();
        let year = of_period(&first, ledger.rows(&first.id), base_date().add_days(-364), base_date());
        let day = of_period(&first, ledger.rows(&first.id), base_date(), base_date());
        assert_eq!(year.trades.len(), 2 + 2, "the short sale, the call and the day's round trip");
        let last = |a: &Activity| a.trades.last().map(|t| (t.transaction_id.clone(), t.trade_id.clone()));
        assert_eq!(last(&year), last(&day));
        assert!(year.cash.iter().any(|c| c.kind == "Other Fees" && c.amount == dec("-10.00")));
        let before = of_period(&second, ledger.rows(&second.id), base_date().add_days(-3), base_date().add_days(-1));
        assert!(before.trades.is_empty() && before.cash.is_empty() && before.flows.is_empty());
        let paid = of_period(&second, ledger.rows(&second.id), base_date(), base_date());
        assert_eq!((paid.cash[1].kind, paid.flows["USD"].broker_interest), ("Broker Interest Paid", dec("-0.85")));
    }
}
