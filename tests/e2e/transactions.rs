//! The ledger end to end against the real worker and the simulated SnapTrade and Plaid: multi-page
//! syncs of both providers, one institution reached through both listed once, re-syncs that
//! never double a row (not even when SnapTrade re-issues its ids), late and cancelled rows, a
//! webhook-announced sync, the CSV parsed back exactly, the cooldown, and reconciliation.

use crate::plaid::link_plaid;
use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tributary_core::time::Date;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        transactions_sync_every_page_of_both_providers_once_deduplicated_and_exact_in_csv,
        transactions_reconciliation_flags_exactly_the_change_no_transaction_explains,
        transactions_a_failed_page_keeps_every_row_stored_before_and_the_flag_raised,
        transactions_refuse_bad_queries_with_stable_codes,
    ]
}

pub(crate) fn today() -> Date {
    Date::from_unix(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64)
}

/// Every row of the user's ledger from `from` on, page by page (500 at a time).
pub(crate) async fn ledger(ctx: &Ctx, token: &str, from: Date, to: Date) -> (Vec<Value>, Value) {
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = format!("/api/transactions?from={from}&to={to}&limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = ctx.get(&ctx.dev, &path, Some(token)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        rows.extend(page.body["transactions"].as_array().unwrap().iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (rows, page.body["providers"].clone()),
        }
    }
    panic!("more than 100 pages");
}

pub(crate) fn ids(rows: &[Value]) -> BTreeSet<String> {
    rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

pub(crate) async fn sync(ctx: &Ctx, token: &str) -> Value {
    let reply = ctx.post(&ctx.dev, "/api/transactions/sync", token, json!({})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body
}

pub(crate) fn result<'a>(body: &'a Value, provider: &str) -> &'a Value {
    body["results"].as_array().unwrap().iter().find(|r| r["provider"] == provider).unwrap_or_else(|| panic!("{body}"))
}

async fn transactions_sync_every_page_of_both_providers_once_deduplicated_and_exact_in_csv(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("tx-ledger");
    let token = ctx.token(&user);
    // Schwab through SnapTrade and through Plaid (the transactions map prefers SnapTrade), and
    // Chase through Plaid only.
    connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    link_plaid(&ctx, &token, "Charles Schwab", "ins_11").await;
    let chase = link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let account = holdings.body["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    // Enough history for two SnapTrade pages (1,000 a page) and three Plaid pages (500 a page).
    let body = json!({"provider": "snaptrade", "user": user, "account_id": account, "count": 1_200});
    let added = ctx.sim_control("/__sim/transactions/history", &body).await;
    assert_eq!(added["count"], 1_200, "{added}");
    let body = json!({"provider": "plaid", "item_id": chase, "count": 1_100});
    let added = ctx.sim_control("/__sim/transactions/history", &body).await;
    assert_eq!(added["count"], 1_100, "{added}");

    let synced = sync(&ctx, &token).await;
    for provider in ["snaptrade", "plaid"] {
        assert_eq!(result(&synced, provider)["status"], "ok", "{synced}");
    }
    let calls = ctx.sim_calls().await;
    let plaid_pages =
        calls["plaid"]["users"][crate::plaid::plaid_user(&user)]["operations"]["investments_transactions_get"].as_u64();
    assert!(plaid_pages.is_some_and(|n| n >= 4), "three pages of Chase, one or more of Schwab: {plaid_pages:?}");

    let (from, to) = (today().add_days(-1_800), today().add_days(1));
    let (rows, providers) = ledger(&ctx, &token, from, to).await;
    assert_eq!(ids(&rows).len(), rows.len(), "no row twice");
    let of = |provider: &str, institution: &str| {
        rows.iter().filter(|r| r["provider"] == provider && r["institution"] == institution).count()
    };
    assert!(of("snaptrade", "charles_schwab") >= 1_200, "every SnapTrade page");
    assert!(of("plaid", "chase") >= 1_100, "every Plaid page");
    assert_eq!(of("plaid", "charles_schwab"), 0, "Schwab counts once, from SnapTrade");
    let plaid = providers.as_array().unwrap().iter().find(|p| p["provider"] == "plaid").unwrap();
    assert_eq!(plaid["routed_away"][0]["institution"], "charles_schwab", "{plaid}");
    let newest_first = rows.windows(2).all(|w| {
        (w[0]["trade_date"].as_str(), w[0]["id"].as_str()) >= (w[1]["trade_date"].as_str(), w[1]["id"].as_str())
    });
    assert!(newest_first, "pages run newest first");
    // Both conventions in one: a purchase takes cash out, a sale brings it in.
    for row in &rows {
        let amount: Option<f64> = row["amount"].as_str().map(|a| a.parse().unwrap());
        match row["type"].as_str().unwrap() {
            "buy" => assert!(amount.is_some_and(|a| a < 0.0), "{row}"),
            "sell" | "dividend" | "deposit" => assert!(amount.is_some_and(|a| a > 0.0), "{row}"),
            _ => {}
        }
    }

    // The CSV holds exactly the same rows, to the digit.
    let response = ctx
        .http
        .get(format!("{}/api/transactions.csv?from={from}&to={to}", ctx.dev))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("id,trade_date,settlement_date,provider,"), "{}", lines[0]);
    assert_eq!(lines.len(), rows.len() + 1, "a header and every row");
    for (line, row) in lines[1..].iter().zip(&rows) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[0], row["id"].as_str().unwrap());
        assert_eq!(fields[1], row["trade_date"].as_str().unwrap());
        if !line.contains('"') {
            assert_eq!(fields[13], row["amount"].as_str().unwrap_or(""), "{line}");
            assert_eq!(fields[11], row["quantity"].as_str().unwrap_or(""), "{line}");
        }
    }

    // Within the cooldown a sync is refused with Retry-After.
    let again = ctx
        .http
        .post(format!("{}/api/transactions/sync", ctx.dev))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 429);
    assert!(again.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);

    // SnapTrade announces new activity (one row posted late, dated days back) and re-issues every
    // id; Plaid cancels a row. The next sync finds the late row, drops the cancelled one and the
    // old ids, and doubles nothing.
    let late_day = today().add_days(-3).to_string();
    let late = ctx
        .sim_control(
            "/__sim/transactions",
            &json!({"provider": "snaptrade", "user": user, "account_id": account,
        "rows": [{"kind": "dividend", "symbol": "AAPL", "amount": "3.21", "date": late_day}]}),
        )
        .await;
    let late_id = late["ids"][0].as_str().unwrap_or_else(|| panic!("{late}")).to_owned();
    let plaid_holdings = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
    let chase_account = plaid_holdings.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["connection_id"] == chase.as_str())
        .and_then(|a| a["account_id"].as_str())
        .unwrap_or_else(|| panic!("{:?}", plaid_holdings.body))
        .to_owned();
    let posted = ctx.sim_control("/__sim/transactions", &json!({"provider": "plaid", "item_id": chase, "account_id": chase_account,
        "rows": [{"kind": "deposit", "amount": "50", "date": today().add_days(-1).to_string(), "id": format!("cancel-me-{user}")}]})).await;
    assert!(posted["ids"].is_array(), "{posted}");
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    sync(&ctx, &token).await;
    let (before, _) = ledger(&ctx, &token, from, to).await;
    assert!(before.iter().any(|r| r["provider_transaction_id"] == format!("cancel-me-{user}")));
    let spec = json!({"event_type": "ACCOUNT_TRANSACTIONS_UPDATED", "user_id": user, "account_id": account, "url": format!("{}/webhooks/snaptrade", ctx.dev)});
    let (status, body, _) = ctx.sim_webhook("/__sim/snaptrade/webhook", &spec).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("transactions_pending_raised")), "{body}");
    let flags = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await.body;
    assert_eq!(
        (flags["transactions"]["snaptrade"].as_bool(), flags["snaptrade"].as_bool()),
        (Some(true), Some(false)),
        "{flags}"
    );
    let reissued = ctx
        .sim_control(
            "/__sim/transactions/reissue",
            &json!({"provider": "snaptrade", "user": user, "account_id": account}),
        )
        .await;
    assert!(reissued["reissued"].as_u64().is_some_and(|n| n > 0), "{reissued}");
    let cancelled = ctx
        .sim_control(
            "/__sim/transactions/cancel",
            &json!({"provider": "plaid", "item_id": chase, "investment_transaction_id": format!("cancel-me-{user}")}),
        )
        .await;
    assert!(cancelled["cancelled"].is_string(), "{cancelled}");
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    let resynced = sync(&ctx, &token).await;
    assert!(
        result(&resynced, "snaptrade")["removed"].as_u64().is_some_and(|n| n >= 1),
        "re-issued ids replace the old: {resynced}"
    );
    let (after, _) = ledger(&ctx, &token, from, to).await;
    assert_eq!(ids(&after).len(), after.len());
    assert_eq!(after.len(), before.len() - 1, "the same ledger less the cancelled row, nothing doubled");
    assert!(!after.iter().any(|r| r["provider_transaction_id"] == format!("cancel-me-{user}")), "cancelled");
    let late_row = after.iter().find(|r| r["trade_date"] == late_day.as_str() && r["amount"] == "3.21");
    assert!(late_row.is_some(), "the late row ({late_id}), under its new id");
    let flags = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await.body;
    assert_eq!(flags["transactions"]["snaptrade"], false, "a complete sync clears the flag: {flags}");
    let billed = ctx.sim_calls().await;
    assert_eq!(billed["snaptrade"]["users"][&user]["billed"].as_u64().unwrap_or(0), 0, "syncs never bill");
    Ok(())
}

async fn transactions_reconciliation_flags_exactly_the_change_no_transaction_explains(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("tx-recon");
    let token = ctx.token(&user);
    connect_snaptrade(&ctx, &token, "Fidelity", "FIDELITY").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let account = holdings.body["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let held: Vec<String> = holdings.body["positions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["account_id"] == account.as_str())
        .filter_map(|p| p["ticker"].as_str().map(str::to_owned))
        .collect();
    assert!(held.len() >= 2, "{held:?}");
    // Tomorrow (on this user's clock, a day on): a buy the holdings show, and one they do not.
    let tomorrow = today().add_days(1).to_string();
    let rows = |symbol: &str, apply: bool| {
        json!({"provider": "snaptrade", "user": user, "account_id": account, "apply_to_holdings": apply,
               "rows": [{"kind": "buy", "symbol": symbol, "quantity": "2", "price": "10", "date": tomorrow}]})
    };
    assert!(ctx.sim_control("/__sim/transactions", &rows(&held[0], true)).await["ids"].is_array());
    assert!(ctx.sim_control("/__sim/transactions", &rows(&held[1], false)).await["ids"].is_array());
    ctx.advance_user_clock(&ctx.dev, &user, 25 * 3_600).await;
    let reread = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(
        reread.body["cache_info"]["from_cache"], false,
        "past its TTL, read again: {:?}",
        reread.body["cache_info"]
    );
    assert_eq!(result(&sync(&ctx, &token).await, "snaptrade")["status"], "ok");
    let report = ctx.get(&ctx.dev, "/api/transactions/reconciliation", Some(&token)).await;
    assert_eq!(report.status, 200, "{:?}", report.body);
    let mismatches = report.body["mismatches"].as_array().unwrap();
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    let m = &mismatches[0];
    assert_eq!(
        (m["account_id"].as_str(), m["security_key"].as_str()),
        (Some(account.as_str()), Some(held[1].as_str()))
    );
    assert_eq!(
        (m["implied_change"].as_str(), m["observed_change"].as_str(), m["difference"].as_str()),
        (Some("2"), Some("0"), Some("-2"))
    );
    Ok(())
}

async fn transactions_a_failed_page_keeps_every_row_stored_before_and_the_flag_raised(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("tx-failed-page");
    let token = ctx.token(&user);
    // One account, so the failing page is that account's (accounts are read side by side).
    connect_snaptrade(&ctx, &token, "Robinhood", "ROBINHOOD").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    let account = holdings.body["accounts"][0]["account_id"].as_str().unwrap().to_owned();
    let body = json!({"provider": "snaptrade", "user": user, "account_id": account, "count": 1_500});
    assert_eq!(ctx.sim_control("/__sim/transactions/history", &body).await["count"], 1_500);
    assert_eq!(result(&sync(&ctx, &token).await, "snaptrade")["status"], "ok");
    let (from, to) = (today().add_days(-1_800), today().add_days(1));
    let (stored, _) = ledger(&ctx, &token, from, to).await;
    assert!(stored.len() >= 1_500, "two pages read: {}", stored.len());

    // New activity is announced: 1,200 rows in the last five days, two pages of the next sync's
    // window, whose second page fails.
    let spec = json!({"event_type": "ACCOUNT_TRANSACTIONS_UPDATED", "user_id": user, "account_id": account,
                      "url": format!("{}/webhooks/snaptrade", ctx.dev)});
    let (status, body, _) = ctx.sim_webhook("/__sim/snaptrade/webhook", &spec).await;
    assert_eq!((status, &body["outcome"]), (200, &json!("transactions_pending_raised")), "{body}");
    let new_rows: Vec<Value> = (0..1_200)
        .map(|i| json!({"kind": "interest", "amount": format!("0.{:02}", i % 100), "date": today().add_days(-(i % 5) - 1).to_string()}))
        .collect();
    let posted = ctx
        .sim_control(
            "/__sim/transactions",
            &json!({"provider": "snaptrade", "user": user, "account_id": account, "rows": new_rows}),
        )
        .await;
    assert_eq!(posted["ids"].as_array().map(Vec::len), Some(1_200), "{posted}");
    let fault = json!({"provider": "snaptrade", "endpoint": "activities", "user_id": user, "kind": "status",
                       "status": 500, "after": 1});
    let fault_id = ctx.sim_control("/__sim/faults", &fault).await["id"].as_u64().unwrap();
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    let failed = sync(&ctx, &token).await;
    let report = result(&failed, "snaptrade");
    assert_eq!((report["status"].as_str(), report["removed"].as_u64()), (Some("partial"), Some(0)), "{failed}");
    assert!(report["error"]["code"].is_string(), "the failure is named: {report}");
    let (kept, _) = ledger(&ctx, &token, from, to).await;
    assert!(ids(&stored).is_subset(&ids(&kept)), "nothing stored before is lost");
    let first_page = kept.len() - stored.len();
    assert!((1..1_200).contains(&first_page), "the rows of the page read before the failure are kept: {first_page}");
    let flags = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await.body;
    assert_eq!(flags["transactions"]["snaptrade"], true, "an incomplete sync keeps the flag: {flags}");

    let removed = ctx.http.delete(format!("{}/__sim/faults/{fault_id}", ctx.sim)).send().await.unwrap();
    assert_eq!(removed.status().as_u16(), 200);

    // The next sync reads every page again and clears the flag; still nothing doubled.
    ctx.advance_user_clock(&ctx.dev, &user, crate::REFRESH_COOLDOWN_S + 1).await;
    assert_eq!(result(&sync(&ctx, &token).await, "snaptrade")["status"], "ok");
    let (after, _) = ledger(&ctx, &token, from, to).await;
    assert_eq!(ids(&after).len(), after.len(), "no row twice");
    assert_eq!(after.len(), stored.len() + 1_200, "every row stored before and every new one, once");
    let flags = ctx.get(&ctx.dev, "/api/pending-updates", Some(&token)).await.body;
    assert_eq!(flags["transactions"]["snaptrade"], false, "{flags}");
    Ok(())
}

async fn transactions_refuse_bad_queries_with_stable_codes(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("tx-bad"));
    for (query, code) in [
        ("from=2026-02-30", "invalid_date"),
        ("from=2026-06-02&to=2026-06-01", "date_range_inverted"),
        ("from=2019-01-01&to=2026-01-01", "date_range_too_long"),
        ("type=purchase", "unknown_transaction_type"),
        ("limit=501", "invalid_limit"),
        ("cursor=nonsense", "invalid_cursor"),
    ] {
        for path in ["/api/transactions", "/api/transactions.csv"] {
            let reply = ctx.get(&ctx.dev, &format!("{path}?{query}"), Some(&token)).await;
            assert_eq!((reply.status, reply.code()), (400, code), "{path}?{query}: {:?}", reply.body);
        }
    }
    let empty = ctx.get(&ctx.dev, "/api/transactions", Some(&token)).await;
    assert_eq!(
        (empty.status, &empty.body["transactions"], &empty.body["next_cursor"]),
        (200, &json!([]), &Value::Null)
    );
    assert_eq!(ctx.get(&ctx.dev, "/api/transactions", None).await.status, 401);
    Ok(())
}
