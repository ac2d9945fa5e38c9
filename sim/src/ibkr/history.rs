//! The transaction history every simulated Flex account starts with, as rows of the shared
//! [`crate::ledger`] (amounts + = cash into the account, units a magnitude whose direction the kind
//! gives), and the numeric ids IBKR gives them. Deterministic: it depends only on the account's
//! seeded holdings, never on the clock or the report date.
//!
//! Consistent with the holdings by construction: every lot of every position has the trade that
//! opened it — on the lot's own date and time, at its cost price, for its quantity (a buy for a
//! long lot, a sell for a short one), commission 1.00 in the instrument's currency — so every
//! symbol's rows net to its position, lot by lot. Around them:
//!
//! | date | account 1 (base USD) | account 2 (base CAD) |
//! |---|---|---|
//! | funded | deposit 20000.00 USD (2019-02-20) | deposit 10000.00 CAD (2021-05-10) |
//! | 2023-09-15 | deposit 1000.00 EUR | |
//! | 2026-01-15 | | withdrawal −500.00 CAD |
//! | 2026-02-27 | other fees −10.00 USD | |
//! | 2026-03-04 | broker interest received +0.42 USD | |
//! | 2026-03-13 | BUY 5 SYNT @ 149.80 and SELL 5 SYNT @ 151.00 (a round trip: the sale closes the lot bought that morning), dividend +12.50 USD on SYNT with its withholding tax −1.88, deposit +1000 EUR | dividend +25.20 CAD on XSYN, broker interest paid −0.85 USD |
//!
//! 2026-03-13 is the default report date, so the default statement (`LastBusinessDay`) shows that
//! day's rows; a longer period (`p`, `fd`/`td`) shows the older ones.

use super::dates::{Date, Time};
use super::model::Account;
use super::seed::{date, dec, derived};
use crate::ledger::{cents, Kind, Ledger, Tx};
use rust_decimal::Decimal;

/// The `transactionID` of ledger row `seq` of `account` under id version `version`: ten digits
/// derived from the three, so every user's ids differ and re-creating a user gives the same ones.
pub fn transaction_id(account: &str, seq: u64, version: u32) -> String {
    (1_000_000_000 + derived(&format!("ibkr-transaction:{account}:{seq}:{version}"), 9_000_000_000)).to_string()
}

/// A ledger holding the default history of both seeded accounts `ids` (as [`super::seed::accounts`]
/// makes them), ids from [`transaction_id`].
pub fn seeded_ledger(ids: &[String; 2]) -> Ledger {
    let mut ledger = Ledger::default();
    for (index, account) in super::seed::accounts(ids, super::seed::base_date()).iter().enumerate() {
        let drafts = default_rows(account, index).into_iter().map(|t| (None, t)).collect();
        // Made ids hash (account, row, version): a repeat would need a 10-digit collision.
        let _ = ledger.append(&account.id, drafts, false, &transaction_id);
    }
    ledger
}

/// Seconds after midnight of a time of day.
pub fn seconds(time: Time) -> u32 {
    time.hour * 3600 + time.minute * 60 + time.second
}

fn cash(kind: Kind, amount: &str, currency: &str, on: Date, description: &str) -> Tx {
    Tx {
        kind,
        symbol: None,
        units: Decimal::ZERO,
        price: Decimal::ZERO,
        amount: dec(amount),
        fee: None,
        currency: currency.to_owned(),
        date: on,
        time: None,
        description: Some(description.to_owned()),
        external_reference_id: None,
    }
}

/// A trade of `units` (signed: + buys, − sells) of `symbol` at `price` (× `multiplier`), fee 1.00.
fn trade(symbol: &str, currency: &str, units: Decimal, price: Decimal, multiplier: Decimal, at: (Date, Time)) -> Tx {
    let fee = dec("1.00");
    let gross = cents(units.abs() * price * multiplier);
    let (kind, amount) = if units.is_sign_negative() { (Kind::Sell, gross - fee) } else { (Kind::Buy, -gross - fee) };
    Tx {
        kind,
        symbol: Some(symbol.to_owned()),
        units: units.abs(),
        price,
        amount,
        fee: Some(fee),
        currency: currency.to_owned(),
        date: at.0,
        time: Some(seconds(at.1)),
        description: None,
        external_reference_id: None,
    }
}

/// A cash row about `symbol` at 20:20:00 (when IBKR books dividends).
fn evening(mut tx: Tx, symbol: Option<&str>) -> Tx {
    tx.symbol = symbol.map(str::to_owned);
    tx.time = Some(seconds(Time::hms(20, 20, 0)));
    tx
}

/// The default history of seeded account `index` (0 or 1) of [`super::seed::accounts`], oldest
/// first (see the module doc).
pub fn default_rows(account: &Account, index: usize) -> Vec<Tx> {
    let base = account.currency;
    let report = super::seed::base_date();
    let funding = if index == 0 { "20000.00" } else { "10000.00" };
    let mut rows = vec![cash(Kind::Deposit, funding, base, account.date_funded, "ELECTRONIC FUND TRANSFER")];
    for position in &account.positions {
        let instrument = &position.instrument;
        for lot in &position.lots {
            let (symbol, currency, multiplier) = (&instrument.symbol, &instrument.currency, instrument.multiplier);
            rows.push(trade(symbol, currency, lot.quantity, lot.cost_price, multiplier, lot.opened));
        }
    }
    if index == 0 {
        let synt = |units: &str, price: &str, at: Time| {
            trade("SYNT", "USD", dec(units), dec(price), Decimal::ONE, (report, at))
        };
        rows.extend([
            cash(Kind::Deposit, "1000.00", "EUR", date(2023, 9, 15), "ELECTRONIC FUND TRANSFER"),
            cash(Kind::Fee, "-10.00", "USD", date(2026, 2, 27), "MARKET DATA FEES FOR FEB-2026"),
            cash(Kind::Interest, "0.42", "USD", date(2026, 3, 4), "USD CREDIT INT FOR FEB-2026"),
            synt("5", "149.80", Time::hms(10, 31, 7)),
            synt("-5", "151.00", Time::hms(14, 5, 33)),
            evening(
                cash(
                    Kind::Dividend,
                    "12.50",
                    "USD",
                    report,
                    "SYNT(US0000000AA1) CASH DIVIDEND USD 0.50 PER SHARE (Ordinary Dividend)",
                ),
                Some("SYNT"),
            ),
            evening(
                cash(Kind::Tax, "-1.88", "USD", report, "SYNT(US0000000AA1) CASH DIVIDEND USD 0.50 PER SHARE - US TAX"),
                Some("SYNT"),
            ),
            cash(Kind::Deposit, "1000", "EUR", report, "ELECTRONIC FUND TRANSFER"),
        ]);
    } else {
        rows.extend([
            cash(Kind::Withdrawal, "-500.00", "CAD", date(2026, 1, 15), "DISBURSEMENT INITIATED BY Jane O'Example"),
            evening(
                cash(
                    Kind::Dividend,
                    "25.20",
                    "CAD",
                    report,
                    "XSYN(CA0000000DD4) CASH DIVIDEND CAD 0.21 PER SHARE (Ordinary Dividend)",
                ),
                Some("XSYN"),
            ),
            evening(cash(Kind::Interest, "-0.85", "USD", report, "USD DEBIT INT FOR FEB-2026"), None),
        ]);
    }
    rows.sort_by_key(|t| (t.date, t.time.unwrap_or(0)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ibkr::seed::{accounts, base_date};
    use std::collections::BTreeMap;

    #[test]
    fn every_symbols_rows_net_to_its_position_and_every_lot_has_its_opening_trade() {
        let ids = ["U1000001".to_owned(), "U1000002".to_owned()];
        for (index, account) in accounts(&ids, base_date()).iter().enumerate() {
            let rows = default_rows(account, index);
            let mut net: BTreeMap<&str, Decimal> = BTreeMap::new();
            for row in rows.iter().filter(|r| r.kind.moves_units()) {
                *net.entry(row.symbol.as_deref().unwrap()).or_default() += row.position_change();
            }
            let held: BTreeMap<&str, Decimal> =
                account.positions.iter().map(|p| (p.instrument.symbol.as_str(), p.quantity())).collect();
            assert_eq!(net, held, "account {index}");
            for position in &account.positions {
                for lot in &position.lots {
                    let opened = rows.iter().any(|r| {
                        r.date == lot.opened.0 && r.position_change() == lot.quantity && r.price == lot.cost_price
                    });
                    assert!(opened, "{} lot of {}", position.instrument.symbol, lot.opened.0.iso());
                }
            }
            assert!(rows.windows(2).all(|w| w[0].date <= w[1].date), "oldest first");
            assert!(rows.iter().all(|r| r.date <= base_date() && !(r.kind.is_trade() && r.date.is_weekend())));
        }
    }

    #[test]
    fn ids_are_ten_digits_and_differ_by_account_row_and_version() {
        let id = transaction_id("U1000001", 3, 0);
        assert!(id.len() == 10 && id.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(id, transaction_id("U1000001", 3, 0));
        assert_ne!(id, transaction_id("U1000002", 3, 0));
        assert_ne!(id, transaction_id("U1000001", 4, 0));
        assert_ne!(id, transaction_id("U1000001", 3, 1));
    }
}
