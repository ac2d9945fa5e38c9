//! Shared pieces of the fuzz targets: provider-shaped JSON built from arbitrary bytes (so the
//! fuzzer reaches the normalisers' arithmetic without first learning JSON) and the signing
//! helpers that let a target produce genuine webhooks next to forged ones.
//!
//! Nothing here is used outside `fuzz/`; the targets own the assertions.

use arbitrary::{Arbitrary, Unstructured};
use serde_json::{json, Map, Value};

/// Reads the fuzzer's bytes as JSON text when they start like JSON (`{` or `[`, the shape of the
/// seed corpus), otherwise builds a provider-shaped payload from them with `shape`.
pub fn json_or_shaped(data: &[u8], shape: impl FnOnce(&mut Unstructured) -> arbitrary::Result<Value>) -> Option<Value> {
    match data.first() {
        Some(b'{' | b'[') => serde_json::from_slice(data).ok(),
        _ => shape(&mut Unstructured::new(data)).ok(),
    }
}

/// A value where a provider sends a number: decimal text, JSON numbers at any magnitude, or the
/// wrong type altogether.
#[derive(Debug, Arbitrary)]
pub enum Amount {
    Decimal { negative: bool, whole: u64, fraction: u32, exponent: Option<i8> },
    Integer(i64),
    Float(f64),
    Huge { digits: u8 },
    Text(String),
    Null,
    Bool(bool),
}

impl Amount {
    /// The JSON this amount stands for; `as_string` writes decimals as strings (SnapTrade does).
    pub fn to_json(&self, as_string: bool) -> Value {
        let text = match self {
            Amount::Decimal { negative, whole, fraction, exponent } => {
                let sign = if *negative { "-" } else { "" };
                let exp = exponent.map(|e| format!("e{e}")).unwrap_or_default();
                format!("{sign}{whole}.{fraction}{exp}")
            }
            Amount::Huge { digits } => "9".repeat(usize::from(*digits % 64) + 1),
            Amount::Integer(n) => return if as_string { json!(n.to_string()) } else { json!(n) },
            Amount::Float(f) => return if as_string { json!(f.to_string()) } else { json!(f) },
            Amount::Text(text) => return json!(text),
            Amount::Null => return Value::Null,
            Amount::Bool(b) => return json!(b),
        };
        if as_string {
            Value::String(text)
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
    }
}

/// A short label from a fixed vocabulary or arbitrary text (ids, symbols, currencies, kinds).
pub fn pick(u: &mut Unstructured, vocabulary: &[&str]) -> arbitrary::Result<Value> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 => Value::Null,
        1 => json!(String::arbitrary(u)?),
        _ => json!(u.choose(vocabulary)?),
    })
}

/// Inserts `key` unless the fuzzer chooses to leave it out.
pub fn maybe(
    u: &mut Unstructured,
    object: &mut Map<String, Value>,
    key: &str,
    value: impl FnOnce(&mut Unstructured) -> arbitrary::Result<Value>,
) -> arbitrary::Result<()> {
    if u.ratio(7, 8)? {
        let value = value(u)?;
        object.insert(key.to_owned(), value);
    }
    Ok(())
}

/// An [`Amount`] as JSON, written as a string or a number as the fuzzer chooses.
pub fn amount(u: &mut Unstructured) -> arbitrary::Result<Value> {
    let amount = Amount::arbitrary(u)?;
    Ok(amount.to_json(u.arbitrary()?))
}

const IDS: &[&str] = &["acc-1", "acc-2", "sec-1", "sec-2", "", " "];
const CURRENCIES: &[&str] = &["USD", "CAD", "usd", "BTC", "US", "", "USDCUSDCUSDC"];
const SYMBOLS: &[&str] = &["AAPL", "VTI", "BRK.B", "CUR:USD", "USD", "", "AAPL  270115C00150000"];

/// A SnapTrade `positions/all`, `balances` or `/accounts` entry list, chosen by the fuzzer.
pub fn snaptrade_payload(u: &mut Unstructured) -> arbitrary::Result<Value> {
    const KINDS: &[&str] = &["stock", "etf", "option", "crypto", "mutualfund", "future", "cef", "other"];
    let rows = u.int_in_range(0..=6u8)?;
    match u.int_in_range(0..=2u8)? {
        0 => {
            let mut results = Vec::new();
            for _ in 0..rows {
                let mut instrument = Map::new();
                maybe(u, &mut instrument, "kind", |u| pick(u, KINDS))?;
                maybe(u, &mut instrument, "symbol", |u| pick(u, SYMBOLS))?;
                maybe(u, &mut instrument, "id", |u| pick(u, IDS))?;
                maybe(u, &mut instrument, "currency", |u| pick(u, CURRENCIES))?;
                maybe(u, &mut instrument, "multiplier", amount)?;
                let mut row = Map::new();
                maybe(u, &mut row, "instrument", |_| Ok(Value::Object(instrument)))?;
                for field in ["units", "price", "cost_basis"] {
                    maybe(u, &mut row, field, amount)?;
                }
                maybe(u, &mut row, "currency", |u| pick(u, CURRENCIES))?;
                results.push(Value::Object(row));
            }
            Ok(json!({ "results": results, "data_freshness": { "as_of": pick(u, &["2026-06-02T14:30:00Z", "x"])? } }))
        }
        1 => {
            let mut list = Vec::new();
            for _ in 0..rows {
                let currency =
                    if u.arbitrary()? { json!({ "code": pick(u, CURRENCIES)? }) } else { pick(u, CURRENCIES)? };
                let mut row = Map::new();
                maybe(u, &mut row, "currency", |_| Ok(currency))?;
                maybe(u, &mut row, "cash", amount)?;
                maybe(u, &mut row, "buying_power", amount)?;
                list.push(Value::Object(row));
            }
            Ok(Value::Array(list))
        }
        _ => {
            let mut list = Vec::new();
            for _ in 0..rows {
                let mut account = Map::new();
                for (key, vocabulary) in [
                    ("id", IDS),
                    ("brokerage_authorization", IDS),
                    ("name", IDS),
                    ("number", &["12345678", "", "€€€€€"][..]),
                    ("institution_name", &["Charles Schwab", "Interactive Brokers", ""][..]),
                    ("raw_type", &["TFSA", "IRA"][..]),
                ] {
                    maybe(u, &mut account, key, |u| pick(u, vocabulary))?;
                }
                maybe(u, &mut account, "balance", |u| Ok(json!({ "total": { "currency": pick(u, CURRENCIES)? } })))?;
                list.push(Value::Object(account));
            }
            Ok(Value::Array(list))
        }
    }
}

/// A Plaid `/investments/holdings/get` answer whose ids mostly refer to each other.
pub fn plaid_holdings(u: &mut Unstructured) -> arbitrary::Result<Value> {
    const TYPES: &[&str] =
        &["cash", "cryptocurrency", "derivative", "equity", "etf", "fixed income", "loan", "mutual fund", "other"];
    const SUBTYPES: &[&str] = &["cash", "option", "money market", "common stock"];
    let mut securities = Vec::new();
    for _ in 0..u.int_in_range(0..=4u8)? {
        let mut security = Map::new();
        maybe(u, &mut security, "security_id", |u| pick(u, IDS))?;
        for (key, vocabulary) in [
            ("ticker_symbol", SYMBOLS),
            ("name", &["Apple Inc.", ""][..]),
            ("cusip", &["037833100", " "][..]),
            ("isin", &["US0378331005"][..]),
            ("sedol", &["2046251"][..]),
            ("type", TYPES),
            ("subtype", SUBTYPES),
            ("iso_currency_code", CURRENCIES),
            ("unofficial_currency_code", CURRENCIES),
        ] {
            maybe(u, &mut security, key, |u| pick(u, vocabulary))?;
        }
        if u.arbitrary()? {
            security.insert("option_contract".into(), json!({ "contract_type": "call" }));
        }
        securities.push(Value::Object(security));
    }
    let mut accounts = Vec::new();
    for _ in 0..u.int_in_range(0..=3u8)? {
        let mut account = Map::new();
        maybe(u, &mut account, "account_id", |u| pick(u, IDS))?;
        maybe(u, &mut account, "name", |u| pick(u, &["Brokerage", ""]))?;
        maybe(u, &mut account, "mask", |u| pick(u, &["1234", "", "☃☃☃☃☃"]))?;
        maybe(u, &mut account, "type", |u| pick(u, &["investment", "brokerage", "depository", "credit"]))?;
        maybe(u, &mut account, "subtype", |u| pick(u, &["ira", "401k", "checking"]))?;
        maybe(u, &mut account, "balances", |u| {
            Ok(json!({ "iso_currency_code": pick(u, CURRENCIES)?, "unofficial_currency_code": pick(u, CURRENCIES)? }))
        })?;
        accounts.push(Value::Object(account));
    }
    let mut holdings = Vec::new();
    for _ in 0..u.int_in_range(0..=6u8)? {
        let mut holding = Map::new();
        maybe(u, &mut holding, "account_id", |u| pick(u, IDS))?;
        maybe(u, &mut holding, "security_id", |u| pick(u, IDS))?;
        for field in ["institution_price", "institution_value", "cost_basis", "quantity"] {
            maybe(u, &mut holding, field, |u| Ok(Amount::arbitrary(u)?.to_json(false)))?;
        }
        maybe(u, &mut holding, "iso_currency_code", |u| pick(u, CURRENCIES))?;
        holdings.push(Value::Object(holding));
    }
    let item = json!({ "item_id": pick(u, &["item-1"])?, "institution_name": pick(u, &["Chase", "Charles Schwab", "Fidelity"])? });
    let mut body = Map::new();
    maybe(u, &mut body, "accounts", |_| Ok(Value::Array(accounts)))?;
    maybe(u, &mut body, "holdings", |_| Ok(Value::Array(holdings)))?;
    maybe(u, &mut body, "securities", |_| Ok(Value::Array(securities)))?;
    maybe(u, &mut body, "item", |_| Ok(item))?;
    Ok(Value::Object(body))
}

/// Lowercase hex of `bytes` (Plaid's `request_body_sha256` encoding).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
