//! The API contract: `openapi.yaml` documents every route the worker declares (and nothing else;
//! the `ROUTES` table behind a 405's `Allow` names the same), and the running development worker
//! answers as it says — checked by schemathesis (PyPI, installed by `scripts/setup` into
//! `target/venv`) with a seeded user's session.
//!
//! What the schemathesis run proves, per operation: no 5xx; every status, content type, header
//! (`Retry-After` on 429) and JSON body is the documented one; input the document calls invalid is
//! refused with a 4xx; a request without (or with a broken) bearer token is a 401.
//!
//! Left out of the run, because calling them with generated input changes shared or billed state:
//! - `POST /api/dev/clock` moves the clock of the whole development worker, which every other
//!   suite shares (sessions would expire, webhooks go stale, cooldowns end mid-test);
//! - `POST /api/plaid/exchange`: a generated public token is refused (404 `public_token_unknown`:
//!   no Link session of the user produced it) and a real one creates an Item (a monthly
//!   subscription) — neither says anything about drift that `tests/e2e/plaid.rs` does not already
//!   pin with real tokens;
//! - `POST /api/snaptrade/connections/sync`: each call makes five or more SnapTrade requests
//!   against the client-wide rate limit (250 a minute) that every suite of the run shares; a
//!   generated burst rate-limits them all (seen: 503 `provider_rate_limited` at 60 examples). The
//!   seeding below calls it once and `tests/e2e/snaptrade.rs` pins its answer;
//! - `POST /mcp`: JSON-RPC answers most malformed calls in-band (a 200 carrying `-32602` or an
//!   `isError` result, as the protocol requires), which schemathesis' negative-data check reads as
//!   accepted, and a generated `get_positions` with `refresh_provider` claims the user's refresh
//!   cooldown that other operations share. `tests/e2e/mcp.rs` pins its answers with a real client.

use crate::support::{Ctx, TestResult};
use crate::trials;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use tributary_e2e::repo_root;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![openapi_documents_exactly_the_routes_the_worker_declares, dev_worker_keeps_the_openapi_contract]
}

/// `operationId`s left out of the schemathesis run (see the module doc for why).
const EXCLUDED: [&str; 4] = ["advanceDevClock", "exchangePlaidToken", "syncSnapTradeConnections", "callMcp"];

/// Test cases per operation and phase: enough to reach every documented status, small enough to
/// finish well inside two minutes on two shared cores (`TRIBUTARY_CONTRACT_EXAMPLES` overrides it,
/// e.g. for a longer soak).
const MAX_EXAMPLES: &str = "25";

/// The seed of the run, so a failure can be reproduced (`TRIBUTARY_CONTRACT_SEED` overrides it).
const DEFAULT_SEED: &str = "20261121";

/// `schemathesis.toml` for the run; `{item}` becomes the seeded user's Plaid Item id.
///
/// - `positive_data_acceptance` also accepts 402: a schema-valid refresh may be refused as
///   `refresh_cost_capped`, the documented answer to a repeated billed refresh.
/// - Webhooks are exempt from `positive_data_acceptance`: one is acceptable only when the provider
///   signed it, which no schema can express (the forgery suite proves they are refused). So is
///   Schwab's OAuth callback: its `state` is acceptable only when this user's authorize issued it
///   (`tests/e2e/schwab.rs` proves the refusals and the acceptance).
/// - A SnapTrade portal for a brokerage the simulator does not seed (it has 5 of the 15 in
///   `core/data/snaptrade_brokers.json`) is refused by it, which the worker answers as documented:
///   502 `provider_rejected`. Only those two operations accept that 502.
/// - Operations that call SnapTrade get fewer generated cases: its rate limit (250 calls a minute
///   per client id) is shared with every other suite of the run.
/// - `DELETE /api/plaid/items/{id}` gets the seeded Item's real id, so its 200 (dry run and real
///   removal) is checked, not only its 404.
///
/// Every built-in check runs (schemathesis' default); `--checks all` is not passed because a check
/// named on the command line overrides the per-operation settings below.
const CONFIG: &str = r#"
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "402", "403", "404", "409", "429"]

[[operations]]
include-operation-id = ["plaidWebhook", "snapTradeWebhook", "completeSchwabCallback"]
checks.positive_data_acceptance.enabled = false

# A redirect the schema accepts is still refused (400 `redirect_not_allowed`) unless it returns to
# the worker's own origin, an ALLOWED_ORIGINS entry or (in development) a loopback origin: the
# schema cannot name a deployment's origins.
[[operations]]
include-operation-id = ["snapTradeConnectionUrl", "connectInstitution"]
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "502"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "402", "403", "404", "409", "429", "502"]

# A window the schema accepts date by date may still be inverted or longer than five years
# (400 `date_range_inverted`, `date_range_too_long`): a rule across two parameters, which no
# schema expresses (tests/e2e/transactions.rs proves each refusal).
[[operations]]
include-operation-id = ["listTransactions", "downloadTransactionsCsv"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "402", "403", "404", "409", "429"]

# An order the schema accepts field by field may still break a rule across its fields (a limit
# price exactly for limit orders, units or an amount but not both, an amount only for a Market Day
# order, a positive figure of at most 15 significant digits: 400 `invalid_order` naming the field),
# or name a ticker the account's brokerage does not list (422 `symbol_not_found`);
# tests/e2e/trading.rs and the core's trading tests prove each refusal.
[[operations]]
include-operation-id = ["previewOrder"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "402", "403", "404", "409", "422", "429"]

# A migration the schema accepts field by field may still name one provider twice or an
# institution Tributary does not know (400 `migration_same_provider`, `invalid_input`): rules
# across fields and a table no schema expresses (tests/e2e/migrations.rs and the core's migration
# tests prove each refusal). A schema-valid migration may also read a provider that fails (502).
[[operations]]
include-operation-id = ["createMigration"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "402", "403", "404", "409", "429", "502"]

[[operations]]
include-operation-id = ["createPlaidLink", "authorizeSchwab"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "402", "403", "404", "409", "429"]

[[operations]]
include-operation-id = ["snapTradeConnectionUrl", "connectInstitution", "refreshHoldings", "registerSnapTrade"]
generation.max-examples = 8

[[operations]]
include-operation-id = "removePlaidItem"
parameters = { "path.id" = "{item}" }
"#;

/// `/path/{param}` for the router's `/path/:param`.
fn openapi_path(pattern: &str) -> String {
    let parts: Vec<String> = pattern
        .split('/')
        .map(|part| part.strip_prefix(':').map_or(part.to_owned(), |name| format!("{{{name}}}")))
        .collect();
    parts.join("/")
}

/// `(METHOD, /path/{param})` of every route `worker/src/lib.rs` registers with the router.
fn router_routes(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for method in ["get", "post", "put", "patch", "delete", "head", "options"] {
        let call = format!(".{method}_async(\"");
        for (at, _) in source.match_indices(&call) {
            let rest = &source[at + call.len()..];
            let path = &rest[..rest.find('"').unwrap_or(0)];
            routes.insert((method.to_ascii_uppercase(), openapi_path(path)));
        }
    }
    routes
}

/// `(METHOD, /path/{param})` of every entry of `worker/src/lib.rs`'s `ROUTES` table (the `Allow`
/// header of a 405), one `("METHOD", "/path"),` per line.
fn allow_table(source: &str) -> BTreeSet<(String, String)> {
    let start = source.find("const ROUTES").unwrap_or(source.len());
    let table = &source[start..];
    let table = &table[..table.find("];").unwrap_or(0)];
    table
        .lines()
        .filter_map(|line| {
            let (method, path) = line.trim().strip_prefix("(\"")?.strip_suffix("\"),")?.split_once("\", \"")?;
            Some((method.to_owned(), openapi_path(path)))
        })
        .collect()
}

/// `(METHOD, /path)` of every operation under `paths:` in `openapi.yaml` (block style, two-space
/// indent, as the file is written).
fn documented_operations(yaml: &str) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    let (mut in_paths, mut path) = (false, None::<String>);
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(key) = line.strip_prefix("  /").and_then(|l| l.trim_end().strip_suffix(':')) {
            path = Some(format!("/{key}"));
        } else if let (Some(path), Some(key)) =
            (&path, line.strip_prefix("    ").and_then(|l| l.trim_end().strip_suffix(':')))
        {
            if ["get", "post", "put", "patch", "delete", "head", "options"].contains(&key) {
                operations.insert((key.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    operations
}

async fn openapi_documents_exactly_the_routes_the_worker_declares(_ctx: Arc<Ctx>) -> TestResult {
    let read = |path: &str| std::fs::read_to_string(repo_root().join(path)).map_err(|e| format!("read {path}: {e}"));
    let lib = read("worker/src/lib.rs")?;
    let (routes, allow) = (router_routes(&lib), allow_table(&lib));
    let documented = documented_operations(&read("openapi.yaml")?);
    if routes.len() < 20 || documented.len() < 20 {
        return Err(format!("parsing went wrong: {} routes, {} documented operations", routes.len(), documented.len()));
    }
    let mut problems = Vec::new();
    let mut compare = |what: &str, a: &BTreeSet<(String, String)>, b: &BTreeSet<(String, String)>| {
        let missing: Vec<_> = a.difference(b).collect();
        if !missing.is_empty() {
            problems.push(format!("{what}: {missing:?}"));
        }
    };
    compare("routed but not documented in openapi.yaml", &routes, &documented);
    compare("documented in openapi.yaml but not routed", &documented, &routes);
    compare("routed but missing from lib.rs ROUTES (405 Allow)", &routes, &allow);
    compare("in lib.rs ROUTES but not routed", &allow, &routes);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("worker/src/lib.rs and openapi.yaml disagree:\n  {}", problems.join("\n  ")))
    }
}

/// A user with Schwab through SnapTrade (synced) and Chase through Plaid, so holdings, portfolio,
/// refresh and Item endpoints answer from real state instead of "not connected".
async fn seeded_user(ctx: &Ctx) -> Result<(String, String, String), String> {
    let user = ctx.user("contract");
    let token = ctx.token(&user);
    crate::snaptrade::connect_snaptrade(ctx, &token, "Charles Schwab", "SCHWAB").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, serde_json::json!({})).await;
    if sync.status != 200 {
        return Err(format!("seeding: sync answered {}: {}", sync.status, sync.body));
    }
    let item = crate::plaid::link_plaid(ctx, &token, "Chase", "ins_56").await;
    Ok((user, token, item))
}

fn schemathesis_bin(root: &Path) -> Result<std::path::PathBuf, String> {
    let bin = root.join("target/venv/bin/schemathesis");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!("{} is missing: run scripts/setup (or `make test`, which does it)", bin.display()))
    }
}

async fn dev_worker_keeps_the_openapi_contract(ctx: Arc<Ctx>) -> TestResult {
    let root = repo_root();
    let bin = schemathesis_bin(&root)?;
    let (user, token, item) = seeded_user(&ctx).await?;
    let work = root.join("target/contract");
    std::fs::create_dir_all(&work).map_err(|e| format!("create {}: {e}", work.display()))?;
    let config = work.join("schemathesis.toml");
    std::fs::write(&config, CONFIG.replace("{item}", &item)).map_err(|e| format!("write {}: {e}", config.display()))?;
    let seed = std::env::var("TRIBUTARY_CONTRACT_SEED").unwrap_or_else(|_| DEFAULT_SEED.to_owned());
    let examples = std::env::var("TRIBUTARY_CONTRACT_EXAMPLES").unwrap_or_else(|_| MAX_EXAMPLES.to_owned());
    let mut command = tokio::process::Command::new(&bin);
    command
        .current_dir(&work)
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(root.join("openapi.yaml"))
        .args(["--url", &ctx.dev])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", &examples])
        .args(["--seed", &seed])
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        .args(["--generation-database", "none"])
        .args(["--suppress-health-check", "all"])
        .args(["--output-sanitize", "true"])
        .kill_on_drop(true);
    for operation_id in EXCLUDED {
        command.args(["--exclude-operation-id", operation_id]);
    }
    let output = command.output().await.map_err(|e| format!("run {}: {e}", bin.display()))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let calls = ctx.sim_calls().await;
    let user_calls = |provider: &str, user: &str| calls[provider]["users"][user]["total"].as_u64().unwrap_or(0);
    println!(
        "contract run: provider calls for {user}: snaptrade {}, plaid {}",
        user_calls("snaptrade", &user),
        user_calls("plaid", &crate::plaid::plaid_user(&user))
    );
    if output.status.success() {
        println!("{}", text.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"));
        Ok(())
    } else if text.contains("Your worker restarted mid-request") {
        Err(format!(
            "wrangler dev's proxy lost its connection to the worker during the run and answered its own 503 \
             (\"Your worker restarted mid-request\"): an environment fault, not a contract breach (seed {seed}):\n{text}"
        ))
    } else {
        Err(format!(
            "the worker and openapi.yaml disagree (seed {seed}; TRIBUTARY_CONTRACT_SEED={seed} reruns it):\n{text}"
        ))
    }
}
