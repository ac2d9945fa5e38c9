//! Browser suites: Playwright (playwright-core + Debian's Chromium) scripts under `tests/browser/`,
//! run by Node's test runner against the development worker.

use crate::support::{Ctx, TestResult};
use crate::trials;
use std::sync::Arc;
use tributary_e2e::{artifacts_dir, repo_root};

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        browser_page_shows_wasm_output_and_healthy_api,
        browser_person_connects_schwab_for_trading_then_directly_and_sees_it_once,
        browser_merge_equals_the_workers_portfolio,
        browser_person_links_chase_through_plaid_and_sees_holdings,
        browser_journey_banner_refresh_countdown_cost_and_failure,
        browser_activity_tab_syncs_totals_exactly_filters_downloads_csv_and_warns_beside_the_account,
        browser_order_ticket_previews_places_by_keyboard_cancels_and_offers_reconnect_with_trading,
        browser_person_reconnects_a_broken_connection,
        browser_person_reconnects_a_plaid_item_in_update_mode,
        browser_schwab_expiry_is_warned_and_reconnect_renews_it,
        browser_person_pastes_an_ibkr_flex_token_and_sees_the_statement,
        browser_host_app_on_another_origin_reads_retry_after_through_cors,
        browser_npm_package_bundled_with_esbuild_connects_shows_holdings_polls_and_refreshes,
        browser_npm_package_in_a_vite_app_with_no_configuration_runs_cross_origin,
        browser_npm_package_in_a_webpack_app_with_no_configuration_runs_cross_origin,
    ]
}

/// Runs one `tests/browser/*.test.mjs` file with `node --test` and fails with its output.
async fn run_node_test(ctx: &Ctx, file: &str) -> TestResult {
    run_node_test_with(ctx, file, &[]).await
}

/// The longest one browser script may run before it is stopped and failed: far beyond what a
/// busy machine needs (the journey takes under two minutes there), so only a hang reaches it.
const SCRIPT_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// [`run_node_test`] with extra environment variables for the script.
async fn run_node_test_with(ctx: &Ctx, file: &str, env: &[(&str, &str)]) -> TestResult {
    let run = tokio::process::Command::new("node")
        .envs(env.iter().copied())
        .arg("--test")
        .arg(format!("--test-timeout={}", SCRIPT_LIMIT.as_millis()))
        .arg(repo_root().join("tests/browser").join(file))
        .env("TRIBUTARY_URL", &ctx.dev)
        .env("TRIBUTARY_SIM_URL", &ctx.sim)
        .env("TRIBUTARY_ARTIFACTS", artifacts_dir())
        .env("TRIBUTARY_REFRESH_COOLDOWN_S", crate::REFRESH_COOLDOWN_S.to_string())
        .current_dir(repo_root())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_LIMIT + std::time::Duration::from_secs(30), run)
        .await
        .map_err(|_| format!("{file} did not finish within {} s and was stopped", SCRIPT_LIMIT.as_secs()))?
        .map_err(|e| format!("run node: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{file} failed:\n{text}"))
    }
}

async fn browser_page_shows_wasm_output_and_healthy_api(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "skeleton.test.mjs").await
}

async fn browser_person_connects_schwab_for_trading_then_directly_and_sees_it_once(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "connect.test.mjs").await
}

async fn browser_person_pastes_an_ibkr_flex_token_and_sees_the_statement(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "ibkr.test.mjs").await
}

async fn browser_host_app_on_another_origin_reads_retry_after_through_cors(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "cors.test.mjs").await
}

/// Vite builds the app importing each package entry ("." and "/web") with no configuration; each
/// build runs from http://localhost:<port> against the API on 127.0.0.1 through CORS.
async fn browser_npm_package_in_a_vite_app_with_no_configuration_runs_cross_origin(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "package-vite.test.mjs").await
}

/// The same with webpack 5 (its Node API, no configuration).
async fn browser_npm_package_in_a_webpack_app_with_no_configuration_runs_cross_origin(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "package-webpack.test.mjs").await
}

async fn browser_merge_equals_the_workers_portfolio(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("br-parity"));
    crate::snaptrade::connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, serde_json::json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    crate::plaid::link_plaid(&ctx, &token, "Charles Schwab", "ins_11").await;
    crate::plaid::link_plaid(&ctx, &token, "Chase", "ins_56").await;
    run_node_test_with(&ctx, "merge-parity.test.mjs", &[("TRIBUTARY_TOKEN", &token)]).await
}

async fn browser_person_links_chase_through_plaid_and_sees_holdings(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "connect-plaid.test.mjs").await
}

async fn browser_journey_banner_refresh_countdown_cost_and_failure(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("br-journey");
    let plaid_user = crate::plaid::plaid_user(&user);
    run_node_test_with(&ctx, "journey.test.mjs", &[("TRIBUTARY_USER", &user), ("TRIBUTARY_PLAID_USER", &plaid_user)])
        .await
}

/// The Activity tab on a SnapTrade user whose simulated Fidelity accounts carry their default
/// history: sync, badges, exact totals, a type filter, the CSV, the sync cooldown, announced
/// activity and a reconciliation warning beside its account.
async fn browser_activity_tab_syncs_totals_exactly_filters_downloads_csv_and_warns_beside_the_account(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("br-activity");
    run_node_test_with(&ctx, "activity.test.mjs", &[("TRIBUTARY_USER", &user)]).await
}

/// The order ticket on a Robinhood trade connection: MSFT found, a refusal shown, a Limit BUY
/// previewed (every field and estimate source), placed by keyboard once, open, then cancelled;
/// on a read-only connection, "Reconnect with trading" through SnapTrade's portal.
async fn browser_order_ticket_previews_places_by_keyboard_cancels_and_offers_reconnect_with_trading(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("br-trading");
    run_node_test_with(&ctx, "trading.test.mjs", &[("TRIBUTARY_USER", &user)]).await
}

async fn browser_person_reconnects_a_broken_connection(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("br-repair");
    let token = ctx.token(&user);
    let authorization = crate::snaptrade::connect_snaptrade(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, serde_json::json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    // The brokerage drops the connection, and SnapTrade says so by webhook.
    let disable = serde_json::json!({"provider": "snaptrade", "endpoint": "*", "user_id": user, "kind": "disabled"});
    crate::snaptrade::sim_fault(&ctx, disable).await;
    let spec = serde_json::json!({
        "event_type": "CONNECTION_BROKEN", "user_id": user, "authorization_id": authorization,
        "url": format!("{}/webhooks/snaptrade", ctx.dev),
    });
    let (status, body, _) = ctx.sim_webhook("/__sim/snaptrade/webhook", &spec).await;
    assert_eq!(status, 200, "{body}");
    run_node_test_with(&ctx, "reconnect.test.mjs", &[("TRIBUTARY_USER", &user)]).await?;
    let rows = ctx.d1("SELECT needs_repair, disabled FROM connections WHERE user_id = ?1", &[&user]);
    assert_eq!(rows, vec![serde_json::json!({"needs_repair": 0, "disabled": 0})], "repaired in D1 too");
    Ok(())
}

async fn browser_person_reconnects_a_plaid_item_in_update_mode(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("br-plaid-repair");
    let token = ctx.token(&user);
    let item = crate::plaid::link_plaid(&ctx, &token, "Chase", "ins_56").await;
    // The bank wants a new login; the next read (past the cache TTL) finds it and flags the Item.
    ctx.sim_control("/__sim/plaid/items/break", &serde_json::json!({"item_id": item})).await;
    ctx.advance_user_clock(&ctx.dev, &user, 73 * 3600).await;
    ctx.get(&ctx.dev, "/api/plaid/holdings", Some(&token)).await;
    let flagged = ctx.d1("SELECT needs_repair FROM connections WHERE user_id = ?1", &[&user]);
    assert_eq!(flagged, vec![serde_json::json!({"needs_repair": 1})]);
    run_node_test_with(&ctx, "plaid_reconnect.test.mjs", &[("TRIBUTARY_USER", &user)]).await?;
    let rows = ctx.d1("SELECT needs_repair FROM connections WHERE user_id = ?1", &[&user]);
    assert_eq!(rows, vec![serde_json::json!({"needs_repair": 0})], "repaired in D1 too");
    let calls = ctx.sim_calls().await;
    let exchanges =
        &calls["plaid"]["users"][crate::plaid::plaid_user(&user)]["operations"]["item_public_token_exchange"];
    assert_eq!(exchanges, 1, "update mode exchanges nothing");
    Ok(())
}

async fn browser_schwab_expiry_is_warned_and_reconnect_renews_it(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("br-schwab-expiry");
    let customer = ctx.user("cust");
    let token = ctx.token(&user);
    let connected = crate::schwab::connect_schwab(&ctx, &ctx.dev, &token, &customer).await;
    let before = connected["connection"]["external_id"].clone();
    ctx.advance_user_clock(&ctx.dev, &user, 5 * 86_400 + 43_200).await;
    run_node_test_with(
        &ctx,
        "schwab-expiry.test.mjs",
        &[("TRIBUTARY_USER", &user), ("TRIBUTARY_SCHWAB_CUSTOMER", &customer)],
    )
    .await?;
    let listed = ctx.get(&ctx.dev, "/api/schwab/connections", Some(&token)).await;
    let connection = &listed.body["connections"][0];
    assert_eq!((&connection["external_id"], &connection["expires_soon"]), (&before, &serde_json::json!(false)));
    Ok(())
}

/// `GET /api/connections` as `(provider, connected)` pairs, in the worker's order.
async fn connected_providers(ctx: &Ctx, token: &str) -> Vec<(String, bool)> {
    let reply = ctx.get(&ctx.dev, "/api/connections", Some(token)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let entries = reply.body["providers"].as_array().expect("a providers list").iter();
    entries.map(|e| (e["provider"].as_str().unwrap().to_owned(), e["connected"].as_bool().unwrap())).collect()
}

async fn browser_npm_package_bundled_with_esbuild_connects_shows_holdings_polls_and_refreshes(
    ctx: Arc<Ctx>,
) -> TestResult {
    let user = ctx.user("br-package");
    let token = ctx.token(&user);
    crate::plaid::link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let only_plaid = vec![("snaptrade".to_owned(), false), ("plaid".to_owned(), true), ("schwab".to_owned(), false)];
    let only_plaid = [only_plaid, vec![("ibkr_flex".to_owned(), false)]].concat();
    assert_eq!(connected_providers(&ctx, &token).await, only_plaid, "before: Plaid only");
    run_node_test_with(&ctx, "package.test.mjs", &[("TRIBUTARY_USER", &user)]).await?;
    let both = vec![
        ("snaptrade".to_owned(), true),
        ("plaid".to_owned(), true),
        ("schwab".to_owned(), false),
        ("ibkr_flex".to_owned(), false),
    ];
    assert_eq!(connected_providers(&ctx, &token).await, both, "SnapTrade connected through the package's popup");
    Ok(())
}
