//! JSON renderings of the seeded data, shaped after the OpenAPI spec's `Brokerage`, `Account`,
//! `AllAccountPositionsResponse` (decimal strings) and `Balance` (JSON numbers) schemas. Positions
//! include the changes of activities posted with `apply_to_holdings` (see [`crate::ledger`]): a
//! seeded position's `units` move by the net change (a position at 0 units is left out) and a
//! ticker the seed does not hold is added (its instrument from the seeds or the symbol universe).
//! Balances move only by the cash of orders filled through the trading controls.

use super::seed::{seed_position, Brokerage, Kind, SeedAccount, SeedPosition, USD_CAD};
use crate::ledger::{decimal_string, HoldingChange};
use crate::util::{date, rfc3339, stable_uuid};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What an `Account` rendering needs besides its seed.
pub struct AccountView<'a> {
    pub id: &'a str,
    pub authorization_id: &'a str,
    pub brokerage: &'static Brokerage,
    pub seed: &'static SeedAccount,
    pub created: i64,
    pub synced: i64,
    /// The trade date (`YYYY-MM-DD`) of the account's oldest activity, if it has any.
    pub first_activity: Option<String>,
}

/// A `Brokerage` object.
pub fn brokerage_json(b: &Brokerage) -> Value {
    json!({
        "id": stable_uuid(&format!("brokerage:{}", b.slug)),
        "slug": b.slug,
        "name": b.name,
        "display_name": b.name,
        "description": format!("{} (simulated by tributary-sim)", b.name),
        "aws_s3_logo_url": format!("https://logos.sim.invalid/{}.png", b.slug.to_ascii_lowercase()),
        "aws_s3_square_logo_url": null,
        "url": b.url,
        "enabled": true,
        "maintenance_mode": false,
        "is_degraded": false,
        "allows_trading": b.allows_trading,
        "allows_fractional_units": true,
        "has_reporting": true,
        "is_real_time_connection": false,
        "brokerage_type": {"id": stable_uuid("brokerage-type:traditional"), "name": "Traditional Brokerage"},
        "exchanges": [],
        "open_url": null,
    })
}

/// An `Account` object (`balance.total` computed from the seed, see the seed module's doc;
/// `sync_status.transactions.first_transaction_date` = the oldest activity's date, null when none).
pub fn account_json(view: &AccountView<'_>) -> Value {
    let seed = view.seed;
    let synced = rfc3339(view.synced);
    json!({
        "id": view.id,
        "brokerage_authorization": view.authorization_id,
        "name": seed.name,
        "number": seed.number,
        "institution_account_id": null,
        "institution_name": view.brokerage.name,
        "created_date": rfc3339(view.created),
        "funding_date": null,
        "opening_date": null,
        "sync_status": {
            "transactions": {"initial_sync_completed": true, "last_successful_sync": date(view.synced),
                             "first_transaction_date": view.first_activity},
            "holdings": {"initial_sync_completed": true,
                         "last_successful_sync": format!("{} {}.000000+00:00", &synced[..10], &synced[11..19])},
        },
        "balance": {"total": {"amount": number(&total_value(seed).to_string()), "currency": seed.currency}},
        "status": "open",
        "raw_type": seed.raw_type,
        "account_category": "INVESTMENT",
        "meta": {"type": seed.raw_type, "status": "ACTIVE", "institution_name": view.brokerage.name},
        "portfolio_group": null,
        "cash_restrictions": [],
        "is_paper": false,
    })
}

/// The `positions/all` body: `{results: [AccountPosition…], data_freshness: {as_of}}`, with the
/// position `changes` made by applied activities, if any.
pub fn positions_json(
    seed: &'static SeedAccount,
    changes: Option<&BTreeMap<String, HoldingChange>>,
    as_of: i64,
) -> Value {
    let mut results: Vec<Value> = Vec::new();
    for p in seed.positions {
        let mut position = position_json(p);
        if let Some(change) = changes.and_then(|c| c.get(p.symbol)) {
            let units = dec(p.units) + change.units;
            if units.is_zero() {
                continue;
            }
            position["units"] = json!(decimal_string(units));
        }
        results.push(position);
    }
    for (symbol, change) in changes.into_iter().flatten() {
        if !change.units.is_zero() && !seed.positions.iter().any(|p| p.symbol == symbol) {
            results.push(added_position_json(seed, symbol, change));
        }
    }
    json!({ "results": results, "data_freshness": { "as_of": rfc3339(as_of) } })
}

/// A position the seed does not hold, opened by applied activities: the instrument of a seeded
/// position in that ticker when one exists (any brokerage), else of the symbol universe's listing
/// of exactly that ticker, else a plain stock.
fn added_position_json(seed: &'static SeedAccount, symbol: &str, change: &HoldingChange) -> Value {
    let price = (!change.price.is_zero()).then(|| decimal_string(change.price));
    let listed = super::symbols::by_ticker(symbol, &change.currency).filter(|l| l.ticker == symbol);
    let mut position = match (seed_position(Some(seed), symbol), listed) {
        (Some(p), _) => position_json(p),
        (None, Some(l)) => json!({
            "instrument": instrument_json(l.kind, l.ticker, Some(l.description), l.currency, l.exchange),
            "currency": l.currency,
        }),
        (None, None) => json!({
            "instrument": instrument_json("stock", symbol, None, &change.currency, None),
            "currency": change.currency,
        }),
    };
    position["units"] = json!(decimal_string(change.units));
    if let Some(price) = price {
        position["price"] = json!(price);
        position["cost_basis"] = json!(price);
    } else if position.get("price").is_none() {
        (position["price"], position["cost_basis"]) = (Value::Null, Value::Null);
    }
    position
}

/// The `balances` body: one `Balance` per currency, `cash` and `buying_power` moved by the cash
/// `changes` of filled orders (a currency the seed has no balance in is added).
pub fn balances_json(seed: &SeedAccount, changes: Option<&BTreeMap<String, Decimal>>) -> Value {
    let moved = |currency: &str| changes.and_then(|c| c.get(currency)).copied().unwrap_or_default();
    let amount = |seeded: &str, currency: &str| {
        let value = dec(seeded) + moved(currency);
        crate::ledger::number(value)
    };
    let mut balances: Vec<Value> = seed
        .balances
        .iter()
        .map(|b| {
            json!({"currency": currency_json(b.currency), "cash": amount(b.cash, b.currency),
                   "buying_power": amount(b.buying_power, b.currency)})
        })
        .collect();
    for (currency, delta) in changes.into_iter().flatten() {
        if !seed.balances.iter().any(|b| b.currency == currency) {
            let value = crate::ledger::number(*delta);
            balances.push(json!({"currency": currency_json(currency), "cash": value, "buying_power": value}));
        }
    }
    Value::Array(balances)
}

fn position_json(p: &SeedPosition) -> Value {
    let instrument = match &p.kind {
        Kind::Option { underlying, underlying_kind, call, strike, expiry } => json!({
            "kind": "option",
            "id": stable_uuid(&format!("instrument:option:{}", option_symbol(underlying, *call, strike, expiry))),
            "symbol": option_symbol(underlying, *call, strike, expiry),
            "option_type": if *call { "CALL" } else { "PUT" },
            "strike_price": strike,
            "expiration_date": expiry,
            "multiplier": "100",
            "description":
                format!("{underlying} {} {strike} {}", long_date(expiry), if *call { "CALL" } else { "PUT" }),
            "underlying": instrument_json(underlying_kind, underlying, None, p.currency, None),
        }),
        Kind::Stock => instrument_json("stock", p.symbol, Some(p.description), p.currency, p.exchange),
        Kind::Etf => instrument_json("etf", p.symbol, Some(p.description), p.currency, p.exchange),
        Kind::MutualFund | Kind::CashEquivalent => {
            instrument_json("mutualfund", p.symbol, Some(p.description), p.currency, p.exchange)
        }
        Kind::Crypto => instrument_json("crypto", p.symbol, Some(p.description), p.currency, None),
    };
    let mut position = json!({
        "instrument": instrument,
        "units": p.units,
        "price": p.price,
        "cost_basis": p.cost,
        "currency": p.currency,
    });
    if matches!(p.kind, Kind::MutualFund | Kind::CashEquivalent) {
        position["cash_equivalent"] = json!(matches!(p.kind, Kind::CashEquivalent));
    }
    position
}

/// The `instrument` of a position (also the universal symbol id activities use).
pub fn instrument_json(
    kind: &str,
    symbol: &str,
    description: Option<&str>,
    currency: &str,
    exchange: Option<&str>,
) -> Value {
    json!({
        "kind": kind,
        "id": stable_uuid(&format!("instrument:{kind}:{symbol}:{currency}")),
        "symbol": symbol,
        "raw_symbol": symbol.split('.').next().unwrap_or(symbol),
        "description": description,
        "currency": currency,
        "exchange": exchange,
        "figi_instrument": null,
    })
}

/// A `Currency` object `{id, code, name}`.
pub fn currency_json(code: &str) -> Value {
    let name = match code {
        "USD" => "US Dollar",
        "CAD" => "Canadian Dollar",
        other => other,
    };
    json!({"id": stable_uuid(&format!("currency:{code}")), "code": code, "name": name})
}

/// The 21-character OCC symbol: root padded to 6, `YYMMDD`, `C`/`P`, strike × 1000 in 8 digits.
pub fn option_symbol(underlying: &str, call: bool, strike: &str, expiry: &str) -> String {
    let strike: Decimal = strike.parse().unwrap_or_default();
    let thousandths = (strike * Decimal::from(1000)).trunc();
    let ymd: String = expiry.chars().filter(char::is_ascii_digit).collect();
    format!("{underlying:<6}{}{}{thousandths:0>8}", ymd.get(2..).unwrap_or(""), if call { 'C' } else { 'P' })
}

fn long_date(expiry: &str) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let parts: Vec<&str> = expiry.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => {
            let month = m.parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1))).unwrap_or(&"???");
            format!("{month} {d} {y}")
        }
        _ => expiry.to_owned(),
    }
}

/// A decimal string as a JSON number (the spec types balances and totals as `number`).
fn number(decimal: &str) -> Value {
    decimal.parse::<f64>().map(|f| json!(f)).unwrap_or(Value::Null)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// `amount` in `from` as `to`, at the fixed USD/CAD rate (other pairs unchanged).
pub fn convert(amount: Decimal, from: &str, to: &str) -> Decimal {
    match (from, to) {
        ("USD", "CAD") => amount * dec(USD_CAD),
        ("CAD", "USD") => amount / dec(USD_CAD),
        _ => amount,
    }
}

/// Non-cash-equivalent positions at market value plus cash, in the account currency, to the cent.
pub fn total_value(seed: &SeedAccount) -> Decimal {
    let mut total = Decimal::ZERO;
    for p in seed.positions {
        if let (Some(price), false) = (p.price, matches!(p.kind, Kind::CashEquivalent)) {
            let multiplier = if matches!(p.kind, Kind::Option { .. }) { Decimal::from(100) } else { Decimal::ONE };
            total += convert(dec(p.units) * dec(price) * multiplier, p.currency, seed.currency);
        }
    }
    for b in seed.balances {
        total += convert(dec(b.cash), b.currency, seed.currency);
    }
    total.round_dp(2)
}

#[cfg(test)]
mod tests {
    use super::super::seed::{brokerage, BROKERAGES};
    use super::*;

    #[test]
    fn option_symbols_follow_occ() {
        assert_eq!(option_symbol("AAPL", true, "240", "2027-12-17"), "AAPL  271217C00240000");
        assert_eq!(option_symbol("SPY", false, "500", "2027-06-18"), "SPY   270618P00500000");
        assert_eq!(option_symbol("X", true, "12.5", "2027-01-15").len(), 21);
    }

    #[test]
    fn every_seed_decimal_parses_and_totals_are_exact() {
        for b in BROKERAGES {
            for a in b.accounts {
                for p in a.positions {
                    assert!(p.units.parse::<Decimal>().is_ok() && p.cost.parse::<Decimal>().is_ok(), "{}", p.symbol);
                    assert!(p.price.is_none_or(|x| x.parse::<Decimal>().is_ok()), "{}", p.symbol);
                }
            }
        }
        // Schwab individual: 10×189.25 + 2.5×512.40 + 2×12.35×100 + cash 4000.75 (SWVXX is inside cash).
        let schwab = &brokerage("SCHWAB").unwrap().accounts[0];
        assert_eq!(total_value(schwab).to_string(), "9644.25");
        let position = &positions_json(schwab, None, 0)["results"][2];
        assert_eq!(position["instrument"]["symbol"], "AAPL  271217C00240000");
        assert_eq!(position["instrument"]["description"], "AAPL Dec 17 2027 240 CALL");
        assert_eq!(positions_json(schwab, None, 0)["results"][3]["cash_equivalent"], true);
    }
}
