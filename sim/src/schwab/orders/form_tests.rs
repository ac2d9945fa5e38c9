use super::*;
use serde_json::{json, Value};

/// The reference's minimal place-order body with `changes` merged over it (top level and the leg).
fn body(changes: Value, leg: Value) -> String {
    let mut order = json!({"orderType": "LIMIT", "session": "NORMAL", "duration": "DAY",
                           "orderStrategyType": "SINGLE", "price": "10.00",
                           "orderLegCollection": [{"instruction": "BUY", "quantity": 1,
                               "instrument": {"symbol": "SYNT", "assetType": "EQUITY"}}]});
    for (k, v) in changes.as_object().unwrap() {
        order[k] = v.clone();
    }
    for (k, v) in leg.as_object().unwrap() {
        order["orderLegCollection"][0][k] = v.clone();
    }
    order.to_string()
}

fn errors(text: &str) -> Vec<String> {
    parse_order(text.as_bytes()).unwrap_err().errors
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn the_reference_minimal_body_is_a_limit_buy_with_a_string_price() {
    let order = parse_order(body(json!({}), json!({})).as_bytes()).unwrap();
    assert_eq!(
        order,
        OrderRequest {
            order_type: OrderType::Limit,
            session: Session::Normal,
            duration: OrderDuration::Day,
            price: Some(dec("10.00")),
            stop_price: None,
            instruction: Instruction::Buy,
            quantity: dec("1"),
            symbol: "SYNT".into(),
            asset_type: AssetType::Equity,
        }
    );
    let market = body(
        json!({"orderType": "MARKET", "price": null, "session": "SEAMLESS",
                             "duration": "GOOD_TILL_CANCEL", "extra": {"ignored": true}}),
        json!({"instruction": "SELL", "instrument": {"symbol": " setf ", "assetType": "COLLECTIVE_INVESTMENT"}}),
    );
    let market = parse_order(market.as_bytes()).unwrap();
    assert_eq!((market.order_type, market.price, market.session), (OrderType::Market, None, Session::Seamless));
    assert_eq!(
        (market.symbol.as_str(), market.asset_type, market.instruction),
        ("SETF", AssetType::CollectiveInvestment, Instruction::Sell)
    );
}

#[test]
fn money_is_read_exactly_from_the_json_text() {
    let exact = r#"{"orderType": "STOP_LIMIT", "session": "AM", "duration": "FILL_OR_KILL", "orderStrategyType": "SINGLE",
        "price": 0.1000000000000000055511, "stopPrice": "0.30",
        "orderLegCollection": [{"instruction": "BUY", "quantity": 2.5E1,
            "instrument": {"symbol": "AAPL", "assetType": "EQUITY"}}]}"#;
    let order = parse_order(exact.as_bytes()).unwrap();
    assert_eq!(order.price, Some(dec("0.1000000000000000055511")), "more digits than an f64 holds");
    assert_eq!((order.stop_price, order.quantity), (Some(dec("0.30")), dec("25")));
    assert_eq!(parse_order(body(json!({"price": 10.1}), json!({})).as_bytes()).unwrap().price, Some(dec("10.1")));
    let text = body(json!({"price": "  12.345 "}), json!({"quantity": 0.5}));
    let order = parse_order(text.as_bytes()).unwrap();
    assert_eq!((order.price, order.quantity), (Some(dec("12.345")), dec("0.5")));
}

#[test]
fn every_defect_is_listed_with_the_first_as_the_message() {
    let all = errors("{}");
    assert_eq!(all.len(), 5, "{all:?}");
    assert!(all[0].starts_with("orderType is required"), "{all:?}");
    assert!(all.iter().any(|e| e.starts_with("orderLegCollection is required")), "{all:?}");
    assert_eq!(FormError { errors: all.clone() }.message(), all[0]);
    for not_object in ["", "[]", "null", "\"x\"", "{", "{\"a\":1}x"] {
        assert_eq!(errors(not_object).len(), 1, "{not_object}");
    }
    assert_eq!(errors("\u{ff}").len(), 1);
}

#[test]
fn prices_belong_exactly_to_the_types_that_use_them() {
    let market_with_price = errors(&body(json!({"orderType": "MARKET"}), json!({})));
    assert_eq!(market_with_price, ["price is not allowed for MARKET orders"]);
    assert_eq!(errors(&body(json!({"price": null}), json!({}))), ["price is required for LIMIT orders"]);
    let stop = errors(&body(json!({"orderType": "STOP", "price": null}), json!({})));
    assert_eq!(stop, ["stopPrice is required for STOP orders"]);
    assert!(parse_order(body(json!({"orderType": "STOP_LIMIT", "stopPrice": "9"}), json!({})).as_bytes()).is_ok());
    let limit_with_stop = errors(&body(json!({"stopPrice": 9}), json!({})));
    assert_eq!(limit_with_stop, ["stopPrice is not allowed for LIMIT orders"]);
    for (price, why) in [
        (json!(0), "price must be greater than 0"),
        (json!(-1.5), "price must be greater than 0"),
        (json!("1e2"), "price must be a decimal number"),
        (json!("ten"), "price must be a decimal number"),
        (json!("1_0"), "price must be a decimal number"),
        (json!(true), "price must be a number"),
        (json!(2_000_000_000), "price must be at most 1000000000"),
    ] {
        assert_eq!(errors(&body(json!({ "price": price }), json!({}))), [why], "{price}");
    }
}

#[test]
fn the_leg_is_one_buy_or_sell_of_a_positive_number_of_an_equity_or_fund() {
    let two = body(json!({"orderLegCollection": [{}, {}]}), json!({}));
    assert_eq!(errors(&two), ["orderLegCollection must hold exactly one leg; got 2"]);
    assert_eq!(errors(&body(json!({"orderLegCollection": {}}), json!({}))), ["orderLegCollection must be an array"]);
    assert_eq!(
        errors(&body(json!({"orderLegCollection": [1]}), json!({}))),
        ["orderLegCollection[0] must be an object"]
    );
    let short = errors(&body(json!({}), json!({"instruction": "SELL_SHORT"})));
    assert_eq!(short, ["instruction must be one of BUY, SELL; got \"SELL_SHORT\""]);
    assert_eq!(errors(&body(json!({}), json!({"quantity": 0}))), ["quantity must be greater than 0"]);
    assert_eq!(errors(&body(json!({}), json!({"quantity": "1"}))), ["quantity must be a JSON number"]);
    assert_eq!(errors(&body(json!({}), json!({"quantity": null}))), ["quantity is required"]);
    let option =
        errors(&body(json!({}), json!({"instrument": {"symbol": "SYNT  260605C00121000", "assetType": "OPTION"}})));
    assert_eq!(option, ["assetType must be one of EQUITY, COLLECTIVE_INVESTMENT; got \"OPTION\""]);
    let no_symbol = errors(&body(json!({}), json!({"instrument": {"symbol": " ", "assetType": "EQUITY"}})));
    assert_eq!(no_symbol, ["instrument.symbol must be a string of 1 to 32 characters"]);
    assert_eq!(errors(&body(json!({}), json!({"instrument": null}))), ["instrument is required: {symbol, assetType}"]);
    let strategy = errors(&body(json!({"orderStrategyType": "OCO", "session": "normal"}), json!({})));
    assert_eq!(strategy.len(), 2, "{strategy:?}");
    assert!(strategy[0].starts_with("session must be one of NORMAL, AM, PM, SEAMLESS"), "{strategy:?}");
}
