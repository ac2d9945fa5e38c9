//! The synthetic holdings every simulated IBKR user's statement reports, in the [`super::model`]
//! types with exact decimals: account 1 (base USD) holds a two-lot long stock, a short stock, a
//! short call and a EUR stock, with USD/EUR/CAD cash; account 2 (base CAD) holds a two-lot ETF and
//! a USD stock, with CAD cash and negative (margin) USD cash. Their activity (the trades that opened
//! every lot, and the report date's executions and cash transactions) is the ledger history of
//! [`super::history`].
//!
//! Only the mark prices depend on the report date: each is its base price (the one for
//! [`base_date`]) plus a step per day since then, cycling every 20 days. Ending cash is fixed.

use super::dates::{Date, Time};
use super::model::{Account, CashBalance, Instrument, Lot, OptionTerms, Position};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

/// The report date whose mark prices are the base prices below (2026-03-13).
pub fn base_date() -> Date {
    Date::from_ymd(2026, 3, 13).expect("a real date")
}

pub(crate) fn dec(text: &str) -> Decimal {
    text.parse().expect("seed decimals are valid")
}

pub(crate) fn date(y: i64, m: u32, d: u32) -> Date {
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
        symbol: symbol.to_owned(),
        description: description.to_owned(),
        conid: conid.to_owned(),
        isin: isin.to_owned(),
        cusip: cusip.to_owned(),
        listing_exchange: listing_exchange.to_owned(),
        currency: currency.to_owned(),
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
        symbol: "SYNT  260619C00160000".to_owned(),
        description: "SYNT 19JUN26 160 C".to_owned(),
        conid: "33334444".to_owned(),
        isin: String::new(),
        cusip: String::new(),
        listing_exchange: "CBOE".to_owned(),
        currency: "USD".to_owned(),
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

/// Both accounts' holdings (whose ids are `ids`) on `report_date`.
pub fn accounts(ids: &[String; 2], report_date: Date) -> [Account; 2] {
    let day = Decimal::from(report_date.days_since(base_date()).rem_euclid(20));
    let mark = |base: &str, step: &str| dec(base) + dec(step) * day;
    let synt_mark = mark("150.123456", "0.25");
    let cash =
        |currency, fx: &str, ending: &str| CashBalance { currency, fx_rate_to_base: dec(fx), ending_cash: dec(ending) };
    let first = Account {
        id: ids[0].clone(),
        currency: "USD",
        name: "Jane O'Example",
        capabilities: "Margin",
        permissions: "Stocks,Options,Forex",
        date_opened: date(2019, 2, 11),
        date_funded: date(2019, 2, 20),
        ib_entity: "IBLLC-US",
        cash: vec![cash("USD", "1", "3672.02"), cash("EUR", "1.0862", "1012.70"), cash("CAD", "0.7391", "250")],
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
    };

    let xsyn =
        stock("ETF", "XSYN", "SYNTH S&P/TSX 60 INDEX ETF", ("77778888", "CA0000000DD4", "0000000DD"), "TSE", "CAD");
    let second = Account {
        id: ids[1].clone(),
        currency: "CAD",
        name: "Jane O'Example",
        capabilities: "Margin",
        permissions: "Stocks,Funds",
        date_opened: date(2021, 5, 3),
        date_funded: date(2021, 5, 10),
        ib_entity: "IBCAN",
        cash: vec![cash("CAD", "1", "1520.35"), cash("USD", "1.3530", "-310.25")],
        positions: vec![
            Position {
                instrument: xsyn,
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
    fn positions_add_up_on_the_base_date() {
        let [first, second] = accounts(&ids(), base_date());
        let synt = &first.positions[0];
        assert_eq!(synt.quantity(), dec("25"));
        assert_eq!(synt.value_of(synt.quantity()), dec("3753.0864"));
        assert_eq!((synt.cost_basis_money(), synt.cost_basis_price()), (dec("3010.5"), dec("120.42")));
        let call = &first.positions[2];
        assert_eq!((call.value_of(call.quantity()), call.cost_basis_money()), (dec("-420"), dec("-510")));
        assert_eq!(first.positions[3].cost_basis_price(), dec("20.025"));
        assert_eq!(second.positions[0].cost_basis_price(), dec("32.3"));
        assert_eq!(
            (first.fx_rate("EUR"), second.fx_rate("USD"), second.fx_rate("GBP")),
            (dec("1.0862"), dec("1.3530"), Decimal::ONE)
        );
    }

    #[test]
    fn marks_move_with_the_date() {
        let tomorrow = accounts(&ids(), base_date().add_days(1));
        assert_eq!(tomorrow[0].positions[0].mark_price, dec("150.373456"));
        assert_eq!(accounts(&ids(), base_date().add_days(20))[0].positions[0].mark_price, dec("150.123456"));
    }
}
