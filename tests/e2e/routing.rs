//! Routing and merge end to end: the institution picker, link-time routing to a provider's flow,
//! and the merged portfolio with per-provider status.

use crate::plaid::link_plaid;
use crate::snaptrade::connect_snaptrade;
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        institutions_search_shows_the_provider_each_connection_would_use_and_why,
        connections_route_schwab_trading_to_the_snaptrade_portal,
        connections_refuse_bad_requests_with_json_errors,
        portfolio_merges_snaptrade_holdings_in_both_views_with_provider_status,
        portfolio_counts_schwab_once_when_both_providers_connect_it,
        portfolio_keeps_the_plaid_copy_when_snaptrade_fails,
    ]
}

fn entry<'a>(body: &'a Value, slug: &str) -> &'a Value {
    body["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} in {body}"))
}

async fn institutions_search_shows_the_provider_each_connection_would_use_and_why(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("rt-search"));
    let schwab = ctx.get(&ctx.dev, "/api/institutions?q=schwab", Some(&token)).await;
    assert_eq!(schwab.status, 200, "{:?}", schwab.body);
    let e = entry(&schwab.body, "charles_schwab");
    assert_eq!(
        (e["read"]["provider"].as_str(), e["trade"]["provider"].as_str()),
        (Some("schwab"), Some("snaptrade")),
        "reads through Schwab direct, trades through SnapTrade"
    );
    assert_eq!(e["read"]["reason"]["code"], "preferred");
    assert!(!e["read"]["message"].as_str().unwrap().is_empty(), "says why");
    assert_eq!(
        (e["read_capabilities"]["trading"].as_bool(), e["trade_capabilities"]["trading"].as_bool()),
        (Some(false), Some(true))
    );

    let chase = ctx.get(&ctx.dev, "/api/institutions?q=Chase", Some(&token)).await;
    let c = entry(&chase.body, "chase");
    assert_eq!(c["read"]["provider"], "plaid");
    assert_eq!(c["read_capabilities"]["trading"], false);

    let popular = ctx.get(&ctx.dev, "/api/institutions", Some(&token)).await;
    let list = popular.body["institutions"].as_array().unwrap();
    assert!(!list.is_empty() && list.iter().all(|e| e["popular"] == true), "{:?}", popular.body);

    let unknown = ctx.get(&ctx.dev, "/api/institutions?q=Purchase%20Bank%20of%20Nowhere", Some(&token)).await;
    let only = &unknown.body["institutions"][0];
    assert!(only["slug"].is_null(), "no substring accident: {only}");
    assert_eq!(
        (only["read"]["provider"].as_str(), only["trade"]["provider"].as_str()),
        (Some("plaid"), Some("snaptrade"))
    );

    let long = ctx.get(&ctx.dev, &format!("/api/institutions?q={}", "a".repeat(101)), Some(&token)).await;
    assert_eq!((long.status, long.code()), (400, "invalid_input"));
    let anonymous = ctx.get(&ctx.dev, "/api/institutions?q=schwab", None).await;
    assert_eq!(anonymous.status, 401);
    Ok(())
}

async fn connections_route_schwab_trading_to_the_snaptrade_portal(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("rt-connect"));
    let body = json!({"institution": "SCHWAB & CO.", "need_trading": true, "redirect": "http://127.0.0.1:9/done"});
    let reply = ctx.post(&ctx.dev, "/api/connections", &token, body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["provider"], "snaptrade");
    assert_eq!(reply.body["decision"]["institution"], "charles_schwab");
    assert_eq!(reply.body["decision"]["trading_available"], true);
    assert_eq!(reply.body["flow"]["kind"], "snaptrade_portal");
    let url = reply.body["flow"]["url"].as_str().unwrap();
    assert!(url.starts_with(&ctx.sim), "{url}");
    let parsed = reqwest::Url::parse(url).unwrap();
    let page = ctx.http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("SCHWAB") || page.contains("Schwab"), "the portal preselects the brokerage");
    assert!(parsed.query().unwrap_or_default().contains("sessionId"), "{url}");
    Ok(())
}

async fn connections_refuse_bad_requests_with_json_errors(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("rt-bad"));
    let cases = [
        (json!({"institution": "Schwab"}), 400, "invalid_input"),
        (json!({"institution": "", "redirect": "http://127.0.0.1:9/x"}), 400, "institution_required"),
        (json!({"institution": "Schwab", "redirect": "ftp://example.com"}), 400, "invalid_input"),
        (json!({"institution": "Schwab", "redirect": "http://127.0.0.1:9/x", "extra": 1}), 400, "invalid_json"),
    ];
    for (body, status, code) in cases {
        let reply = ctx.post(&ctx.dev, "/api/connections", &token, body.clone()).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{body} → {:?}", reply.body);
    }
    Ok(())
}

async fn portfolio_merges_snaptrade_holdings_in_both_views_with_provider_status(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("rt-portfolio"));
    let empty = ctx.get(&ctx.dev, "/api/portfolio", Some(&token)).await;
    assert_eq!(empty.status, 200, "{:?}", empty.body);
    assert_eq!(empty.body["consolidated"], json!([]));
    assert!(empty.body["providers"].as_array().unwrap().iter().all(|p| p["status"] == "not_connected"));

    connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    let consolidated = ctx.get(&ctx.dev, "/api/portfolio?view=consolidated", Some(&token)).await;
    assert_eq!(consolidated.status, 200, "{:?}", consolidated.body);
    let lines = consolidated.body["consolidated"].as_array().unwrap();
    let aapl = lines.iter().find(|l| l["ticker"] == "AAPL" && l["kind"] != "option").expect("AAPL line");
    assert_eq!(aapl["quantity"], "10");
    assert_eq!(aapl["sources"][0]["provider"], "snaptrade");
    let currencies: Vec<&str> =
        consolidated.body["cash"].as_array().unwrap().iter().map(|c| c["currency"].as_str().unwrap()).collect();
    assert!(currencies.contains(&"USD") && currencies.contains(&"CAD"), "every currency kept: {currencies:?}");
    let providers = consolidated.body["providers"].as_array().unwrap();
    let snaptrade = providers.iter().find(|p| p["provider"] == "snaptrade").unwrap();
    assert_eq!(snaptrade["status"], "ok", "{snaptrade}");
    assert_eq!(snaptrade["cache_info"]["from_cache"], true);
    assert_eq!(providers.iter().find(|p| p["provider"] == "plaid").unwrap()["status"], "not_connected");

    let by_account = ctx.get(&ctx.dev, "/api/portfolio?view=by_account", Some(&token)).await;
    let accounts = by_account.body["by_account"].as_array().unwrap();
    assert_eq!(accounts.len(), 2, "{:?}", by_account.body);
    let positions: usize = accounts.iter().map(|a| a["positions"].as_array().unwrap().len()).sum();
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(positions, holdings.body["positions"].as_array().unwrap().len(), "no position lost in the merge");

    let bad = ctx.get(&ctx.dev, "/api/portfolio?view=pie", Some(&token)).await;
    assert_eq!((bad.status, bad.code()), (400, "invalid_input"));
    Ok(())
}

/// The consolidated (non-option) line of `ticker` in a portfolio answer.
pub fn line<'a>(body: &'a Value, ticker: &str) -> &'a Value {
    body["consolidated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["ticker"] == ticker && l["kind"] != "option")
        .unwrap_or_else(|| panic!("{ticker} in {body}"))
}

/// `provider`'s report in a portfolio answer.
pub fn report<'a>(body: &'a Value, provider: &str) -> &'a Value {
    body["providers"].as_array().unwrap().iter().find(|p| p["provider"] == provider).unwrap()
}

async fn portfolio_counts_schwab_once_when_both_providers_connect_it(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("rt-both"));
    connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    assert_eq!(ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await.status, 200);
    link_plaid(&ctx, &token, "Charles Schwab", "ins_11").await;
    let plaid = ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await.body;
    assert!(
        plaid["positions"].as_array().unwrap().iter().any(|p| p["ticker"] == "AAPL"),
        "Plaid has its own Schwab copy"
    );

    let merged = ctx.get(&ctx.dev, "/api/portfolio?view=consolidated", Some(&token)).await;
    assert_eq!(merged.status, 200, "{:?}", merged.body);
    let aapl = line(&merged.body, "AAPL");
    assert_eq!(aapl["quantity"], "10", "Schwab's 10 AAPL counted once, not 20: {aapl}");
    assert!(aapl["sources"].as_array().unwrap().iter().all(|s| s["provider"] == "snaptrade"), "{aapl}");
    let plaid_report = report(&merged.body, "plaid");
    assert_eq!(plaid_report["status"], "routed_away", "{plaid_report}");
    assert_eq!(plaid_report["routed_away"][0]["institution"], "charles_schwab", "{plaid_report}");
    assert_eq!(report(&merged.body, "snaptrade")["status"], "ok");
    // Cached reads are deduplicated too: the second read comes from D1 only.
    let again = ctx.get(&ctx.dev, "/api/portfolio?view=by_account", Some(&token)).await;
    let accounts = again.body["by_account"].as_array().unwrap();
    assert!(accounts.iter().all(|a| a["account"]["provider"] == "snaptrade"), "{:?}", again.body);
    Ok(())
}

async fn portfolio_keeps_the_plaid_copy_when_snaptrade_fails(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("rt-failopen");
    let token = ctx.token(&user);
    link_plaid(&ctx, &token, "Charles Schwab", "ins_11").await;
    connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    let fault =
        json!({"provider": "snaptrade", "endpoint": "positions", "user_id": user, "kind": "status", "status": 500});
    crate::snaptrade::sim_fault(&ctx, fault).await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 502, "{:?}", sync.body);

    let merged = ctx.get(&ctx.dev, "/api/portfolio", Some(&token)).await;
    assert_eq!(merged.status, 200, "one failed provider never fails the portfolio: {:?}", merged.body);
    let aapl = line(&merged.body, "AAPL");
    let quantity: rust_decimal::Decimal = aapl["quantity"].as_str().unwrap().parse().unwrap();
    assert_eq!(quantity, rust_decimal::Decimal::from(10), "{aapl}");
    assert!(aapl["sources"].as_array().unwrap().iter().all(|s| s["provider"] == "plaid"), "fail-open: {aapl}");
    let snaptrade = report(&merged.body, "snaptrade");
    assert_eq!(
        (snaptrade["status"].as_str(), snaptrade["error"]["code"].as_str()),
        (Some("failed"), Some("provider_unavailable")),
        "{snaptrade}"
    );
    assert_eq!(report(&merged.body, "plaid")["status"], "ok");
    Ok(())
}
