use super::super::wire::{schwab_type, wire};
use super::*;
use crate::ledger::{Kind, Row, Tx};
use rust_decimal::Decimal;
use serde_json::json;

fn uri(query: &str) -> Uri {
    format!("/trader/v1/accounts/H/transactions?{query}").parse().unwrap()
}

const ALL: &str = "types=TRADE,DIVIDEND_OR_INTEREST";

#[test]
fn request_times_are_read_in_the_forms_clients_send() {
    let base = parse_request_time("2024-03-01T00:00:00.000Z").unwrap();
    assert_eq!(base, 1_709_251_200_000);
    assert_eq!(parse_request_time("2024-03-01T00:00:00Z"), Some(base));
    assert_eq!(parse_request_time("2024-03-01T00:00:00.5Z"), Some(base + 500));
    assert_eq!(parse_request_time("2024-03-01T23:59:59.999Z"), Some(base + 86_399_999));
    assert_eq!(parse_request_time("2024-03-01T05:00:00+0500"), Some(base));
    assert_eq!(parse_request_time("2024-02-29T19:00:00-05:00"), Some(base));
    assert_eq!(parse_request_time("2024-03-01T00:00:00 0000"), Some(base), "a `+` decoded to a space");
    for bad in [
        "",
        "2024-03-01",
        "2024-03-01T00:00:00",
        "2024-03-01T24:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-03-01T00:00:00.Z",
        "2024-03-01T00:00:00+000",
        "yesterday",
        "2024-03-01T00:00:00.000Zjunk",
        "2024-03-01T00:00:00.0001234567890Z",
    ] {
        assert_eq!(parse_request_time(bad), None, "{bad}");
    }
}

#[test]
fn start_end_and_types_are_required_and_the_range_is_at_most_a_year() {
    let ok = TransactionQuery::parse(&uri(&format!(
        "startDate=2024-01-01T00:00:00.000Z&endDate=2024-12-30T23:59:59.999Z&{ALL}&symbol=SYNT"
    )))
    .unwrap();
    assert_eq!((ok.types, ok.symbol.as_deref()), (vec!["TRADE", "DIVIDEND_OR_INTEREST"], Some("SYNT")));
    for (query, message) in [
        (format!("endDate=2024-01-02T00:00:00.000Z&{ALL}"), "startDate is required"),
        (format!("startDate=2024-01-02T00:00:00.000Z&{ALL}"), "endDate is required"),
        ("startDate=2024-01-01T00:00:00.000Z&endDate=2024-01-02T00:00:00.000Z".to_owned(), "types is required"),
        ("startDate=2024-01-01T00:00:00.000Z&endDate=2024-01-02T00:00:00.000Z&types=,".to_owned(), "types is required"),
        (
            format!("startDate=2024-01-02T00:00:00.000Z&endDate=2024-01-01T00:00:00.000Z&{ALL}"),
            "endDate must not be before startDate",
        ),
        (
            format!("startDate=2024-01-01T00:00:00.000Z&endDate=2024-12-31T00:00:00.001Z&{ALL}"),
            "Maximum date range is 1 year",
        ),
        (
            "startDate=2024-01-01T00:00:00.000Z&endDate=2024-01-02T00:00:00.000Z&types=TRADE,GIFT".to_owned(),
            "Invalid types value: GIFT",
        ),
    ] {
        assert_eq!(TransactionQuery::parse(&uri(&query)).unwrap_err(), message, "{query}");
    }
    assert!(TransactionQuery::parse(&uri(&format!("startDate=2024-01-01&endDate=2024-01-02&{ALL}"))).is_err());
    let exactly_a_year = format!("startDate=2024-01-01T00:00:00.000Z&endDate=2024-12-31T00:00:00.000Z&{ALL}");
    assert!(TransactionQuery::parse(&uri(&exactly_a_year)).is_ok());
}

fn row(kind: Kind, symbol: Option<&str>, units: &str, price: &str, amount: &str, fee: Option<&str>) -> Row {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let tx = Tx {
        kind,
        symbol: symbol.map(str::to_owned),
        units: d(units),
        price: d(price),
        amount: d(amount),
        fee: fee.map(d),
        currency: "USD".into(),
        date: Date::parse_iso("2024-03-21").unwrap(),
        time: kind.is_trade().then_some(12 * 3600 + 40 * 60 + 17),
        description: None,
        external_reference_id: Some("ord-1".into()),
    };
    Row { id: "81234567891".into(), seq: 0, tx }
}

fn known() -> HashMap<String, Value> {
    let etf = json!({"assetType": "COLLECTIVE_INVESTMENT", "symbol": "SETF", "type": "EXCHANGE_TRADED_FUND"});
    HashMap::from([("SETF".to_owned(), etf)])
}

#[test]
fn a_buy_is_a_trade_with_fee_items_and_the_reference_signs() {
    let buy = row(Kind::Buy, Some("SYNT"), "10", "150.23", "-1502.30", Some("0"));
    let text = serde_json::to_string(&wire(&buy, "12345678", &known())).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((&value["activityId"], &value["type"]), (&json!(81234567891i64), &json!("TRADE")));
    assert_eq!((&value["tradeDate"], &value["netAmount"]), (&json!("2024-03-21T12:40:17+0000"), &json!(-1502.3)));
    assert!(value.get("description").is_none() && value.get("settlementDate").is_none(), "{text}");
    assert!(value["orderId"].as_u64().unwrap() > 1_000_000_000_000);
    let items = value["transferItems"].as_array().unwrap();
    let fees: Vec<&Value> = items.iter().filter(|i| i.get("feeType").is_some()).collect();
    assert_eq!((fees[0]["feeType"].as_str(), &fees[0]["amount"]), (Some("COMMISSION"), &json!(0.0)));
    assert_eq!(fees[0]["instrument"]["assetType"], "CURRENCY");
    let security = &items[2];
    assert_eq!(
        (&security["amount"], &security["cost"], &security["price"]),
        (&json!(10.0), &json!(-1502.3), &json!(150.23))
    );
    assert_eq!((&security["instrument"]["symbol"], &security["positionEffect"]), (&json!("SYNT"), &json!("OPENING")));
    assert_eq!(text.matches("\"assetType\"").count(), 3, "an equity's key appears once: {text}");
}

#[test]
fn collective_investments_carry_asset_type_twice_and_sells_are_negative() {
    let sell = row(Kind::Sell, Some("SETF"), "4", "75", "299.35", Some("0.65"));
    let text = serde_json::to_string(&wire(&sell, "12345678", &known())).unwrap();
    assert_eq!(text.matches("\"assetType\":\"COLLECTIVE_INVESTMENT\"").count(), 2, "{text}");
    let value: Value = serde_json::from_str(&text).unwrap();
    let items = value["transferItems"].as_array().unwrap();
    assert_eq!(items[0]["amount"], json!(-0.65));
    assert_eq!((&items[2]["amount"], &items[2]["cost"]), (&json!(-4.0), &json!(300.0)));
    assert_eq!(value["netAmount"], json!(299.35));
}

#[test]
fn cash_rows_move_cash_only_and_say_what_they_are() {
    let dividend = row(Kind::Dividend, Some("SETF"), "0", "0", "8.41", None);
    let value = serde_json::to_value(wire(&dividend, "12345678", &known())).unwrap();
    assert_eq!(
        (&value["type"], &value["description"]),
        (&json!("DIVIDEND_OR_INTEREST"), &json!("Ordinary Dividend~SETF"))
    );
    assert_eq!(
        (&value["tradeDate"], &value["settlementDate"]),
        (&json!("2024-03-21T04:00:00+0000"), &json!("2024-03-21T04:00:00+0000"))
    );
    let items = value["transferItems"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!((&items[0]["instrument"]["symbol"], &items[0]["amount"]), (&json!("CURRENCY_USD"), &json!(8.41)));
    let withdrawal = row(Kind::Withdrawal, None, "0", "0", "-200", None);
    let value = serde_json::to_value(wire(&withdrawal, "1", &known())).unwrap();
    assert_eq!((&value["type"], &value["netAmount"]), (&json!("ACH_DISBURSEMENT"), &json!(-200.0)));
    let tax = row(Kind::Tax, Some("SETF"), "0", "0", "-1.26", None);
    assert_eq!(serde_json::to_value(wire(&tax, "1", &known())).unwrap()["description"], "W-8 Withholding~SETF");
    assert_eq!(schwab_type(Kind::TransferOut), "RECEIVE_AND_DELIVER");
    assert!(Kind::ALL.iter().all(|k| TRANSACTION_TYPES.contains(&schwab_type(*k))));
}
