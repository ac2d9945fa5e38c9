//! Deterministic transaction histories: the small default history every account gets when it is
//! created, and the longer generated histories of `POST /__sim/transactions/history`. Both depend
//! only on their inputs (the account's profile and an anchor date), never on the clock.
//!
//! Default history, dated back from the anchor `A` (the day the account was created), every row at
//! least 30 days old. "Lot a" and "lot b" are the account's first two tradable positions
//! ([`Profile::lots`]) with held units `U`:
//!
//! | day | row |
//! |---|---|
//! | A-400 | deposit +10000.00 (account currency) |
//! | A-380 | buy lot a: `U/4` @ price × 1.6 (split accounts) or `U/2` @ price × 0.8 |
//! | A-300 | buy lot b: all its units @ price × 0.85 |
//! | A-250 | split accounts only: split lot a, +`U/4` units (2-for-1) |
//! | A-200 | dividend on lot a, in lot a's currency: 0.4% of its value (at least 0.01) |
//! | A-120 | sell lot a: `U/8` (split) or `U/4` @ price × 0.9, fee 1.00 |
//! | A-90 | fee -25.00 |
//! | A-75 | accounts holding CAD whose lot a is not in CAD: dividend +8.40 CAD, no symbol |
//! | A-60 | buy lot a: `5U/8` (split) or `3U/4` @ price × 0.95 |
//! | A-30 | interest +1.23 |
//!
//! Accounts with no tradable position get deposit, withdrawal -200.00, fee, tax -12.50
//! and interest instead. So: for every ticker in a default history, the rows' net units equal
//! the seeded position (opening positions of other tickers predate the history). Trades carry a
//! time of day and move to the Friday before when they fall on a weekend; prices are rounded to
//! cents (to 4 places below 1), amounts to cents (buy: −units × price − fee; sell: + units × price − fee).

use super::{cents, Kind, Tx};
use crate::ibkr::dates::Date;
use crate::util::stable_uuid;
use rust_decimal::Decimal;

/// A tradable position the history may buy, sell, split and pay dividends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lot {
    pub symbol: String,
    pub currency: String,
    pub units: Decimal,
    pub price: Decimal,
}

/// What a history is made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The account id (seeds the external reference ids).
    pub account_id: String,
    /// The account's currency.
    pub currency: String,
    /// Tradable positions in seed order (not cash-equivalent, not options, with a price).
    pub lots: Vec<Lot>,
    /// Whether the default history splits lot a (the first account of each connection / Item).
    pub split: bool,
    /// Whether the account holds CAD (a CAD balance, cash holding or position).
    pub holds_cad: bool,
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// `price × factor`, to cents (4 places below 1).
fn scaled_price(price: Decimal, factor: &str) -> Decimal {
    let p = price * d(factor);
    if p.abs() < Decimal::ONE {
        p.round_dp(4)
    } else {
        cents(p)
    }
}

/// The date itself, or the Friday before when it is a Saturday or Sunday.
fn weekday_on_or_before(date: Date) -> Date {
    let mut day = date;
    while day.is_weekend() {
        day = day.add_days(-1);
    }
    day
}

fn cash(kind: Kind, amount: &str, currency: &str, date: Date) -> Tx {
    Tx {
        kind,
        symbol: None,
        units: Decimal::ZERO,
        price: Decimal::ZERO,
        amount: d(amount),
        fee: None,
        currency: currency.to_owned(),
        date,
        time: None,
        description: None,
        external_reference_id: None,
    }
}

/// A buy or sell of `units` of `lot` at `price`, at 14:30 UTC plus up to 59 minutes (from `order`).
fn trade(kind: Kind, lot: &Lot, units: Decimal, price: Decimal, fee: Decimal, date: Date, order: String) -> Tx {
    let gross = cents(units * price);
    let amount = if kind == Kind::Buy { -gross - fee } else { gross - fee };
    let minute = order.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 60;
    Tx {
        kind,
        symbol: Some(lot.symbol.clone()),
        units,
        price,
        amount,
        fee: Some(fee),
        currency: lot.currency.clone(),
        date: weekday_on_or_before(date),
        time: Some(14 * 3600 + 30 * 60 + minute * 60),
        description: None,
        external_reference_id: Some(order),
    }
}

/// The default history of an account created on `anchor` (see the module doc), oldest first.
pub fn default_rows(profile: &Profile, anchor: Date) -> Vec<Tx> {
    let ccy = profile.currency.as_str();
    let day = |n: i64| anchor.add_days(-n);
    let order = |n: u32| format!("ord-{}", &stable_uuid(&format!("order:{}:{n}", profile.account_id))[..8]);
    let mut rows = vec![cash(Kind::Deposit, "10000.00", ccy, day(400))];
    match profile.lots.first() {
        None => {
            rows.push(cash(Kind::Withdrawal, "-200.00", ccy, day(150)));
            rows.push(cash(Kind::Fee, "-25.00", ccy, day(90)));
            rows.push(cash(Kind::Tax, "-12.50", ccy, day(45)));
        }
        Some(a) => {
            let (u, zero, fee) = (a.units, Decimal::ZERO, d("1.00"));
            let (first, sold, last) = if profile.split {
                (u / d("4"), u / d("8"), u * d("5") / d("8"))
            } else {
                (u / d("2"), u / d("4"), u * d("3") / d("4"))
            };
            let first_price = scaled_price(a.price, if profile.split { "1.6" } else { "0.8" });
            rows.push(trade(Kind::Buy, a, first, first_price, zero, day(380), order(1)));
            if let Some(b) = profile.lots.get(1) {
                rows.push(trade(Kind::Buy, b, b.units, scaled_price(b.price, "0.85"), zero, day(300), order(2)));
            }
            if profile.split {
                let mut split = cash(Kind::Split, "0", &a.currency, day(250));
                (split.symbol, split.units) = (Some(a.symbol.clone()), u / d("4"));
                split.description = Some(format!("2-FOR-1 STOCK SPLIT {}", a.symbol));
                rows.push(split);
            }
            let dividend = cents(u * a.price * d("0.004")).max(d("0.01"));
            let mut paid = cash(Kind::Dividend, "0", &a.currency, day(200));
            (paid.symbol, paid.amount) = (Some(a.symbol.clone()), dividend);
            rows.push(paid);
            rows.push(trade(Kind::Sell, a, sold, scaled_price(a.price, "0.9"), fee, day(120), order(3)));
            rows.push(cash(Kind::Fee, "-25.00", ccy, day(90)));
            if profile.holds_cad && a.currency != "CAD" {
                rows.push(cash(Kind::Dividend, "8.40", "CAD", day(75)));
            }
            rows.push(trade(Kind::Buy, a, last, scaled_price(a.price, "0.95"), zero, day(60), order(4)));
        }
    }
    rows.push(cash(Kind::Interest, "1.23", ccy, day(30)));
    rows.sort_by_key(|t| t.date);
    rows
}

/// The kinds a generated history cycles through, with and without tradable lots.
const WITH_LOTS: [Kind; 8] =
    [Kind::Buy, Kind::Dividend, Kind::Sell, Kind::Interest, Kind::Buy, Kind::Fee, Kind::Deposit, Kind::Withdrawal];
const CASH_ONLY: [Kind; 6] = [Kind::Deposit, Kind::Interest, Kind::Fee, Kind::Withdrawal, Kind::Tax, Kind::Dividend];

/// `count` generated rows, newest first, four per day back from `end`. `start` is how many rows were
/// generated for the account before, so every generated row's amount differs from every other of
/// its kind in the account (no two share provider, account, date, type, amount and symbol).
pub fn generated_rows(profile: &Profile, count: usize, end: Date, start: u64) -> Vec<Tx> {
    let ccy = profile.currency.as_str();
    (0..count)
        .map(|i| {
            let k = start + i as u64;
            let date = end.add_days(-((i / 4) as i64));
            let step = Decimal::new(k as i64, 2); // k cents
            let kinds: &[Kind] = if profile.lots.is_empty() { &CASH_ONLY } else { &WITH_LOTS };
            let kind = kinds[(k % kinds.len() as u64) as usize];
            let mut tx = match kind {
                Kind::Buy | Kind::Sell => {
                    let lot = &profile.lots[(k / 8 % profile.lots.len() as u64) as usize];
                    let units = Decimal::ONE + Decimal::new(k as i64, 4);
                    let factor = format!("0.{}", 90 + k % 10);
                    let order = format!("gen-{}-{k}", &stable_uuid(&profile.account_id)[..8]);
                    let fee = if kind == Kind::Sell { d("0.50") } else { Decimal::ZERO };
                    trade(kind, lot, units, scaled_price(lot.price, &factor), fee, date, order)
                }
                Kind::Dividend => {
                    let mut tx = cash(kind, "0.50", ccy, date);
                    tx.symbol = profile.lots.first().map(|l| l.symbol.clone());
                    tx
                }
                Kind::Interest => cash(kind, "0.05", ccy, date),
                Kind::Fee => cash(kind, "-1.00", ccy, date),
                Kind::Tax => cash(kind, "-0.75", ccy, date),
                Kind::Deposit => cash(kind, "100.00", ccy, date),
                _ => cash(Kind::Withdrawal, "-50.00", ccy, date),
            };
            if !kind.is_trade() {
                tx.amount += if tx.amount.is_sign_negative() { -step } else { step };
            } else {
                // Trades stay on `date` (generated histories may include weekends).
                tx.date = date;
            }
            tx
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(lots: Vec<Lot>, split: bool, holds_cad: bool) -> Profile {
        Profile { account_id: "acc".into(), currency: "USD".into(), lots, split, holds_cad }
    }

    fn lot(symbol: &str, currency: &str, units: &str, price: &str) -> Lot {
        Lot { symbol: symbol.into(), currency: currency.into(), units: d(units), price: d(price) }
    }

    fn net_units(rows: &[Tx], symbol: &str) -> Decimal {
        rows.iter().filter(|t| t.symbol.as_deref() == Some(symbol)).map(Tx::position_change).sum()
    }

    #[test]
    fn default_histories_net_to_the_seeded_positions() {
        let anchor = Date::parse_iso("2026-06-15").unwrap();
        for split in [true, false] {
            let p = profile(vec![lot("TSLA", "USD", "3", "248.50"), lot("AMZN", "USD", "0.5", "185.00")], split, true);
            let rows = default_rows(&p, anchor);
            assert_eq!(net_units(&rows, "TSLA"), d("3"));
            assert_eq!(net_units(&rows, "AMZN"), d("0.5"));
            assert_eq!(rows.iter().any(|t| t.kind == Kind::Split), split);
            assert!(rows.iter().any(|t| t.kind == Kind::Dividend && t.currency == "CAD"));
            assert!((5..=12).contains(&rows.len()), "{}", rows.len());
            assert!(rows
                .iter()
                .all(|t| t.date.days_since(anchor) <= -30 && !(t.kind.is_trade() && t.date.is_weekend())));
        }
        let cad = profile(vec![lot("SHOP.TO", "CAD", "20", "105.30")], true, true);
        let rows = default_rows(&cad, anchor);
        let cad_dividends: Vec<&Tx> = rows.iter().filter(|t| t.kind == Kind::Dividend).collect();
        assert_eq!(cad_dividends.len(), 1);
        assert_eq!((cad_dividends[0].currency.as_str(), cad_dividends[0].amount), ("CAD", d("8.42")));
        let buy = rows.iter().find(|t| t.kind == Kind::Buy).unwrap();
        assert!(buy.amount < Decimal::ZERO && buy.units == d("5"));
        assert_eq!(default_rows(&profile(vec![], false, false), anchor).len(), 5);
    }

    #[test]
    fn generated_histories_are_deterministic_and_never_repeat_content() {
        let p = profile(vec![lot("AAPL", "USD", "10", "189.25")], false, false);
        let end = Date::parse_iso("2026-06-14").unwrap();
        let first = generated_rows(&p, 1200, end, 0);
        assert_eq!(first, generated_rows(&p, 1200, end, 0));
        let more = generated_rows(&p, 100, end, 1200);
        let mut keys: Vec<(Date, Kind, Decimal)> =
            first.iter().chain(&more).map(|t| (t.date, t.kind, t.amount)).collect();
        keys.sort_by_key(|k| (k.0, k.1.name(), k.2));
        keys.dedup();
        assert_eq!(keys.len(), 1300);
        assert_eq!(first.last().unwrap().date, end.add_days(-299));
    }
}
