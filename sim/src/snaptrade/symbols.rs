//! The simulated symbol universe behind `POST /accounts/{accountId}/symbols` and the trading
//! endpoints, shaped after the spec's `UniversalSymbol`.
//!
//! Promises: every non-option ticker of the brokerage seeds is listed once per (ticker, currency),
//! in seed order, followed by [`EXTRAS`]; a listing's `id` is the id of the matching
//! `positions/all` instrument (`instrument:{kind}:{ticker}:{currency}`, see
//! [`super::seed_json::instrument_json`]), so it never changes between runs; its quote is the
//! seeded price (`None` for the seeded positions without a price: a Market order in one is refused).
//! Search matches the substring case-insensitively on the ticker or the description and returns at
//! most [`MAX_RESULTS`]: exact tickers first, then ticker prefixes, then the rest, each in universe order.
//! It does not limit results per brokerage and knows no option contracts.

use super::seed::{Kind, BROKERAGES};
use super::seed_json::currency_json;
use crate::util::stable_uuid;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The most listings one search returns (SnapTrade: "Only the first 20 results are returned").
pub const MAX_RESULTS: usize = 20;

/// Tickers listed besides the seeded ones: (ticker, description, kind, exchange MIC, currency, quote).
#[rustfmt::skip]
pub const EXTRAS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("VTI", "Vanguard Total Stock Market ETF", "etf", "ARCX", "USD", "285.10"),
    ("GOOGL", "Alphabet Inc. Class A", "stock", "XNAS", "USD", "172.35"),
    ("SPY", "SPDR S&P 500 ETF Trust", "etf", "ARCX", "USD", "560.20"),
    ("QQQ", "Invesco QQQ Trust", "etf", "XNAS", "USD", "480.15"),
    ("VAB.TO", "Vanguard Canadian Aggregate Bond Index ETF", "etf", "XTSE", "CAD", "23.15"),
    ("VFV.TO", "Vanguard S&P 500 Index ETF", "etf", "XTSE", "CAD", "135.60"),
];

/// One tradable security on one venue, in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The universal symbol id (a stable UUID).
    pub id: String,
    /// Yahoo-style ticker, e.g. `AAPL`, `VAB.TO`.
    pub ticker: &'static str,
    pub description: &'static str,
    /// The instrument kind of `positions/all`: `stock`, `etf`, `mutualfund` or `crypto`.
    pub kind: &'static str,
    pub currency: &'static str,
    /// The exchange's MIC, when it trades on one.
    pub exchange: Option<&'static str>,
    /// The price a Market order is estimated and filled at; `None`: no quote.
    pub quote: Option<Decimal>,
}

fn listing(ticker: &'static str, description: &'static str, kind: &'static str, currency: &'static str) -> Listing {
    let id = stable_uuid(&format!("instrument:{kind}:{ticker}:{currency}"));
    Listing { id, ticker, description, kind, currency, exchange: None, quote: None }
}

fn build() -> Vec<Listing> {
    let mut all: Vec<Listing> = Vec::new();
    let seeded = BROKERAGES.iter().flat_map(|b| b.accounts.iter()).flat_map(|a| a.positions.iter());
    for p in seeded {
        let kind = match p.kind {
            Kind::Option { .. } => continue,
            Kind::Stock => "stock",
            Kind::Etf => "etf",
            Kind::MutualFund | Kind::CashEquivalent => "mutualfund",
            Kind::Crypto => "crypto",
        };
        if all.iter().any(|l| l.ticker == p.symbol && l.currency == p.currency) {
            continue;
        }
        let mut l = listing(p.symbol, p.description, kind, p.currency);
        (l.exchange, l.quote) = (p.exchange, p.price.and_then(|q| q.parse().ok()));
        all.push(l);
    }
    for &(ticker, description, kind, mic, currency, quote) in EXTRAS {
        if !all.iter().any(|l| l.ticker == ticker && l.currency == currency) {
            let mut l = listing(ticker, description, kind, currency);
            (l.exchange, l.quote) = (Some(mic), quote.parse().ok());
            all.push(l);
        }
    }
    all
}

/// Every listing, in universe order.
pub fn universe() -> &'static [Listing] {
    static ALL: OnceLock<Vec<Listing>> = OnceLock::new();
    ALL.get_or_init(build)
}

/// The listing with this universal symbol id.
pub fn by_id(id: &str) -> Option<&'static Listing> {
    universe().iter().find(|l| l.id.eq_ignore_ascii_case(id.trim()))
}

/// The listing of `ticker` (case-insensitive), preferring one in `currency`, else the first.
pub fn by_ticker(ticker: &str, currency: &str) -> Option<&'static Listing> {
    let ticker = ticker.trim();
    let mut matching = universe().iter().filter(|l| l.ticker.eq_ignore_ascii_case(ticker));
    let first = matching.next()?;
    Some(std::iter::once(first).chain(matching).find(|l| l.currency == currency).unwrap_or(first))
}

/// Up to [`MAX_RESULTS`] listings whose ticker or description contains `substring` (any case).
pub fn search(substring: &str) -> Vec<&'static Listing> {
    let needle = substring.trim().to_lowercase();
    let rank = |l: &Listing| {
        let ticker = l.ticker.to_lowercase();
        if ticker == needle {
            0
        } else if ticker.starts_with(&needle) {
            1
        } else {
            2
        }
    };
    let mut found: Vec<&'static Listing> = universe()
        .iter()
        .filter(|l| l.ticker.to_lowercase().contains(&needle) || l.description.to_lowercase().contains(&needle))
        .collect();
    found.sort_by_key(|l| rank(l));
    found.truncate(MAX_RESULTS);
    found
}

/// An `Exchange` object for a MIC the seeds use.
fn exchange_json(mic: &str) -> Value {
    let (code, name, timezone, suffix) = match mic {
        "XTSE" => ("TSX", "Toronto Stock Exchange", "America/Toronto", Some(".TO")),
        "XNAS" => ("NASDAQ", "NASDAQ", "America/New_York", None),
        "ARCX" => ("ARCA", "NYSE Arca", "America/New_York", None),
        other => (other, other, "America/New_York", None),
    };
    json!({
        "id": stable_uuid(&format!("exchange:{mic}")), "code": code, "mic_code": mic, "name": name,
        "timezone": timezone, "start_time": "09:30:00", "close_time": "16:00:00", "suffix": suffix,
    })
}

/// The `SecurityType` of an instrument kind.
fn security_type_json(kind: &str) -> Value {
    let (code, description) = match kind {
        "etf" => ("et", "ETF"),
        "mutualfund" => ("oef", "Open Ended Fund"),
        "crypto" => ("crypto", "Cryptocurrency"),
        _ => ("cs", "Common Stock"),
    };
    json!({"id": stable_uuid(&format!("security-type:{code}")), "code": code, "description": description,
           "is_supported": true})
}

/// A `UniversalSymbol` object.
pub fn universal_symbol_json(l: &Listing) -> Value {
    json!({
        "id": l.id,
        "symbol": l.ticker,
        "raw_symbol": l.ticker.split('.').next().unwrap_or(l.ticker),
        "description": l.description,
        "currency": currency_json(l.currency),
        "exchange": l.exchange.map(exchange_json),
        "type": security_type_json(l.kind),
        "figi_code": null,
        "figi_instrument": null,
        "currencies": [],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_universe_lists_seeds_and_extras_once_with_stable_ids() {
        let all = universe();
        for ticker in ["AAPL", "VOO", "MSFT", "AMZN", "SHOP.TO", "VTI", "GOOGL", "VAB.TO"] {
            assert!(all.iter().any(|l| l.ticker == ticker), "{ticker}");
        }
        assert!(all.iter().all(|l| !l.ticker.is_empty()), "no option rows");
        assert_eq!(all.iter().filter(|l| l.ticker == "VOO").count(), 1);
        let btc: Vec<&str> = all.iter().filter(|l| l.ticker == "BTC").map(|l| l.currency).collect();
        assert_eq!(btc, ["USD", "CAD"], "one listing per currency");
        assert_eq!(by_ticker("btc", "CAD").unwrap().currency, "CAD");
        assert_eq!(by_ticker("AAPL", "CAD").unwrap().currency, "USD", "falls back to the only listing");
        let aapl = by_ticker("AAPL", "USD").unwrap();
        assert_eq!(aapl.id, stable_uuid("instrument:stock:AAPL:USD"), "the positions/all instrument id");
        assert_eq!(by_id(&aapl.id.to_uppercase()), Some(aapl));
        assert_eq!(aapl.quote, Some("189.25".parse().unwrap()));
        assert_eq!(by_ticker("XYZQ", "USD").unwrap().quote, None);
    }

    #[test]
    fn search_matches_ticker_or_description_in_any_case_and_caps_results() {
        let tickers = |q: &str| search(q).iter().map(|l| l.ticker).collect::<Vec<_>>();
        assert_eq!(tickers("vab")[0], "VAB.TO");
        assert!(tickers("vanguard").contains(&"VTI"), "description match");
        assert_eq!(tickers("V")[0], "VOO", "ticker prefixes before description matches");
        assert!(search("").len() == MAX_RESULTS && universe().len() > MAX_RESULTS);
        assert!(search("no such thing").is_empty());
        let vab = universal_symbol_json(by_ticker("VAB.TO", "CAD").unwrap());
        assert_eq!((vab["raw_symbol"].as_str(), vab["exchange"]["suffix"].as_str()), (Some("VAB"), Some(".TO")));
        assert_eq!(vab["currency"]["code"], "CAD");
        assert_eq!(vab["type"]["code"], "et");
        assert_eq!(vab["currencies"], json!([]));
    }
}
