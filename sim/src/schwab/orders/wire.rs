//! Orders and previews in Schwab's wire shapes (reference §4.5 `Order`, §4.6 `PreviewOrder`):
//! numbers are JSON floats (`1.0`), ids and `legId` integers, the order's `accountNumber` an
//! integer (while the preview's is a string), order times `2024-05-06T15:57:00+0000` and the
//! preview's `enteredTime` `2025-12-10T13:23:40Z`. `price` and `stopPrice` appear only when the
//! order has them, `closeTime` only on a final order, `orderActivityCollection` only on a filled
//! one, `statusDescription` only on a cancelled one.

use super::book::Order;
use super::form::OrderRequest;
use super::money::Costs;
use super::quotes::Quote;
use crate::ledger::number;
use crate::schwab::wire::{instrument_id, schwab_time};
use crate::util::rfc3339;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The `tag` every simulated order carries.
pub const ORDER_TAG: &str = "API_TRADER";

/// An account number as the `Order` writes it: an integer when it is one, else the string.
fn account_number_json(number: &str) -> Value {
    number.parse::<u64>().map_or_else(|_| json!(number), |n| json!(n))
}

/// An `Order` (see the module doc).
pub fn order_json(o: &Order) -> Value {
    let open = o.status.is_open();
    let mut instrument = Map::new();
    instrument.insert("assetType".into(), json!(o.asset_type));
    if let Some(cusip) = &o.cusip {
        instrument.insert("cusip".into(), json!(cusip));
    }
    instrument.insert("symbol".into(), json!(o.symbol));
    instrument.insert("instrumentId".into(), json!(instrument_id(&o.symbol)));
    let mut order = json!({
        "session": o.session.as_str(),
        "duration": o.duration.as_str(),
        "orderType": o.order_type.as_str(),
        "complexOrderStrategyType": "NONE",
        "quantity": number(o.quantity),
        "filledQuantity": number(o.filled_quantity),
        "remainingQuantity": number(o.remaining_quantity()),
        "requestedDestination": "AUTO",
        "destinationLinkName": "AutoRoute",
        "orderLegCollection": [{
            "orderLegType": "EQUITY",
            "legId": 1,
            "instrument": instrument,
            "instruction": o.instruction.as_str(),
            "positionEffect": o.instruction.position_effect(),
            "quantity": number(o.quantity),
        }],
        "orderStrategyType": "SINGLE",
        "orderId": o.order_id,
        "cancelable": open,
        "editable": open,
        "status": o.status.as_str(),
        "enteredTime": schwab_time(o.entered_ms.div_euclid(1000)),
        "tag": ORDER_TAG,
        "accountNumber": account_number_json(&o.account_number),
    });
    let Some(fields) = order.as_object_mut() else { return order };
    if let Some(price) = o.price {
        fields.insert("price".into(), number(price));
    }
    if let Some(stop) = o.stop_price {
        fields.insert("stopPrice".into(), number(stop));
    }
    if let Some(closed) = o.closed_ms {
        fields.insert("closeTime".into(), json!(schwab_time(closed.div_euclid(1000))));
    }
    if let Some(execution) = &o.execution {
        let activity = json!({
            "activityType": "EXECUTION",
            "activityId": execution.activity_id,
            "executionType": "FILL",
            "quantity": number(o.filled_quantity),
            "orderRemainingQuantity": number(o.remaining_quantity()),
            "executionLegs": [{
                "legId": 1,
                "quantity": number(o.filled_quantity),
                "mismarkedQuantity": 0.0,
                "price": number(execution.price),
                "time": schwab_time(execution.at_ms.div_euclid(1000)),
                "instrumentId": instrument_id(&o.symbol),
            }],
        });
        fields.insert("orderActivityCollection".into(), json!([activity]));
    }
    if let Some(description) = &o.status_description {
        fields.insert("statusDescription".into(), json!(description));
    }
    order
}

/// One finding of the order validation: the rule's name and its `activityMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub message: String,
}

/// Everything a `PreviewOrder` shows.
#[derive(Clone, Debug)]
pub struct Preview<'a> {
    pub account_number: &'a str,
    /// Unix seconds.
    pub entered: i64,
    pub request: &'a OrderRequest,
    pub quote: Option<&'a Quote>,
    pub costs: Costs,
    pub projected_available_fund: Decimal,
    pub projected_buying_power: Decimal,
    pub rejects: Vec<Finding>,
    pub warns: Vec<Finding>,
}

fn findings_json(findings: &[Finding], severity: &str) -> Value {
    let item = |f: &Finding| {
        json!({"validationRuleName": f.rule, "message": f.message, "activityMessage": f.message,
               "originalSeverity": severity})
    };
    Value::Array(findings.iter().map(item).collect())
}

/// `{commissionLegs: [{commissionValues: [BASE_CHARGE, COMMISSION]}]}`.
fn commission_json(commission: Decimal) -> Value {
    json!({"commissionLegs": [{"commissionValues": [
        {"value": 0.0, "type": "BASE_CHARGE"}, {"value": number(commission), "type": "COMMISSION"}]}]})
}

/// A `PreviewOrder` (`orderId` 0; status REJECTED when there is any reject).
pub fn preview_json(p: &Preview<'_>) -> Value {
    let r = p.request;
    let asset_type = p.quote.map_or(r.asset_type.as_str(), |q| q.asset_type.as_str());
    let price = |f: fn(&Quote) -> Decimal| number(p.quote.map(f).unwrap_or_default());
    let charges = number(p.costs.charges());
    let mut strategy = json!({
        "accountNumber": p.account_number,
        "advancedOrderType": "NONE",
        "enteredTime": rfc3339(p.entered),
        "orderBalance": {
            "orderValue": number(p.costs.value),
            "projectedAvailableFund": number(p.projected_available_fund),
            "projectedBuyingPower": number(p.projected_buying_power),
            "projectedCommission": charges,
        },
        "orderStrategyType": "SINGLE",
        "orderVersion": 1,
        "session": r.session.as_str(),
        "status": if p.rejects.is_empty() { "ACCEPTED" } else { "REJECTED" },
        "discretionary": false,
        "duration": r.duration.as_str(),
        "filledQuantity": 0.0,
        "orderType": r.order_type.as_str(),
        "orderValue": number(p.costs.value),
        "quantity": number(r.quantity),
        "remainingQuantity": number(r.quantity),
        "sellNonMarginableFirst": false,
        "strategy": "NONE",
        "amountIndicator": "SHARES",
        "orderLegs": [{
            "askPrice": price(|q| q.ask),
            "bidPrice": price(|q| q.bid),
            "lastPrice": price(|q| q.last),
            "markPrice": price(|q| q.mark),
            "projectedCommission": charges,
            "legId": 1,
            "assetType": asset_type,
            "instruction": r.instruction.as_str(),
            "positionEffect": r.instruction.position_effect(),
            "instrument": {"assetType": asset_type, "symbol": r.symbol},
        }],
    });
    if let Some(fields) = strategy.as_object_mut() {
        if let Some(limit) = r.price {
            fields.insert("price".into(), number(limit));
        }
        if let Some(stop) = r.stop_price {
            fields.insert("stopPrice".into(), number(stop));
        }
    }
    let mut validation = Map::new();
    if !p.rejects.is_empty() {
        validation.insert("rejects".into(), findings_json(&p.rejects, "REJECT"));
    }
    if !p.warns.is_empty() {
        validation.insert("warns".into(), findings_json(&p.warns, "ALERT"));
    }
    json!({
        "orderId": 0,
        "orderStrategy": strategy,
        "orderValidationResult": validation,
        "commissionAndFee": {
            "commission": commission_json(p.costs.commission),
            "fee": {"feeLegs": [{"feeValues": [
                {"value": number(p.costs.sec_fee), "type": "SEC_FEE"},
                {"value": 0.0, "type": "OPT_REG_FEE"},
                {"value": 0.0, "type": "TAF_FEE"},
            ]}]},
            "trueCommission": commission_json(p.costs.commission),
        },
    })
}
