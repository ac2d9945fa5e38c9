//! Order lifecycles over a fresh Schwab state: cancel and replace states, the orders window and
//! its query rules, the `Order` rendering and the settings control.

use super::book::{OrderStatus, FIRST_ORDER_ID};
use super::control::{settings_from, TradingSpec};
use super::desk::{self, After};
use super::query::OrdersQuery;
use super::tests::{at, cash, margin, market, order, place, settings, window, JANUARY};
use super::OrderError;
use crate::schwab::seed::MARGIN_ACCOUNT_NUMBER;
use crate::schwab::state::SchwabState;
use serde_json::{json, Value};
use std::time::Instant;

#[test]
fn only_open_orders_can_be_cancelled_and_unknown_ones_are_not_found() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let id = place(&mut state, &margin(), &market("BUY", 1, "SYNT"), at(t0, 0)).unwrap().order_id;
    let other = place(&mut state, &cash(), &market("BUY", 1, "SYNT"), at(t0, 0)).unwrap().order_id;
    assert_eq!(desk::cancel(&mut state, "ann", &margin(), &other.to_string(), at(t0, 1)), Err(OrderError::NotFound));
    assert_eq!(desk::cancel(&mut state, "ann", &margin(), "999", at(t0, 1)), Err(OrderError::NotFound));
    assert_eq!(desk::cancel(&mut state, "ann", &margin(), "x", at(t0, 1)), Err(OrderError::NotFound));
    assert_eq!(desk::cancel(&mut state, "ann", &margin(), &id.to_string(), at(t0, 5)), Ok(()));
    let cancelled = desk::order(&state, "ann", &margin(), &id.to_string()).unwrap();
    assert_eq!(
        (&cancelled["status"], &cancelled["closeTime"]),
        (&json!("CANCELED"), &json!("2026-01-05T15:00:05+0000"))
    );
    assert_eq!((&cancelled["cancelable"], &cancelled["editable"]), (&json!(false), &json!(false)));
    assert!(cancelled["statusDescription"].is_string());
    let again = desk::cancel(&mut state, "ann", &margin(), &id.to_string(), at(t0, 6));
    assert_eq!(again, Err(OrderError::NotOpen("Order cannot be cancelled: its status is CANCELED".into())));
    assert_eq!(desk::order(&state, "ann", &cash(), &id.to_string()), Err(OrderError::NotFound), "another account's");
}

#[test]
fn a_replace_makes_a_new_order_and_marks_the_old_one_replaced() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let old = place(&mut state, &margin(), &order("LIMIT", "BUY", json!(1), "SYNT", Some(json!(150))), at(t0, 0));
    let old = old.unwrap().order_id.to_string();
    let body = order("LIMIT", "BUY", json!(3), "SYNT", Some(json!("151.5")));
    let new = desk::place(&mut state, "ann", &margin(), &body, Some(&old), at(t0, 2)).unwrap();
    assert_eq!(new.order_id, FIRST_ORDER_ID + 1);
    let old_json = desk::order(&state, "ann", &margin(), &old).unwrap();
    assert_eq!((&old_json["status"], &old_json["closeTime"]), (&json!("REPLACED"), &json!("2026-01-05T15:00:02+0000")));
    let new_json = desk::order(&state, "ann", &margin(), &new.order_id.to_string()).unwrap();
    assert_eq!(
        (&new_json["status"], &new_json["price"], &new_json["quantity"]),
        (&json!("WORKING"), &json!(151.5), &json!(3.0))
    );
    let again = desk::place(&mut state, "ann", &margin(), &body, Some(&old), at(t0, 3));
    assert_eq!(again, Err(OrderError::NotOpen("Order cannot be replaced: its status is REPLACED".into())));
    assert_eq!(desk::place(&mut state, "ann", &margin(), &body, Some("42"), at(t0, 3)), Err(OrderError::NotFound));
}

#[test]
fn the_next_placements_can_be_accepted_then_failed_a_set_number_of_times() {
    let mut state = SchwabState::default();
    let now = at(Instant::now(), 0);
    settings(
        &mut state,
        MARGIN_ACCOUNT_NUMBER,
        json!({"next_place": {"outcome": "accept_then_500"}, "times": 2,
                                                       "order_status": "QUEUED"}),
    );
    let body = market("BUY", 1, "SYNT");
    assert_eq!(place(&mut state, &margin(), &body, now).map(|p| p.after), Ok(After::Fail500));
    assert_eq!(place(&mut state, &margin(), &body, now).map(|p| p.after), Ok(After::Fail500));
    assert_eq!(place(&mut state, &margin(), &body, now).map(|p| p.after), Ok(After::Created));
    settings(&mut state, MARGIN_ACCOUNT_NUMBER, json!({"next_place": {"outcome": "accept_then_timeout"}}));
    assert_eq!(place(&mut state, &margin(), &body, now).map(|p| p.after), Ok(After::Timeout));
    let outcomes: Vec<_> = state.orders.placements(Some("ann")).iter().map(|p| p.outcome.as_str()).collect();
    assert_eq!(outcomes, ["created_then_500", "created_then_500", "created", "created_then_timeout"]);
    let statuses: Vec<_> = state.orders.customer_orders(Some("ann")).map(|o| o.status).collect();
    assert_eq!(statuses, [OrderStatus::Working, OrderStatus::Queued, OrderStatus::Queued, OrderStatus::Queued]);
}

#[test]
fn orders_are_listed_newest_first_within_the_window_and_status() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    for secs in [0, 60, 120] {
        place(&mut state, &margin(), &market("BUY", 1, "SYNT"), at(t0, secs)).unwrap();
    }
    desk::cancel(&mut state, "ann", &margin(), &(FIRST_ORDER_ID + 1).to_string(), at(t0, 130)).unwrap();
    let ids =
        |orders: Vec<Value>| orders.iter().map(|o| o["orderId"].as_u64().unwrap() - FIRST_ORDER_ID).collect::<Vec<_>>();
    assert_eq!(ids(window(&state, &margin(), JANUARY)), [2, 1, 0]);
    assert_eq!(ids(window(&state, &margin(), &format!("{JANUARY}&maxResults=2"))), [2, 1]);
    assert_eq!(ids(window(&state, &margin(), &format!("{JANUARY}&status=CANCELED"))), [1]);
    assert_eq!(ids(window(&state, &margin(), &format!("{JANUARY}&status=FILLED"))), Vec::<u64>::new());
    let narrow = "fromEnteredTime=2026-01-05T15:01:00%2B0000&toEnteredTime=2026-01-05T15:01:59Z";
    assert_eq!(ids(window(&state, &margin(), narrow)), [1]);
    assert!(window(&state, &cash(), JANUARY).is_empty());
}

#[test]
fn the_orders_window_is_required_ordered_and_at_most_a_year() {
    let parse = |query: &str| OrdersQuery::parse(&format!("/x?{query}").parse().unwrap());
    let ok = parse("fromEnteredTime=2025-01-05T00:00:00.000Z&toEnteredTime=2026-01-05T00:00:00Z").unwrap();
    assert_eq!((ok.max_results, ok.status), (3000, None));
    for (query, why) in [
        ("toEnteredTime=2026-01-05T00:00:00Z", "fromEnteredTime is required"),
        ("fromEnteredTime=2026-01-05T00:00:00Z", "toEnteredTime is required"),
        ("fromEnteredTime=2026-01-05&toEnteredTime=2026-01-06T00:00:00Z", "fromEnteredTime must be"),
        ("fromEnteredTime=2026-01-06T00:00:00Z&toEnteredTime=2026-01-05T00:00:00Z", "toEnteredTime must not be before"),
        ("fromEnteredTime=2025-01-05T00:00:00Z&toEnteredTime=2026-01-05T00:00:00.001Z", "Maximum date range is 1 year"),
        ("fromEnteredTime=2026-01-05T00:00:00Z&toEnteredTime=2026-01-05T00:00:00Z&maxResults=0", "maxResults must be"),
        ("fromEnteredTime=2026-01-05T00:00:00Z&toEnteredTime=2026-01-05T00:00:00Z&maxResults=x", "maxResults must be"),
        ("fromEnteredTime=2026-01-05T00:00:00Z&toEnteredTime=2026-01-05T00:00:00Z&status=working", "Invalid status"),
    ] {
        let error = parse(query).unwrap_err();
        assert!(error.starts_with(why), "{query}: {error}");
    }
    let status =
        parse("fromEnteredTime=2026-01-05T00:00:00Z&toEnteredTime=2026-01-05T00:00:00Z&status=AWAITING_UR_OUT");
    assert_eq!(status.unwrap().status, Some("AWAITING_UR_OUT"));
}

#[test]
fn an_order_is_rendered_in_schwabs_order_shape() {
    let mut state = SchwabState::default();
    let body = order("LIMIT", "BUY", json!(2), "SETF", Some(json!("70.5")));
    let id = place(&mut state, &margin(), &body, at(Instant::now(), 0)).unwrap().order_id;
    let order = desk::order(&state, "ann", &margin(), &id.to_string()).unwrap();
    let leg = &order["orderLegCollection"][0];
    assert_eq!(leg["instrument"]["assetType"], "COLLECTIVE_INVESTMENT", "the instrument's own type");
    assert_eq!((&leg["orderLegType"], &leg["legId"], &leg["quantity"]), (&json!("EQUITY"), &json!(1), &json!(2.0)));
    assert!(leg["instrument"]["instrumentId"].is_u64());
    assert_eq!((&order["accountNumber"], &order["orderId"]), (&json!(12_345_678), &json!(id)));
    assert_eq!((&order["enteredTime"], &order["status"]), (&json!("2026-01-05T15:00:00+0000"), &json!("WORKING")));
    assert_eq!((&order["filledQuantity"], &order["remainingQuantity"]), (&json!(0.0), &json!(2.0)));
    assert_eq!((&order["price"], &order["cancelable"], &order["editable"]), (&json!(70.5), &json!(true), &json!(true)));
    assert_eq!((&order["requestedDestination"], &order["destinationLinkName"]), (&json!("AUTO"), &json!("AutoRoute")));
    assert_eq!((&order["complexOrderStrategyType"], &order["orderStrategyType"]), (&json!("NONE"), &json!("SINGLE")));
    for absent in ["stopPrice", "closeTime", "orderActivityCollection", "statusDescription"] {
        assert!(order.get(absent).is_none(), "{absent}");
    }
}

#[test]
fn the_settings_control_checks_its_fields_and_defaults_the_rest() {
    let spec = |v: Value| {
        let mut v = v;
        (v["customer"], v["account_number"]) = (json!("ann"), json!("1"));
        settings_from(&serde_json::from_value::<TradingSpec>(v).unwrap())
    };
    let defaults = spec(json!({})).unwrap();
    assert_eq!((defaults.app_trading_enabled, defaults.order_limit_per_minute), (true, 120));
    assert_eq!((defaults.next_place, defaults.times, defaults.order_status), (None, 0, OrderStatus::Working));
    let reject = spec(json!({"next_place": {"outcome": "reject"}})).unwrap();
    assert_eq!((reject.times, reject.next_place.is_some()), (1, true));
    assert!(spec(json!({"times": 2})).is_err());
    assert!(spec(json!({"next_place": {"outcome": "reject"}, "times": 0})).is_err());
    assert!(spec(json!({"order_limit_per_minute": 121})).is_err());
    assert!(spec(json!({"order_limit_per_minute": 0})).is_ok());
    assert!(spec(json!({"order_status": "FILLED"})).is_err());
    assert_eq!(
        spec(json!({"order_status": "PENDING_ACTIVATION"})).unwrap().order_status,
        OrderStatus::PendingActivation
    );
    assert!(serde_json::from_value::<TradingSpec>(json!({"customer": "a", "account_number": "1", "x": 1})).is_err());
}
