//! JSON renderings shaped after the spec: `AccountOrderRecord` (quantities and prices as decimal
//! strings), `ManualTradeAndImpact` (JSON numbers) and `CancelOrderResponse`.

use super::book::Order;
use super::form::{OrderRequest, Size};
use super::money::CashEffect;
use crate::ledger::{decimal_string, number};
use crate::snaptrade::seed_json::currency_json;
use crate::snaptrade::symbols::{universal_symbol_json, Listing};
use crate::util::{rfc3339, stable_uuid};
use serde_json::{json, Value};

/// The deprecated per-account `brokerage_symbol_id` of a listing.
fn brokerage_symbol_id(account_id: &str, listing: &Listing) -> String {
    stable_uuid(&format!("brokerage-symbol:{account_id}:{}", listing.id))
}

/// An `AccountOrderRecord`.
pub fn order_json(o: &Order) -> Value {
    let decimal = |d: Option<rust_decimal::Decimal>| d.map(decimal_string);
    json!({
        "brokerage_order_id": o.brokerage_order_id,
        "brokerage_group_order_id": null,
        "order_role": null,
        "status": o.status.as_str(),
        "universal_symbol": universal_symbol_json(o.listing),
        "option_symbol": null,
        "quote_universal_symbol": null,
        "quote_currency": null,
        "action": o.action.as_str(),
        "total_quantity": decimal_string(o.total),
        "open_quantity": decimal_string(o.open_quantity()),
        "canceled_quantity": decimal_string(o.canceled),
        "filled_quantity": decimal_string(o.filled),
        "execution_price": decimal(o.execution_price),
        "limit_price": decimal(o.limit_price),
        "stop_price": decimal(o.stop_price),
        "trailing_stop": null,
        "order_type": o.order_type.as_str(),
        "time_in_force": o.time_in_force.as_str(),
        "time_placed": rfc3339(o.placed),
        "time_updated": o.updated.map(rfc3339),
        "time_executed": o.executed.map(rfc3339),
        "expiry_date": o.expiry_date,
        "symbol": brokerage_symbol_id(&o.account_id, o.listing),
        "child_brokerage_order_ids": null,
    })
}

/// The account fields of `combined_remaining_balance` (`AccountSimple`).
pub struct AccountSummary<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub number: &'a str,
}

/// A `ManualTradeAndImpact` for checked trade `trade_id` at estimated `price`.
pub fn impact_json(
    trade_id: &str,
    request: &OrderRequest,
    listing: &Listing,
    price: rust_decimal::Decimal,
    effect: &CashEffect,
    account: &AccountSummary<'_>,
) -> Value {
    let units = match request.size {
        Size::Units(units) => number(units),
        Size::Notional(_) => Value::Null,
    };
    let settlement = currency_json(&effect.currency);
    json!({
        "trade": {
            "id": trade_id,
            "account": request.account_id,
            "order_type": request.order_type.as_str(),
            "time_in_force": request.time_in_force.as_str(),
            "symbol": {
                "universal_symbol_id": listing.id,
                "currency": currency_json(listing.currency),
                "description": listing.description,
                "symbol": listing.ticker,
                "brokerage_symbol_id": brokerage_symbol_id(&request.account_id, listing),
            },
            "action": request.action.as_str(),
            "units": units,
            "price": number(price),
        },
        "trade_impacts": [{
            "account": request.account_id,
            "currency": settlement["id"],
            "remaining_cash": number(effect.remaining),
            "estimated_commission": number(effect.commission),
            "forex_fees": effect.forex_fee.map(number),
        }],
        "combined_remaining_balance": {
            "account": {"id": account.id, "name": account.name, "number": account.number,
                        "institution_account_id": null},
            "currency": settlement,
            "cash": number(effect.remaining),
        },
    })
}

/// A `CancelOrderResponse`: the id and the broker's own answer.
pub fn cancel_json(brokerage_order_id: &str) -> Value {
    json!({
        "brokerage_order_id": brokerage_order_id,
        "raw_response": {"order_id": brokerage_order_id, "status": "CANCELLED"},
    })
}
