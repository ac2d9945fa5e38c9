//! SnapTrade's trading wire, read and written from its spec: the symbol search, order impact
//! (`ManualTradeForm`), force place (`ManualTradeFormWithOptions` with `client_order_id`) and
//! cancel bodies, and its `UniversalSymbol`, `ManualTradeAndImpact` and `AccountOrderRecord` answers.

use super::normalize::{decimal, malformed, string};
use crate::provider_error::ProviderError;
use crate::time::parse_rfc3339;
use crate::trading::{
    exact_json_number as number, BrokerImpact, OrderAction, OrderForm, OrderSize, OrderState, ProviderOrder,
    TradableSymbol,
};
use serde_json::{json, Map, Value};

/// Symbols one search returns at most (SnapTrade's own cap).
pub const MAX_SYMBOLS: usize = 20;
/// Orders one order list is read for at most (a list longer than this is cut, newest kept).
const MAX_ORDERS: usize = 1_000;

/// `POST /accounts/{id}/symbols` body.
pub fn symbol_search_body(query: &str) -> Value {
    json!({ "substring": query })
}

fn common_fields(order: &OrderForm, account_id: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("account_id".into(), json!(account_id));
    body.insert("action".into(), json!(order.action.as_str()));
    body.insert("order_type".into(), json!(order.order_type.as_str()));
    body.insert("time_in_force".into(), json!(order.time_in_force.as_str()));
    body.insert("price".into(), order.limit_price.map_or(Value::Null, number));
    body.insert("stop".into(), order.stop_price.map_or(Value::Null, number));
    let (units, notional) = match order.size {
        OrderSize::Units(u) => (number(u), Value::Null),
        OrderSize::Notional(n) => (Value::Null, Value::String(n.to_string())),
    };
    body.insert("units".into(), units);
    body.insert("notional_value".into(), notional);
    body
}

/// `POST /trade/impact` body (`ManualTradeForm`: the symbol by its universal id only).
pub fn impact_body(order: &OrderForm, account_id: &str, symbol_id: &str) -> Value {
    let mut body = common_fields(order, account_id);
    body.insert("universal_symbol_id".into(), json!(symbol_id));
    Value::Object(body)
}

/// `POST /trade/place` body (`ManualTradeFormWithOptions`): the symbol by id, the ticker null,
/// the attempt's `client_order_id` passed through to the broker.
pub fn place_body(order: &OrderForm, account_id: &str, symbol_id: &str, client_order_id: &str) -> Value {
    let mut body = common_fields(order, account_id);
    body.insert("universal_symbol_id".into(), json!(symbol_id));
    body.insert("symbol".into(), Value::Null);
    body.insert("client_order_id".into(), json!(client_order_id));
    Value::Object(body)
}

/// `POST /accounts/{id}/trading/cancel` body.
pub fn cancel_body(brokerage_order_id: &str) -> Value {
    json!({ "brokerage_order_id": brokerage_order_id })
}

fn code_of(value: Option<&Value>) -> Option<String> {
    match value {
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(Value::Object(o)) => string(o.get("code")),
        _ => None,
    }
}

/// A symbol search's answer (`UniversalSymbol[]`), at most [`MAX_SYMBOLS`]; rows without an id or
/// symbol are skipped.
pub fn parse_symbols(body: &Value) -> Result<Vec<TradableSymbol>, ProviderError> {
    let rows = body.as_array().ok_or_else(|| malformed("symbols: expected a list"))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let symbol_id = string(row.get("id"))?;
            let symbol = string(row.get("symbol"))?;
            Some(TradableSymbol {
                symbol_id,
                symbol,
                raw_symbol: string(row.get("raw_symbol")),
                description: string(row.get("description")),
                currency: code_of(row.get("currency")),
                exchange: code_of(row.get("exchange")),
                kind: code_of(row.get("type")),
            })
        })
        .take(MAX_SYMBOLS)
        .collect())
}

/// An order impact's answer: the trade id and the broker's figures (each nullable).
pub fn parse_impact(body: &Value) -> Result<(Option<String>, BrokerImpact), ProviderError> {
    let trade = body.get("trade").filter(|t| t.is_object()).ok_or_else(|| malformed("impact: no trade"))?;
    let impact = body.get("trade_impacts").and_then(Value::as_array).and_then(|list| list.first());
    let field = |name: &str| impact.and_then(|i| i.get(name));
    let currency = trade
        .get("symbol")
        .and_then(|s| s.get("currency"))
        .and_then(|c| code_of(Some(c)))
        .or_else(|| body.get("combined_remaining_balance").and_then(|b| code_of(b.get("currency"))));
    Ok((
        string(trade.get("id")),
        BrokerImpact {
            price: decimal(trade.get("price"), "trade.price")?,
            commission: decimal(field("estimated_commission"), "estimated_commission")?,
            fees: decimal(field("forex_fees"), "forex_fees")?,
            remaining_cash: decimal(field("remaining_cash"), "remaining_cash")?,
            currency,
            symbol: trade.get("symbol").and_then(|s| string(s.get("symbol"))),
        },
    ))
}

/// One `AccountOrderRecord` (quantities and prices as decimal strings; numbers are tolerated).
pub fn parse_order_record(row: &Value) -> Result<ProviderOrder, ProviderError> {
    let brokerage_order_id = match row.get("brokerage_order_id") {
        Some(Value::Number(n)) => Some(n.to_string()),
        other => string(other),
    }
    .ok_or_else(|| malformed("order: no brokerage_order_id"))?;
    let status = string(row.get("status"));
    let universal = row.get("universal_symbol").filter(|s| s.is_object());
    let symbol = universal
        .and_then(|s| string(s.get("symbol")))
        .or_else(|| row.get("option_symbol").and_then(|o| string(o.get("ticker"))));
    Ok(ProviderOrder {
        brokerage_order_id,
        client_order_id: string(row.get("client_order_id")),
        symbol,
        symbol_id: universal.and_then(|s| string(s.get("id"))),
        action: string(row.get("action")).and_then(|a| OrderAction::parse(&a)),
        state: status.as_deref().map_or(OrderState::Open, OrderState::from_snaptrade),
        status,
        total_units: decimal(row.get("total_quantity"), "total_quantity")?,
        filled_units: decimal(row.get("filled_quantity"), "filled_quantity")?,
        execution_price: decimal(row.get("execution_price"), "execution_price")?,
        placed_at: string(row.get("time_placed")).and_then(|t| parse_rfc3339(&t)),
    })
}

/// An order list: `AccountOrderRecord[]` or `{orders: [...]}` (recentOrders), at most 1,000 read;
/// a record that cannot be read is skipped rather than failing the list.
pub fn parse_order_list(body: &Value) -> Result<Vec<ProviderOrder>, ProviderError> {
    let rows = body
        .as_array()
        .or_else(|| body.get("orders").and_then(Value::as_array))
        .ok_or_else(|| malformed("orders: expected a list"))?;
    Ok(rows.iter().take(MAX_ORDERS).filter_map(|row| parse_order_record(row).ok()).collect())
}
