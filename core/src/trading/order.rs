//! The order a person asks for: parsed from the request's own JSON text (decimals exact, enums in
//! SnapTrade's spelling whatever case they came in), checked field by field, and fingerprinted so
//! that the same order asked twice is recognised as the same.

use super::TradingError;
use crate::domain::{Provider, Ticker};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::str::FromStr;

/// Significant digits a quantity or price may carry: every such decimal survives the JSON number
/// a provider's API takes, exactly.
pub const MAX_SIGNIFICANT_DIGITS: u32 = 15;
const MAX_ID_LEN: usize = 128;
const MAX_QUERY_LEN: usize = 32;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderAction {
    #[serde(rename = "BUY")]
    Buy,
    #[serde(rename = "SELL")]
    Sell,
}

/// How the order is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    StopLimit,
}

/// How long the order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeInForce {
    Day,
    #[serde(rename = "GTC")]
    Gtc,
    #[serde(rename = "FOK")]
    Fok,
    #[serde(rename = "IOC")]
    Ioc,
}

impl OrderAction {
    /// The wire name (`BUY`, `SELL`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }

    /// Parses `BUY`/`SELL` in any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "BUY" => Some(Self::Buy),
            "SELL" => Some(Self::Sell),
            _ => None,
        }
    }
}

impl OrderType {
    /// The wire name, mixed case exactly as SnapTrade writes it (`Market`, `StopLimit`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Market => "Market",
            Self::Limit => "Limit",
            Self::Stop => "Stop",
            Self::StopLimit => "StopLimit",
        }
    }

    /// Parses the four types in any case (`stop_limit` and `stoplimit` alike).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().replace(['_', ' ', '-'], "").as_str() {
            "market" => Some(Self::Market),
            "limit" => Some(Self::Limit),
            "stop" => Some(Self::Stop),
            "stoplimit" => Some(Self::StopLimit),
            _ => None,
        }
    }

    fn needs_limit(self) -> bool {
        matches!(self, Self::Limit | Self::StopLimit)
    }

    fn needs_stop(self) -> bool {
        matches!(self, Self::Stop | Self::StopLimit)
    }
}

impl TimeInForce {
    /// The wire name (`Day`, `GTC`, `FOK`, `IOC`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "Day",
            Self::Gtc => "GTC",
            Self::Fok => "FOK",
            Self::Ioc => "IOC",
        }
    }

    /// Parses the four values in any case.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_uppercase().as_str() {
            "DAY" => Some(Self::Day),
            "GTC" => Some(Self::Gtc),
            "FOK" => Some(Self::Fok),
            "IOC" => Some(Self::Ioc),
            _ => None,
        }
    }
}

/// What an order is for: a number of units, or an amount of money (market day orders only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSize {
    Units(Decimal),
    Notional(Decimal),
}

impl OrderSize {
    /// The units, when the order is for units.
    pub fn units(self) -> Option<Decimal> {
        match self {
            Self::Units(u) => Some(u),
            Self::Notional(_) => None,
        }
    }

    /// The amount, when the order is for an amount of money.
    pub fn notional(self) -> Option<Decimal> {
        match self {
            Self::Notional(n) => Some(n),
            Self::Units(_) => None,
        }
    }
}

/// How the order names its instrument: the provider's symbol id, or a ticker to look up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolRef {
    Id(String),
    Ticker(Ticker),
}

/// Where an order stands, as Tributary tells it (the provider's own status is kept beside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderState {
    /// Reserved and being sent: no answer from the broker yet.
    Sending,
    /// The broker's answer was lost (timeout, 5xx): not known to be placed or not.
    Unknown,
    Open,
    Executed,
    Cancelled,
    Rejected,
    Failed,
}

impl OrderState {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Unknown => "unknown",
            Self::Open => "open",
            Self::Executed => "executed",
            Self::Cancelled => "cancelled",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Sending, Self::Unknown, Self::Open, Self::Executed, Self::Cancelled, Self::Rejected, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == value)
    }

    /// SnapTrade's `AccountOrderRecordStatus`, read as a state (an unlisted status is still open:
    /// an order the broker holds in a state we do not know is not finished).
    pub fn from_snaptrade(status: &str) -> Self {
        match status.trim().to_ascii_uppercase().as_str() {
            "EXECUTED" => Self::Executed,
            "CANCELED" | "CANCELLED" | "PARTIAL_CANCELED" | "EXPIRED" | "REPLACED" | "STOPPED" => Self::Cancelled,
            "REJECTED" => Self::Rejected,
            "FAILED" => Self::Failed,
            _ => Self::Open,
        }
    }

    /// Whether nothing will change the order any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Executed | Self::Cancelled | Self::Rejected | Self::Failed)
    }

    /// Whether `GET /api/orders?state=` names this state (`open` counts the unresolved ones too).
    pub fn in_filter(self, filter: &str) -> bool {
        match filter {
            "open" => matches!(self, Self::Open | Self::Sending | Self::Unknown),
            "executed" => self == Self::Executed,
            _ => true,
        }
    }
}

/// `POST /api/orders/preview`'s body as sent: every decimal kept as its JSON text.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub account_id: Option<String>,
    pub symbol_id: Option<String>,
    pub symbol: Option<String>,
    pub action: Option<String>,
    pub order_type: Option<String>,
    pub time_in_force: Option<String>,
    pub units: Option<Box<RawValue>>,
    pub notional: Option<Box<RawValue>>,
    pub limit_price: Option<Box<RawValue>>,
    pub stop_price: Option<Box<RawValue>>,
}

/// A checked order: everything a preview and a place need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderForm {
    pub account_id: String,
    pub symbol: SymbolRef,
    pub action: OrderAction,
    pub order_type: OrderType,
    pub time_in_force: TimeInForce,
    pub size: OrderSize,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> TradingError {
    TradingError::InvalidOrder { field, reason: reason.into() }
}

fn id_field(field: &'static str, value: &str) -> Result<String, TradingError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN || !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) {
        return Err(invalid(field, "must be an id of at most 128 letters, digits and - _ . :"));
    }
    Ok(value.to_owned())
}

fn significant_digits(value: Decimal) -> u32 {
    let digits = value.normalize().mantissa().unsigned_abs().to_string();
    u32::try_from(digits.trim_start_matches('0').len()).unwrap_or(u32::MAX)
}

/// A positive exact decimal from a JSON number's text or a decimal string; `None` when absent or null.
fn positive(field: &'static str, raw: Option<&RawValue>) -> Result<Option<Decimal>, TradingError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim();
    if text == "null" {
        return Ok(None);
    }
    let inner = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Number(_)) => text.to_owned(),
        _ => return Err(invalid(field, "must be a decimal number (a JSON number or a string such as \"10.5\")")),
    };
    let inner = inner.trim();
    let value = Decimal::from_str(inner)
        .or_else(|_| Decimal::from_scientific(inner))
        .map_err(|_| invalid(field, format!("{inner:?} is not a decimal number")))?;
    if value <= Decimal::ZERO {
        return Err(invalid(field, "must be greater than zero"));
    }
    if significant_digits(value) > MAX_SIGNIFICANT_DIGITS {
        return Err(invalid(field, format!("at most {MAX_SIGNIFICANT_DIGITS} significant digits")));
    }
    Ok(Some(value.normalize()))
}

fn required<'a>(field: &'static str, value: Option<&'a str>) -> Result<&'a str, TradingError> {
    value.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| invalid(field, "is required"))
}

impl OrderForm {
    /// Checks a preview request: exactly one of `symbol_id`/`symbol`, exactly one of
    /// `units`/`notional` (an amount only for a market day order), a limit price exactly for
    /// limit orders and a stop price exactly for stop orders, every figure positive.
    pub fn parse(request: &OrderRequest) -> Result<Self, TradingError> {
        let account_id = id_field("account_id", required("account_id", request.account_id.as_deref())?)?;
        let symbol_id = request.symbol_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let ticker = request.symbol.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let symbol = match (symbol_id, ticker) {
            (Some(id), None) => SymbolRef::Id(id_field("symbol_id", id)?),
            (None, Some(ticker)) => {
                SymbolRef::Ticker(Ticker::parse(ticker).map_err(|e| invalid("symbol", e.to_string()))?)
            }
            (Some(_), Some(_)) => return Err(invalid("symbol", "give symbol_id or symbol, not both")),
            (None, None) => return Err(invalid("symbol", "symbol_id or symbol is required")),
        };
        let action = required("action", request.action.as_deref())?;
        let action = OrderAction::parse(action).ok_or_else(|| invalid("action", "must be BUY or SELL"))?;
        let order_type = required("order_type", request.order_type.as_deref())?;
        let order_type = OrderType::parse(order_type)
            .ok_or_else(|| invalid("order_type", "must be Market, Limit, Stop or StopLimit"))?;
        let tif = required("time_in_force", request.time_in_force.as_deref())?;
        let time_in_force =
            TimeInForce::parse(tif).ok_or_else(|| invalid("time_in_force", "must be Day, GTC, FOK or IOC"))?;
        let units = positive("units", request.units.as_deref())?;
        let notional = positive("notional", request.notional.as_deref())?;
        let size = match (units, notional) {
            (Some(units), None) => OrderSize::Units(units),
            (None, Some(amount)) => {
                if order_type != OrderType::Market || time_in_force != TimeInForce::Day {
                    return Err(invalid(
                        "notional",
                        "an amount of money is only possible for a Market order for the Day",
                    ));
                }
                OrderSize::Notional(amount)
            }
            (Some(_), Some(_)) => return Err(invalid("units", "give units or notional, not both")),
            (None, None) => return Err(invalid("units", "units or notional is required")),
        };
        let limit_price = positive("limit_price", request.limit_price.as_deref())?;
        let stop_price = positive("stop_price", request.stop_price.as_deref())?;
        match (order_type.needs_limit(), limit_price.is_some()) {
            (true, false) => {
                return Err(invalid("limit_price", format!("is required for a {} order", order_type.as_str())))
            }
            (false, true) => {
                return Err(invalid("limit_price", format!("is not used by a {} order", order_type.as_str())))
            }
            _ => {}
        }
        match (order_type.needs_stop(), stop_price.is_some()) {
            (true, false) => {
                return Err(invalid("stop_price", format!("is required for a {} order", order_type.as_str())))
            }
            (false, true) => {
                return Err(invalid("stop_price", format!("is not used by a {} order", order_type.as_str())))
            }
            _ => {}
        }
        Ok(Self { account_id, symbol, action, order_type, time_in_force, size, limit_price, stop_price })
    }

    /// Checks what the order asks of the provider it goes to: an amount of money only where the
    /// provider takes orders by amount (Schwab direct takes units).
    pub fn check_for(&self, provider: Provider) -> Result<(), TradingError> {
        if self.size.notional().is_some() && !provider.spec().orders_by_amount {
            return Err(invalid(
                "notional",
                format!("{} takes orders in units: give units instead of an amount", provider.display_name()),
            ));
        }
        Ok(())
    }

    /// One text naming exactly this order (account, instrument, side, type, duration, size,
    /// prices; decimals normalised so `10` and `10.0` agree): equal orders, equal fingerprints.
    pub fn fingerprint(&self, symbol_id: &str) -> String {
        let decimal = |d: Option<Decimal>| d.map(|d| d.normalize().to_string()).unwrap_or_default();
        let size = match self.size {
            OrderSize::Units(u) => format!("units={}", u.normalize()),
            OrderSize::Notional(n) => format!("notional={}", n.normalize()),
        };
        format!(
            "v1|{}|{symbol_id}|{}|{}|{}|{size}|limit={}|stop={}",
            self.account_id,
            self.action.as_str(),
            self.order_type.as_str(),
            self.time_in_force.as_str(),
            decimal(self.limit_price),
            decimal(self.stop_price)
        )
    }
}

/// A decimal as the JSON number a provider's order form takes; exact for the at most
/// [`MAX_SIGNIFICANT_DIGITS`] significant digits an [`OrderForm`] allows (the shortest text of
/// the nearest double is the decimal itself).
pub fn exact_json_number(value: Decimal) -> serde_json::Value {
    use rust_decimal::prelude::ToPrimitive;
    value.to_f64().and_then(serde_json::Number::from_f64).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// A symbol search's `q`: 1 to 32 characters, no control characters, trimmed.
pub fn parse_symbol_query(q: Option<&str>) -> Result<String, TradingError> {
    let q = q.map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(TradingError::InvalidQuery("a search text is required (?q=)".into()));
    }
    if q.chars().count() > MAX_QUERY_LEN || q.chars().any(char::is_control) {
        return Err(TradingError::InvalidQuery(format!("at most {MAX_QUERY_LEN} characters, no control characters")));
    }
    Ok(q.to_owned())
}
