//! Fills over a fresh Schwab state: the order's execution, positions and balances that move
//! coherently, the TRADE transaction, and the refusals.

use super::book::FIRST_ORDER_ID;
use super::desk;
use super::fill;
use super::tests::{at, cash, margin, market, order, place, UNIX_MS};
use crate::ledger::Kind;
use crate::schwab::history::accounts_of;
use crate::schwab::state::SchwabState;
use crate::schwab::wire::wire;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Instant;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// The customer's account `hash` as `GET /accounts?fields=positions` shows it.
fn account(state: &SchwabState, hash: &str) -> Value {
    accounts_of(state, "ann").into_iter().find(|a| a.hash == hash).unwrap().account
}

fn position(account: &Value, symbol: &str) -> Option<Value> {
    let positions = account["securitiesAccount"]["positions"].as_array()?;
    positions.iter().find(|p| p["instrument"]["symbol"] == symbol).cloned()
}

fn balance(account: &Value, group: &str, key: &str) -> Value {
    account["securitiesAccount"][group][key].clone()
}

#[test]
fn a_market_buy_fill_opens_a_position_at_the_quote_and_moves_cash_but_not_liquidation_value() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let id = place(&mut state, &margin(), &market("BUY", 2, "AAPL"), at(t0, 0)).unwrap().order_id;
    let filled = fill::fill(&mut state, "ann", id, None, at(t0, 30)).unwrap();
    assert_eq!((filled.filled_quantity, filled.remaining_quantity()), (dec("2"), Decimal::ZERO));
    let after = account(&state, &margin());
    let aapl = position(&after, "AAPL").unwrap();
    assert_eq!(
        aapl,
        json!({"shortQuantity": 0.0, "averagePrice": 190.0, "currentDayProfitLoss": 0.0,
               "currentDayProfitLossPercentage": 0.0, "longQuantity": 2.0, "settledLongQuantity": 0.0,
               "settledShortQuantity": 0.0,
               "instrument": {"assetType": "EQUITY", "cusip": "000000EE5", "symbol": "AAPL",
                              "description": "APPLE INC", "netChange": 0.0},
               "marketValue": 380.0, "maintenanceRequirement": 114.0, "averageLongPrice": 190.0,
               "taxLotAverageLongPrice": 190.0, "longOpenProfitLoss": 0.0, "previousSessionLongQuantity": 0.0,
               "currentDayCost": 380.0})
    );
    for (key, value) in [
        ("cashBalance", 620.5),
        ("availableFunds", 2120.25),
        ("buyingPower", 4620.5),
        ("longMarketValue", 3732.5),
        ("liquidationValue", 6849.5),
        ("equity", 6849.5),
        ("maintenanceRequirement", 1119.75),
    ] {
        assert_eq!(balance(&after, "currentBalances", key), json!(value), "{key}");
    }
    assert_eq!(balance(&after, "projectedBalances", "availableFunds"), json!(2120.25));
    assert_eq!(balance(&after, "initialBalances", "cashBalance"), json!(620.5));
    assert_eq!(balance(&after, "initialBalances", "cashAvailableForTrading"), json!(0.0), "not a MARGIN cash field");
    assert_eq!(after["aggregatedBalance"]["liquidationValue"], json!(6849.5));
}

#[test]
fn a_limit_sell_fill_of_a_whole_position_removes_it_and_credits_value_less_the_sec_fee() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let body = order("LIMIT", "SELL", json!(10), "SYNT", Some(json!("160")));
    let id = place(&mut state, &margin(), &body, at(t0, 0)).unwrap().order_id;
    let filled = fill::fill(&mut state, "ann", id, Some(dec("160.00")), at(t0, 61)).unwrap();
    let after = account(&state, &margin());
    assert!(position(&after, "SYNT").is_none(), "sold out");
    assert_eq!(balance(&after, "currentBalances", "cashBalance"), json!(2600.45), "1000.50 + 1600 - 0.05");
    assert_eq!(balance(&after, "currentBalances", "longMarketValue"), json!(1802.5));
    assert_eq!(balance(&after, "currentBalances", "liquidationValue"), json!(6899.45));
    assert_eq!(after["aggregatedBalance"]["currentLiquidationValue"], json!(6899.45));
    let order = super::wire::order_json(&filled);
    assert_eq!((&order["status"], &order["closeTime"]), (&json!("FILLED"), &json!("2026-01-05T15:01:01+0000")));
    assert_eq!((&order["filledQuantity"], &order["remainingQuantity"]), (&json!(10.0), &json!(0.0)));
    let activity = &order["orderActivityCollection"][0];
    assert_eq!((&activity["activityType"], &activity["executionType"]), (&json!("EXECUTION"), &json!("FILL")));
    let leg = &activity["executionLegs"][0];
    assert_eq!(
        (&leg["price"], &leg["quantity"], &leg["mismarkedQuantity"]),
        (&json!(160.0), &json!(10.0), &json!(0.0))
    );
    assert_eq!(leg["time"], "2026-01-05T15:01:01+0000");
    assert_eq!(leg["instrumentId"], order["orderLegCollection"][0]["instrument"]["instrumentId"]);

    let rows = state.transactions.rows(&margin());
    let trade = rows.iter().find(|r| r.tx.external_reference_id == Some(id.to_string())).unwrap();
    assert_eq!((trade.tx.kind, trade.tx.units, trade.tx.amount), (Kind::Sell, dec("10"), dec("1599.95")));
    assert_eq!(activity["activityId"], json!(trade.id.parse::<u64>().unwrap()));
    let shown = serde_json::to_value(wire(trade, "12345678", &HashMap::new())).unwrap();
    assert_eq!((&shown["orderId"], &shown["netAmount"]), (&json!(id), &json!(1599.95)));
    let net: Decimal =
        rows.iter().filter(|r| r.tx.symbol.as_deref() == Some("SYNT")).map(|r| r.tx.position_change()).sum();
    assert_eq!(net, Decimal::ZERO, "the history still nets to the position");
}

#[test]
fn buying_more_and_selling_part_keep_weighted_averages_and_revalue_at_the_quote() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let buy = place(&mut state, &margin(), &market("BUY", 2, "SYNT"), at(t0, 0)).unwrap().order_id;
    fill::fill(&mut state, "ann", buy, None, at(t0, 1)).unwrap();
    let synt = position(&account(&state, &margin()), "SYNT").unwrap();
    assert_eq!((&synt["longQuantity"], &synt["averageLongPrice"]), (&json!(12.0), &json!(151.0417)));
    assert_eq!((&synt["marketValue"], &synt["maintenanceRequirement"]), (&json!(1860.0), &json!(558.0)));
    assert_eq!((&synt["settledLongQuantity"], &synt["currentDayCost"]), (&json!(10.0), &json!(310.0)));
    let sell = place(&mut state, &cash(), &market("SELL", 1, "SWTSX"), at(t0, 2));
    assert!(sell.is_err(), "a mutual fund has no quote");
    let sell = place(&mut state, &margin(), &market("SELL", 5, "SETF"), at(t0, 3)).unwrap().order_id;
    fill::fill(&mut state, "ann", sell, Some(dec("72.10")), at(t0, 4)).unwrap();
    let after = account(&state, &margin());
    let setf = position(&after, "SETF").unwrap();
    assert_eq!(
        (&setf["longQuantity"], &setf["marketValue"], &setf["averageLongPrice"]),
        (&json!(20.0), &json!(1442.0), &json!(72.1))
    );
    assert_eq!(setf["instrument"]["assetType"], "COLLECTIVE_INVESTMENT");
    assert_eq!(balance(&after, "currentBalances", "cashBalance"), json!(1050.98), "1000.50 - 310 + 360.50 - 0.02");
}

#[test]
fn a_cash_account_fill_moves_its_cash_fields_and_a_money_market_fill_moves_the_fund_balance() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let id = place(&mut state, &cash(), &market("BUY", 4, "VTI"), at(t0, 0)).unwrap().order_id;
    fill::fill(&mut state, "ann", id, None, at(t0, 1)).unwrap();
    let after = account(&state, &cash());
    for key in ["cashBalance", "totalCash", "cashAvailableForTrading", "cashAvailableForWithdrawal"] {
        assert_eq!(balance(&after, "currentBalances", key), json!(500.25), "{key}");
    }
    assert_eq!(balance(&after, "projectedBalances", "cashAvailableForTrading"), json!(500.25));
    assert_eq!(balance(&after, "currentBalances", "longNonMarginableMarketValue"), json!(1620.0));
    assert_eq!(position(&after, "VTI").unwrap()["maintenanceRequirement"], json!(0.0), "a CASH account");
    let mmf = place(&mut state, &margin(), &market("SELL", 500, "SWVXX"), at(t0, 2)).unwrap().order_id;
    fill::fill(&mut state, "ann", mmf, None, at(t0, 3)).unwrap();
    let margin_after = account(&state, &margin());
    assert_eq!(balance(&margin_after, "currentBalances", "moneyMarketFund"), json!(2000.0));
    assert_eq!(balance(&margin_after, "currentBalances", "longMarketValue"), json!(3352.5), "unchanged");
    assert_eq!(position(&margin_after, "SWVXX").unwrap()["longQuantity"], json!(2000.0));
}

#[test]
fn only_open_orders_of_the_customer_fill_and_never_beyond_the_shares_held() {
    let mut state = SchwabState::default();
    let t0 = Instant::now();
    let first = place(&mut state, &margin(), &market("SELL", 10, "SYNT"), at(t0, 0)).unwrap().order_id;
    let second = place(&mut state, &margin(), &market("SELL", 10, "SYNT"), at(t0, 1)).unwrap().order_id;
    assert_eq!(second, FIRST_ORDER_ID + 1, "open orders reserve no shares");
    fill::fill(&mut state, "ann", first, None, at(t0, 2)).unwrap();
    let (status, why) = fill::fill(&mut state, "ann", second, None, at(t0, 3)).unwrap_err();
    assert_eq!(status, 400);
    assert!(why.contains("holds 0 SYNT"), "{why}");
    assert_eq!(fill::fill(&mut state, "ann", first, None, at(t0, 4)).unwrap_err().0, 400, "already filled");
    assert_eq!(fill::fill(&mut state, "bob", second, None, at(t0, 4)).unwrap_err().0, 404, "another customer's");
    assert_eq!(fill::fill(&mut state, "ann", 7, None, at(t0, 4)).unwrap_err().0, 404);
    desk::cancel(&mut state, "ann", &margin(), &second.to_string(), at(t0, 5)).unwrap();
    assert_eq!(fill::fill(&mut state, "ann", second, None, at(t0, 6)).unwrap_err().0, 400, "cancelled");
    let filled = state.orders.order(&margin(), first).unwrap();
    assert_eq!(filled.execution.as_ref().map(|e| e.at_ms), Some(UNIX_MS + 2000));
}
