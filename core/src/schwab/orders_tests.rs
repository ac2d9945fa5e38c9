use super::*;
use crate::domain::{Currency, Quantity, Ticker};
use crate::trading::{OrderRequest, OrderSize};
use std::str::FromStr;

fn form(json: &str) -> OrderForm {
    let request: OrderRequest = serde_json::from_str(json).unwrap();
    OrderForm::parse(&request).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn a_limit_order_is_written_in_schwabs_form_with_exact_prices() {
    let order = form(
        r#"{"account_id":"H1","symbol":"SYNT","action":"buy","order_type":"Limit","time_in_force":"GTC",
            "units":12.5,"limit_price":"155.1000000001"}"#,
    );
    let body = order_body(&order, "SYNT");
    assert_eq!(
        body,
        json!({"orderType":"LIMIT","session":"NORMAL","duration":"GOOD_TILL_CANCEL","orderStrategyType":"SINGLE",
               "price":"155.1000000001",
               "orderLegCollection":[{"instruction":"BUY","quantity":12.5,
                                      "instrument":{"symbol":"SYNT","assetType":"EQUITY"}}]})
    );
    let stop = form(
        r#"{"account_id":"H1","symbol":"SYNT","action":"SELL","order_type":"StopLimit","time_in_force":"Day",
            "units":"3","limit_price":"140","stop_price":"141.5"}"#,
    );
    let body = order_body(&stop, "SYNT");
    assert_eq!((body["orderType"].as_str(), body["duration"].as_str()), (Some("STOP_LIMIT"), Some("DAY")));
    assert_eq!((body["price"].as_str(), body["stopPrice"].as_str()), (Some("140"), Some("141.5")));
    assert_eq!(body["orderLegCollection"][0]["quantity"], json!(3.0));
    for (tif, want) in [("FOK", "FILL_OR_KILL"), ("IOC", "IMMEDIATE_OR_CANCEL")] {
        let market = form(&format!(
            r#"{{"account_id":"H1","symbol":"SYNT","action":"SELL","order_type":"Market","time_in_force":"{tif}","units":1}}"#
        ));
        let body = order_body(&market, "SYNT");
        assert_eq!(body["duration"], json!(want));
        assert!(body.get("price").is_none() && body.get("stopPrice").is_none());
    }
}

#[test]
fn an_order_by_amount_is_refused_before_it_reaches_schwab() {
    let by_amount = form(
        r#"{"account_id":"H1","symbol":"SYNT","action":"BUY","order_type":"Market","time_in_force":"Day","notional":100}"#,
    );
    assert!(matches!(by_amount.size, OrderSize::Notional(_)));
    let refusal = by_amount.check_for(Provider::Schwab).unwrap_err();
    assert_eq!(crate::ErrorCode::code(&refusal), "invalid_order");
    assert!(refusal.to_string().contains("Schwab direct takes orders in units"), "{refusal}");
    assert!(by_amount.check_for(Provider::SnapTrade).is_ok());
}

#[test]
fn the_order_id_is_the_trailing_integer_of_the_location() {
    let ok = |l: &str| order_id_from_location(Some(l)).unwrap();
    assert_eq!(ok("https://api.schwabapi.com/trader/v1/accounts/ABC123/orders/1000000000123"), "1000000000123");
    assert_eq!(ok("http://127.0.0.1:9/trader/v1/accounts/ABC/orders/42/"), "42");
    for bad in [
        None,
        Some(""),
        Some("https://api.schwabapi.com/trader/v1/accounts/ABC123/orders/"),
        Some("https://api.schwabapi.com/trader/v1/accounts/ABC123/orders/12a"),
        Some("https://api.schwabapi.com/trader/v1/accounts/ABC123"),
        Some("https://x/orders/123456789012345678901"),
    ] {
        let error = order_id_from_location(bad).unwrap_err();
        assert!(matches!(error, ProviderError::Malformed { .. }), "{bad:?}: {error:?}");
    }
}

#[test]
fn orders_are_read_exactly_with_their_state_and_average_fill_price() {
    let body = br#"[
      {"session":"NORMAL","duration":"DAY","orderType":"LIMIT","quantity":3.0,"filledQuantity":3.0,
       "remainingQuantity":0.0,"price":10.1,"orderStrategyType":"SINGLE","orderId":1000000000002,
       "cancelable":false,"status":"FILLED","enteredTime":"2024-05-06T15:57:00+0000","accountNumber":12345678,
       "orderLegCollection":[{"orderLegType":"EQUITY","legId":1,
          "instrument":{"assetType":"COLLECTIVE_INVESTMENT","assetType":"COLLECTIVE_INVESTMENT","symbol":"SETF"},
          "instruction":"BUY","positionEffect":"OPENING","quantity":3.0}],
       "orderActivityCollection":[{"activityType":"EXECUTION","executionType":"FILL","quantity":3.0,
          "executionLegs":[{"legId":1,"quantity":1.0,"price":10.1,"time":"2024-05-06T15:57:01+0000"},
                           {"legId":1,"quantity":2.0,"price":10.25,"time":"2024-05-06T15:57:02+0000"}]}]},
      {"orderId":1000000000001,"status":"WORKING","enteredTime":"2024-05-06T15:50:00+0000","quantity":0.123456789012345,
       "filledQuantity":0.0,"orderLegCollection":[{"instrument":{"symbol":"SYNT"},"instruction":"SELL"}]},
      {"orderId":"not a number","status":"WORKING"},
      {"orderId":1000000000003,"status":"PENDING_CANCEL","orderLegCollection":[{"instruction":"SELL_SHORT",
        "instrument":{"symbol":"SYNT"}}]},
      "garbage"
    ]"#;
    let orders = parse_orders(body).unwrap();
    assert_eq!(orders.len(), 3, "the unreadable rows are skipped");
    let filled = &orders[0];
    assert_eq!(filled.brokerage_order_id, "1000000000002");
    assert_eq!((filled.state, filled.status.as_deref()), (OrderState::Executed, Some("FILLED")));
    assert_eq!((filled.symbol.as_deref(), filled.action), (Some("SETF"), Some(OrderAction::Buy)));
    assert_eq!(filled.execution_price, Some(dec("10.2")));
    assert_eq!(filled.placed_at, parse_rfc3339("2024-05-06T15:57:00Z"));
    let working = &orders[1];
    assert_eq!((working.state, working.total_units), (OrderState::Open, Some(dec("0.123456789012345"))));
    assert_eq!((working.filled_units, working.execution_price), (Some(Decimal::ZERO), None));
    assert_eq!(orders[2].action, None, "a short sale is not a side Tributary places");
    assert!(parse_orders(b"{}").is_err() && parse_orders(b"<html>").is_err());
    let one = parse_order(br#"{"orderId":7,"status":"CANCELED"}"#).unwrap();
    assert_eq!((one.brokerage_order_id.as_str(), one.state), ("7", OrderState::Cancelled));
    assert!(parse_order(br#"{"status":"CANCELED"}"#).is_err());
}

#[test]
fn every_schwab_status_reads_as_a_state() {
    for (status, state) in [
        ("FILLED", OrderState::Executed),
        ("CANCELED", OrderState::Cancelled),
        ("EXPIRED", OrderState::Cancelled),
        ("REPLACED", OrderState::Cancelled),
        ("REJECTED", OrderState::Rejected),
        ("WORKING", OrderState::Open),
        ("PENDING_CANCEL", OrderState::Open),
        ("AWAITING_MANUAL_REVIEW", OrderState::Open),
        ("SOMETHING_NEW", OrderState::Open),
    ] {
        assert_eq!(OrderState::from_schwab(status), state, "{status}");
    }
}

const PREVIEW: &str = r#"{"orderId": 0,
 "orderStrategy": {"accountNumber": "12345678", "enteredTime": "2025-12-10T13:23:40Z",
   "orderBalance": {"orderValue": 300.0, "projectedAvailableFund": 14731.26, "projectedBuyingPower": 14731.26,
     "projectedCommission": 0.0},
   "orderStrategyType": "SINGLE", "status": "ACCEPTED", "duration": "DAY", "orderType": "LIMIT", "price": 300.0,
   "quantity": 1.0,
   "orderLegs": [{"askPrice": 301.1, "bidPrice": 300.9, "lastPrice": 301.0, "markPrice": 300.9,
     "projectedCommission": 0.0, "legId": 1, "assetType": "EQUITY", "instruction": "BUY", "positionEffect": "OPENING",
     "instrument": {"assetType": "EQUITY", "symbol": "SYNT"}}]},
 "orderValidationResult": {},
 "commissionAndFee": {
   "commission": {"commissionLegs": [{"commissionValues": [{"value": 0.5, "type": "BASE_CHARGE"}, {"value": 0.25, "type": "COMMISSION"}]}]},
   "fee": {"feeLegs": [{"feeValues": [{"value": 0.01, "type": "SEC_FEE"}, {"value": 0.0, "type": "OPT_REG_FEE"}, {"value": 0.02, "type": "TAF_FEE"}]}]},
   "trueCommission": {"commissionLegs": [{"commissionValues": [{"value": 9.0, "type": "COMMISSION"}]}]}}}"#;

#[test]
fn a_preview_gives_the_brokers_figures_exactly() {
    let impact = parse_preview(PREVIEW.as_bytes()).unwrap();
    assert_eq!(impact.price, Some(dec("300.0")));
    assert_eq!(impact.commission, Some(dec("0.75")), "commission values summed; trueCommission is not charged");
    assert_eq!(impact.fees, Some(dec("0.03")));
    assert_eq!(impact.remaining_cash, Some(dec("14731.26")));
    assert_eq!((impact.currency.as_deref(), impact.symbol.as_deref()), (Some("USD"), Some("SYNT")));
}

#[test]
fn a_market_preview_prices_at_the_sides_quote_and_unknown_figures_stay_null() {
    let sell = r#"{"orderStrategy": {"status": "ACCEPTED", "orderLegs": [{"askPrice": 301.1, "bidPrice": 300.9,
        "lastPrice": 301.0, "instruction": "SELL", "instrument": {"symbol": "SYNT"}}]}}"#;
    let impact = parse_preview(sell.as_bytes()).unwrap();
    assert_eq!(impact.price, Some(dec("300.9")));
    assert_eq!((impact.commission, impact.fees, impact.remaining_cash), (None, None, None));
    let bare = r#"{"orderStrategy": {"status": "ACCEPTED", "price": 0.0,
        "orderLegs": [{"lastPrice": 12.5, "instrument": {"symbol": "X"}}]}}"#;
    assert_eq!(parse_preview(bare.as_bytes()).unwrap().price, Some(dec("12.5")));
}

#[test]
fn a_rejected_preview_is_the_brokers_refusal_with_its_reasons() {
    let rejected = r#"{"orderStrategy": {"status": "REJECTED", "orderLegs": []},
      "orderValidationResult": {"rejects": [
        {"activityMessage": "Your limit price is significantly away from the current market price", "originalSeverity": "REJECT"},
        {"message": "Insufficient buying power"}]}}"#;
    match parse_preview(rejected.as_bytes()).unwrap_err() {
        ProviderError::Rejected { detail, .. } => {
            assert_eq!(
                detail,
                "Your limit price is significantly away from the current market price; Insufficient buying power"
            );
        }
        other => panic!("{other:?}"),
    }
    let bare = r#"{"orderStrategy": {"status": "REJECTED"}}"#;
    assert!(matches!(parse_preview(bare.as_bytes()), Err(ProviderError::Rejected { .. })));
    for bad in ["", "[]", "{}", r#"{"orderStrategy": {"price": true}}"#, "<html>"] {
        assert!(matches!(parse_preview(bad.as_bytes()), Err(ProviderError::Malformed { .. })), "{bad}");
    }
}

#[test]
fn a_trade_refusal_is_typed_from_its_status() {
    assert!(matches!(
        map_trade_error(403, br#"{"errors":[{"status":"403","title":"Forbidden"}]}"#, None),
        ProviderError::TradingNotPermitted { .. }
    ));
    match map_trade_error(400, br#"{"message":"Order rejected: insufficient funds"}"#, None) {
        ProviderError::Rejected { detail, status, .. } => {
            assert_eq!((detail.as_str(), status), ("Order rejected: insufficient funds", 400))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(map_trade_error(429, b"", Some(7)), ProviderError::RateLimited { retry_after_s: Some(7), .. }));
    assert!(matches!(map_trade_error(401, b"", None), ProviderError::Auth { .. }));
    assert!(matches!(map_trade_error(502, b"upstream", None), ProviderError::ServerError { .. }));
}

#[test]
fn the_order_list_is_read_from_sixty_days_back_in_schwabs_request_form() {
    let now = parse_rfc3339("2026-12-06T12:00:00Z").unwrap();
    assert_eq!(
        orders_query(now),
        vec![
            ("fromEnteredTime", "2026-10-07T12:00:00.000Z".to_owned()),
            ("toEnteredTime", "2026-12-06T13:00:00.000Z".to_owned())
        ]
    );
}

fn position(ticker: &str, name: &str, kind: SecurityKind) -> Position {
    Position {
        provider: Provider::Schwab,
        account_id: "H1".into(),
        institution: None,
        security_key: ticker.into(),
        ticker: Some(Ticker::parse(ticker).unwrap()),
        name: Some(name.into()),
        kind,
        quantity: Quantity(Decimal::ONE),
        price: None,
        market_value: None,
        cost_basis: None,
        currency: Currency::parse("USD").unwrap(),
        as_of: 0,
        detail: None,
    }
}

#[test]
fn symbols_come_from_the_accounts_holdings_then_the_ticker_as_typed() {
    let held = [
        position("SYNT", "Synth Corp", SecurityKind::Equity),
        position("SETF", "Synth ETF Trust", SecurityKind::Etf),
        position("SYNT  260605C00121000", "SYNTH CORP CALL", SecurityKind::Option),
        position("SWVXX", "Schwab Value Advantage Money", SecurityKind::MutualFund),
    ];
    let refs: Vec<&Position> = held.iter().collect();
    let names = |q: &str| symbol_candidates(q, &refs).into_iter().map(|s| s.symbol).collect::<Vec<_>>();
    assert_eq!(names("synt"), ["SYNT", "SETF"], "by ticker, then by name; the option and fund are not offered");
    assert_eq!(names("SETF"), ["SETF"], "a held ticker is not offered twice");
    assert_eq!(names("aapl"), ["AAPL"], "a ticker not held is offered as typed, for the preview to check");
    assert_eq!(names("brk.b"), ["BRK.B"]);
    assert!(names("money market fund!").is_empty());
    assert!(names("1ABC").is_empty(), "a symbol starts with a letter");
    let first = &symbol_candidates("synth corp", &refs)[0];
    assert_eq!((first.symbol_id.as_str(), first.kind.as_deref()), ("SYNT", Some("equity")));
    assert_eq!(first.description.as_deref(), Some("Synth Corp"));
}
