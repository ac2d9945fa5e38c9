use super::book::{NextPlace, Order, OrderStatus, PlaceOutcome, TradingSettings, MAX_ORDERS, TRADE_TTL};
use super::desk::{self, After};
use super::form::{self, OrderRequest};
use super::TradeError;
use crate::snaptrade::seed_json::{balances_json, positions_json};
use crate::snaptrade::state::{ConnectionType, PortalSession, SnapState, PORTAL_LINK_TTL};
use crate::snaptrade::symbols::by_ticker;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const UNIX: i64 = 1_790_000_000;

/// A state where user `ann` connected `broker` with `kind`; the id of its first account.
fn connected(broker: &str, kind: ConnectionType) -> (SnapState, String) {
    let mut state = SnapState::default();
    state.register("ann").unwrap();
    let now = Instant::now();
    let session = PortalSession {
        token: "t".into(),
        user_id: "ann".into(),
        broker: None,
        custom_redirect: None,
        reconnect: None,
        connection_type: kind,
        expires: now + PORTAL_LINK_TTL,
        used: false,
    };
    let id = state.add_session(session, now);
    let done = state.connect(&id, "t", broker, now, UNIX).unwrap();
    let account = state.authorizations[&done.authorization_id].accounts[0].clone();
    (state, account)
}

fn trade_account(broker: &str) -> (SnapState, String) {
    connected(broker, ConnectionType::Trade)
}

fn form_for(account: &str, extra: Value) -> Value {
    json!({"account_id": account, "action": "BUY", "order_type": "Market", "time_in_force": "Day", "units": 10})
        .merged(extra)
}

fn impact_request(account: &str, ticker: &str, extra: Value) -> OrderRequest {
    let id = by_ticker(ticker, "USD").unwrap().id.clone();
    form::impact_form(Some(&form_for(account, json!({"universal_symbol_id": id})).merged(extra))).unwrap()
}

fn place_request(account: &str, extra: Value) -> OrderRequest {
    form::place_form(Some(&form_for(account, json!({"symbol": "AAPL"})).merged(extra))).unwrap()
}

trait Merge {
    fn merged(self, extra: Value) -> Value;
}

impl Merge for Value {
    fn merged(mut self, extra: Value) -> Value {
        for (k, v) in extra.as_object().unwrap() {
            self[k] = v.clone();
        }
        self
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn place(state: &mut SnapState, request: &OrderRequest) -> Result<desk::Placed, TradeError> {
    desk::place(state, "ann", request, None, true, Instant::now(), UNIX)
}

fn impact_of(state: &mut SnapState, request: OrderRequest) -> Value {
    desk::impact(state, "ann", request, Instant::now()).unwrap()
}

#[test]
fn impact_prices_limits_at_the_limit_and_markets_at_the_quote_with_cash_commission_and_forex() {
    let (mut schwab, account) = trade_account("SCHWAB");
    let limit = impact_of(&mut schwab, impact_request(&account, "AAPL", json!({"order_type": "Limit", "price": 190})));
    assert_eq!(limit["trade"]["price"], 190.0);
    assert_eq!(limit["trade"]["units"], 10.0);
    assert_eq!(
        (limit["trade"]["order_type"].as_str(), limit["trade"]["action"].as_str()),
        (Some("Limit"), Some("BUY"))
    );
    let impact = &limit["trade_impacts"][0];
    assert_eq!(impact["remaining_cash"], 2100.75, "4000.75 − 10 × 190");
    assert_eq!((impact["estimated_commission"].as_f64(), &impact["forex_fees"]), (Some(0.0), &Value::Null));
    assert_eq!(limit["combined_remaining_balance"]["cash"], 2100.75);
    assert_eq!(limit["combined_remaining_balance"]["currency"]["code"], "USD");
    assert_eq!(limit["trade"]["id"].as_str().unwrap().len(), 36);

    let market = impact_of(&mut schwab, impact_request(&account, "AAPL", json!({})));
    assert_eq!(market["trade"]["price"], 189.25, "the quote");
    assert_eq!(market["trade_impacts"][0]["remaining_cash"], 2108.25);
    let sell = impact_of(&mut schwab, impact_request(&account, "VOO", json!({"action": "SELL", "units": 1})));
    assert_eq!(sell["trade_impacts"][0]["remaining_cash"], 4513.15, "4000.75 + 512.40");

    let (mut ibkr, account) = trade_account("IBKR");
    let commissioned = impact_of(&mut ibkr, impact_request(&account, "ASML", json!({"units": 2})));
    assert_eq!(commissioned["trade_impacts"][0]["estimated_commission"], 4.95);
    assert_eq!(commissioned["trade_impacts"][0]["remaining_cash"], 8590.85, "10000 − 2 × 702.10 − 4.95");

    let (mut tfsa, account) = trade_account("WEALTHSIMPLE");
    let converted = impact_of(&mut tfsa, impact_request(&account, "AAPL", json!({"units": 1})));
    let impact = &converted["trade_impacts"][0];
    assert_eq!(impact["forex_fees"], 3.97, "1.5 % of 189.25 × 1.40 = 264.95 CAD");
    assert_eq!(impact["remaining_cash"], 3576.68, "3845.60 − 264.95 − 3.97");
    assert_eq!(converted["combined_remaining_balance"]["currency"]["code"], "CAD");

    let schwab_account = schwab.user_accounts("ann")[0].id.to_owned();
    let by_notional = impact_request(&schwab_account, "AAPL", json!({"units": null, "notional_value": "100"}));
    let notional = impact_of(&mut schwab, by_notional);
    assert_eq!(notional["trade"]["units"], Value::Null);
    assert_eq!(notional["trade_impacts"][0]["remaining_cash"], 3900.75);
}

#[test]
fn forms_refuse_every_rule_the_spec_writes() {
    let id = by_ticker("AAPL", "USD").unwrap().id.clone();
    let base = json!({"account_id": "a", "action": "BUY", "universal_symbol_id": id, "order_type": "Market",
                      "time_in_force": "Day", "units": 1});
    let impact = |extra: Value| form::impact_form(Some(&base.clone().merged(extra))).err().unwrap_or_default();
    assert!(form::impact_form(Some(&base)).is_ok());
    assert!(form::impact_form(None).unwrap_err().contains("JSON object"));
    assert!(form::impact_form(Some(&json!([1]))).unwrap_err().contains("JSON object"));
    assert!(impact(json!({"account_id": null})).contains("account_id is required"));
    assert!(impact(json!({"action": "buy"})).contains("action must be one of BUY, SELL"));
    assert!(impact(json!({"action": "BUY_TO_OPEN"})).contains("action must be one of"), "impact is ActionStrict");
    assert!(impact(json!({"order_type": "MARKET"})).contains("Limit, Market, StopLimit, Stop"), "mixed case only");
    assert!(impact(json!({"order_type": 3})).contains("order_type must be a string"));
    assert!(impact(json!({"time_in_force": "GTD"})).contains("FOK, Day, GTC, IOC"), "no GTD on impact");
    assert!(impact(json!({"time_in_force": "day"})).contains("FOK, Day, GTC, IOC"));
    assert!(impact(json!({"order_type": "Limit"})).contains("price is required for Limit"));
    assert!(impact(json!({"order_type": "StopLimit", "price": 1})).contains("stop is required for StopLimit"));
    assert!(impact(json!({"order_type": "Stop"})).contains("stop is required for Stop"));
    assert!(impact(json!({"order_type": "Limit", "price": -1})).contains("greater than 0"));
    assert!(impact(json!({"order_type": "Limit", "price": "12"})).contains("price must be a number"));
    assert!(impact(json!({"units": null})).contains("One of units or notional_value"));
    assert!(impact(json!({"notional_value": 5})).contains("not both"));
    assert!(impact(json!({"units": null, "notional_value": 5, "time_in_force": "GTC"})).contains("Market"));
    assert!(impact(json!({"universal_symbol_id": null, "symbol": "AAPL"})).contains("universal_symbol_id is required"));
    assert!(impact(json!({"universal_symbol_id": "AAPL"})).contains("must be a UUID"));
    assert!(impact(json!({"units": 1e300})).contains("not a valid number"), "out of range");
    assert!(impact(json!({"units": 1e13})).contains("at most"), "bounded, so products never overflow");
    let tiny = json!({"units": null, "notional_value": 1e12});
    assert!(form::impact_form(Some(&base.clone().merged(tiny))).is_ok());

    let place_base = base.clone().merged(json!({"universal_symbol_id": null, "symbol": "AAPL"}));
    let place = |extra: Value| form::place_form(Some(&place_base.clone().merged(extra))).err().unwrap_or_default();
    assert!(form::place_form(Some(&place_base)).is_ok());
    assert!(place(json!({"universal_symbol_id": id})).contains("not both"));
    assert!(place(json!({"symbol": null})).contains("One of universal_symbol_id or symbol"));
    assert!(place(json!({"action": "SELL_TO_OPEN"})).contains("option orders"));
    assert!(place(json!({"time_in_force": "GTD"})).contains("GTD is not available for Market"));
    assert!(
        place(json!({"time_in_force": "GTD", "order_type": "Limit", "price": 1})).contains("expiry_date is required")
    );
    let gtd = json!({"time_in_force": "GTD", "order_type": "Limit", "price": 1, "expiry_date": "soon"});
    assert!(place(gtd).contains("ISO 8601"));
    let gtd =
        json!({"time_in_force": "GTD", "order_type": "Limit", "price": 1, "expiry_date": "2026-08-21T23:27:55.027Z"});
    assert_eq!(
        form::place_form(Some(&place_base.clone().merged(gtd))).unwrap().expiry_date.as_deref(),
        Some("2026-08-21T23:27:55.027Z")
    );
    assert!(place(json!({"trading_session": "EXTENDED"})).contains("needs a Limit"));
    assert!(place(json!({"trading_session": "NIGHT"})).contains("REGULAR, EXTENDED"));
    assert!(place(json!({"client_order_id": "not-a-uuid"})).contains("canonical"));
    assert!(place(json!({"client_order_id": "550e8400e29b41d4a716446655440000"})).contains("canonical"));
    let ok = place_base.clone().merged(json!({"client_order_id": "550E8400-E29B-41D4-A716-446655440000"}));
    assert_eq!(
        form::place_form(Some(&ok)).unwrap().client_order_id.as_deref(),
        Some("550e8400-e29b-41d4-a716-446655440000")
    );
    assert!(form::wait_to_confirm(Some(&json!({"wait_to_confirm": "no"}))).is_err());
    assert_eq!(form::wait_to_confirm(Some(&json!({"wait_to_confirm": false}))), Ok(false));
    assert_eq!(form::wait_to_confirm(None), Ok(true));
    assert!(form::brokerage_order_id(Some(&json!({}))).unwrap_err().contains("brokerage_order_id is required"));
}

#[test]
fn impact_and_place_refuse_unknown_symbols_markets_without_quotes_and_other_users() {
    let (mut state, account) = trade_account("SCHWAB");
    let unknown = form::place_form(Some(&form_for(&account, json!({"symbol": "NOPE"})))).unwrap();
    let TradeError::Api(error) = place(&mut state, &unknown).unwrap_err() else { panic!("an API error") };
    assert_eq!((error.status, error.code), (400, "invalid_request"));
    let no_quote = form::place_form(Some(&form_for(&account, json!({"symbol": "XYZQ"})))).unwrap();
    let TradeError::Api(error) = place(&mut state, &no_quote).unwrap_err() else { panic!("an API error") };
    assert!(error.detail.contains("No quote"), "{error:?}");
    let limit =
        form::place_form(Some(&form_for(&account, json!({"symbol": "XYZQ", "order_type": "Limit", "price": 1}))));
    assert!(place(&mut state, &limit.unwrap()).is_ok(), "a Limit order needs no quote");
    state.register("bob").unwrap();
    let request = place_request(&account, json!({}));
    let refusal = desk::place(&mut state, "bob", &request, None, true, Instant::now(), UNIX).unwrap_err();
    assert!(matches!(refusal, TradeError::Api(ref e) if (e.status, e.code) == (403, "1066")), "{refusal:?}");
}

#[test]
fn read_connections_apps_without_trading_and_disabled_connections_cannot_trade() {
    let (mut read, account) = connected("SCHWAB", ConnectionType::Read);
    let refusal = place(&mut read, &place_request(&account, json!({}))).unwrap_err();
    assert!(matches!(refusal, TradeError::Api(ref e) if (e.status, e.code) == (403, "1066")), "{refusal:?}");

    let (mut state, account) = trade_account("SCHWAB");
    let settings = TradingSettings { app_trading_enabled: false, ..TradingSettings::default() };
    state.trading.set_settings(&account, settings);
    assert_eq!(place(&mut state, &place_request(&account, json!({}))).unwrap_err(), TradeError::AppTradingDisabled);
    let impact = desk::impact(&mut state, "ann", impact_request(&account, "AAPL", json!({})), Instant::now());
    assert_eq!(impact.unwrap_err(), TradeError::AppTradingDisabled);
    assert_eq!(desk::cancel(&mut state, "ann", &account, "x", UNIX).unwrap_err(), TradeError::AppTradingDisabled);
    assert!(state.trading.placements(&account).is_empty(), "refused before the broker");

    let (mut disabled, account) = trade_account("ROBINHOOD");
    disabled.disable_all(Some("ann"), UNIX);
    let refusal = place(&mut disabled, &place_request(&account, json!({}))).unwrap_err();
    assert!(matches!(refusal, TradeError::Api(ref e) if (e.status, e.code) == (402, "3003")), "{refusal:?}");
}

#[test]
fn a_trade_id_places_until_five_minutes_after_impact_then_is_refused() {
    let (mut state, account) = trade_account("SCHWAB");
    let t0 = Instant::now();
    let body = desk::impact(&mut state, "ann", impact_request(&account, "AAPL", json!({})), t0).unwrap();
    let trade_id = body["trade"]["id"].as_str().unwrap().to_owned();
    let just_before = t0 + TRADE_TTL - Duration::from_millis(1);
    let request = desk::checked_trade(&state, "ann", &trade_id, just_before).unwrap();
    let placed = desk::place(&mut state, "ann", &request, Some(&trade_id), true, just_before, UNIX).unwrap();
    assert_eq!((placed.order.total, placed.order.status), (dec("10"), OrderStatus::Accepted));
    let expired = desk::checked_trade(&state, "ann", &trade_id, t0 + TRADE_TTL).unwrap_err();
    assert!(matches!(expired, TradeError::Api(ref e) if (e.status, e.code) == (400, "trade_expired")), "{expired:?}");
    let unknown = desk::checked_trade(&state, "ann", "139e307a-82f7-4402-b39e-4da7baa87758", t0).unwrap_err();
    assert!(matches!(unknown, TradeError::Api(ref e) if (e.status, e.code) == (400, "invalid_request")));
    state.register("bob").unwrap();
    assert!(desk::checked_trade(&state, "bob", &trade_id, t0).is_err(), "another user's trade is unknown");
    // Placing the same trade twice makes a second order, and the placements say so.
    let again = desk::place(&mut state, "ann", &request, Some(&trade_id), false, just_before, UNIX).unwrap();
    assert_eq!(again.order.status, OrderStatus::Pending, "wait_to_confirm false");
    assert_eq!(state.trading.duplicates(&account), 1);
}

#[test]
fn a_repeated_client_order_id_makes_a_second_order_unless_the_broker_dedupes() {
    let coid = json!({"client_order_id": "550e8400-e29b-41d4-a716-446655440000"});
    let (mut state, account) = trade_account("SCHWAB");
    let request = place_request(&account, coid.clone());
    let first = place(&mut state, &request).unwrap().order;
    let second = place(&mut state, &request).unwrap().order;
    assert_ne!(first.brokerage_order_id, second.brokerage_order_id);
    assert_eq!(state.trading.orders(&account).count(), 2);
    assert_eq!(state.trading.duplicates(&account), 1);
    assert!(place(&mut state, &place_request(&account, json!({}))).is_ok());
    assert_eq!(state.trading.duplicates(&account), 1, "orders without a client_order_id never count");

    let (mut state, account) = trade_account("SCHWAB");
    let settings = TradingSettings { broker_dedupes_client_order_id: true, ..TradingSettings::default() };
    state.trading.set_settings(&account, settings);
    let request = place_request(&account, coid);
    let first = place(&mut state, &request).unwrap().order;
    let again = place(&mut state, &request).unwrap();
    assert_eq!((again.order.brokerage_order_id, again.after), (first.brokerage_order_id.clone(), After::Answer));
    assert_eq!(state.trading.orders(&account).count(), 1);
    let outcomes: Vec<_> = state.trading.placements(&account).iter().map(|p| p.outcome).collect();
    assert_eq!(outcomes, [PlaceOutcome::Created, PlaceOutcome::Deduplicated]);
    assert_eq!(state.trading.duplicates(&account), 0);
}

#[test]
fn accept_then_500_and_timeout_record_the_order_and_reject_records_none() {
    let (mut state, account) = trade_account("SCHWAB");
    let next =
        |next_place, times| TradingSettings { next_place: Some(next_place), times, ..TradingSettings::default() };
    state.trading.set_settings(&account, next(NextPlace::AcceptThen500, 1));
    let failed = place(&mut state, &place_request(&account, json!({}))).unwrap();
    assert_eq!(failed.after, After::Fail500);
    let stored = state.trading.order(&account, &failed.order.brokerage_order_id).unwrap();
    assert!(stored.status.is_open(), "the broker has the order although the answer was a 500");
    assert_eq!(place(&mut state, &place_request(&account, json!({}))).unwrap().after, After::Answer, "times: 1");

    state.trading.set_settings(&account, next(NextPlace::AcceptThenTimeout, 2));
    for _ in 0..2 {
        assert_eq!(place(&mut state, &place_request(&account, json!({}))).unwrap().after, After::Timeout);
    }
    assert_eq!(state.trading.orders(&account).count(), 4);

    let reason = "Failed to submit order to broker: insufficient buying power".to_owned();
    state.trading.set_settings(&account, next(NextPlace::Reject { reason: reason.clone() }, 1));
    let refusal = place(&mut state, &place_request(&account, json!({}))).unwrap_err();
    assert_eq!(refusal, TradeError::Api(crate::snaptrade::ApiError::new(400, "broker_rejected", reason)));
    assert_eq!(state.trading.orders(&account).count(), 4, "no order for a rejection");
    let outcomes: Vec<&str> = state.trading.placements(&account).iter().map(|p| p.outcome.as_str()).collect();
    let expected = ["created_then_500", "created", "created_then_timeout", "created_then_timeout", "rejected"];
    assert_eq!(outcomes, expected);
}

#[test]
fn only_an_open_order_can_be_cancelled() {
    let (mut state, account) = trade_account("SCHWAB");
    let open = place(&mut state, &place_request(&account, json!({}))).unwrap().order;
    let cancelled = desk::cancel(&mut state, "ann", &account, &open.brokerage_order_id, UNIX + 5).unwrap();
    assert_eq!(
        (cancelled.status, cancelled.canceled, cancelled.open_quantity()),
        (OrderStatus::Canceled, dec("10"), dec("0"))
    );
    assert!(desk::cancel(&mut state, "ann", &account, &open.brokerage_order_id, UNIX).is_err(), "already cancelled");

    let executed = place(&mut state, &place_request(&account, json!({}))).unwrap().order;
    desk::fill(&mut state, &account, &executed.brokerage_order_id, None, UNIX).unwrap();
    let refusal = desk::cancel(&mut state, "ann", &account, &executed.brokerage_order_id, UNIX).unwrap_err();
    assert!(
        matches!(refusal, TradeError::Api(ref e) if e.status == 400 && e.detail.contains("EXECUTED")),
        "{refusal:?}"
    );
    let unknown = desk::cancel(&mut state, "ann", &account, "nope", UNIX).unwrap_err();
    assert!(matches!(unknown, TradeError::Api(ref e) if e.status == 400));
    assert!(
        desk::fill(&mut state, &account, &open.brokerage_order_id, None, UNIX).is_err(),
        "a cancelled order cannot fill"
    );
}

#[test]
fn a_fill_moves_positions_cash_and_activities() {
    let (mut state, account) = trade_account("SCHWAB");
    let aapl = place(&mut state, &place_request(&account, json!({"units": 5}))).unwrap().order;
    let googl = place(&mut state, &place_request(&account, json!({"symbol": "GOOGL", "units": 2}))).unwrap().order;
    let voo = place(&mut state, &place_request(&account, json!({"symbol": "VOO", "action": "SELL", "units": 2.5})))
        .unwrap()
        .order;
    let (filled, _) = desk::fill(&mut state, &account, &aapl.brokerage_order_id, Some(dec("200")), UNIX).unwrap();
    assert_eq!(
        (filled.status, filled.filled, filled.execution_price),
        (OrderStatus::Executed, dec("5"), Some(dec("200")))
    );
    desk::fill(&mut state, &account, &googl.brokerage_order_id, None, UNIX).unwrap();
    desk::fill(&mut state, &account, &voo.brokerage_order_id, None, UNIX).unwrap();

    let seed = state.account("ann", &account).unwrap().seed;
    let positions = positions_json(seed, state.activities.holdings(&account), UNIX)["results"].clone();
    let units = |ticker: &str| {
        positions.as_array().unwrap().iter().find(|p| p["instrument"]["symbol"] == ticker).map(|p| p["units"].clone())
    };
    assert_eq!(units("AAPL"), Some(json!("15")), "10 seeded + 5 bought");
    assert_eq!(units("GOOGL"), Some(json!("2")), "a new position");
    assert_eq!(units("VOO"), None, "sold out");
    let googl_position = positions.as_array().unwrap().iter().find(|p| p["instrument"]["symbol"] == "GOOGL").unwrap();
    assert_eq!(googl_position["instrument"]["description"], "Alphabet Inc. Class A");
    let balances = balances_json(seed, state.trading.cash_changes(&account));
    // 4000.75 − 5 × 200 − 2 × 172.35 + 2.5 × 512.40
    assert_eq!(balances[0]["cash"], 3937.05);
    assert_eq!(balances[0]["buying_power"], 4937.80);
    let rows = state.activities.rows(&account);
    let bought = rows.iter().find(|r| r.tx.external_reference_id.as_deref() == Some(&aapl.brokerage_order_id)).unwrap();
    assert_eq!((bought.tx.units, bought.tx.amount), (dec("5"), dec("-1000")));
}

#[test]
fn the_soft_rate_limit_allows_one_trade_per_second_per_account_when_enabled() {
    let (mut state, account) = trade_account("SCHWAB");
    let t0 = Instant::now();
    assert!(state.trading.throttle(&account, t0).is_ok() && state.trading.throttle(&account, t0).is_ok(), "off");
    state.trading.set_settings(&account, TradingSettings { rate_limit: true, ..TradingSettings::default() });
    let request = place_request(&account, json!({}));
    assert!(desk::place(&mut state, "ann", &request, None, true, t0, UNIX).is_ok());
    let refused = desk::place(&mut state, "ann", &request, None, true, t0 + Duration::from_millis(400), UNIX);
    assert_eq!(refused.unwrap_err(), TradeError::Throttled { retry_after: 1 });
    assert!(state.trading.throttle("another-account", t0).is_ok());
    assert!(desk::place(&mut state, "ann", &request, None, true, t0 + Duration::from_secs(1), UNIX).is_ok());
}

#[test]
fn orders_per_account_are_capped_oldest_first() {
    let (mut state, account) = trade_account("SCHWAB");
    let template: Order = place(&mut state, &place_request(&account, json!({}))).unwrap().order;
    for i in 0..MAX_ORDERS {
        state.trading.add_order(Order { brokerage_order_id: format!("o{i}"), ..template.clone() });
    }
    assert_eq!(state.trading.orders(&account).count(), MAX_ORDERS);
    assert!(state.trading.order(&account, &template.brokerage_order_id).is_none(), "the oldest was dropped");
    assert_eq!(state.trading.orders(&account).next().unwrap().brokerage_order_id, format!("o{}", MAX_ORDERS - 1));
}
