//! The institutions the hosted Link page offers and the deterministic portfolio every Item at
//! each one gets. Decimals are kept as the exact strings that `/investments/holdings/get` serves
//! as JSON numbers; `cost_basis` is the holding's total cost (`null` = not reported). Cash is a
//! holding of the `CUR:<ccy>` cash security, as Plaid reports it. Only `ins_56` (Chase) follows
//! the brief's Plaid id; `ins_11`, `ins_990001`, `ins_990002` and `ins_990003` are simulator ids.
//!
//! | institution | account (mask, subtype) | holdings: ticker (or CUSIP) type quantity, cost basis |
//! |---|---|---|
//! | `ins_56` Chase | Chase Self-Directed Investing (8830, brokerage) | CUR:USD cash 1250.75, 1250.75; JPM equity 8, 1200.00; VTI etf 15.5, 3500.00; OLGAX mutual fund 42.123, null; CUSIP 48128UAB2 CD (no ticker) 10, 1000.00; CUR:CAD cash 300.5, null |
//! | | Chase Traditional IRA (8841, ira) | VOO etf 1.2345, null; CUR:USD 85.1, null |
//! | `ins_11` Charles Schwab | Schwab Individual Brokerage (4821, brokerage) | AAPL equity 10, 1501.00; VOO etf 2.5, 1075.00; SWVXX money market (cash) 1500, null; CUR:USD 2500.75, null; CUSIP 808513AZ8 bond (no ticker) 5, 500.00 |
//! | | Schwab Roth IRA (7310, roth) | MSFT equity 0.125, 47.50; SWPPX mutual fund 33.3333, null; CUR:USD 310.2, null; CUR:CAD 125, 125.00 |
//! | `ins_990001` Vanguard | Vanguard Brokerage Account (3301, brokerage) | VMFXX money market (cash) 2200.5, null; CUR:USD 0.37, null; VTI etf 20, 4000.00; VTSAX mutual fund 12.3456, 1400.00; AAPL equity 3, null; CUR:CAD 40, null |
//! | | Vanguard Roth IRA (3302, roth) | VFIAX mutual fund 5.5, 2500.00; CUSIP 92204Q101 collective trust (mutual fund, no ticker) 120.456, 2900.00 |
//! | `ins_990002` Fidelity | Fidelity Individual (5502, brokerage) | SPAXX money market (cash) 2000, null; CUR:USD 15.25, null; NVDA equity 4, 181.00; FXAIX mutual fund 12.347, 1975.52; ITOT etf 7.25, 800.00; CUSIP 912797KX4 T-bill (no ticker) 2, 197.50; CUR:CAD 20, null |
//! | | Fidelity Rollover IRA (5519, ira) | FXNAX mutual fund 100.001, null; CUR:USD 50, null |
//! | `ins_990003` Interactive Brokers | IBKR Individual (8812, brokerage) | CUR:USD cash 10000, null; CUR:CAD cash 2500, null; MSFT equity 2.5, 900.00; VTI etf 4, 1000.00; OLGAX mutual fund 3.5, null; CUSIP 912797KX4 T-bill (no ticker) 1, 98.00 |
//!
//! Prices (per unit, in the security's currency): AAPL 189.25, VOO 512.40 (the SnapTrade seed's
//! Schwab prices), JPM 198.7654, VTI 268.4321, OLGAX 71.2345, MSFT 420.50, SWPPX 82.1234, VTSAX
//! 131.0789, VFIAX 501.2345, NVDA 121.80, FXAIX 198.15, ITOT 118.9012, FXNAX 10.4567, the CD
//! 100.125, the Schwab bond 98.75, the trust 25.6789, the T-bill 99.1234, cash and money market 1.

/// Details of a fixed-income security.
#[derive(Debug)]
pub struct SeedFixedIncome {
    pub coupon_percent: &'static str,
    pub issue_date: &'static str,
    pub maturity_date: &'static str,
    pub face_value: &'static str,
}

/// A security as Plaid describes it.
#[derive(Debug)]
pub struct SeedSecurity {
    pub name: &'static str,
    pub ticker: Option<&'static str>,
    pub cusip: Option<&'static str>,
    /// Plaid's `type`: cash, equity, etf, mutual fund, fixed income, …
    pub kind: &'static str,
    pub subtype: &'static str,
    pub cash_equivalent: bool,
    pub currency: &'static str,
    pub price: &'static str,
    pub market: Option<&'static str>,
    pub sector: Option<&'static str>,
    pub fixed_income: Option<SeedFixedIncome>,
}

/// One holding: a security, a quantity and the total cost basis (if reported).
#[derive(Debug)]
pub struct SeedHolding {
    pub security: &'static SeedSecurity,
    pub quantity: &'static str,
    pub cost_basis: Option<&'static str>,
}

/// One investment account of an Item.
#[derive(Debug)]
pub struct SeedAccount {
    pub name: &'static str,
    pub official_name: &'static str,
    pub mask: &'static str,
    pub subtype: &'static str,
    pub currency: &'static str,
    pub holdings: &'static [SeedHolding],
}

/// An institution the hosted Link page offers.
#[derive(Debug)]
pub struct Institution {
    pub id: &'static str,
    pub name: &'static str,
    pub accounts: &'static [SeedAccount],
}

#[allow(clippy::too_many_arguments)]
const fn sec(
    name: &'static str,
    ticker: Option<&'static str>,
    cusip: Option<&'static str>,
    kind: &'static str,
    subtype: &'static str,
    currency: &'static str,
    price: &'static str,
    market: Option<&'static str>,
    sector: Option<&'static str>,
) -> SeedSecurity {
    SeedSecurity {
        name,
        ticker,
        cusip,
        kind,
        subtype,
        cash_equivalent: false,
        currency,
        price,
        market,
        sector,
        fixed_income: None,
    }
}

/// A cash-equivalent security (currency or money market fund) priced at 1.
const fn cash(name: &'static str, ticker: &'static str, subtype: &'static str, currency: &'static str) -> SeedSecurity {
    SeedSecurity { cash_equivalent: true, ..sec(name, Some(ticker), None, "cash", subtype, currency, "1", None, None) }
}

const fn bond(
    name: &'static str,
    cusip: &'static str,
    subtype: &'static str,
    price: &'static str,
    fi: SeedFixedIncome,
) -> SeedSecurity {
    SeedSecurity {
        fixed_income: Some(fi),
        ..sec(name, None, Some(cusip), "fixed income", subtype, "USD", price, None, None)
    }
}

const fn fi(coupon_percent: &'static str, issue_date: &'static str, maturity_date: &'static str) -> SeedFixedIncome {
    SeedFixedIncome { coupon_percent, issue_date, maturity_date, face_value: "100" }
}

const fn h(security: &'static SeedSecurity, quantity: &'static str, cost_basis: Option<&'static str>) -> SeedHolding {
    SeedHolding { security, quantity, cost_basis }
}

const fn acct(
    name: &'static str,
    official_name: &'static str,
    mask: &'static str,
    subtype: &'static str,
    holdings: &'static [SeedHolding],
) -> SeedAccount {
    SeedAccount { name, official_name, mask, subtype, currency: "USD", holdings }
}

const NAS: Option<&str> = Some("XNAS");
const NYS: Option<&str> = Some("XNYS");
const ARCA: Option<&str> = Some("ARCX");
const TECH: Option<&str> = Some("Electronic Technology");
const FIN: Option<&str> = Some("Finance");

#[rustfmt::skip]
mod securities {
    use super::*;
    pub static USD: SeedSecurity = cash("U S Dollar", "CUR:USD", "cash", "USD");
    pub static CAD: SeedSecurity = cash("Canadian Dollar", "CUR:CAD", "cash", "CAD");
    pub static AAPL: SeedSecurity = sec("Apple Inc.", Some("AAPL"), None, "equity", "common stock", "USD", "189.25", NAS, TECH);
    pub static MSFT: SeedSecurity = sec("Microsoft Corp.", Some("MSFT"), None, "equity", "common stock", "USD", "420.50", NAS, Some("Technology Services"));
    pub static NVDA: SeedSecurity = sec("NVIDIA Corp.", Some("NVDA"), None, "equity", "common stock", "USD", "121.80", NAS, TECH);
    pub static JPM: SeedSecurity = sec("JPMorgan Chase & Co.", Some("JPM"), None, "equity", "common stock", "USD", "198.7654", NYS, FIN);
    pub static VOO: SeedSecurity = sec("Vanguard S&P 500 ETF", Some("VOO"), None, "etf", "etf", "USD", "512.40", ARCA, None);
    pub static VTI: SeedSecurity = sec("Vanguard Total Stock Market ETF", Some("VTI"), None, "etf", "etf", "USD", "268.4321", ARCA, None);
    pub static ITOT: SeedSecurity = sec("iShares Core S&P Total U.S. Stock Market ETF", Some("ITOT"), None, "etf", "etf", "USD", "118.9012", ARCA, None);
    pub static OLGAX: SeedSecurity = sec("JPMorgan Large Cap Growth Fund Class A", Some("OLGAX"), None, "mutual fund", "mutual fund", "USD", "71.2345", None, None);
    pub static SWPPX: SeedSecurity = sec("Schwab S&P 500 Index Fund", Some("SWPPX"), None, "mutual fund", "mutual fund", "USD", "82.1234", None, None);
    pub static VTSAX: SeedSecurity = sec("Vanguard Total Stock Market Index Fund Admiral Shares", Some("VTSAX"), None, "mutual fund", "mutual fund", "USD", "131.0789", None, None);
    pub static VFIAX: SeedSecurity = sec("Vanguard 500 Index Fund Admiral Shares", Some("VFIAX"), None, "mutual fund", "mutual fund", "USD", "501.2345", None, None);
    pub static FXAIX: SeedSecurity = sec("Fidelity 500 Index Fund", Some("FXAIX"), None, "mutual fund", "mutual fund", "USD", "198.15", None, None);
    pub static FXNAX: SeedSecurity = sec("Fidelity U.S. Bond Index Fund", Some("FXNAX"), None, "mutual fund", "mutual fund", "USD", "10.4567", None, None);
    pub static SWVXX: SeedSecurity = cash("Schwab Value Advantage Money Fund", "SWVXX", "money market", "USD");
    pub static VMFXX: SeedSecurity = cash("Vanguard Federal Money Market Fund", "VMFXX", "money market", "USD");
    pub static SPAXX: SeedSecurity = cash("Fidelity Government Money Market Fund", "SPAXX", "money market", "USD");
    pub static TRUST: SeedSecurity = sec("Vanguard Target Retirement 2050 Trust II", None, Some("92204Q101"), "mutual fund", "mutual fund", "USD", "25.6789", None, None);
    pub static CD: SeedSecurity = bond("JPMorgan Chase Bank NA CD 4.50% 03/15/2027", "48128UAB2", "cd", "100.125", fi("4.5", "2025-03-15", "2027-03-15"));
    pub static SCHWAB_BOND: SeedSecurity = bond("Schwab Private Placement Note 5.10% 2029", "808513AZ8", "bond", "98.75", fi("5.1", "2024-06-01", "2029-06-01"));
    pub static TBILL: SeedSecurity = bond("United States Treasury Bill 0% 09/17/2026", "912797KX4", "bill", "99.1234", fi("0", "2026-03-19", "2026-09-17"));
}

use securities::*;

/// Every institution the hosted Link page offers, in display order.
#[rustfmt::skip]
pub static INSTITUTIONS: &[Institution] = &[
    Institution { id: "ins_56", name: "Chase", accounts: &[
        acct("Chase Self-Directed Investing", "J.P. Morgan Self-Directed Investing Individual", "8830", "brokerage", &[
            h(&USD, "1250.75", Some("1250.75")), h(&JPM, "8", Some("1200.00")), h(&VTI, "15.5", Some("3500.00")),
            h(&OLGAX, "42.123", None), h(&CD, "10", Some("1000.00")), h(&CAD, "300.5", None),
        ]),
        acct("Chase Traditional IRA", "J.P. Morgan Self-Directed Traditional IRA", "8841", "ira", &[
            h(&VOO, "1.2345", None), h(&USD, "85.1", None),
        ]),
    ]},
    Institution { id: "ins_11", name: "Charles Schwab", accounts: &[
        acct("Schwab Individual Brokerage", "Schwab One Individual Brokerage Account", "4821", "brokerage", &[
            h(&AAPL, "10", Some("1501.00")), h(&VOO, "2.5", Some("1075.00")), h(&SWVXX, "1500", None),
            h(&USD, "2500.75", None), h(&SCHWAB_BOND, "5", Some("500.00")),
        ]),
        acct("Schwab Roth IRA", "Schwab Roth Contributory IRA", "7310", "roth", &[
            h(&MSFT, "0.125", Some("47.50")), h(&SWPPX, "33.3333", None), h(&USD, "310.2", None),
            h(&CAD, "125", Some("125.00")),
        ]),
    ]},
    Institution { id: "ins_990001", name: "Vanguard", accounts: &[
        acct("Vanguard Brokerage Account", "Vanguard Individual Brokerage Account", "3301", "brokerage", &[
            h(&VMFXX, "2200.5", None), h(&USD, "0.37", None), h(&VTI, "20", Some("4000.00")),
            h(&VTSAX, "12.3456", Some("1400.00")), h(&AAPL, "3", None), h(&CAD, "40", None),
        ]),
        acct("Vanguard Roth IRA", "Vanguard Roth IRA Brokerage Account", "3302", "roth", &[
            h(&VFIAX, "5.5", Some("2500.00")), h(&TRUST, "120.456", Some("2900.00")),
        ]),
    ]},
    Institution { id: "ins_990002", name: "Fidelity", accounts: &[
        acct("Fidelity Individual", "Fidelity Individual Brokerage Account", "5502", "brokerage", &[
            h(&SPAXX, "2000", None), h(&USD, "15.25", None), h(&NVDA, "4", Some("181.00")),
            h(&FXAIX, "12.347", Some("1975.52")), h(&ITOT, "7.25", Some("800.00")), h(&TBILL, "2", Some("197.50")),
            h(&CAD, "20", None),
        ]),
        acct("Fidelity Rollover IRA", "Fidelity Rollover IRA", "5519", "ira", &[
            h(&FXNAX, "100.001", None), h(&USD, "50", None),
        ]),
    ]},
    Institution { id: "ins_990003", name: "Interactive Brokers", accounts: &[
        acct("IBKR Individual", "Interactive Brokers Individual Margin Account", "8812", "brokerage", &[
            h(&USD, "10000", None), h(&CAD, "2500", None), h(&MSFT, "2.5", Some("900.00")),
            h(&VTI, "4", Some("1000.00")), h(&OLGAX, "3.5", None), h(&TBILL, "1", Some("98.00")),
        ]),
    ]},
];

/// The institution with this Plaid id, if the simulator offers it.
pub fn institution(id: &str) -> Option<&'static Institution> {
    INSTITUTIONS.iter().find(|i| i.id == id.trim())
}

/// The seeded security with this ticker (`institution`'s own holdings first, then any institution's).
pub fn security_by_ticker(institution: Option<&'static Institution>, ticker: &str) -> Option<&'static SeedSecurity> {
    let find = |inst: &'static Institution| {
        inst.accounts.iter().flat_map(|a| a.holdings.iter()).map(|h| h.security).find(|s| s.ticker == Some(ticker))
    };
    institution.and_then(find).or_else(|| INSTITUTIONS.iter().find_map(find))
}

/// How many CAD one USD buys, for balances of accounts holding CAD cash.
pub const USD_CAD: &str = "1.40";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_institution_covers_the_required_cases() {
        for inst in INSTITUTIONS {
            let all: Vec<&SeedHolding> = inst.accounts.iter().flat_map(|a| a.holdings).collect();
            let has = |f: &dyn Fn(&SeedHolding) -> bool| all.iter().any(|h| f(h));
            let s = |h: &SeedHolding| h.security;
            assert!(has(&|h| s(h).ticker == Some("CUR:USD") && s(h).cash_equivalent), "{} USD cash", inst.name);
            assert!(has(&|h| s(h).kind == "cash" && s(h).currency != "USD"), "{} non-USD cash", inst.name);
            assert!(has(&|h| s(h).kind == "etf" && s(h).ticker.is_some()), "{} etf", inst.name);
            assert!(has(&|h| s(h).kind == "mutual fund"), "{} mutual fund", inst.name);
            assert!(has(&|h| s(h).kind == "equity"), "{} equity", inst.name);
            assert!(
                has(&|h| s(h).ticker.is_none() && s(h).cusip.is_some_and(|c| c.len() == 9)),
                "{} no ticker",
                inst.name
            );
            assert!(has(&|h| h.quantity.contains('.')), "{} fractional", inst.name);
            assert!(has(&|h| s(h).price.split_once('.').is_some_and(|(_, f)| f.len() == 4)), "{} 4dp price", inst.name);
            assert!(has(&|h| h.cost_basis.is_some()) && has(&|h| h.cost_basis.is_none()), "{} cost basis", inst.name);
        }
        let schwab = institution("ins_11").unwrap();
        assert_eq!(schwab.name, "Charles Schwab");
        let tickers: Vec<_> =
            schwab.accounts.iter().flat_map(|a| a.holdings).filter_map(|h| h.security.ticker).collect();
        assert!(tickers.contains(&"AAPL") && tickers.contains(&"VOO"));
        assert!(institution("ins_nope").is_none());
    }
}
