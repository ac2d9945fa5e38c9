//! The ledger of the direct feeds end to end: Schwab's transactions read in windows of a year,
//! a window that came back full (3,000 rows) split and read again, listed once although SnapTrade
//! reaches the same Schwab account; IBKR Flex's trades and cash transactions taken from the daily
//! statement the holdings path read (nothing more asked of IBKR), exact to the cent in every
//! currency, orders and closed lots never counted, and the next day's statement adding its rows.

use crate::ibkr_flex::{connect as connect_flex, ibkr_user};
use crate::schwab::connect_schwab;
use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, TestResult};
use crate::transactions::{ids, ledger, result, sync, today};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;
use tributary_core::time::Date;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        transactions_schwab_reads_every_window_splits_a_full_one_and_counts_schwab_once,
        transactions_ibkr_flex_come_from_the_daily_statement_exactly_without_asking_ibkr_again,
    ]
}

/// A decimal field as an exact number (`"4.0"` and `"4"` alike); `None` when null.
fn dec(value: &Value) -> Option<rust_decimal::Decimal> {
    value.as_str().map(|text| text.parse().unwrap_or_else(|e| panic!("{text}: {e}")))
}

fn unique(rows: &[Value]) -> bool {
    ids(rows).len() == rows.len()
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

async fn transactions_schwab_reads_every_window_splits_a_full_one_and_counts_schwab_once(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("tx-schwab");
    let token = ctx.token(&user);
    let customer = ctx.user("schwab-tx");
    connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    // The same institution through SnapTrade: the transactions map prefers Schwab direct.
    connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    let holdings = ctx.get(&ctx.dev, "/api/schwab/holdings", Some(&token)).await;
    let account = holdings.body["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    // 3,100 rows in the last ten days: more than one answer may hold, so that year is split.
    let rows: Vec<Value> = (0..3_100)
        .map(|i| {
            json!({"kind": "interest", "amount": format!("0.{:02}", i % 100 + 1), "description": "Bank Interest",
                   "date": today().add_days(-(i % 10) - 1).to_string()})
        })
        .collect();
    let posted = ctx
        .sim_control(
            "/__sim/transactions",
            &json!({"provider": "schwab", "customer": customer, "account_id": account, "rows": rows}),
        )
        .await;
    assert_eq!(posted["ids"].as_array().map(Vec::len), Some(3_100), "{posted}");
    let sale = json!({"provider": "schwab", "customer": customer, "account_id": account,
        "rows": [{"kind": "sell", "symbol": "SETF", "quantity": "4", "price": "75", "fee": "0.65",
                  "date": today().add_days(-2).to_string(), "id": "555001"}]});
    assert_eq!(ctx.sim_control("/__sim/transactions", &sale).await["ids"], json!(["555001"]));

    let synced = sync(&ctx, &token).await;
    assert_eq!(result(&synced, "schwab")["status"], "ok", "{synced}");
    let calls = ctx.sim_calls().await["schwab"]["users"][&customer]["operations"]["transactions"].as_u64();
    // Five years back in windows of at most a year (6), and the full one read again in halves.
    assert!(calls.is_some_and(|n| n >= 8), "every window, the full one split: {calls:?}");

    let (rows, providers) = ledger(&ctx, &token, today().add_days(-1_800), today().add_days(1)).await;
    assert!(unique(&rows), "no row twice");
    let schwab: Vec<&Value> = rows.iter().filter(|r| r["provider"] == "schwab").collect();
    assert!(schwab.len() > 3_101, "every posted row and the seeded history: {}", schwab.len());
    let interest = schwab.iter().filter(|r| r["type"] == "interest" && r["description"] == "Bank Interest").count();
    assert_eq!(interest, 3_100, "the full window's rows, each once");
    let sold = schwab.iter().find(|r| r["provider_transaction_id"] == "555001").expect("the sale");
    assert_eq!(
        (sold["type"].as_str(), dec(&sold["quantity"]), dec(&sold["amount"]), dec(&sold["fees"])),
        (Some("sell"), dec(&json!("-4")), dec(&json!("299.35")), dec(&json!("0.65"))),
        "units out, cash in less the commission: {sold}"
    );
    assert_eq!(
        (sold["account_id"].as_str(), sold["institution"].as_str()),
        (Some(account.as_str()), Some("charles_schwab"))
    );
    let snaptrade_schwab = rows.iter().filter(|r| r["provider"] == "snaptrade" && r["institution"] == "charles_schwab");
    assert_eq!(snaptrade_schwab.count(), 0, "Schwab counts once, from Schwab direct");
    let snaptrade = providers.as_array().unwrap().iter().find(|p| p["provider"] == "snaptrade").unwrap();
    assert_eq!(snaptrade["routed_away"][0]["institution"], "charles_schwab", "{snaptrade}");
    Ok(())
}

async fn transactions_ibkr_flex_come_from_the_daily_statement_exactly_without_asking_ibkr_again(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("tx-flex");
    let session = ctx.token(&user);
    let name = ctx.user("flex-tx");
    let (token, query_id, accounts) = ibkr_user(&ctx, &name).await;
    let connected = connect_flex(&ctx, &session, &token, &query_id).await;
    assert_eq!((connected.status, connected.body["statement_date"].as_str()), (201, Some("2026-03-13")));
    let flex_calls = |calls: &Value| calls["ibkr"]["users"][&name]["total"].as_u64().unwrap_or(0);
    let before = flex_calls(&ctx.sim_calls().await);
    let synced = sync(&ctx, &session).await;
    assert_eq!(result(&synced, "ibkr_flex")["status"], "ok", "{synced}");
    assert_eq!(flex_calls(&ctx.sim_calls().await), before, "the statement already read is the source");

    let (rows, _) = ledger(&ctx, &session, date("2026-03-01"), date("2026-03-31")).await;
    assert!(unique(&rows));
    let day: Vec<&Value> =
        rows.iter().filter(|r| r["provider"] == "ibkr_flex" && r["trade_date"] == "2026-03-13").collect();
    let find = |account: &str, kind: &str, currency: &str| {
        day.iter()
            .find(|r| r["account_id"] == account && r["type"] == kind && r["currency"] == currency)
            .unwrap_or_else(|| panic!("a {kind} in {currency} of {account} in {day:?}"))
    };
    let (first, second) = (accounts[0].as_str(), accounts[1].as_str());
    assert_eq!(dec(&find(first, "dividend", "USD")["amount"]), dec(&json!("12.50")));
    assert_eq!(dec(&find(first, "tax", "USD")["amount"]), dec(&json!("-1.88")));
    assert_eq!(dec(&find(first, "deposit", "EUR")["amount"]), dec(&json!("1000")));
    assert_eq!(dec(&find(second, "dividend", "CAD")["amount"]), dec(&json!("25.20")));
    assert_eq!(dec(&find(second, "interest", "USD")["amount"]), dec(&json!("-0.85")));
    // Executions only: the day's buy and sell, never their orders or the closed lot beside them.
    let trades: Vec<&&Value> = day.iter().filter(|r| r["account_id"] == first && r["type"] != "dividend").collect();
    let buys: Vec<_> = trades.iter().filter(|r| r["type"] == "buy").collect();
    let sells: Vec<_> = trades.iter().filter(|r| r["type"] == "sell").collect();
    assert_eq!((buys.len(), sells.len()), (1, 1), "{trades:?}");
    assert_eq!((buys[0]["quantity"].as_str(), sells[0]["quantity"].as_str()), (Some("5"), Some("-5")));
    let amount = |r: &Value| r["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    let fees = |r: &Value| r["fees"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap();
    // 5 × 149.80 bought for 750 with the commission, 5 × 151.00 sold for 754 after it.
    assert_eq!(
        (amount(buys[0]), amount(sells[0])),
        (rust_decimal::Decimal::from(-750), rust_decimal::Decimal::from(754))
    );
    assert_eq!((fees(buys[0]), fees(sells[0])), (rust_decimal::Decimal::ONE, rust_decimal::Decimal::ONE));

    // The next business day: a deposit posted at IBKR, the day's statement read (an hour on),
    // and a sync adds it while the earlier day's rows stay.
    let posted = ctx
        .sim_control(
            "/__sim/ibkr/transactions",
            &json!({"account_id": first, "user": name,
                    "rows": [{"kind": "deposit", "amount": "250.75", "currency": "USD", "date": "2026-03-16"}]}),
        )
        .await;
    let deposit_id = posted["ids"][0].as_str().unwrap_or_else(|| panic!("{posted}")).to_owned();
    let moved = ctx.sim_control("/__sim/ibkr/report_date", &json!({"date": "2026-03-16", "user": name})).await;
    assert_eq!(moved["date"], "2026-03-16", "{moved}");
    ctx.advance_user_clock(&ctx.dev, &user, 2 * 3_600).await;
    let refreshed = ctx.post(&ctx.dev, "/api/holdings/refresh", &session, json!({"providers": ["ibkr_flex"]})).await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    assert_eq!(result(&sync(&ctx, &session).await, "ibkr_flex")["status"], "ok");
    let (after, _) = ledger(&ctx, &session, date("2026-03-01"), date("2026-03-31")).await;
    assert!(unique(&after));
    let deposit =
        after.iter().find(|r| r["provider_transaction_id"] == deposit_id.as_str()).expect("the new day's row");
    assert_eq!(
        (deposit["type"].as_str(), dec(&deposit["amount"]), deposit["trade_date"].as_str()),
        (Some("deposit"), dec(&json!("250.75")), Some("2026-03-16"))
    );
    assert_eq!(after.len(), rows.len() + 1, "the earlier day's rows stay, the new one joins");
    Ok(())
}
