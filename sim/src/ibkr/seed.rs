//! The synthetic activity every simulated IBKR user's statement reports, in the [`super::model`]
//! types with exact decimals: account 1 (base USD) holds a two-lot long stock, a short stock, a short call and a
//! EUR stock, with USD/EUR/CAD cash and two trades; account 2 (base CAD) holds a two-lot ETF and a
//! USD stock, with CAD cash and negative (margin) USD cash and no trades.
//!
//! Only the mark prices depend on the report date: each is its base price (the one for
//! [`base_date`]) plus a step per day since then, cycling every 20 days. Trade and transaction ids
//! derive from (user, report date), so they are stable per user and day and never depend on which
//! sections a query selects.

use super::dates::{Date, Time};
use super::model::{Account, CashBalance, CashTransaction, Instrument, Lot, OptionTerms, Position, Trade};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// The report date whose mark prices are the base prices below (2026-03-13).
pub fn base_date() -> Date {
    Date::from_ymd(2026, 3, 13).expect("a real date")
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("seed decimals are valid")
}

fn date(y: i64, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).expect("seed dates are real")
}

fn stock(
    sub_category: &'static str,
    symbol: &'static str,
    description: &'static str,
    ids: (&'static str, &'static str, &'static str),
    listing_exchange: &'static str,
    currency: &'static str,
) -> Instrument {
    let (conid, isin, cusip) = ids;
    Instrument {
        asset_category: "STK",
        sub_category,
        symbol,
        description,
        conid,
        isin,
        cusip,
        listing_exchange,
        currency,
        multiplier: Decimal::ONE,
        option: None,
    }
}

fn synt() -> Instrument {
    stock("COMMON", "SYNT", "SYNTH CORP", ("11112222", "US0000000AA1", "0000000AA"), "NASDAQ", "USD")
}

fn synt_call() -> Instrument {
    let terms = OptionTerms {
        underlying_conid: "11112222",
        underlying_symbol: "SYNT",
        strike: dec("160"),
        expiry: date(2026, 6, 19),
        put_call: "C",
    };
    Instrument {
        asset_category: "OPT",
        sub_category: "C",
        symbol: "SYNT  260619C00160000",
        description: "SYNT 19JUN26 160 C",
        conid: "33334444",
        isin: "",
        cusip: "",
        listing_exchange: "CBOE",
        currency: "USD",
        multiplier: dec("100"),
        option: Some(terms),
    }
}

fn lot(quantity: &str, cost_price: &str, opened: Date, at: Time) -> Lot {
    Lot { quantity: dec(quantity), cost_price: dec(cost_price), opened: (opened, at) }
}

/// A number in `0..modulus` derived from `label` (SHA-256).
pub fn derived(label: &str, modulus: u64) -> u64 {
    let digest = Sha256::digest(label.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % modulus
}

/// Both accounts' data for `user` (whose account ids are `ids`) on `report_date`.
pub fn accounts(user: &str, ids: &[String; 2], report_date: Date) -> [Account; 2] {
    let day = Decimal::from(report_date.days_since(base_date()).rem_euclid(20));
    let mark = |base: &str, step: &str| dec(base) + dec(step) * day;
    let label = format!("{user}:{}", report_date.iso());
    let trade_base = 100_000_000 + derived(&format!("trade:{label}"), 8_000_000) * 100;
    let transaction_base = 100_000_000 + derived(&format!("transaction:{label}"), 8_000_000) * 100;
    let order_base = 100_000_000 + derived(&format!("order:{label}"), 8_000_000) * 100;
    let exec = derived(&format!("exec:{label}"), 1 << 32);
    let synt_mark = mark("150.123456", "0.25");
    let trade = |i: u64, quantity: &str, price: &str, time: Time, order_type, open_close, pnl: &str| Trade {
        instrument: synt(),
        fx_rate_to_base: Decimal::ONE,
        quantity: dec(quantity),
        price: dec(price),
        commission: dec("-1"),
        time,
        exchange: "NASDAQ",
        order_type,
        open_close,
        fifo_pnl_realized: dec(pnl),
        close_price: synt_mark,
        trade_id: trade_base + i,
        transaction_id: transaction_base + i,
        order_id: order_base + i,
        exec_id: format!("0000e0d5.{exec:08x}.{:02}.01", i + 1),
    };
    let cash_tx =
        |i: u64, kind, currency, fx: &str, instrument: Option<Instrument>, description, amount: &str, time| {
            CashTransaction {
                kind,
                currency,
                fx_rate_to_base: dec(fx),
                asset_category: if instrument.is_some() { "STK" } else { "CASH" },
                instrument,
                description,
                amount: dec(amount),
                time,
                transaction_id: transaction_base + 50 + i,
            }
        };
    let evening = Some(Time::hms(20, 20, 0));

    let mut usd = CashBalance::new("USD", Decimal::ONE, dec("4110.40"));
    usd.commissions = dec("-2");
    usd.dividends = dec("12.50");
    usd.withholding_tax = dec("-1.88");
    usd.net_trades_sales = dec("302");
    usd.net_trades_purchases = dec("-749");
    let mut eur = CashBalance::new("EUR", dec("1.0862"), dec("12.70"));
    eur.deposits = dec("1000");
    let first = Account {
        id: ids[0].clone(),
        currency: "USD",
        name: "Jane O'Example",
        capabilities: "Margin",
        permissions: "Stocks,Options,Forex",
        date_opened: date(2019, 2, 11),
        date_funded: date(2019, 2, 20),
        ib_entity: "IBLLC-US",
        cash: vec![usd, eur, CashBalance::new("CAD", dec("0.7391"), dec("250"))],
        positions: vec![
            Position {
                instrument: synt(),
                fx_rate_to_base: Decimal::ONE,
                mark_price: synt_mark,
                lots: vec![
                    lot("15", "118.20", date(2024, 5, 14), Time::hms(10, 31, 7)),
                    lot("10", "123.75", date(2025, 1, 22), Time::hms(14, 2, 55)),
                ],
            },
            Position {
                instrument: stock(
                    "COMMON",
                    "SHRT",
                    "SHORTFALL INDUSTRIES INC",
                    ("22223333", "US0000000CC3", "0000000CC"),
                    "NYSE",
                    "USD",
                ),
                fx_rate_to_base: Decimal::ONE,
                mark_price: mark("42.5", "0.1"),
                lots: vec![lot("-30", "45.10", date(2025, 11, 3), Time::hms(9, 45, 12))],
            },
            Position {
                instrument: synt_call(),
                fx_rate_to_base: Decimal::ONE,
                mark_price: mark("4.2", "0.05"),
                lots: vec![lot("-1", "5.10", date(2026, 2, 2), Time::hms(11, 20, 0))],
            },
            Position {
                instrument: stock("COMMON", "SYNE", "SYNTHESE AG", ("55556666", "DE0000000BB2", ""), "IBIS", "EUR"),
                fx_rate_to_base: dec("1.0862"),
                mark_price: mark("22.5", "0.05"),
                lots: vec![
                    lot("25", "19.20", date(2023, 9, 18), Time::hms(4, 0, 0)),
                    lot("15", "21.40", date(2024, 2, 7), Time::hms(4, 12, 30)),
                ],
            },
        ],
        trades: vec![
            trade(0, "5", "149.80", Time::hms(10, 31, 7), "LMT", "O", "0"),
            trade(1, "-2", "151.00", Time::hms(14, 5, 33), "MKT", "C", "60.16"),
        ],
        cash_transactions: vec![
            cash_tx(
                0,
                "Dividends",
                "USD",
                "1",
                Some(synt()),
                "SYNT(US0000000AA1) CASH DIVIDEND USD 0.50 PER SHARE (Ordinary Dividend)",
                "12.50",
                evening,
            ),
            cash_tx(
                1,
                "Withholding Tax",
                "USD",
                "1",
                Some(synt()),
                "SYNT(US0000000AA1) CASH DIVIDEND USD 0.50 PER SHARE - US TAX",
                "-1.88",
                evening,
            ),
            cash_tx(2, "Deposits & Withdrawals", "EUR", "1.0862", None, "ELECTRONIC FUND TRANSFER", "1000", None),
        ],
    };

    let xsyn =
        stock("ETF", "XSYN", "SYNTH S&P/TSX 60 INDEX ETF", ("77778888", "CA0000000DD4", "0000000DD"), "TSE", "CAD");
    let mut cad = CashBalance::new("CAD", Decimal::ONE, dec("1495.15"));
    cad.dividends = dec("25.20");
    let mut margin = CashBalance::new("USD", dec("1.3530"), dec("-309.40"));
    margin.broker_interest = dec("-0.85");
    let second = Account {
        id: ids[1].clone(),
        currency: "CAD",
        name: "Jane O'Example",
        capabilities: "Margin",
        permissions: "Stocks,Funds",
        date_opened: date(2021, 5, 3),
        date_funded: date(2021, 5, 10),
        ib_entity: "IBCAN",
        cash: vec![cad, margin],
        positions: vec![
            Position {
                instrument: xsyn.clone(),
                fx_rate_to_base: Decimal::ONE,
                mark_price: mark("36.75", "0.1"),
                lots: vec![
                    lot("80", "31.10", date(2022, 3, 1), Time::hms(10, 15, 0)),
                    lot("40", "34.70", date(2024, 8, 12), Time::hms(13, 30, 0)),
                ],
            },
            Position {
                instrument: synt(),
                fx_rate_to_base: dec("1.3530"),
                mark_price: synt_mark,
                lots: vec![lot("10", "131.40", date(2023, 6, 5), Time::hms(15, 45, 30))],
            },
        ],
        trades: Vec::new(),
        cash_transactions: vec![
            cash_tx(
                10,
                "Dividends",
                "CAD",
                "1",
                Some(xsyn),
                "XSYN(CA0000000DD4) CASH DIVIDEND CAD 0.21 PER SHARE (Ordinary Dividend)",
                "25.20",
                evening,
            ),
            cash_tx(11, "Broker Interest Paid", "USD", "1.3530", None, "USD DEBIT INT FOR FEB-2026", "-0.85", evening),
        ],
    };
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> [String; 2] {
        ["U1000001".to_owned(), "U1000002".to_owned()]
    }

    #[test]
    fn positions_and_cash_add_up_on_the_base_date() {
        let [first, second] = accounts("ann", &ids(), base_date());
        let synt = &first.positions[0];
        assert_eq!(synt.quantity(), dec("25"));
        assert_eq!(synt.value_of(synt.quantity()), dec("3753.0864"));
        assert_eq!((synt.cost_basis_money(), synt.cost_basis_price()), (dec("3010.5"), dec("120.42")));
        let call = &first.positions[2];
        assert_eq!((call.value_of(call.quantity()), call.cost_basis_money()), (dec("-420"), dec("-510")));
        assert_eq!(first.positions[3].cost_basis_price(), dec("20.025"));
        assert_eq!(second.positions[0].cost_basis_price(), dec("32.3"));
        let usd = first.cash[0].amounts();
        assert_eq!((usd[10], usd[11]), (("endingCash", dec("3672.02")), ("endingSettledCash", dec("4121.02"))));
        assert_eq!(second.cash[1].amounts()[10].1, dec("-310.25"));
        assert!(second.trades.is_empty());
    }

    #[test]
    fn marks_move_with_the_date_and_ids_are_stable_per_user_and_day() {
        let today = accounts("ann", &ids(), base_date());
        let tomorrow = accounts("ann", &ids(), base_date().add_days(1));
        assert_eq!(tomorrow[0].positions[0].mark_price, dec("150.373456"));
        assert_eq!(accounts("ann", &ids(), base_date().add_days(20))[0].positions[0].mark_price, dec("150.123456"));
        assert_eq!(today[0].trades[1].trade_id, accounts("ann", &ids(), base_date())[0].trades[1].trade_id);
        assert_ne!(today[0].trades[0].trade_id, tomorrow[0].trades[0].trade_id);
        assert_ne!(today[0].trades[0].trade_id, accounts("bob", &ids(), base_date())[0].trades[0].trade_id);
        let mut transaction_ids: Vec<u64> =
            today.iter().flat_map(|a| a.trades.iter().map(|t| t.transaction_id)).collect();
        transaction_ids.extend(today.iter().flat_map(|a| a.cash_transactions.iter().map(|c| c.transaction_id)));
        let count = transaction_ids.len();
        transaction_ids.sort_unstable();
        transaction_ids.dedup();
        assert_eq!(transaction_ids.len(), count, "transaction ids are unique");
    }
}
