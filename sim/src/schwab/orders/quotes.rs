//! The prices orders are valued and filled at. Schwab's quotes come from the market-data product,
//! which the simulator does not serve; this is a fixed table instead (USD):
//!
//! | symbol | assetType (type)                            | bid    | ask    | last = mark |
//! |--------|---------------------------------------------|--------|--------|-------------|
//! | SYNT   | EQUITY                                      | 154.95 | 155.05 | 155.00      |
//! | SETF   | COLLECTIVE_INVESTMENT (EXCHANGE_TRADED_FUND) | 72.05  | 72.15  | 72.10       |
//! | SWVXX  | CASH_EQUIVALENT (MONEY_MARKET_FUND)         | 1.00   | 1.00   | 1.00        |
//! | AAPL   | EQUITY                                      | 189.95 | 190.05 | 190.00      |
//! | VTI    | COLLECTIVE_INVESTMENT (EXCHANGE_TRADED_FUND) | 249.95 | 250.05 | 250.00      |
//!
//! SYNT, SETF and SWVXX are the seeded positions at their seeded prices (`marketValue /
//! longQuantity`). A symbol not in the table is quoted only when the account itself holds it long
//! as an EQUITY or COLLECTIVE_INVESTMENT position with a positive `marketValue` (accounts replaced
//! through the control): bid = ask = last = mark = `marketValue / longQuantity`, to the cent. Any
//! other symbol (options, mutual funds such as the seeded SWTSX, unknown tickers) has no quote.

use super::holdings::position_of;
use crate::ledger::cents;
use crate::schwab::history::decimal_of;
use rust_decimal::Decimal;
use serde_json::Value;

/// One symbol's quote and the instrument facts positions and orders show for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub symbol: String,
    /// The instrument's own `assetType`, as positions show it.
    pub asset_type: String,
    /// The instrument's `type` (`EXCHANGE_TRADED_FUND`, …), when it has one.
    pub instrument_type: Option<String>,
    pub cusip: Option<String>,
    pub description: Option<String>,
    pub bid: Decimal,
    pub ask: Decimal,
    pub last: Decimal,
    pub mark: Decimal,
}

impl Quote {
    /// Whether positions in this instrument count as money-market funds (`moneyMarketFund`
    /// balance, no maintenance requirement) rather than securities.
    pub fn is_cash_equivalent(&self) -> bool {
        self.asset_type == "CASH_EQUIVALENT"
    }
}

/// (symbol, assetType, type, cusip, description, bid, ask, last) with prices in cents.
type Row = (&'static str, &'static str, Option<&'static str>, &'static str, Option<&'static str>, i64, i64, i64);

const TABLE: [Row; 5] = [
    ("SYNT", "EQUITY", None, "000000AA1", None, 15_495, 15_505, 15_500),
    (
        "SETF",
        "COLLECTIVE_INVESTMENT",
        Some("EXCHANGE_TRADED_FUND"),
        "000000BB2",
        Some("SYNTH TOTAL MARKET ETF"),
        7_205,
        7_215,
        7_210,
    ),
    (
        "SWVXX",
        "CASH_EQUIVALENT",
        Some("MONEY_MARKET_FUND"),
        "000000CC3",
        Some("SYNTH PRIME MONEY MARKET FUND"),
        100,
        100,
        100,
    ),
    ("AAPL", "EQUITY", None, "000000EE5", Some("APPLE INC"), 18_995, 19_005, 19_000),
    (
        "VTI",
        "COLLECTIVE_INVESTMENT",
        Some("EXCHANGE_TRADED_FUND"),
        "000000FF6",
        Some("VANGUARD TOTAL STOCK MARKET ETF"),
        24_995,
        25_005,
        25_000,
    ),
];

/// The table's quote for `symbol` (exact, upper-case), if it lists it.
pub fn table_quote(symbol: &str) -> Option<Quote> {
    let (symbol, asset, kind, cusip, description, bid, ask, last) = *TABLE.iter().find(|row| row.0 == symbol)?;
    Some(Quote {
        symbol: symbol.to_owned(),
        asset_type: asset.to_owned(),
        instrument_type: kind.map(str::to_owned),
        cusip: Some(cusip.to_owned()),
        description: description.map(str::to_owned),
        bid: Decimal::new(bid, 2),
        ask: Decimal::new(ask, 2),
        last: Decimal::new(last, 2),
        mark: Decimal::new(last, 2),
    })
}

/// The quote of `symbol` for orders in `account` (an `Account` object): the table's, else the
/// price of the account's own long equity or fund position in it (see the module doc).
pub fn quote(symbol: &str, account: &Value) -> Option<Quote> {
    if let Some(quote) = table_quote(symbol) {
        return Some(quote);
    }
    let position = position_of(account, symbol)?;
    let instrument = position.get("instrument")?;
    let asset = instrument.get("assetType").and_then(Value::as_str)?;
    if !matches!(asset, "EQUITY" | "COLLECTIVE_INVESTMENT") {
        return None;
    }
    let long = decimal_of(position.get("longQuantity")).filter(|q| *q > Decimal::ZERO)?;
    let value = decimal_of(position.get("marketValue")).filter(|v| *v > Decimal::ZERO)?;
    let price = cents(value.checked_div(long)?);
    let text = |key: &str| instrument.get(key).and_then(Value::as_str).map(str::to_owned);
    Some(Quote {
        symbol: symbol.to_owned(),
        asset_type: asset.to_owned(),
        instrument_type: text("type"),
        cusip: text("cusip"),
        description: text("description"),
        bid: price,
        ask: price,
        last: price,
        mark: price,
    })
}
