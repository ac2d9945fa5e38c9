//! The order desk over a fresh Schwab state, with the time passed in: previews (figures, rejects,
//! warnings), placements and their refusals, the Location, no deduplication, the order limit and
//! the app permission. Lifecycles are in `lifecycle_tests.rs`, fills in `fill_tests.rs`; both use
//! the helpers here.

use super::book::{PlaceOutcome, FIRST_ORDER_ID};
use super::control::{settings_from, TradingSpec};
use super::desk::{self, After, Placed};
use super::query::OrdersQuery;
use super::routes::location;
use super::{Now, OrderError};
use crate::schwab::seed::{account_hash, CASH_ACCOUNT_NUMBER, MARGIN_ACCOUNT_NUMBER};
use crate::schwab::state::SchwabState;
use axum::http::{header, HeaderMap, HeaderValue};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// 2026-01-05T15:00:00Z.
pub(super) const UNIX_MS: i64 = 1_767_625_200_000;

pub(super) fn at(t0: Instant, secs: u64) -> Now {
    Now { instant: t0 + Duration::from_secs(secs), unix_ms: UNIX_MS + secs as i64 * 1000 }
}

pub(super) fn margin() -> String {
    account_hash("ann", MARGIN_ACCOUNT_NUMBER)
}

pub(super) fn cash() -> String {
    account_hash("ann", CASH_ACCOUNT_NUMBER)
}

/// A single-leg order body.
pub(super) fn order(kind: &str, instruction: &str, quantity: Value, symbol: &str, price: Option<Value>) -> Vec<u8> {
    let mut body = json!({"orderType": kind, "session": "NORMAL", "duration": "DAY", "orderStrategyType": "SINGLE",
        "orderLegCollection": [{"instruction": instruction, "quantity": quantity,
            "instrument": {"symbol": symbol, "assetType": "EQUITY"}}]});
    if let Some(price) = price {
        body["price"] = price;
    }
    body.to_string().into_bytes()
}

pub(super) fn market(instruction: &str, quantity: u32, symbol: &str) -> Vec<u8> {
    order("MARKET", instruction, json!(quantity), symbol, None)
}

pub(super) fn place(state: &mut SchwabState, hash: &str, body: &[u8], now: Now) -> Result<Placed, OrderError> {
    desk::place(state, "ann", hash, body, None, now)
}

pub(super) fn settings(state: &mut SchwabState, number: &str, spec: Value) {
    let mut spec = spec;
    (spec["customer"], spec["account_number"]) = (json!("ann"), json!(number));
    let spec: TradingSpec = serde_json::from_value(spec).unwrap();
    state.orders.set_settings(&account_hash("ann", number), settings_from(&spec).unwrap());
}

pub(super) fn window(state: &SchwabState, hash: &str, query: &str) -> Vec<Value> {
    let uri = format!("/trader/v1/accounts/{hash}/orders?{query}").parse().unwrap();
    desk::orders(state, "ann", hash, &OrdersQuery::parse(&uri).unwrap()).unwrap()
}

pub(super) const JANUARY: &str = "fromEnteredTime=2026-01-01T00:00:00.000Z&toEnteredTime=2026-01-31T23:59:59.999Z";

#[test]
fn a_preview_values_a_market_buy_at_the_quote_with_no_commission_or_fee() {
    let state = SchwabState::default();
    let t0 = Instant::now();
    let preview = desk::preview(&state, "ann", &margin(), &market("BUY", 2, "SYNT"), at(t0, 0)).unwrap();
    let strategy = &preview["orderStrategy"];
    assert_eq!((&preview["orderId"], &preview["orderValidationResult"]), (&json!(0), &json!({})));
    assert_eq!((&strategy["accountNumber"], &strategy["status"]), (&json!("12345678"), &json!("ACCEPTED")));
    assert_eq!(strategy["enteredTime"], "2026-01-05T15:00:00Z");
    assert_eq!(
        strategy["orderBalance"],
        json!({"orderValue": 310.0, "projectedAvailableFund": 2190.25, "projectedBuyingPower": 4690.5,
               "projectedCommission": 0.0})
    );
    assert_eq!((&strategy["quantity"], &strategy["orderValue"]), (&json!(2.0), &json!(310.0)));
    assert!(strategy.get("price").is_none() && strategy.get("stopPrice").is_none());
    let leg = &strategy["orderLegs"][0];
    assert_eq!(
        (&leg["askPrice"], &leg["bidPrice"], &leg["lastPrice"], &leg["markPrice"]),
        (&json!(155.05), &json!(154.95), &json!(155.0), &json!(155.0))
    );
    assert_eq!(
        (&leg["legId"], &leg["positionEffect"], &leg["instrument"]),
        (&json!(1), &json!("OPENING"), &json!({"assetType": "EQUITY", "symbol": "SYNT"}))
    );
    let fees = &preview["commissionAndFee"]["fee"]["feeLegs"][0]["feeValues"];
    assert_eq!(
        fees,
        &json!([{"value": 0.0, "type": "SEC_FEE"}, {"value": 0.0, "type": "OPT_REG_FEE"},
        {"value": 0.0, "type": "TAF_FEE"}])
    );
    let commission = &preview["commissionAndFee"]["commission"]["commissionLegs"][0]["commissionValues"];
    assert_eq!(commission, &json!([{"value": 0.0, "type": "BASE_CHARGE"}, {"value": 0.0, "type": "COMMISSION"}]));
    assert_eq!(preview["commissionAndFee"]["trueCommission"], preview["commissionAndFee"]["commission"]);
}

#[test]
fn a_limit_sell_preview_is_valued_at_the_limit_and_pays_the_sec_fee() {
    let state = SchwabState::default();
    let body = order("LIMIT", "SELL", json!(10), "SYNT", Some(json!("160.00")));
    let preview = desk::preview(&state, "ann", &margin(), &body, at(Instant::now(), 0)).unwrap();
    let strategy = &preview["orderStrategy"];
    assert_eq!(strategy["price"], 160.0);
    assert_eq!(
        strategy["orderBalance"],
        json!({"orderValue": 1600.0, "projectedAvailableFund": 4100.2, "projectedBuyingPower": 6600.45,
               "projectedCommission": 0.05})
    );
    assert_eq!(
        preview["commissionAndFee"]["fee"]["feeLegs"][0]["feeValues"][0],
        json!({"value": 0.05, "type": "SEC_FEE"})
    );
    assert_eq!(strategy["orderLegs"][0]["positionEffect"], "CLOSING");
}

#[test]
fn previews_reject_unknown_symbols_overspending_and_overselling_with_an_activity_message() {
    let mut state = SchwabState::default();
    let now = at(Instant::now(), 0);
    let rejects = |state: &SchwabState, hash: &str, body: &[u8]| {
        let preview = desk::preview(state, "ann", hash, body, now).unwrap();
        assert_eq!(preview["orderStrategy"]["status"], "REJECTED", "{preview}");
        let rejects = preview["orderValidationResult"]["rejects"].as_array().unwrap().clone();
        assert!(rejects.iter().all(|r| r["originalSeverity"] == "REJECT" && r["activityMessage"].is_string()));
        rejects.iter().map(|r| r["activityMessage"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let unknown = rejects(&state, &margin(), &market("BUY", 1, "ZZZZ"));
    assert_eq!(unknown, ["ZZZZ is not a valid symbol or is not eligible for trading."]);
    for unquoted in ["SWTSX", "SYNT  260605C00121000"] {
        assert_eq!(rejects(&state, &cash(), &market("BUY", 1, unquoted)).len(), 1, "{unquoted}");
    }
    let broke = rejects(&state, &cash(), &market("BUY", 8, "AAPL"));
    assert_eq!(broke, ["Your order exceeds your available funds: it needs $1520 and $1500.25 is available."]);
    assert!(desk::preview(&state, "ann", &cash(), &market("BUY", 7, "AAPL"), now)
        .is_ok_and(|p| p["orderStrategy"]["status"] == "ACCEPTED"));
    let oversold = rejects(&state, &margin(), &market("SELL", 11, "SYNT"));
    assert!(oversold[0].starts_with("This order may result in an oversold position"), "{oversold:?}");
    assert_eq!(rejects(&state, &cash(), &market("SELL", 1, "SYNT")).len(), 1, "nothing held");

    settings(&mut state, MARGIN_ACCOUNT_NUMBER, json!({"next_place": {"outcome": "reject", "reason": "Halted."}}));
    assert_eq!(rejects(&state, &margin(), &market("BUY", 1, "SYNT")), ["Halted."]);
    assert_eq!(rejects(&state, &margin(), &market("BUY", 1, "SYNT")), ["Halted."], "a preview does not use it up");
    assert_eq!(
        place(&mut state, &margin(), &market("BUY", 1, "SYNT"), now),
        Err(OrderError::Rejected("Halted.".into()))
    );
    assert!(place(&mut state, &margin(), &market("BUY", 1, "SYNT"), now).is_ok(), "used up by the placement");
}

#[test]
fn a_limit_far_from_the_market_is_a_warning_not_a_reject() {
    let state = SchwabState::default();
    let body = order("LIMIT", "BUY", json!(1), "SYNT", Some(json!("10.00")));
    let preview = desk::preview(&state, "ann", &margin(), &body, at(Instant::now(), 0)).unwrap();
    assert_eq!(preview["orderStrategy"]["status"], "ACCEPTED");
    let warns = &preview["orderValidationResult"]["warns"];
    assert_eq!(warns[0]["activityMessage"], "Your limit price is significantly away from the current market price.");
    assert!(preview["orderValidationResult"].get("rejects").is_none());
}

#[test]
fn accounts_are_addressed_by_the_customers_hash_only() {
    let mut state = SchwabState::default();
    let now = at(Instant::now(), 0);
    let body = market("BUY", 1, "SYNT");
    for hash in [MARGIN_ACCOUNT_NUMBER.to_owned(), account_hash("bob", MARGIN_ACCOUNT_NUMBER), String::new()] {
        assert_eq!(desk::preview(&state, "ann", &hash, &body, now), Err(OrderError::InvalidAccount));
        assert_eq!(place(&mut state, &hash, &body, now), Err(OrderError::InvalidAccount));
        assert_eq!(desk::cancel(&mut state, "ann", &hash, "1", now), Err(OrderError::InvalidAccount));
        assert_eq!(desk::order(&state, "ann", &hash, "1"), Err(OrderError::InvalidAccount));
    }
    assert!(state.orders.placements(None).is_empty(), "not placements");
}

#[test]
fn identical_placements_make_two_orders_with_increasing_ids_and_a_location_each() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let body = order("LIMIT", "BUY", json!(1), "SYNT", Some(json!("10.00")));
    let first = place(&mut state, &margin(), &body, at(t0, 0)).unwrap();
    let second = place(&mut state, &margin(), &body, at(t0, 1)).unwrap();
    assert_eq!(first, Placed { order_id: FIRST_ORDER_ID, after: After::Created });
    assert_eq!(second.order_id, FIRST_ORDER_ID + 1, "never deduplicated");
    let other = place(&mut state, &cash(), &market("BUY", 1, "VTI"), at(t0, 2)).unwrap();
    assert_eq!(other.order_id, FIRST_ORDER_ID + 2, "unique across accounts");
    let placements = state.orders.placements(Some("ann"));
    assert_eq!(placements.len(), 3);
    assert!(placements.iter().all(|p| p.outcome == PlaceOutcome::Created));
    assert_eq!((placements[2].order_id, placements[2].symbol.as_deref()), (Some(FIRST_ORDER_ID + 2), Some("VTI")));
    let mut headers = HeaderMap::new();
    headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:4321"));
    let hash = margin();
    assert_eq!(
        location(&headers, "http://127.0.0.1:9", &hash, first.order_id),
        format!("http://127.0.0.1:4321/trader/v1/accounts/{hash}/orders/1000000000001")
    );
    assert_eq!(
        location(&HeaderMap::new(), "http://127.0.0.1:9", &hash, 7),
        format!("http://127.0.0.1:9/trader/v1/accounts/{hash}/orders/7")
    );
}

#[test]
fn rejected_and_invalid_placements_make_no_order() {
    let mut state = SchwabState::default();
    let now = at(Instant::now(), 0);
    let rejected = place(&mut state, &cash(), &market("BUY", 100, "SYNT"), now);
    assert!(matches!(&rejected, Err(OrderError::Rejected(m)) if m.starts_with("Your order exceeds")), "{rejected:?}");
    let invalid = place(&mut state, &cash(), br#"{"orderType": "MARKET"}"#, now);
    assert!(matches!(&invalid, Err(OrderError::Invalid(e)) if e.errors.len() == 4), "{invalid:?}");
    assert_eq!(state.orders.customer_orders(Some("ann")).count(), 0);
    let placements = state.orders.placements(Some("ann"));
    assert_eq!(placements.len(), 1, "an invalid body is not a placement");
    assert_eq!((placements[0].outcome, placements[0].order_id), (PlaceOutcome::Rejected, None));
}

#[test]
fn order_writes_have_their_own_per_account_limit_per_trailing_minute() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    settings(&mut state, MARGIN_ACCOUNT_NUMBER, json!({"order_limit_per_minute": 2}));
    let body = market("BUY", 1, "SYNT");
    let id = place(&mut state, &margin(), &body, at(t0, 0)).unwrap().order_id;
    assert_eq!(desk::cancel(&mut state, "ann", &margin(), &id.to_string(), at(t0, 10)), Ok(()));
    assert_eq!(place(&mut state, &margin(), &body, at(t0, 20)), Err(OrderError::Throttled { retry_after: 40 }));
    assert_eq!(
        desk::cancel(&mut state, "ann", &margin(), "1", at(t0, 59)),
        Err(OrderError::Throttled { retry_after: 1 })
    );
    assert!(desk::preview(&state, "ann", &margin(), &body, at(t0, 20)).is_ok(), "previews are not order writes");
    assert!(place(&mut state, &cash(), &body, at(t0, 20)).is_ok(), "another account has its own limit");
    assert!(place(&mut state, &margin(), &body, at(t0, 60)).is_ok(), "the first write left the window");
    let outcomes: Vec<_> = state.orders.placements(Some("ann")).iter().map(|p| p.outcome).collect();
    assert_eq!(
        outcomes,
        [PlaceOutcome::Created, PlaceOutcome::Throttled, PlaceOutcome::Created, PlaceOutcome::Created]
    );
    assert_eq!(state.orders.placements(None)[1].symbol.as_deref(), Some("SYNT"), "the body was read");

    settings(&mut state, CASH_ACCOUNT_NUMBER, json!({"order_limit_per_minute": 0}));
    assert_eq!(place(&mut state, &cash(), &body, at(t0, 61)), Err(OrderError::Throttled { retry_after: 60 }));
}

#[test]
fn an_app_without_trading_permission_may_read_but_not_preview_or_write() {
    let mut state = SchwabState::default();
    let now = at(Instant::now(), 0);
    let id = place(&mut state, &margin(), &market("BUY", 1, "SYNT"), now).unwrap().order_id.to_string();
    settings(&mut state, MARGIN_ACCOUNT_NUMBER, json!({"app_trading_enabled": false}));
    let body = market("BUY", 1, "SYNT");
    assert_eq!(desk::preview(&state, "ann", &margin(), &body, now), Err(OrderError::Forbidden));
    assert_eq!(place(&mut state, &margin(), &body, now), Err(OrderError::Forbidden));
    assert_eq!(place(&mut state, &margin(), b"{}", now), Err(OrderError::Forbidden), "before the body");
    assert_eq!(desk::place(&mut state, "ann", &margin(), &body, Some(&id), now), Err(OrderError::Forbidden));
    assert_eq!(desk::cancel(&mut state, "ann", &margin(), &id, now), Err(OrderError::Forbidden));
    assert!(desk::order(&state, "ann", &margin(), &id).is_ok());
    assert_eq!(window(&state, &margin(), JANUARY).len(), 1);
    let placements = state.orders.placements(Some("ann"));
    let forbidden: Vec<_> = placements.iter().filter(|p| p.outcome == PlaceOutcome::Forbidden).collect();
    assert_eq!(forbidden.len(), 3);
    assert_eq!((forbidden[1].symbol.as_ref(), forbidden[1].quantity), (None, None), "the body was not an order");
}
