//! The simulated brokerages and the deterministic accounts a connection to each one gets.
//!
//! Every connection to a brokerage gets the accounts below, in this order, with exactly these
//! positions (`units`, `price`, `cost_basis` are served as these decimal strings by
//! `positions/all`; `null` price = missing). Option positions are standard 100-share contracts.
//! Each account's `cash` already includes its cash-equivalent (money-market) positions, as
//! SnapTrade documents; `balance.total` = non-cash-equivalent positions at price × units
//! (× 100 for options) + cash, converted at a fixed 1 USD = 1.40 CAD, rounded to cents.
//!
//! | brokerage (slug, trading) | account (number, type, ccy) | positions | balances cash / buying power |
//! |---|---|---|---|
//! | SCHWAB, trade | Schwab Individual Brokerage (****4821, Margin, USD) | AAPL stock 10 @ 189.25 (cost 150.10); VOO etf 2.5 @ 512.40 (430.00); AAPL 2027-12-17 240 CALL 2 @ 12.35 (9.80); SWVXX cash-eq 1500 @ 1.00 (1.00) | USD 4000.75 / 5001.50 |
//! | | Schwab Roth IRA (****7310, Roth IRA, USD) | MSFT 0.125 @ 420.50 (380.00); BTC crypto 0.05 @ 64250.00 (30000.00); XYZQ 3 @ null (12.00) | USD 310.20 / 310.20; CAD 125.00 / 125.00 |
//! | FIDELITY, read-only | Fidelity Individual (****5502, Cash, USD) | NVDA 4 @ 121.80 (45.25); FXAIX mutual fund 12.347 @ 198.15 (160.00); SPY 2027-06-18 500 PUT -1 @ 8.40 (10.15); SPAXX cash-eq 2000 @ 1.00 (1.00) | USD 6200.00 / 6200.00 |
//! | | Fidelity Rollover IRA (****5519, IRA, USD) | ETH crypto 1.5 @ 3150.25 (1800.00); PRVT 100 @ null (5.00) | USD 50.00 / 50.00; CAD 20.00 / 20.00 |
//! | ROBINHOOD, trade | Robinhood Individual (****9034, Margin, USD) | TSLA 3 @ 248.50 (200.00); AMZN 0.5 @ 185.00 (170.00); TSLA 2027-01-15 300 CALL 1 @ 5.20 (7.00); DOGE crypto 1000 @ 0.1234 (0.08); VMFXX cash-eq 250 @ 1.00 (1.00); ACQD 7 @ null (3.50) | USD 370.55 / 491.10; CAD 10.00 / 10.00 |
//! | IBKR, trade | IBKR Individual (U****8812, Margin, USD) | SHOP.TO 20 @ 105.30 CAD (80.00); ASML 1.75 @ 702.10 (650.00); SPY 2027-01-15 600 CALL 3 @ 25.10 (18.40) | USD 10000.00 / 40000.00; CAD 2500.00 / 10000.00 |
//! | | IBKR Crypto (U****8813, Cash, USD) | ETH crypto 0.75 @ 3150.25 (2000.00); BTC crypto 0.01 @ 64250.00 (60000.00) | USD 0.00 / 0.00 |
//! | | IBKR Traditional IRA (U****8814, IRA, USD) | VMFXX cash-eq 5000 @ 1.00 (1.00); OLDCO 50 @ null (0.50) | USD 5075.25 / 5075.25 |
//! | WEALTHSIMPLE, trade | Wealthsimple TFSA (WS****0417, TFSA, CAD) | XEQT.TO etf 150 @ 31.42 CAD (27.10); RY.TO 0.3333 @ 142.80 CAD (130.00); TDB8150 cash-eq 300 @ 10.00 CAD (10.00) | CAD 3845.60 / 3845.60 |
//! | | Wealthsimple Crypto (WS****0418, Crypto, CAD) | BTC crypto 0.002 @ 87500.00 CAD (60000.00) | CAD 12.34 / 12.34 |
//! | | Wealthsimple Non-registered USD (WS****0419, Non-registered, USD) | AAPL 2027-01-15 150 PUT 1 @ 3.15 (4.00); HOLD 25 @ null (2.00) | USD 500.00 / 500.00 |
//!
//! All positions are in USD unless marked CAD; unmarked symbols are stocks.

/// A brokerage the simulator offers.
#[derive(Debug)]
pub struct Brokerage {
    pub slug: &'static str,
    pub name: &'static str,
    pub allows_trading: bool,
    pub url: &'static str,
    pub accounts: &'static [SeedAccount],
}

/// One seeded account of a connection.
#[derive(Debug)]
pub struct SeedAccount {
    pub name: &'static str,
    pub number: &'static str,
    pub raw_type: &'static str,
    pub currency: &'static str,
    pub positions: &'static [SeedPosition],
    pub balances: &'static [SeedBalance],
}

/// What kind of instrument a seeded position holds.
#[derive(Debug)]
pub enum Kind {
    Stock,
    Etf,
    MutualFund,
    /// A money-market mutual fund counted in cash (`cash_equivalent: true`).
    CashEquivalent,
    Crypto,
    /// A 100-share option on `underlying` (`kind` of the underlying: `stock` or `etf`).
    Option {
        underlying: &'static str,
        underlying_kind: &'static str,
        call: bool,
        strike: &'static str,
        expiry: &'static str,
    },
}

/// One seeded position; decimals are kept as the exact strings served.
#[derive(Debug)]
pub struct SeedPosition {
    pub kind: Kind,
    pub symbol: &'static str,
    pub description: &'static str,
    pub exchange: Option<&'static str>,
    pub currency: &'static str,
    pub units: &'static str,
    pub price: Option<&'static str>,
    pub cost: &'static str,
}

/// One seeded per-currency balance.
#[derive(Debug)]
pub struct SeedBalance {
    pub currency: &'static str,
    pub cash: &'static str,
    pub buying_power: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn p(
    kind: Kind,
    symbol: &'static str,
    description: &'static str,
    exchange: Option<&'static str>,
    currency: &'static str,
    units: &'static str,
    price: Option<&'static str>,
    cost: &'static str,
) -> SeedPosition {
    SeedPosition { kind, symbol, description, exchange, currency, units, price, cost }
}

const fn opt(
    underlying: &'static str,
    underlying_kind: &'static str,
    call: bool,
    strike: &'static str,
    expiry: &'static str,
) -> Kind {
    Kind::Option { underlying, underlying_kind, call, strike, expiry }
}

const fn bal(currency: &'static str, cash: &'static str, buying_power: &'static str) -> SeedBalance {
    SeedBalance { currency, cash, buying_power }
}

const fn acct(
    name: &'static str,
    number: &'static str,
    raw_type: &'static str,
    currency: &'static str,
    positions: &'static [SeedPosition],
    balances: &'static [SeedBalance],
) -> SeedAccount {
    SeedAccount { name, number, raw_type, currency, positions, balances }
}

use Kind::{CashEquivalent as Cash, Crypto, Etf, MutualFund as Fund, Stock};

const NAS: Option<&str> = Some("XNAS");
const TSX: Option<&str> = Some("XTSE");

/// Every brokerage the simulator offers, in `GET /brokerages` order.
#[rustfmt::skip]
pub static BROKERAGES: &[Brokerage] = &[
    Brokerage { slug: "SCHWAB", name: "Charles Schwab", allows_trading: true,
        url: "https://www.schwab.com", accounts: &[
        acct("Schwab Individual Brokerage", "****4821", "Margin", "USD", &[
            p(Stock, "AAPL", "Apple Inc.", NAS, "USD", "10", Some("189.25"), "150.10"),
            p(Etf, "VOO", "Vanguard S&P 500 ETF", Some("ARCX"), "USD", "2.5", Some("512.40"), "430.00"),
            p(opt("AAPL", "stock", true, "240", "2027-12-17"), "", "", None, "USD", "2", Some("12.35"), "9.80"),
            p(Cash, "SWVXX", "Schwab Value Advantage Money Fund", None, "USD", "1500", Some("1.00"), "1.00"),
        ], &[bal("USD", "4000.75", "5001.50")]),
        acct("Schwab Roth IRA", "****7310", "Roth IRA", "USD", &[
            p(Stock, "MSFT", "Microsoft Corp.", NAS, "USD", "0.125", Some("420.50"), "380.00"),
            p(Crypto, "BTC", "Bitcoin", None, "USD", "0.05", Some("64250.00"), "30000.00"),
            p(Stock, "XYZQ", "Delisted Holdings Corp.", None, "USD", "3", None, "12.00"),
        ], &[bal("USD", "310.20", "310.20"), bal("CAD", "125.00", "125.00")]),
    ]},
    Brokerage { slug: "FIDELITY", name: "Fidelity", allows_trading: false,
        url: "https://www.fidelity.com", accounts: &[
        acct("Fidelity Individual", "****5502", "Cash", "USD", &[
            p(Stock, "NVDA", "NVIDIA Corp.", NAS, "USD", "4", Some("121.80"), "45.25"),
            p(Fund, "FXAIX", "Fidelity 500 Index Fund", None, "USD", "12.347", Some("198.15"), "160.00"),
            p(opt("SPY", "etf", false, "500", "2027-06-18"), "", "", None, "USD", "-1", Some("8.40"), "10.15"),
            p(Cash, "SPAXX", "Fidelity Government Money Market Fund", None, "USD", "2000", Some("1.00"), "1.00"),
        ], &[bal("USD", "6200.00", "6200.00")]),
        acct("Fidelity Rollover IRA", "****5519", "IRA", "USD", &[
            p(Crypto, "ETH", "Ethereum", None, "USD", "1.5", Some("3150.25"), "1800.00"),
            p(Stock, "PRVT", "Private Placement LLC", None, "USD", "100", None, "5.00"),
        ], &[bal("USD", "50.00", "50.00"), bal("CAD", "20.00", "20.00")]),
    ]},
    Brokerage { slug: "ROBINHOOD", name: "Robinhood", allows_trading: true,
        url: "https://robinhood.com", accounts: &[
        acct("Robinhood Individual", "****9034", "Margin", "USD", &[
            p(Stock, "TSLA", "Tesla Inc.", NAS, "USD", "3", Some("248.50"), "200.00"),
            p(Stock, "AMZN", "Amazon.com Inc.", NAS, "USD", "0.5", Some("185.00"), "170.00"),
            p(opt("TSLA", "stock", true, "300", "2027-01-15"), "", "", None, "USD", "1", Some("5.20"), "7.00"),
            p(Crypto, "DOGE", "Dogecoin", None, "USD", "1000", Some("0.1234"), "0.08"),
            p(Cash, "VMFXX", "Vanguard Federal Money Market Fund", None, "USD", "250", Some("1.00"), "1.00"),
            p(Stock, "ACQD", "Acquired Co. (pending cash merger)", None, "USD", "7", None, "3.50"),
        ], &[bal("USD", "370.55", "491.10"), bal("CAD", "10.00", "10.00")]),
    ]},
    Brokerage { slug: "IBKR", name: "Interactive Brokers", allows_trading: true,
        url: "https://www.interactivebrokers.com", accounts: &[
        acct("IBKR Individual", "U****8812", "Margin", "USD", &[
            p(Stock, "SHOP.TO", "Shopify Inc.", TSX, "CAD", "20", Some("105.30"), "80.00"),
            p(Stock, "ASML", "ASML Holding N.V.", NAS, "USD", "1.75", Some("702.10"), "650.00"),
            p(opt("SPY", "etf", true, "600", "2027-01-15"), "", "", None, "USD", "3", Some("25.10"), "18.40"),
        ], &[bal("USD", "10000.00", "40000.00"), bal("CAD", "2500.00", "10000.00")]),
        acct("IBKR Crypto", "U****8813", "Cash", "USD", &[
            p(Crypto, "ETH", "Ethereum", None, "USD", "0.75", Some("3150.25"), "2000.00"),
            p(Crypto, "BTC", "Bitcoin", None, "USD", "0.01", Some("64250.00"), "60000.00"),
        ], &[bal("USD", "0.00", "0.00")]),
        acct("IBKR Traditional IRA", "U****8814", "IRA", "USD", &[
            p(Cash, "VMFXX", "Vanguard Federal Money Market Fund", None, "USD", "5000", Some("1.00"), "1.00"),
            p(Stock, "OLDCO", "Old Company Bankruptcy Escrow", None, "USD", "50", None, "0.50"),
        ], &[bal("USD", "5075.25", "5075.25")]),
    ]},
    Brokerage { slug: "WEALTHSIMPLE", name: "Wealthsimple", allows_trading: true,
        url: "https://www.wealthsimple.com", accounts: &[
        acct("Wealthsimple TFSA", "WS****0417", "TFSA", "CAD", &[
            p(Etf, "XEQT.TO", "iShares Core Equity ETF Portfolio", TSX, "CAD", "150", Some("31.42"), "27.10"),
            p(Stock, "RY.TO", "Royal Bank of Canada", TSX, "CAD", "0.3333", Some("142.80"), "130.00"),
            p(Cash, "TDB8150", "TD Canadian Money Market Fund", None, "CAD", "300", Some("10.00"), "10.00"),
        ], &[bal("CAD", "3845.60", "3845.60")]),
        acct("Wealthsimple Crypto", "WS****0418", "Crypto", "CAD", &[
            p(Crypto, "BTC", "Bitcoin", None, "CAD", "0.002", Some("87500.00"), "60000.00"),
        ], &[bal("CAD", "12.34", "12.34")]),
        acct("Wealthsimple Non-registered USD", "WS****0419", "Non-registered", "USD", &[
            p(opt("AAPL", "stock", false, "150", "2027-01-15"), "", "", None, "USD", "1", Some("3.15"), "4.00"),
            p(Stock, "HOLD", "Halted Mining Corp.", None, "USD", "25", None, "2.00"),
        ], &[bal("USD", "500.00", "500.00")]),
    ]},
];

/// The brokerage with this slug (case-insensitive), if the simulator offers it.
pub fn brokerage(slug: &str) -> Option<&'static Brokerage> {
    BROKERAGES.iter().find(|b| b.slug.eq_ignore_ascii_case(slug.trim()))
}

/// The first seeded non-option position in `symbol` (this account's own first, then any brokerage's).
pub fn seed_position(account: Option<&'static SeedAccount>, symbol: &str) -> Option<&'static SeedPosition> {
    let is_it = |p: &&'static SeedPosition| p.symbol == symbol && !matches!(p.kind, Kind::Option { .. });
    let everywhere = BROKERAGES.iter().flat_map(|b| b.accounts.iter()).flat_map(|a| a.positions.iter());
    account.and_then(|a| a.positions.iter().find(is_it)).or_else(|| everywhere.clone().find(is_it))
}

/// USD→CAD rate used for `balance.total` conversions.
pub const USD_CAD: &str = "1.40";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_brokerage_covers_the_required_cases() {
        for b in BROKERAGES {
            assert!((1..=3).contains(&b.accounts.len()), "{}", b.slug);
            let positions: Vec<&SeedPosition> = b.accounts.iter().flat_map(|a| a.positions).collect();
            assert!(positions.iter().any(|p| matches!(p.kind, Kind::Option { .. })), "{} option", b.slug);
            assert!(positions.iter().any(|p| matches!(p.kind, Kind::Crypto)), "{} crypto", b.slug);
            assert!(positions.iter().any(|p| matches!(p.kind, Kind::CashEquivalent)), "{} cash-eq", b.slug);
            assert!(positions.iter().any(|p| p.price.is_none()), "{} missing price", b.slug);
            assert!(positions.iter().any(|p| p.units.contains('.')), "{} fractional", b.slug);
            assert!(positions.iter().any(|p| !p.units.contains('.')), "{} whole", b.slug);
            let currencies: Vec<&str> = b.accounts.iter().flat_map(|a| a.balances).map(|b| b.currency).collect();
            assert!(currencies.contains(&"USD") && currencies.contains(&"CAD"), "{} balances", b.slug);
        }
        assert!(!brokerage("fidelity").unwrap().allows_trading);
        assert!(brokerage("NOPE").is_none());
    }
}
