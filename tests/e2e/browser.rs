//! Browser suites: Playwright (playwright-core + Debian's Chromium) scripts under `tests/browser/`,
//! run by Node's test runner against the development worker.

use crate::support::{Ctx, TestResult};
use crate::trials;
use std::sync::Arc;
use tributary_e2e::{artifacts_dir, repo_root};

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        browser_page_shows_wasm_output_and_healthy_api,
        browser_person_connects_schwab_in_a_popup_and_sees_holdings,
        browser_merge_equals_the_workers_portfolio,
        browser_person_links_chase_through_plaid_and_sees_holdings,
    ]
}

/// Runs one `tests/browser/*.test.mjs` file with `node --test` and fails with its output.
async fn run_node_test(ctx: &Ctx, file: &str) -> TestResult {
    run_node_test_with(ctx, file, &[]).await
}

/// [`run_node_test`] with extra environment variables for the script.
async fn run_node_test_with(ctx: &Ctx, file: &str, env: &[(&str, &str)]) -> TestResult {
    let output = tokio::process::Command::new("node")
        .envs(env.iter().copied())
        .arg("--test")
        .arg(repo_root().join("tests/browser").join(file))
        .env("TRIBUTARY_URL", &ctx.dev)
        .env("TRIBUTARY_SIM_URL", &ctx.sim)
        .env("TRIBUTARY_ARTIFACTS", artifacts_dir())
        .current_dir(repo_root())
        .output()
        .await
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

async fn browser_person_connects_schwab_in_a_popup_and_sees_holdings(ctx: Arc<Ctx>) -> TestResult {
    run_node_test(&ctx, "connect.test.mjs").await
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
