//! The `OrderRequest` body of previewOrder, place and replace, parsed exactly from its JSON text:
//! every number is read from the characters the client sent (`serde_json`'s `RawValue`), never
//! through an `f64`, so `"price": 10.10` and `"price": "10.10"` are the decimal 10.10. Every
//! defect is a message for a 400, never a panic; unknown fields are ignored.
//!
//! Rules (all are checked and every defect is listed, in this order): the body is a JSON object;
//! `orderType` is MARKET, LIMIT, STOP or STOP_LIMIT; `session` NORMAL, AM, PM or SEAMLESS;
//! `duration` DAY, GOOD_TILL_CANCEL, FILL_OR_KILL or IMMEDIATE_OR_CANCEL; `orderStrategyType`
//! SINGLE (all four required, case-sensitive); `price` (a JSON number or a decimal string, > 0, at
//! most [`MAX_PRICE`]) is present exactly for LIMIT and STOP_LIMIT, `stopPrice` (same form) exactly
//! for STOP and STOP_LIMIT (`null` counts as absent); `orderLegCollection` holds exactly one leg
//! `{instruction: BUY|SELL, quantity: a JSON number > 0 and at most [`MAX_QUANTITY`], instrument:
//! {symbol: 1 to [`MAX_SYMBOL_LEN`] printable characters, assetType: EQUITY|COLLECTIVE_INVESTMENT}}`.
//! Symbols are trimmed and upper-cased.

pub use super::terms::{AssetType, Instruction, OrderDuration, OrderRequest, OrderType, Session};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The largest `quantity` accepted (keeps quantity × price far from overflowing).
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// The largest `price` or `stopPrice` accepted.
pub const MAX_PRICE: i64 = 1_000_000_000;
/// The longest symbol accepted.
pub const MAX_SYMBOL_LEN: usize = 32;

/// An object's fields as their raw JSON text.
type Fields = BTreeMap<String, Box<RawValue>>;

/// Why a body is not a valid order: every defect found, in the order of the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormError {
    pub errors: Vec<String>,
}

impl FormError {
    fn one(error: impl Into<String>) -> Self {
        Self { errors: vec![error.into()] }
    }

    /// The first defect, for the answer's `message`.
    pub fn message(&self) -> &str {
        self.errors.first().map_or("Invalid order", String::as_str)
    }
}

/// The text of `key`, unless absent or `null`.
fn raw<'a>(fields: &'a Fields, key: &str) -> Option<&'a str> {
    fields.get(key).map(|v| v.get().trim()).filter(|t| *t != "null")
}

fn object(text: &str) -> Option<Fields> {
    text.starts_with('{').then(|| serde_json::from_str(text).ok()).flatten()
}

/// A required string field that must be one of `options` (exact spelling).
fn choice<T: Copy>(fields: &Fields, key: &str, options: &[(&str, T)], errors: &mut Vec<String>) -> Option<T> {
    let names = || options.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let Some(text) = raw(fields, key) else {
        errors.push(format!("{key} is required; one of {}", names()));
        return None;
    };
    let found = serde_json::from_str::<String>(text).ok().and_then(|s| options.iter().find(|(n, _)| *n == s));
    if found.is_none() {
        errors.push(format!("{key} must be one of {}; got {text}", names()));
    }
    found.map(|(_, value)| *value)
}

/// Whether `text` is a plain decimal: digits, optionally a point and more digits, optionally signed.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// The exact decimal a JSON number (or, with `strings_too`, a decimal string) writes.
fn exact_decimal(text: &str, strings_too: bool) -> Result<Decimal, &'static str> {
    if text.starts_with('"') {
        let inner = serde_json::from_str::<String>(text).map_err(|_| "must be a number")?;
        let inner = inner.trim();
        if !strings_too {
            return Err("must be a JSON number");
        }
        if !is_plain_decimal(inner) {
            return Err("must be a decimal number");
        }
        return Decimal::from_str_exact(inner).map_err(|_| "has too many digits");
    }
    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Err("must be a number");
    }
    Decimal::from_str_exact(text).or_else(|_| Decimal::from_scientific(text)).map_err(|_| "has too many digits")
}

/// An optional positive amount at most `max`.
fn amount(fields: &Fields, key: &str, strings_too: bool, max: i64, errors: &mut Vec<String>) -> Option<Decimal> {
    let text = raw(fields, key)?;
    match exact_decimal(text, strings_too) {
        Ok(d) if d <= Decimal::ZERO => errors.push(format!("{key} must be greater than 0")),
        Ok(d) if d > Decimal::from(max) => errors.push(format!("{key} must be at most {max}")),
        Ok(d) => return Some(d),
        Err(why) => errors.push(format!("{key} {why}")),
    }
    None
}

/// The limit or stop price: parsed when given, and required exactly when `wanted`.
fn price_field(
    fields: &Fields,
    key: &str,
    wanted: Option<bool>,
    kind: &str,
    errors: &mut Vec<String>,
) -> Option<Decimal> {
    let given = raw(fields, key).is_some();
    let value = amount(fields, key, true, MAX_PRICE, errors);
    match wanted {
        Some(true) if !given => errors.push(format!("{key} is required for {kind} orders")),
        Some(false) if given => errors.push(format!("{key} is not allowed for {kind} orders")),
        _ => {}
    }
    value
}

/// The one leg's instruction, quantity, symbol and asset type.
fn leg(fields: &Fields, errors: &mut Vec<String>) -> Option<(Instruction, Decimal, String, AssetType)> {
    let Some(text) = raw(fields, "orderLegCollection") else {
        errors.push("orderLegCollection is required: exactly one leg".into());
        return None;
    };
    let legs: Vec<Box<RawValue>> = match serde_json::from_str(text) {
        Ok(legs) if text.starts_with('[') => legs,
        _ => {
            errors.push("orderLegCollection must be an array".into());
            return None;
        }
    };
    if legs.len() != 1 {
        errors.push(format!("orderLegCollection must hold exactly one leg; got {}", legs.len()));
        return None;
    }
    let Some(leg) = object(legs[0].get().trim()) else {
        errors.push("orderLegCollection[0] must be an object".into());
        return None;
    };
    let instruction = choice(&leg, "instruction", &[("BUY", Instruction::Buy), ("SELL", Instruction::Sell)], errors);
    let quantity = amount(&leg, "quantity", false, MAX_QUANTITY, errors);
    if raw(&leg, "quantity").is_none() {
        errors.push("quantity is required".into());
    }
    let instrument = raw(&leg, "instrument").and_then(object);
    let (symbol, asset_type) = match instrument {
        None => {
            errors.push("instrument is required: {symbol, assetType}".into());
            (None, None)
        }
        Some(instrument) => {
            let symbol = raw(&instrument, "symbol").and_then(|t| serde_json::from_str::<String>(t).ok());
            let symbol = symbol.map(|s| s.trim().to_ascii_uppercase());
            let valid = |s: &String| (1..=MAX_SYMBOL_LEN).contains(&s.len()) && !s.chars().any(char::is_control);
            if !symbol.as_ref().is_some_and(valid) {
                errors.push(format!("instrument.symbol must be a string of 1 to {MAX_SYMBOL_LEN} characters"));
            }
            let assets = [("EQUITY", AssetType::Equity), ("COLLECTIVE_INVESTMENT", AssetType::CollectiveInvestment)];
            (symbol.filter(valid), choice(&instrument, "assetType", &assets, errors))
        }
    };
    Some((instruction?, quantity?, symbol?, asset_type?))
}

/// The order a previewOrder, place or replace body asks for, or every reason it is invalid.
pub fn parse_order(body: &[u8]) -> Result<OrderRequest, FormError> {
    let text = std::str::from_utf8(body).map_err(|_| FormError::one("The body must be UTF-8 JSON"))?.trim();
    let fields = object(text).ok_or_else(|| FormError::one("The body must be a JSON object (an OrderRequest)"))?;
    let mut errors = Vec::new();
    let types = [
        ("MARKET", OrderType::Market),
        ("LIMIT", OrderType::Limit),
        ("STOP", OrderType::Stop),
        ("STOP_LIMIT", OrderType::StopLimit),
    ];
    let order_type = choice(&fields, "orderType", &types, &mut errors);
    let sessions =
        [("NORMAL", Session::Normal), ("AM", Session::Am), ("PM", Session::Pm), ("SEAMLESS", Session::Seamless)];
    let session = choice(&fields, "session", &sessions, &mut errors);
    let durations = [
        ("DAY", OrderDuration::Day),
        ("GOOD_TILL_CANCEL", OrderDuration::GoodTillCancel),
        ("FILL_OR_KILL", OrderDuration::FillOrKill),
        ("IMMEDIATE_OR_CANCEL", OrderDuration::ImmediateOrCancel),
    ];
    let duration = choice(&fields, "duration", &durations, &mut errors);
    choice(&fields, "orderStrategyType", &[("SINGLE", ())], &mut errors);
    let kind = order_type.map_or("", OrderType::as_str);
    let price = price_field(&fields, "price", order_type.map(OrderType::has_limit), kind, &mut errors);
    let stop_price = price_field(&fields, "stopPrice", order_type.map(OrderType::has_stop), kind, &mut errors);
    let leg = leg(&fields, &mut errors);
    match (order_type, session, duration, leg) {
        (Some(order_type), Some(session), Some(duration), Some((instruction, quantity, symbol, asset_type)))
            if errors.is_empty() =>
        {
            Ok(OrderRequest {
                order_type,
                session,
                duration,
                price,
                stop_price,
                instruction,
                quantity,
                symbol,
                asset_type,
            })
        }
        _ => Err(FormError { errors }),
    }
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
