//! The trading rules' tests: order parsing, the gate, estimates and their sources, the refusals a
//! provider's answers become, reconciliation matching, and (property-tested) that any interleaving
//! of duplicate, lost and retried place requests reaches the broker at most once.

use super::*;
use crate::capabilities::ConnectionType;
use crate::coverage::CoverageMap;
use crate::domain::{InstitutionSlug, Provider};
use crate::error::ErrorCode;
use crate::provider_error::ProviderError;
use crate::snaptrade::{map_error, parse_impact, parse_order_record, Operation};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

fn request(json: &str) -> OrderRequest {
    serde_json::from_str(json).unwrap()
}

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn limit_buy() -> OrderForm {
    OrderForm::parse(&request(
        r#"{"account_id":"acc-1","symbol":"AAPL","action":"BUY","order_type":"Limit","time_in_force":"Day","units":"10","limit_price":"189.50"}"#,
    ))
    .unwrap()
}

#[test]
fn an_order_is_read_exactly_and_in_any_case() {
    let order = OrderForm::parse(&request(
        r#"{"account_id":"acc-1","symbol_id":"sym-1","action":"sell","order_type":"stop_limit","time_in_force":"gtc","units":0.000000000000001,"limit_price":"12.34","stop_price":12.30}"#,
    ))
    .unwrap();
    assert_eq!(order.action, OrderAction::Sell);
    assert_eq!(order.order_type, OrderType::StopLimit);
    assert_eq!(order.time_in_force, TimeInForce::Gtc);
    assert_eq!(order.size, OrderSize::Units(d("0.000000000000001")));
    assert_eq!(order.stop_price, Some(d("12.3")));
    assert_eq!(order.symbol, SymbolRef::Id("sym-1".into()));
}

#[test]
fn each_bad_field_is_named() {
    let base = r#""account_id":"a","symbol":"AAPL","action":"BUY","time_in_force":"Day""#;
    let cases = [
        (format!(r#"{{{base},"order_type":"Market"}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Market","units":"1","notional":"5"}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Market","units":"-1"}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Market","units":"0"}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Market","units":"ten"}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Market","units":true}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Market","units":"1234567890.123456"}}"#), "units"),
        (format!(r#"{{{base},"order_type":"Limit","units":"1"}}"#), "limit_price"),
        (format!(r#"{{{base},"order_type":"Market","units":"1","limit_price":"3"}}"#), "limit_price"),
        (format!(r#"{{{base},"order_type":"Stop","units":"1"}}"#), "stop_price"),
        (format!(r#"{{{base},"order_type":"Limit","notional":"100","limit_price":"3"}}"#), "notional"),
        (format!(r#"{{{base},"order_type":"Bracket","units":"1"}}"#), "order_type"),
        (r#"{"symbol":"AAPL","action":"BUY","order_type":"Market","time_in_force":"Day","units":"1"}"#.into(), "account_id"),
        (r#"{"account_id":"a","action":"BUY","order_type":"Market","time_in_force":"Day","units":"1"}"#.into(), "symbol"),
        (r#"{"account_id":"a","symbol":"X","symbol_id":"y","action":"BUY","order_type":"Market","time_in_force":"Day","units":"1"}"#.into(), "symbol"),
        (r#"{"account_id":"a","symbol":"X","action":"HOLD","order_type":"Market","time_in_force":"Day","units":"1"}"#.into(), "action"),
        (r#"{"account_id":"a","symbol":"X","action":"BUY","order_type":"Market","time_in_force":"GTD","units":"1"}"#.into(), "time_in_force"),
        (r#"{"account_id":"a b","symbol":"X","action":"BUY","order_type":"Market","time_in_force":"Day","units":"1"}"#.into(), "account_id"),
    ];
    for (body, field) in cases {
        match OrderForm::parse(&request(&body)) {
            Err(TradingError::InvalidOrder { field: got, .. }) => assert_eq!(got, field, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(serde_json::from_str::<OrderRequest>(r#"{"account_id":"a","quantity":"1"}"#).is_err());
}

#[test]
fn the_local_order_limit_is_each_brokers_own_window() {
    let snaptrade = Provider::SnapTrade.spec().order_rate_limit;
    let first = admit_order(None, snaptrade, 100).unwrap();
    assert_eq!(first, OrderWindow { started_at: 100, orders: 1 });
    assert_eq!(admit_order(Some(first), snaptrade, 100), Err(1), "one a second");
    assert_eq!(admit_order(Some(first), snaptrade, 101), Ok(OrderWindow { started_at: 101, orders: 1 }));

    let schwab = Provider::Schwab.spec().order_rate_limit;
    let mut window = None;
    for i in 0..120 {
        window = Some(admit_order(window, schwab, 1_000 + i / 4).unwrap());
    }
    assert_eq!(window, Some(OrderWindow { started_at: 1_000, orders: 120 }));
    assert_eq!(admit_order(window, schwab, 1_029), Err(31), "the 121st waits for the minute to end");
    assert_eq!(admit_order(window, schwab, 1_059), Err(1));
    assert_eq!(admit_order(window, schwab, 1_060), Ok(OrderWindow { started_at: 1_060, orders: 1 }));

    let none = Provider::Plaid.spec().order_rate_limit;
    assert!(admit_order(None, none, 5).is_err(), "a provider without orders admits none");
    // The store applies the same rule in one statement: a window begun at or before this restarts.
    assert_eq!(order_window_rule(schwab, 1_060), OrderWindowRule { restart_at_or_before: 1_000, max_orders: 120 });
}

#[test]
fn a_notional_order_is_a_market_day_order() {
    let order = OrderForm::parse(&request(
        r#"{"account_id":"a","symbol":"VTI","action":"BUY","order_type":"Market","time_in_force":"Day","notional":"500.00"}"#,
    ))
    .unwrap();
    assert_eq!(order.size, OrderSize::Notional(d("500")));
}

#[test]
fn the_same_order_written_differently_has_one_fingerprint() {
    let a = limit_buy();
    let mut b = a.clone();
    b.size = OrderSize::Units(d("10.000"));
    b.limit_price = Some(d("189.5000"));
    assert_eq!(a.fingerprint("s"), b.fingerprint("s"));
    let mut c = a.clone();
    c.action = OrderAction::Sell;
    assert_ne!(a.fingerprint("s"), c.fingerprint("s"));
    assert_ne!(a.fingerprint("s"), a.fingerprint("t"));
}

#[test]
fn symbol_queries_are_bounded() {
    assert_eq!(parse_symbol_query(Some(" app ")).unwrap(), "app");
    for bad in [None, Some(""), Some("   "), Some("a\u{7}"), Some(&"x".repeat(33)[..])] {
        assert_eq!(parse_symbol_query(bad).unwrap_err().code(), "invalid_query", "{bad:?}");
    }
}

fn account(
    stored: bool,
    provider: Provider,
    connection: ConnectionType,
    slug: Option<&str>,
) -> Result<(), TradingError> {
    let slug = slug.map(|s| InstitutionSlug::parse(s).unwrap());
    let rule = slug.as_ref().and_then(|s| CoverageMap::embedded().rule(s));
    trading_gate(&TradingAccount {
        provider,
        account_id: "acc-1",
        stored_trading: stored,
        connection_type: connection,
        rule,
        needs_repair: false,
        brokerage: "Robinhood",
    })
}

#[test]
fn the_gate_reads_the_stored_capability_and_explains_a_refusal() {
    assert!(account(true, Provider::SnapTrade, ConnectionType::Trade, Some("robinhood")).is_ok());
    let reason = |r: Result<(), TradingError>| match r {
        Err(TradingError::NotAllowed { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason(account(false, Provider::SnapTrade, ConnectionType::Read, Some("robinhood"))),
        NotAllowedReason::ReadOnlyConnection
    );
    assert_eq!(
        reason(account(false, Provider::Plaid, ConnectionType::Read, None)),
        NotAllowedReason::ProviderCannotTrade
    );
    let refusal = account(false, Provider::SnapTrade, ConnectionType::Read, None).unwrap_err();
    assert_eq!((refusal.code(), refusal.http_status()), ("trading_not_allowed", 403));
    assert!(refusal.to_string().contains("acc-1") && refusal.to_string().contains("reconnect with trading"));
    let repair = trading_gate(&TradingAccount {
        provider: Provider::SnapTrade,
        account_id: "acc-1",
        stored_trading: true,
        connection_type: ConnectionType::Trade,
        rule: None,
        needs_repair: true,
        brokerage: "Robinhood",
    });
    assert_eq!(repair.unwrap_err().code(), "connection_needs_repair");
}

#[test]
fn an_institution_whose_rule_forbids_trading_says_so() {
    let map = CoverageMap::embedded();
    let Some((_, rule)) = map.iter().find(|(_, r)| !r.trading_allowed && r.preferred == Provider::SnapTrade) else {
        return; // every SnapTrade institution allows trading in this map
    };
    let refusal = trading_gate(&TradingAccount {
        provider: Provider::SnapTrade,
        account_id: "a",
        stored_trading: false,
        connection_type: ConnectionType::Trade,
        rule: Some(rule),
        needs_repair: false,
        brokerage: "x",
    });
    assert!(matches!(refusal, Err(TradingError::NotAllowed { reason: NotAllowedReason::InstitutionNotEnabled, .. })));
}

#[test]
fn broker_figures_come_first_and_unknown_figures_stay_null() {
    let order = limit_buy();
    let broker = BrokerImpact {
        price: Some(d("189.40")),
        commission: Some(d("0")),
        fees: None,
        remaining_cash: Some(d("106.00")),
        currency: Some("USD".into()),
        symbol: None,
    };
    let e = estimate(&order, Some(&broker), &CachedFacts::default());
    assert_eq!((e.price.value, e.price.source), (Some(d("189.40")), FigureSource::Brokerage));
    assert_eq!((e.commission.value, e.commission.source), (Some(d("0")), FigureSource::Brokerage));
    assert_eq!((e.fees.value, e.fees.source), (None, FigureSource::Unavailable));
    assert_eq!(e.remaining_cash.source, FigureSource::Brokerage);
    let json = e.to_json();
    assert_eq!(json["fees"], serde_json::Value::Null);
    assert_eq!(json["source"]["fees"], "unavailable");
    assert_eq!(json["price"], "189.40");

    let cached = CachedFacts { price: Some(d("180")), cash: Some(d("2000")), currency: Some("USD".into()) };
    let e = estimate(&order, None, &cached);
    assert_eq!(
        (e.price.value, e.price.source),
        (Some(d("189.50")), FigureSource::Estimate),
        "a limit order's own price"
    );
    assert_eq!((e.remaining_cash.value, e.remaining_cash.source), (Some(d("105.00")), FigureSource::Estimate));
    assert_eq!(e.commission.source, FigureSource::Unavailable);

    let mut market = order.clone();
    market.order_type = OrderType::Market;
    market.limit_price = None;
    market.action = OrderAction::Sell;
    let e = estimate(&market, None, &cached);
    assert_eq!((e.price.value, e.remaining_cash.value), (Some(d("180")), Some(d("3800"))));
    let e = estimate(&market, None, &CachedFacts::default());
    assert_eq!((e.price.value, e.remaining_cash.value), (None, None));
    assert_eq!((e.price.source, e.remaining_cash.source), (FigureSource::Unavailable, FigureSource::Unavailable));
}

fn trading_error(status: u16, body: &str) -> Result<TradingError, ProviderError> {
    let op = Operation::Trading { operation: "place", brokerage: Some("Robinhood".into()) };
    TradingError::from_provider(map_error(status, body.as_bytes(), &op, Some(3)), "Robinhood")
}

#[test]
fn snaptrade_refusals_become_typed_trading_errors_naming_the_brokerage() {
    let forbidden = trading_error(
        403,
        r#"{"default_detail":"User does not have permissions to place trades","default_code":1066}"#,
    )
    .unwrap();
    assert_eq!(forbidden.code(), "trading_not_enabled");
    assert!(forbidden.to_string().contains("Robinhood"));
    let other_403 = trading_error(403, r#"{"detail":"Feature is not enabled","code":"1141"}"#).unwrap();
    assert_eq!(other_403.code(), "trading_not_enabled");
    let rejected =
        trading_error(400, r#"{"detail":"Failed to submit order to broker: insufficient buying power","code":"1076"}"#)
            .unwrap();
    assert_eq!((rejected.code(), rejected.http_status()), ("order_rejected", 422));
    assert!(rejected.to_string().contains("insufficient buying power"));
    assert_eq!(trading_error(402, r#"{"detail":"disabled","code":3003}"#).unwrap().code(), "connection_needs_repair");
    let limited = trading_error(429, r#"{"detail":"throttled","code":"0000"}"#).unwrap();
    assert_eq!((limited.code(), limited.retry_after_s()), ("trade_rate_limited", Some(3)));
    let replayed = TradingError::replay("order_rejected", 422, rejected.to_string());
    assert_eq!(
        (replayed.code(), replayed.http_status(), replayed.to_string()),
        ("order_rejected", 422, rejected.to_string())
    );
    assert_eq!(TradingError::replay("made_up", 200, "x".into()).code(), "order_failed");
    assert!(trading_error(500, r#"{"detail":"Encountered an unexpected exception.","code":1000}"#).is_err());
}

#[test]
fn a_lost_answer_is_unknown_and_a_refusal_is_final() {
    let p = Provider::SnapTrade;
    for lost in [
        ProviderError::Timeout { provider: p },
        ProviderError::ServerError { provider: p, status: 500 },
        ProviderError::Network { provider: p, detail: "reset".into() },
        ProviderError::Malformed { provider: p, detail: "half a body".into() },
    ] {
        assert!(matches!(classify_place_failure(lost, "B"), PlaceFailure::Unknown(_)));
    }
    let refused = ProviderError::Rejected { provider: p, status: 400, detail: "no".into() };
    assert!(matches!(classify_place_failure(refused, "B"), PlaceFailure::Refused(TradingError::Rejected { .. })));
    let later = ProviderError::RateLimited { provider: p, retry_after_s: Some(2) };
    assert!(matches!(classify_place_failure(later, "B"), PlaceFailure::Retryable(TradingError::RateLimited { .. })));
    let ours = ProviderError::Auth { provider: p, detail: "signature".into() };
    assert!(matches!(classify_place_failure(ours, "B"), PlaceFailure::Failed(_)));
}

#[test]
fn idempotency_keys_are_uuids() {
    assert_eq!(
        parse_idempotency_key(Some(" 0F8FAD5B-D9CB-469F-A165-70867728950E ")).unwrap(),
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    assert_eq!(parse_idempotency_key(None).unwrap_err().code(), "idempotency_key_required");
    for bad in [
        "abc",
        "0f8fad5b-d9cb-469f-a165-70867728950",
        "0f8fad5bd9cb469fa16570867728950e",
        "0f8fad5b-d9cb-469f-a165-70867728950g",
    ] {
        assert_eq!(parse_idempotency_key(Some(bad)).unwrap_err().code(), "invalid_idempotency_key", "{bad}");
    }
}

fn attempt(state: OrderState, sent_at: i64) -> Attempt {
    Attempt { order_id: "o1".into(), fingerprint: "f".into(), state, sent_at }
}

#[test]
fn a_repeated_key_replays_waits_or_reconciles_but_never_places() {
    assert_eq!(decide_place(None, "f", 100), PlaceDecision::Place);
    assert_eq!(decide_place(Some(&attempt(OrderState::Open, 100)), "g", 100), PlaceDecision::Reused);
    assert_eq!(decide_place(Some(&attempt(OrderState::Failed, 100)), "f", 100), PlaceDecision::Place);
    for state in [OrderState::Open, OrderState::Executed, OrderState::Rejected, OrderState::Cancelled] {
        assert_eq!(decide_place(Some(&attempt(state, 100)), "f", 100), PlaceDecision::Replay);
    }
    assert_eq!(decide_place(Some(&attempt(OrderState::Sending, 100)), "f", 101), PlaceDecision::Wait);
    assert_eq!(
        decide_place(Some(&attempt(OrderState::Sending, 100)), "f", 100 + SENDING_STALE_S),
        PlaceDecision::Reconcile
    );
    assert_eq!(decide_place(Some(&attempt(OrderState::Unknown, 100)), "f", 101), PlaceDecision::Reconcile);
}

#[test]
fn a_refresh_tracks_placed_orders_settles_lost_ones_and_leaves_finished_and_in_flight_ones() {
    assert_eq!(refresh_action(OrderState::Open, true, 0, 10), RefreshAction::Track);
    assert_eq!(refresh_action(OrderState::Executed, true, 0, 10), RefreshAction::Leave);
    assert_eq!(refresh_action(OrderState::Unknown, false, 0, 10), RefreshAction::Settle);
    assert_eq!(refresh_action(OrderState::Sending, false, 0, 10), RefreshAction::Leave);
    assert_eq!(refresh_action(OrderState::Sending, false, 0, SENDING_STALE_S), RefreshAction::Settle);
    assert_eq!(refresh_action(OrderState::Rejected, false, 0, 10), RefreshAction::Leave);
}

fn broker_order(id: &str, symbol: &str, units: &str, placed_at: i64) -> ProviderOrder {
    ProviderOrder {
        brokerage_order_id: id.into(),
        client_order_id: None,
        symbol: Some(symbol.into()),
        symbol_id: None,
        action: Some(OrderAction::Buy),
        state: OrderState::Open,
        status: Some("ACCEPTED".into()),
        total_units: Some(d(units)),
        filled_units: Some(d("0")),
        execution_price: None,
        placed_at: Some(placed_at),
    }
}

fn intent(units: &str) -> PlacedIntent<'static> {
    PlacedIntent {
        client_order_id: "c-1",
        symbol: "AAPL",
        symbol_id: "sym-aapl",
        action: OrderAction::Buy,
        units: Some(d(units)),
        sent_at: 1_000,
    }
}

#[test]
fn reconciliation_finds_exactly_the_order_an_attempt_became() {
    let none = BTreeSet::new();
    let orders = vec![broker_order("b1", "MSFT", "10", 1_001), broker_order("b2", "AAPL", "10.0", 1_003)];
    assert_eq!(find_placed(&orders, &intent("10"), &none), Match::Found(&orders[1]));
    assert_eq!(find_placed(&orders, &intent("11"), &none), Match::None, "another quantity");
    let claimed: BTreeSet<String> = ["b2".to_owned()].into();
    assert_eq!(find_placed(&orders, &intent("10"), &claimed), Match::None, "already another attempt's order");
    let late = vec![broker_order("b3", "AAPL", "10", 1_000 + 601)];
    assert_eq!(find_placed(&late, &intent("10"), &none), Match::None, "placed long after the send");
    let twins = vec![broker_order("b4", "AAPL", "10", 1_002), broker_order("b5", "aapl", "10", 1_004)];
    assert_eq!(find_placed(&twins, &intent("10"), &none), Match::Ambiguous);
    let mut echoed = broker_order("b6", "OTHER", "99", 0);
    echoed.client_order_id = Some("C-1".into());
    let with_echo = vec![twins[0].clone(), echoed];
    assert_eq!(find_placed(&with_echo, &intent("10"), &none), Match::Found(&with_echo[1]), "the echoed id decides");

    assert_eq!(reconcile_verdict(Match::None, 1_000, 1_010), ReconcileVerdict::StillUnknown);
    assert_eq!(reconcile_verdict(Match::Ambiguous, 1_000, 99_999), ReconcileVerdict::StillUnknown);
    assert_eq!(reconcile_verdict(Match::None, 1_000, 1_000 + RECONCILE_GIVE_UP_S), ReconcileVerdict::Failed);
    assert!(matches!(reconcile_verdict(Match::Found(&orders[1]), 1_000, 1_010), ReconcileVerdict::Placed(_)));
}

#[test]
fn snaptrade_impact_and_order_records_read_as_the_spec_writes_them() {
    let impact: serde_json::Value = serde_json::from_str(
        r#"{"trade":{"id":"139e307a-82f7-4402-b39e-4da7baa87758","account":"a","order_type":"Limit","time_in_force":"Day","action":"BUY","units":10,"price":31.33,
          "symbol":{"universal_symbol_id":"u","currency":{"id":"c","code":"USD","name":"US Dollar"}}},
          "trade_impacts":[{"account":"a","currency":"c","remaining_cash":1.11,"estimated_commission":0,"forex_fees":null}],
          "combined_remaining_balance":{"account":{"id":"a","name":"n"},"currency":{"code":"USD"},"cash":1.11}}"#,
    )
    .unwrap();
    let (trade_id, figures) = parse_impact(&impact).unwrap();
    assert_eq!(trade_id.as_deref(), Some("139e307a-82f7-4402-b39e-4da7baa87758"));
    assert_eq!(figures.price, Some(d("31.33")));
    assert_eq!(figures.remaining_cash, Some(d("1.11")));
    assert_eq!(figures.fees, None);
    assert_eq!(figures.currency.as_deref(), Some("USD"));

    let record: serde_json::Value = serde_json::from_str(
        r#"{"brokerage_order_id":"66a033fa","status":"PARTIAL","universal_symbol":{"id":"u","symbol":"AAPL"},"action":"BUY",
            "total_quantity":"10","open_quantity":"4","filled_quantity":"6","execution_price":"189.251","limit_price":"190.00",
            "order_type":"Limit","time_in_force":"Day","time_placed":"2026-12-03T15:00:00.000Z"}"#,
    )
    .unwrap();
    let order = parse_order_record(&record).unwrap();
    assert_eq!(order.state, OrderState::Open);
    assert_eq!((order.total_units, order.filled_units), (Some(d("10")), Some(d("6"))));
    assert_eq!(order.execution_price, Some(d("189.251")));
    assert_eq!(order.symbol.as_deref(), Some("AAPL"));
    assert!(order.placed_at.is_some());
    assert!(parse_order_record(&serde_json::json!({"status": "EXECUTED"})).is_err());
    for (status, state) in [
        ("EXECUTED", OrderState::Executed),
        ("CANCELED", OrderState::Cancelled),
        ("REJECTED", OrderState::Rejected),
        ("QUEUED", OrderState::Open),
        ("SOMETHING_NEW", OrderState::Open),
    ] {
        assert_eq!(OrderState::from_snaptrade(status), state);
    }
}

// --- The idempotency protocol under any interleaving -------------------------------------------

/// How the broker answers the one place call that reaches it.
#[derive(Debug, Clone, Copy)]
enum BrokerBehaviour {
    Accept,
    /// Accepted, then the answer was lost (a timeout or a 5xx after the broker took it).
    AcceptThenLose,
    /// Lost before the broker saw it.
    LoseBeforeAccept,
    Reject,
}

#[derive(Default)]
struct Broker {
    place_calls: usize,
    orders: Vec<ProviderOrder>,
}

/// The ledger as D1 holds it: one row per key, inserted only when absent.
#[derive(Default)]
struct Ledger {
    rows: HashMap<String, (Attempt, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Decide,
    Call,
    Reconcile,
    Done,
}

struct Request {
    fingerprint: &'static str,
    phase: Phase,
    waits: u32,
    /// When this request reserved the key and sent its call (its own clock, not the row's: a
    /// later attempt may take the row over).
    sent_at: Option<i64>,
}

const KEY: &str = "k";
const MAX_WAITS: u32 = 3;

fn step(req: &mut Request, ledger: &mut Ledger, broker: &mut Broker, behaviour: BrokerBehaviour, now: i64) {
    match req.phase {
        Phase::Decide => {
            let existing = ledger.rows.get(KEY).map(|(a, _)| a.clone());
            match decide_place(existing.as_ref(), req.fingerprint, now) {
                PlaceDecision::Place => {
                    // INSERT … ON CONFLICT DO UPDATE … WHERE state = 'failed': the reservation either
                    // wins or sees the winner's row next step.
                    let free = ledger.rows.get(KEY).is_none_or(|(a, _)| a.state == OrderState::Failed);
                    if free {
                        let reserved = Attempt {
                            order_id: "o".into(),
                            fingerprint: req.fingerprint.into(),
                            state: OrderState::Sending,
                            sent_at: now,
                        };
                        ledger.rows.insert(KEY.into(), (reserved, None));
                        req.sent_at = Some(now);
                        req.phase = Phase::Call;
                    }
                }
                PlaceDecision::Replay | PlaceDecision::Reused => req.phase = Phase::Done,
                PlaceDecision::Wait => {
                    req.waits += 1;
                    if req.waits > MAX_WAITS {
                        req.phase = Phase::Done; // 409 order_in_progress
                    }
                }
                PlaceDecision::Reconcile => req.phase = Phase::Reconcile,
            }
        }
        Phase::Call => {
            let sent_at = req.sent_at.expect("a request calls only after reserving");
            if now - sent_at >= SENDING_STALE_S {
                // The call's own timeout (at most a minute) fired long before: the broker never
                // saw it, and the request records the lost answer (on its own attempt only).
                let row = ledger.rows.get_mut(KEY).unwrap();
                if row.0.state == OrderState::Sending && row.0.sent_at == sent_at {
                    row.0.state = OrderState::Unknown;
                }
                req.phase = Phase::Reconcile;
                return;
            }
            broker.place_calls += 1;
            let order = broker_order(&format!("b{}", broker.place_calls), "AAPL", "10", sent_at);
            let (state, id) = match behaviour {
                BrokerBehaviour::Accept => {
                    broker.orders.push(order.clone());
                    (OrderState::Open, Some(order.brokerage_order_id))
                }
                BrokerBehaviour::AcceptThenLose => {
                    broker.orders.push(order);
                    (OrderState::Unknown, None)
                }
                BrokerBehaviour::LoseBeforeAccept if broker.place_calls == 1 => (OrderState::Unknown, None),
                BrokerBehaviour::LoseBeforeAccept => {
                    // A later attempt (after the first was settled as failed) reaches the broker.
                    broker.orders.push(order.clone());
                    (OrderState::Open, Some(order.brokerage_order_id))
                }
                BrokerBehaviour::Reject => (OrderState::Rejected, None),
            };
            let row = ledger.rows.get_mut(KEY).unwrap();
            row.0.state = state;
            row.1 = id;
            req.phase = if state == OrderState::Unknown { Phase::Reconcile } else { Phase::Done };
        }
        Phase::Reconcile => {
            let (attempt, _) = ledger.rows[KEY].clone();
            let intent = PlacedIntent {
                client_order_id: "c",
                symbol: "AAPL",
                symbol_id: "sym-aapl",
                action: OrderAction::Buy,
                units: Some(d("10")),
                sent_at: attempt.sent_at,
            };
            let claimed = BTreeSet::new();
            let row = ledger.rows.get_mut(KEY).unwrap();
            match reconcile_verdict(find_placed(&broker.orders, &intent, &claimed), attempt.sent_at, now) {
                ReconcileVerdict::Placed(order) => {
                    row.0.state = order.state;
                    row.1 = Some(order.brokerage_order_id);
                }
                ReconcileVerdict::Failed => row.0.state = OrderState::Failed,
                ReconcileVerdict::StillUnknown => {}
            }
            req.phase = Phase::Done;
        }
        Phase::Done => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_of_duplicates_losses_and_retries_places_at_most_once(
        fingerprints in prop::collection::vec(prop::bool::weighted(0.85), 1..8),
        behaviour in prop_oneof![
            Just(BrokerBehaviour::Accept),
            Just(BrokerBehaviour::AcceptThenLose),
            Just(BrokerBehaviour::LoseBeforeAccept),
            Just(BrokerBehaviour::Reject),
        ],
        schedule in prop::collection::vec((0usize..16, 0i64..400), 1..120),
        retries in 0usize..4,
    ) {
        let mut requests: Vec<Request> = fingerprints
            .iter()
            .map(|same| Request { fingerprint: if *same { "f" } else { "other" }, phase: Phase::Decide, waits: 0, sent_at: None })
            .collect();
        let (mut ledger, mut broker, mut now) = (Ledger::default(), Broker::default(), 1_000i64);
        let mut retried = 0;
        for (pick, advance) in schedule {
            now += advance;
            let live: Vec<usize> = (0..requests.len()).filter(|&i| requests[i].phase != Phase::Done).collect();
            if live.is_empty() {
                if retried == retries { break; }
                // The client retries with the same key after every answer it got.
                retried += 1;
                requests.push(Request { fingerprint: "f", phase: Phase::Decide, waits: 0, sent_at: None });
                continue;
            }
            let index = live[pick % live.len()];
            step(&mut requests[index], &mut ledger, &mut broker, behaviour, now);
            prop_assert!(broker.orders.len() <= 1, "the broker holds {} orders", broker.orders.len());
            // A second call is only ever made once the first is known not to have reached the broker.
            prop_assert!(broker.place_calls <= 1 || broker.orders.len() <= 1);
        }
        if let Some((attempt, id)) = ledger.rows.get(KEY) {
            // Whatever the ledger says is true at the broker, or still honestly unknown.
            match attempt.state {
                OrderState::Open => prop_assert_eq!(id.as_deref(), broker.orders.first().map(|o| o.brokerage_order_id.as_str())),
                OrderState::Failed | OrderState::Rejected => prop_assert!(broker.orders.is_empty()),
                _ => {}
            }
        }
    }
}

#[test]
fn not_found_never_echoes_the_id_asked_for_which_may_be_another_users() {
    let id = "someone-elses-account-7f3a";
    for error in [
        TradingError::AccountNotFound(id.into()),
        TradingError::PreviewNotFound(id.into()),
        TradingError::OrderNotFound(id.into()),
    ] {
        assert_eq!(error.http_status(), 404);
        assert!(!error.to_string().contains(id), "{error}");
    }
}
