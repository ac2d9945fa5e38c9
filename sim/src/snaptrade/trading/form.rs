//! The trading request bodies, parsed exactly as the spec writes them: `ManualTradeForm` (impact),
//! `ManualTradeFormWithOptions` (place), `ValidatedTradeBody` (checked place) and the
//! `{brokerage_order_id}` bodies. Every defect is a message for a 400, never a panic.
//!
//! Rules, in the order they are checked: the body is an object; `account_id` is a non-empty
//! string; `action` is `BUY` or `SELL` (place also knows the option actions, refused because the
//! simulator lists no options); the symbol is `universal_symbol_id` (a UUID; impact accepts only
//! this) or, on place, exactly one of it and `symbol` (a ticker); `order_type` is one of `Limit`,
//! `Market`, `StopLimit`, `Stop` and `time_in_force` one of `FOK`, `Day`, `GTC`, `IOC` (place adds
//! `GTD`, which needs `expiry_date` and is refused for Market), case-sensitive; `price` (> 0) is
//! required for Limit and StopLimit, `stop` (> 0) for Stop and StopLimit; exactly one of `units`
//! and `notional_value` (> 0) is set, and a notional order is Market + Day; on place,
//! `trading_session` is `REGULAR` (default) or `EXTENDED` (Limit only) and `client_order_id` is
//! null or a canonical 36-character UUID. Numbers are at most [`MAX_AMOUNT`]. Unknown fields are ignored.

use crate::ibkr::dates::Date;
use rust_decimal::Decimal;
use serde_json::{Number, Value};

/// The side of an equity order (`ActionStrict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Buy,
    Sell,
}

impl Action {
    /// `BUY` or `SELL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Buy => "BUY",
            Action::Sell => "SELL",
        }
    }
}

/// `OrderTypeStrict`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    Limit,
    Market,
    StopLimit,
    Stop,
}

impl OrderType {
    /// The wire spelling (mixed case).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "Limit",
            OrderType::Market => "Market",
            OrderType::StopLimit => "StopLimit",
            OrderType::Stop => "Stop",
        }
    }

    fn needs_price(self) -> bool {
        matches!(self, OrderType::Limit | OrderType::StopLimit)
    }

    fn needs_stop(self) -> bool {
        matches!(self, OrderType::Stop | OrderType::StopLimit)
    }
}

/// `TimeInForceStrict` (impact) or `ManualTradePlaceTimeInForceStrict` (place, adds GTD).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    Fok,
    Day,
    Gtc,
    Ioc,
    Gtd,
}

impl TimeInForce {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Fok => "FOK",
            TimeInForce::Day => "Day",
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Gtd => "GTD",
        }
    }
}

/// How the security is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbolRef {
    /// `universal_symbol_id`.
    Id(String),
    /// `symbol`, a ticker (place only).
    Ticker(String),
}

/// How much to trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    Units(Decimal),
    /// An amount of the security's currency.
    Notional(Decimal),
}

/// A validated order request (impact or place).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub account_id: String,
    pub action: Action,
    pub symbol: SymbolRef,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub price: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub size: Size,
    /// Set (as sent) for GTD orders only.
    pub expiry_date: Option<String>,
    pub extended_hours: bool,
    pub client_order_id: Option<String>,
}

/// Which body is being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Impact,
    Place,
}

/// A field, with JSON `null` read as absent.
fn field<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn string<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, String> {
    match field(body, key) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{key} must not be empty.")),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key} must be a string.")),
    }
}

fn required_string<'a>(body: &'a Value, key: &str) -> Result<&'a str, String> {
    string(body, key)?.ok_or_else(|| format!("{key} is required."))
}

/// A required field that must be one of `allowed`, exactly as written.
fn one_of<'a>(body: &Value, key: &str, allowed: &[&'a str]) -> Result<&'a str, String> {
    let given = required_string(body, key)?;
    allowed
        .iter()
        .copied()
        .find(|a| *a == given)
        .ok_or_else(|| format!("{key} must be one of {}; got {given:?}.", allowed.join(", ")))
}

fn decimal_of(n: &Number) -> Option<Decimal> {
    let text = n.to_string();
    text.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(&text).ok())
}

/// The largest `price`, `stop`, `units` or `notional_value` accepted (keeps every product exact).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An optional positive number up to [`MAX_AMOUNT`] (`strings_too`: a decimal string is accepted as well).
fn positive(body: &Value, key: &str, strings_too: bool) -> Result<Option<Decimal>, String> {
    let value = match field(body, key) {
        None => return Ok(None),
        Some(Value::Number(n)) => decimal_of(n),
        Some(Value::String(s)) if strings_too => s.trim().parse::<Decimal>().ok(),
        Some(_) => return Err(format!("{key} must be a number.")),
    };
    match value {
        Some(d) if d > Decimal::from(MAX_AMOUNT) => Err(format!("{key} must be at most {MAX_AMOUNT}.")),
        Some(d) if d > Decimal::ZERO => Ok(Some(d)),
        Some(_) => Err(format!("{key} must be greater than 0.")),
        None => Err(format!("{key} is not a valid number.")),
    }
}

/// Whether `s` is a canonical 8-4-4-4-12 hexadecimal UUID.
pub fn is_canonical_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// Whether `s` starts with an ISO 8601 date and time (`YYYY-MM-DDTHH:MM`).
fn is_iso_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    s.get(..10).and_then(Date::parse_iso).is_some()
        && b.len() >= 16
        && b[10] == b'T'
        && b[13] == b':'
        && [11, 12, 14, 15].iter().all(|&i| b[i].is_ascii_digit())
}

fn parse(body: Option<&Value>, form: Form) -> Result<OrderRequest, String> {
    let body = body.filter(|b| b.is_object()).ok_or("The body must be a JSON object.")?;
    let account_id = required_string(body, "account_id")?.to_owned();
    let action = match form {
        Form::Impact => one_of(body, "action", &["BUY", "SELL"])?,
        Form::Place => {
            one_of(body, "action", &["BUY", "SELL", "BUY_TO_OPEN", "BUY_TO_CLOSE", "SELL_TO_OPEN", "SELL_TO_CLOSE"])?
        }
    };
    let action = match action {
        "BUY" => Action::Buy,
        "SELL" => Action::Sell,
        option => return Err(format!("{option} is for option orders; the symbol is not an option.")),
    };
    let id = string(body, "universal_symbol_id")?;
    if id.is_some_and(|id| !is_canonical_uuid(id)) {
        return Err("universal_symbol_id must be a UUID.".into());
    }
    let symbol = match (form, id, string(body, "symbol")?) {
        (Form::Impact, Some(id), _) | (Form::Place, Some(id), None) => SymbolRef::Id(id.to_owned()),
        (Form::Impact, None, _) => return Err("universal_symbol_id is required.".into()),
        (Form::Place, None, Some(ticker)) => SymbolRef::Ticker(ticker.trim().to_owned()),
        (Form::Place, Some(_), Some(_)) => {
            return Err("Send either universal_symbol_id or symbol, not both; the other must be null.".into())
        }
        (Form::Place, None, None) => return Err("One of universal_symbol_id or symbol is required.".into()),
    };
    let order_type = match one_of(body, "order_type", &["Limit", "Market", "StopLimit", "Stop"])? {
        "Limit" => OrderType::Limit,
        "Market" => OrderType::Market,
        "StopLimit" => OrderType::StopLimit,
        _ => OrderType::Stop,
    };
    let allowed: &[&str] = match form {
        Form::Impact => &["FOK", "Day", "GTC", "IOC"],
        Form::Place => &["FOK", "Day", "GTC", "IOC", "GTD"],
    };
    let time_in_force = match one_of(body, "time_in_force", allowed)? {
        "FOK" => TimeInForce::Fok,
        "Day" => TimeInForce::Day,
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        _ => TimeInForce::Gtd,
    };
    let (price, stop) = (positive(body, "price", false)?, positive(body, "stop", false)?);
    if order_type.needs_price() && price.is_none() {
        return Err(format!("price is required for {} orders.", order_type.as_str()));
    }
    if order_type.needs_stop() && stop.is_none() {
        return Err(format!("stop is required for {} orders.", order_type.as_str()));
    }
    let size = match (positive(body, "units", false)?, positive(body, "notional_value", true)?) {
        (Some(units), None) => Size::Units(units),
        (None, Some(_)) if (order_type, time_in_force) != (OrderType::Market, TimeInForce::Day) => {
            return Err("notional_value works only with order_type Market and time_in_force Day.".into())
        }
        (None, Some(notional)) => Size::Notional(notional),
        (Some(_), Some(_)) => return Err("Send either units or notional_value, not both.".into()),
        (None, None) => return Err("One of units or notional_value is required.".into()),
    };
    let mut request = OrderRequest {
        account_id,
        action,
        symbol,
        order_type,
        time_in_force,
        price,
        stop,
        size,
        expiry_date: None,
        extended_hours: false,
        client_order_id: None,
    };
    if form == Form::Place {
        place_options(body, &mut request)?;
    }
    Ok(request)
}

/// The fields only `ManualTradeFormWithOptions` has.
fn place_options(body: &Value, request: &mut OrderRequest) -> Result<(), String> {
    if request.time_in_force == TimeInForce::Gtd {
        if request.order_type == OrderType::Market {
            return Err("GTD is not available for Market orders.".into());
        }
        let expiry = string(body, "expiry_date")?.ok_or("expiry_date is required when time_in_force is GTD.")?;
        if !is_iso_datetime(expiry) {
            return Err(format!("expiry_date must be an ISO 8601 date-time; got {expiry:?}."));
        }
        request.expiry_date = Some(expiry.to_owned());
    }
    request.extended_hours = match string(body, "trading_session")? {
        None | Some("REGULAR") => false,
        Some("EXTENDED") if request.order_type == OrderType::Limit => true,
        Some("EXTENDED") => return Err("EXTENDED trading_session needs a Limit order.".into()),
        Some(other) => return Err(format!("trading_session must be one of REGULAR, EXTENDED; got {other:?}.")),
    };
    request.client_order_id = match field(body, "client_order_id") {
        None => None,
        Some(Value::String(id)) if is_canonical_uuid(id) => Some(id.to_ascii_lowercase()),
        Some(_) => return Err("client_order_id must be a canonical 36-character UUID.".into()),
    };
    Ok(())
}

/// A `ManualTradeForm` (`POST /trade/impact`), or why it is invalid.
pub fn impact_form(body: Option<&Value>) -> Result<OrderRequest, String> {
    parse(body, Form::Impact)
}

/// A `ManualTradeFormWithOptions` (`POST /trade/place`), or why it is invalid.
pub fn place_form(body: Option<&Value>) -> Result<OrderRequest, String> {
    parse(body, Form::Place)
}

/// `ValidatedTradeBody`'s `wait_to_confirm` (default true; the body is optional).
pub fn wait_to_confirm(body: Option<&Value>) -> Result<bool, String> {
    match body {
        None | Some(Value::Null) => Ok(true),
        Some(b) if b.is_object() => match field(b, "wait_to_confirm") {
            None => Ok(true),
            Some(Value::Bool(wait)) => Ok(*wait),
            Some(_) => Err("wait_to_confirm must be a boolean.".into()),
        },
        Some(_) => Err("The body must be a JSON object.".into()),
    }
}

/// The required `brokerage_order_id` of a cancel or order-detail body.
pub fn brokerage_order_id(body: Option<&Value>) -> Result<String, String> {
    let body = body.filter(|b| b.is_object()).ok_or("The body must be a JSON object.")?;
    Ok(required_string(body, "brokerage_order_id")?.to_owned())
}
