//! Schwab's order wire, written and read from the Trader API reference: the `OrderRequest` of a
//! single-leg equity order (prices as decimal strings, so they stay exact), the `PreviewOrder`
//! answer as the broker's figures or its rejection, the order id a place's `Location` names, an
//! `Order` list as provider orders, the window an order list is read for, trade refusals typed,
//! and the instruments an account can trade (the Trader API has no instrument search: the
//! account's own holdings, and a ticker typed exactly, which Schwab's preview then checks).

use super::accounts::{decimal, malformed};
use super::map_error;
use crate::domain::{Position, Provider, SecurityKind};
use crate::provider_error::ProviderError;
use crate::time::{format_utc_millis, parse_rfc3339};
use crate::trading::{
    exact_json_number, BrokerImpact, OrderAction, OrderForm, OrderState, OrderType, ProviderOrder, TimeInForce,
    TradableSymbol,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

const P: Provider = Provider::Schwab;
/// How far back an order list is read: the oldest order Tributary still tracks is younger (an
/// order unsettled this long is given up on long before), and Schwab answers up to a year.
pub const ORDERS_LOOKBACK_S: i64 = 60 * 86_400;
/// How far past now an order list reaches (clocks disagree by seconds, never by an hour).
const ORDERS_LOOKAHEAD_S: i64 = 3_600;
/// Orders one list is read for at most (a longer list is cut; Schwab lists newest first).
const MAX_ORDERS: usize = 1_000;
/// Symbols one search returns at most.
pub const MAX_SYMBOLS: usize = 20;
/// The longest ticker offered as typed.
const MAX_TYPED_TICKER: usize = 12;
/// Longest order id read from a `Location` (an int64 has at most 19 digits).
const MAX_ORDER_ID_DIGITS: usize = 19;

fn order_type(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "MARKET",
        OrderType::Limit => "LIMIT",
        OrderType::Stop => "STOP",
        OrderType::StopLimit => "STOP_LIMIT",
    }
}

fn duration(time_in_force: TimeInForce) -> &'static str {
    match time_in_force {
        TimeInForce::Day => "DAY",
        TimeInForce::Gtc => "GOOD_TILL_CANCEL",
        TimeInForce::Fok => "FILL_OR_KILL",
        TimeInForce::Ioc => "IMMEDIATE_OR_CANCEL",
    }
}

/// The `OrderRequest` for `previewOrder` and `POST …/orders`: one equity leg for `symbol` in the
/// regular session, the quantity as a JSON number (exact for the digits an order may carry), the
/// limit and stop prices as decimal strings. An order by amount has no Schwab form: the caller
/// checks [`OrderForm::check_for`] first, and such an order is written with no quantity.
pub fn order_body(order: &OrderForm, symbol: &str) -> Value {
    let mut body = Map::new();
    body.insert("orderType".into(), json!(order_type(order.order_type)));
    body.insert("session".into(), json!("NORMAL"));
    body.insert("duration".into(), json!(duration(order.time_in_force)));
    body.insert("orderStrategyType".into(), json!("SINGLE"));
    if let Some(price) = order.limit_price {
        body.insert("price".into(), json!(price.normalize().to_string()));
    }
    if let Some(stop) = order.stop_price {
        body.insert("stopPrice".into(), json!(stop.normalize().to_string()));
    }
    let quantity = order.size.units().map_or(Value::Null, exact_json_number);
    body.insert(
        "orderLegCollection".into(),
        json!([{
            "instruction": order.action.as_str(),
            "quantity": quantity,
            "instrument": {"symbol": symbol, "assetType": "EQUITY"},
        }]),
    );
    Value::Object(body)
}

/// The query of an account's order list at `now`: from [`ORDERS_LOOKBACK_S`] ago to an hour
/// ahead, in Schwab's request form (both bounds are required).
pub fn orders_query(now: i64) -> Vec<(&'static str, String)> {
    vec![
        ("fromEnteredTime", format_utc_millis(now - ORDERS_LOOKBACK_S)),
        ("toEnteredTime", format_utc_millis(now + ORDERS_LOOKAHEAD_S)),
    ]
}

/// A refused trading call, typed: 403 is the app or account not allowed to trade (whatever its
/// body), 400 the broker's refusal with its reason, the rest as every Trader call maps them.
pub fn map_trade_error(status: u16, body: &[u8], retry_after_s: Option<u64>) -> ProviderError {
    match status {
        403 => ProviderError::TradingNotPermitted { provider: P, brokerage: None },
        _ => map_error(status, body, retry_after_s),
    }
}

/// The order id a successful place names in its `Location` (`…/accounts/{hash}/orders/{orderId}`).
/// A missing or unreadable one is `Malformed`: the order was accepted but cannot be named, so it
/// is settled from the account's order list instead.
pub fn order_id_from_location(location: Option<&str>) -> Result<String, ProviderError> {
    let location = location.map(str::trim).unwrap_or_default();
    let path = location.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/');
    let id = path.rsplit_once("/orders/").map(|(_, id)| id).unwrap_or_default();
    if id.is_empty() || id.len() > MAX_ORDER_ID_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed("place: the answer's Location names no order id"));
    }
    Ok(id.to_owned())
}

impl OrderState {
    /// Schwab's `ApiOrderStatus`, read as a state (an unlisted or pending status is still open).
    pub fn from_schwab(status: &str) -> Self {
        match status.trim().to_ascii_uppercase().as_str() {
            "FILLED" => Self::Executed,
            "CANCELED" | "CANCELLED" | "EXPIRED" | "REPLACED" => Self::Cancelled,
            "REJECTED" => Self::Rejected,
            _ => Self::Open,
        }
    }
}

#[derive(Deserialize)]
struct Instrument {
    symbol: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Leg {
    instruction: Option<String>,
    instrument: Option<Instrument>,
}

#[derive(Deserialize)]
struct ExecutionLeg {
    quantity: Option<Box<RawValue>>,
    price: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity {
    #[serde(default)]
    execution_legs: Vec<ExecutionLeg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: Option<Box<RawValue>>,
    status: Option<String>,
    entered_time: Option<String>,
    quantity: Option<Box<RawValue>>,
    filled_quantity: Option<Box<RawValue>>,
    #[serde(default)]
    order_leg_collection: Vec<Leg>,
    #[serde(default)]
    order_activity_collection: Vec<Activity>,
}

fn id_text(raw: Option<&RawValue>) -> Option<String> {
    let text = raw?.get().trim();
    let text = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text).trim();
    (!text.is_empty() && text.len() <= MAX_ORDER_ID_DIGITS && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.to_owned())
}

/// The average price of an order's executions, weighted by quantity (exact); `None` without any.
fn execution_price(activities: &[Activity]) -> Result<Option<Decimal>, ProviderError> {
    let (mut units, mut cost) = (Decimal::ZERO, Decimal::ZERO);
    for leg in activities.iter().flat_map(|a| &a.execution_legs) {
        let (Some(q), Some(p)) = (
            decimal(leg.quantity.as_deref(), "execution quantity")?,
            decimal(leg.price.as_deref(), "execution price")?,
        ) else {
            continue;
        };
        units += q;
        cost += q * p;
    }
    Ok((units > Decimal::ZERO).then(|| (cost / units).normalize()))
}

/// One `Order` as the broker lists it (the first leg names the instrument and side).
fn provider_order(order: Order) -> Result<ProviderOrder, ProviderError> {
    let brokerage_order_id = id_text(order.order_id.as_deref()).ok_or_else(|| malformed("order: no usable orderId"))?;
    let leg = order.order_leg_collection.first();
    let symbol = leg.and_then(|l| l.instrument.as_ref()).and_then(|i| i.symbol.clone());
    let status = order.status.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(ProviderOrder {
        brokerage_order_id,
        client_order_id: None,
        symbol_id: symbol.clone(),
        symbol,
        action: leg.and_then(|l| l.instruction.as_deref()).and_then(OrderAction::parse),
        state: status.as_deref().map_or(OrderState::Open, OrderState::from_schwab),
        status,
        total_units: decimal(order.quantity.as_deref(), "quantity")?.map(|d| d.normalize()),
        filled_units: decimal(order.filled_quantity.as_deref(), "filledQuantity")?.map(|d| d.normalize()),
        execution_price: execution_price(&order.order_activity_collection)?,
        placed_at: order.entered_time.as_deref().and_then(parse_rfc3339),
    })
}

/// One `GET …/orders/{orderId}` answer.
pub fn parse_order(body: &[u8]) -> Result<ProviderOrder, ProviderError> {
    let order: Order = serde_json::from_slice(body).map_err(|e| malformed(format!("order: {e}")))?;
    provider_order(order)
}

/// A `GET …/orders` answer (`[Order]`), at most 1,000 read; an order that cannot be read is
/// skipped rather than failing the list.
pub fn parse_orders(body: &[u8]) -> Result<Vec<ProviderOrder>, ProviderError> {
    let rows: Vec<Box<RawValue>> = serde_json::from_slice(body).map_err(|_| malformed("orders: expected a list"))?;
    Ok(rows
        .iter()
        .take(MAX_ORDERS)
        .filter_map(|row| serde_json::from_str::<Order>(row.get()).ok())
        .filter_map(|order| provider_order(order).ok())
        .collect())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Balance {
    projected_available_fund: Option<Box<RawValue>>,
    projected_commission: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewLeg {
    ask_price: Option<Box<RawValue>>,
    bid_price: Option<Box<RawValue>>,
    last_price: Option<Box<RawValue>>,
    instruction: Option<String>,
    instrument: Option<Instrument>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Strategy {
    status: Option<String>,
    price: Option<Box<RawValue>>,
    order_balance: Option<Balance>,
    #[serde(default)]
    order_legs: Vec<PreviewLeg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Validation {
    activity_message: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct Validations {
    #[serde(default)]
    rejects: Vec<Validation>,
}

#[derive(Deserialize)]
struct Charge {
    value: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommissionLeg {
    #[serde(default)]
    commission_values: Vec<Charge>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeeLeg {
    #[serde(default)]
    fee_values: Vec<Charge>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Commission {
    #[serde(default)]
    commission_legs: Vec<CommissionLeg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fee {
    #[serde(default)]
    fee_legs: Vec<FeeLeg>,
}

#[derive(Deserialize)]
struct CommissionAndFee {
    commission: Option<Commission>,
    fee: Option<Fee>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Preview {
    order_strategy: Option<Strategy>,
    order_validation_result: Option<Validations>,
    commission_and_fee: Option<CommissionAndFee>,
}

/// The sum of `charges`, exactly; `None` when there is none with a value.
fn total<'a>(charges: impl Iterator<Item = &'a Charge>, field: &str) -> Result<Option<Decimal>, ProviderError> {
    let mut sum = None;
    for charge in charges {
        if let Some(value) = decimal(charge.value.as_deref(), field)? {
            sum = Some(sum.unwrap_or(Decimal::ZERO) + value);
        }
    }
    Ok(sum)
}

/// A `previewOrder` answer: the broker's figures (each nullable: commission and fees summed from
/// `commissionAndFee`, the remaining cash its `projectedAvailableFund`, the price the order's own
/// or else the side's quote), or — for a preview Schwab rejected (HTTP 200, status `REJECTED` or
/// any reject) — `Rejected` with its messages.
pub fn parse_preview(body: &[u8]) -> Result<BrokerImpact, ProviderError> {
    let preview: Preview = serde_json::from_slice(body).map_err(|e| malformed(format!("previewOrder: {e}")))?;
    let strategy = preview.order_strategy.ok_or_else(|| malformed("previewOrder: no orderStrategy"))?;
    let rejects: Vec<String> = preview
        .order_validation_result
        .unwrap_or_default()
        .rejects
        .into_iter()
        .filter_map(|r| r.activity_message.or(r.message))
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    let rejected = strategy.status.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("REJECTED"));
    if rejected || !rejects.is_empty() {
        let detail =
            if rejects.is_empty() { "the order did not pass validation".to_owned() } else { rejects.join("; ") };
        return Err(ProviderError::Rejected { provider: P, status: 200, detail });
    }
    let leg = strategy.order_legs.first();
    let quote = |pick: fn(&PreviewLeg) -> Option<&RawValue>| -> Result<Option<Decimal>, ProviderError> {
        leg.map_or(Ok(None), |l| decimal(pick(l), "orderLegs price"))
    };
    let own = decimal(strategy.price.as_deref(), "orderStrategy.price")?.filter(|p| *p > Decimal::ZERO);
    let side = match leg.and_then(|l| l.instruction.as_deref()).and_then(OrderAction::parse) {
        Some(OrderAction::Buy) => quote(|l| l.ask_price.as_deref())?,
        Some(OrderAction::Sell) => quote(|l| l.bid_price.as_deref())?,
        None => None,
    };
    let price = match own.or(side) {
        Some(price) => Some(price),
        None => quote(|l| l.last_price.as_deref())?,
    };
    let balance = strategy.order_balance.as_ref();
    let charges = preview.commission_and_fee.as_ref();
    let commission = match charges.and_then(|c| c.commission.as_ref()) {
        Some(c) => total(c.commission_legs.iter().flat_map(|l| &l.commission_values), "commission")?,
        None => balance.map_or(Ok(None), |b| decimal(b.projected_commission.as_deref(), "projectedCommission"))?,
    };
    let fees = match charges.and_then(|c| c.fee.as_ref()) {
        Some(f) => total(f.fee_legs.iter().flat_map(|l| &l.fee_values), "fee")?,
        None => None,
    };
    Ok(BrokerImpact {
        price,
        commission,
        fees,
        remaining_cash: balance
            .map_or(Ok(None), |b| decimal(b.projected_available_fund.as_deref(), "projectedAvailableFund"))?,
        // The Trader API trades US listings in dollars.
        currency: Some("USD".to_owned()),
        symbol: leg.and_then(|l| l.instrument.as_ref()).and_then(|i| i.symbol.clone()),
    })
}

fn tradable_kind(kind: SecurityKind) -> bool {
    matches!(kind, SecurityKind::Equity | SecurityKind::Etf)
}

/// A ticker as typed, when it could be a US listing's symbol (`BRK.B`, `BF/B`): upper-cased.
fn typed_ticker(query: &str) -> Option<String> {
    let query = query.trim();
    let shaped = !query.is_empty()
        && query.len() <= MAX_TYPED_TICKER
        && query.bytes().all(|b| b.is_ascii_alphanumeric() || b"./-".contains(&b))
        && query.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
    shaped.then(|| query.to_ascii_uppercase())
}

/// What `query` finds among the account's `positions` (equities and ETFs whose ticker or name
/// contains it, any case), then the query itself as a ticker when it could be one and is not held
/// — Schwab's preview checks it. The symbol id is the ticker (Schwab orders name the symbol).
pub fn symbol_candidates(query: &str, positions: &[&Position]) -> Vec<TradableSymbol> {
    let needle = query.trim().to_lowercase();
    let mut found: Vec<TradableSymbol> = Vec::new();
    for position in positions.iter().filter(|p| tradable_kind(p.kind)) {
        let Some(ticker) = position.ticker.as_ref().map(|t| t.as_str().to_ascii_uppercase()) else { continue };
        let named = position.name.as_deref().is_some_and(|n| n.to_lowercase().contains(&needle));
        if (ticker.to_lowercase().contains(&needle) || named) && !found.iter().any(|f| f.symbol == ticker) {
            found.push(TradableSymbol {
                symbol_id: ticker.clone(),
                symbol: ticker,
                raw_symbol: None,
                description: position.name.clone(),
                currency: Some(position.currency.as_str().to_owned()),
                exchange: None,
                kind: Some(position.kind.as_str().to_owned()),
            });
        }
    }
    if let Some(ticker) = typed_ticker(query).filter(|t| !found.iter().any(|f| &f.symbol == t)) {
        found.push(TradableSymbol {
            symbol_id: ticker.clone(),
            symbol: ticker,
            raw_symbol: None,
            description: None,
            currency: Some("USD".to_owned()),
            exchange: None,
            kind: Some("equity".to_owned()),
        });
    }
    found.truncate(MAX_SYMBOLS);
    found
}

#[cfg(test)]
#[path = "orders_tests.rs"]
mod tests;
