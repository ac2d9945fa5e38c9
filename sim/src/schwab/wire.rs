//! Ledger rows in the wire shape of the reference's Schwab `Transaction`: integer `activityId`;
//! times as `2024-05-06T15:55:14+0000` (offset without colon), cash rows at 04:00 UTC (midnight in
//! New York); `netAmount` + = cash into the account; `transferItems` with the security's `amount`
//! signed as the position change, `cost` its cash effect, and on trades CURRENCY fee items
//! (`feeType` `COMMISSION` carrying the fee, `SEC_FEE` 0.0). COLLECTIVE_INVESTMENT instruments carry
//! the `assetType` key twice, as live payloads do (the text is written by hand for that). Trades
//! have `orderId` (the row's `external_reference_id` when it is an order id of digits, as fills
//! of simulated orders write it, else stable digits from it) and `positionId`, and neither
//! description nor settlement date unless the row was given a description. Kinds: buy/sell `TRADE`; dividend `DIVIDEND_OR_INTEREST` "Ordinary Dividend~SYM";
//! interest `DIVIDEND_OR_INTEREST` "Credit Interest"; fee `JOURNAL` "Service Fee"; tax `JOURNAL`
//! "W-8 Withholding~SYM"; deposit `ELECTRONIC_FUND` "ACH Credit Received"; withdrawal
//! `ACH_DISBURSEMENT` "ACH Disbursement"; split `RECEIVE_AND_DELIVER` "Stock Split~SYM"; transfers
//! `RECEIVE_AND_DELIVER` "Transfer of Security In/Out". A description given through the control
//! replaces the default as it is (the reader's types follow descriptions: keep "Interest",
//! "Fee", "Withholding", "Split" in them).

use crate::ibkr::dates::Date;
use crate::ledger::{number, Kind, Row};
use crate::util::rfc3339;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Seconds after midnight UTC of a row without a time of day (midnight in New York, as Schwab posts).
pub const POSTED_AT: u32 = 4 * 3600;

/// The Schwab `type` of a ledger kind.
pub fn schwab_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Buy | Kind::Sell => "TRADE",
        Kind::Dividend | Kind::Interest => "DIVIDEND_OR_INTEREST",
        Kind::Fee | Kind::Tax => "JOURNAL",
        Kind::Deposit => "ELECTRONIC_FUND",
        Kind::Withdrawal => "ACH_DISBURSEMENT",
        Kind::Split | Kind::TransferIn | Kind::TransferOut => "RECEIVE_AND_DELIVER",
    }
}

/// The Unix second a row is dated at.
pub fn instant(row: &Row) -> i64 {
    row.tx.date.days_since(Date::from_days(0)) * 86_400 + i64::from(row.tx.time.unwrap_or(POSTED_AT))
}

/// Unix seconds as Schwab writes response times: `2024-05-06T15:57:00+0000`.
pub fn schwab_time(seconds: i64) -> String {
    let text = rfc3339(seconds);
    format!("{}+0000", text.trim_end_matches('Z'))
}

/// A small stable number from `label` below `modulus`.
fn stable_number(label: &str, modulus: u64) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)) % modulus
}

/// The `instrumentId` of a security `symbol`: 8 stable digits, the same in transactions and orders.
pub fn instrument_id(symbol: &str) -> u64 {
    10_000_000 + stable_number(symbol, 89_999_999)
}

/// The `orderId` of a trade row: its `external_reference_id` itself when that is an order id (1 to
/// 18 digits, as fills of simulated orders write it), else 13 stable digits from the reference
/// (or, without one, from the row id).
fn order_id(tx: &crate::ledger::Tx, row_id: &str) -> u64 {
    let reference = tx.external_reference_id.as_deref();
    let digits = reference.filter(|r| (1..=18).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_digit()));
    digits
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| 1_000_000_000_000 + stable_number(reference.unwrap_or(row_id), 999_999_999))
}

/// An instrument object as text; `duplicate_asset_type` writes `assetType` a second time at the end.
fn instrument_text(fields: Map<String, Value>, duplicate_asset_type: bool) -> Box<RawValue> {
    let mut text = Value::Object(fields.clone()).to_string();
    if let (true, Some(asset)) = (duplicate_asset_type, fields.get("assetType")) {
        text.pop();
        text.push_str(&format!(",\"assetType\":{asset}}}"));
    }
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("{} is JSON"))
}

fn currency_instrument() -> Box<RawValue> {
    let fields = json!({"assetType": "CURRENCY", "status": "ACTIVE", "symbol": "CURRENCY_USD",
                        "description": "USD currency", "instrumentId": 1, "closingPrice": 0.0});
    instrument_text(fields.as_object().cloned().unwrap_or_default(), false)
}

/// The instrument of `symbol`: the customer's position's when it holds one, else a plain stock.
fn security_instrument(symbol: &str, price: Value, known: &HashMap<String, Value>) -> Box<RawValue> {
    let mut fields = Map::new();
    let seeded = known.get(symbol).and_then(Value::as_object);
    let asset = seeded.and_then(|i| i.get("assetType")).cloned().unwrap_or_else(|| json!("EQUITY"));
    fields.insert("assetType".into(), asset.clone());
    fields.insert("status".into(), json!("ACTIVE"));
    fields.insert("symbol".into(), json!(symbol));
    for key in ["cusip", "description", "type", "putCall", "underlyingSymbol"] {
        if let Some(value) = seeded.and_then(|i| i.get(key)) {
            fields.insert(key.into(), value.clone());
        }
    }
    fields.entry("type").or_insert_with(|| json!("COMMON_STOCK"));
    fields.insert("instrumentId".into(), json!(instrument_id(symbol)));
    fields.insert("closingPrice".into(), price);
    instrument_text(fields, asset == "COLLECTIVE_INVESTMENT")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    instrument: Box<RawValue>,
    amount: Value,
    cost: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    price: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fee_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position_effect: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTransaction {
    activity_id: Value,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    account_number: String,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    sub_account: &'static str,
    trade_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    settlement_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<u64>,
    net_amount: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    activity_type: Option<&'static str>,
    transfer_items: Vec<WireItem>,
}

/// One row in Schwab's wire shape (see the module doc); `known` maps symbols to the instruments
/// of the customer's positions.
pub fn wire(row: &Row, account_number: &str, known: &HashMap<String, Value>) -> WireTransaction {
    let tx = &row.tx;
    let symbol = tx.symbol.as_deref().unwrap_or("");
    let suffixed = |text: &str| if symbol.is_empty() { text.to_owned() } else { format!("{text}~{symbol}") };
    let default_description = match tx.kind {
        Kind::Buy | Kind::Sell => None,
        Kind::Dividend => Some(suffixed("Ordinary Dividend")),
        Kind::Interest => Some("Credit Interest".to_owned()),
        Kind::Fee => Some("Service Fee".to_owned()),
        Kind::Tax => Some(suffixed("W-8 Withholding")),
        Kind::Deposit => Some("ACH Credit Received".to_owned()),
        Kind::Withdrawal => Some("ACH Disbursement".to_owned()),
        Kind::Split => Some(suffixed("Stock Split")),
        Kind::TransferIn => Some("Transfer of Security In".to_owned()),
        Kind::TransferOut => Some("Transfer of Security Out".to_owned()),
    };
    let cash_item = |amount: Value, fee_type: Option<&'static str>| WireItem {
        instrument: currency_instrument(),
        amount,
        cost: json!(0.0),
        price: fee_type.is_none().then(|| json!(0.0)),
        fee_type,
        position_effect: None,
    };
    let mut items = Vec::new();
    if tx.kind.is_trade() {
        items.push(cash_item(number(-tx.fee.unwrap_or_default()), Some("COMMISSION")));
        items.push(cash_item(json!(0.0), Some("SEC_FEE")));
    }
    if tx.kind.moves_units() && !symbol.is_empty() {
        let cost = if tx.kind.is_trade() { tx.amount + tx.fee.unwrap_or_default() } else { Default::default() };
        items.push(WireItem {
            instrument: security_instrument(symbol, number(tx.price), known),
            amount: number(tx.position_change()),
            cost: number(cost),
            price: Some(number(tx.price)),
            fee_type: None,
            position_effect: Some(if tx.kind.unit_sign() > 0 { "OPENING" } else { "CLOSING" }),
        });
    } else if !tx.kind.moves_units() {
        items.push(cash_item(number(tx.amount), None));
    }
    let at = instant(row);
    let trade = tx.kind.is_trade();
    WireTransaction {
        activity_id: row.id.parse::<i64>().map_or_else(|_| json!(row.id), |id| json!(id)),
        time: schwab_time(at),
        description: tx.description.clone().or(default_description),
        account_number: account_number.to_owned(),
        kind: schwab_type(tx.kind),
        status: "VALID",
        sub_account: "CASH",
        trade_date: schwab_time(at),
        settlement_date: (!trade || tx.description.is_some())
            .then(|| schwab_time(tx.settlement_date().days_since(Date::from_days(0)) * 86_400 + i64::from(POSTED_AT))),
        position_id: trade.then(|| 1_000_000 + stable_number(&format!("{account_number}:{symbol}"), 8_999_999)),
        order_id: trade.then(|| order_id(tx, &row.id)),
        net_amount: number(tx.amount),
        activity_type: trade.then_some("EXECUTION"),
        transfer_items: items,
    }
}
