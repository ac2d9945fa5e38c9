//! Figure 2, worker overhead: p50/p99 of a cached `GET /api/portfolio` and of a genuine SnapTrade
//! webhook under bounded `wrk` load, each against the floor worker (`bench/floor-worker/`), which
//! serves the same bytes from the same kind of D1 with one SELECT, and writes one row per webhook
//! without verifying anything. Rounds alternate floor and Tributary so drift hits both alike.

use crate::client::Client;
use crate::fanout::connected_user;
use crate::harness::Bench;
use crate::report::{Figure, Row};
use crate::stats::Summary;
use crate::wrk::{self, WrkRun, CONNECTIONS};
use serde_json::json;
use std::path::{Path, PathBuf};
use tributary_e2e::WranglerDev;
use tributary_sim::webhooks::snaptrade::{build, WebhookSpec};

const ROUNDS: usize = 3;
const SECONDS: u32 = 8;
const WARM_UP_SECONDS: u32 = 2;
/// Signed deliveries generated per webhook run: more than a run can send (checked afterwards).
const DELIVERIES: usize = 12_000;

/// Writes `count` genuine, distinct SnapTrade deliveries for `user` (signed now) to `path`.
fn write_deliveries(bench: &Bench, user: &str, count: usize, path: &Path) -> Result<(), String> {
    let now_ms = tributary_sim::webhooks::snaptrade::now_millis();
    let mut lines = String::with_capacity(count * 400);
    for _ in 0..count {
        let spec: WebhookSpec =
            serde_json::from_value(json!({"event_type": "ACCOUNT_HOLDINGS_UPDATED", "user_id": user}))
                .map_err(|e| e.to_string())?;
        let built = build(&spec, &bench.snaptrade.client_id, &bench.snaptrade.consumer_key, now_ms)?;
        let body = String::from_utf8(built.body).map_err(|e| e.to_string())?;
        lines.push_str(&format!("{}\t{body}\n", built.signature.unwrap_or_default()));
    }
    std::fs::write(path, lines).map_err(|e| format!("write {}: {e}", path.display()))
}

/// How many webhook events a worker's D1 holds (`table`, optionally only `outcome`).
fn events(worker: &WranglerDev, sql: &str) -> Result<u64, String> {
    let rows = tributary_e2e::d1::query(&worker.persist_dir(), sql, &[])?;
    Ok(rows.first().and_then(|r| r["n"].as_u64()).unwrap_or(0))
}

async fn wrk_async(url: String, script: &'static str, argument: PathBuf, seconds: u32) -> Result<WrkRun, String> {
    tokio::task::spawn_blocking(move || wrk::run(&url, seconds, script, &argument))
        .await
        .map_err(|e| format!("wrk task: {e}"))?
}

/// One webhook run against `worker`, checked against the rows it wrote: every request completed
/// was a first-time delivery that the worker (or floor) stored.
async fn webhook_run(
    bench: &Bench,
    worker: &WranglerDev,
    user: &str,
    count_sql: &str,
    seconds: u32,
) -> Result<WrkRun, String> {
    let file = worker.state_dir.join("deliveries.tsv");
    write_deliveries(bench, user, DELIVERIES, &file)?;
    let before = events(worker, count_sql)?;
    let run = wrk_async(format!("{}/webhooks/snaptrade", worker.base_url), "webhook.lua", file, seconds).await?;
    let stored = events(worker, count_sql)? - before;
    if run.requests as usize > DELIVERIES {
        return Err(format!("{} requests outran the {DELIVERIES} distinct deliveries", run.requests));
    }
    if stored < run.requests || stored > run.requests + u64::from(CONNECTIONS) {
        return Err(format!("{} completed requests but {stored} events stored", run.requests));
    }
    Ok(run)
}

struct Series {
    p50: Vec<f64>,
    p99: Vec<f64>,
    per_s: Vec<f64>,
}

impl Series {
    fn new() -> Self {
        Self { p50: Vec::new(), p99: Vec::new(), per_s: Vec::new() }
    }
    fn push(&mut self, run: WrkRun) {
        self.p50.push(run.p50_ms);
        self.p99.push(run.p99_ms);
        self.per_s.push(run.requests_per_s);
    }
}

/// Runs the figure: Tributary's worker in production mode (so no development-only work) vs the floor.
pub async fn run(bench: &Bench, tributary: &WranglerDev, floor: &WranglerDev) -> Result<Figure, String> {
    let client = Client::new(&tributary.base_url, &bench.sim_url(), &bench.session_key)?;
    let (user, _) = connected_user(&client, "bench-load").await?;
    let portfolio = client.get(&user, "/api/portfolio").await?;
    let body = serde_json::to_string(&portfolio.body).map_err(|e| e.to_string())?;
    let stored = client.http.put(format!("{}/blob", floor.base_url)).body(body.clone()).send().await;
    stored.map_err(|e| format!("store the floor's blob: {e}"))?;
    let floor_body = client.http.get(format!("{}/api/portfolio", floor.base_url)).send().await;
    let floor_body = floor_body.map_err(|e| e.to_string())?.text().await.map_err(|e| e.to_string())?;
    if floor_body.len() != body.len() {
        return Err(format!("the floor serves {} bytes, Tributary {}", floor_body.len(), body.len()));
    }
    let token_file = tributary.state_dir.join("authorization.txt");
    std::fs::write(&token_file, format!("Bearer {}", client.token(&user)?)).map_err(|e| e.to_string())?;
    let blank = floor.state_dir.join("authorization.txt");
    std::fs::write(&blank, "Bearer none").map_err(|e| e.to_string())?;

    let get = |worker: &WranglerDev, file: &PathBuf, seconds| {
        wrk_async(format!("{}/api/portfolio", worker.base_url), "authorized-get.lua", file.clone(), seconds)
    };
    let ours_sql = "SELECT COUNT(*) AS n FROM webhook_events WHERE outcome = 'pending_raised'";
    let floor_sql = "SELECT COUNT(*) AS n FROM events";
    get(floor, &blank, WARM_UP_SECONDS).await?;
    get(tributary, &token_file, WARM_UP_SECONDS).await?;
    webhook_run(bench, floor, &user, floor_sql, WARM_UP_SECONDS).await?;
    webhook_run(bench, tributary, &user, ours_sql, WARM_UP_SECONDS).await?;

    let (mut get_floor, mut get_ours, mut hook_floor, mut hook_ours) =
        (Series::new(), Series::new(), Series::new(), Series::new());
    let (mut pending_ours, mut holdings_ours) = (Series::new(), Series::new());
    let ours = |path: &str, seconds| {
        wrk_async(format!("{}{path}", tributary.base_url), "authorized-get.lua", token_file.clone(), seconds)
    };
    for round in 0..ROUNDS {
        // Alternate which goes first, so a slow moment of the machine does not favour one side.
        let floor_first = round % 2 == 0;
        for side in [floor_first, !floor_first] {
            if side {
                get_floor.push(get(floor, &blank, SECONDS).await?);
                hook_floor.push(webhook_run(bench, floor, &user, floor_sql, SECONDS).await?);
            } else {
                get_ours.push(get(tributary, &token_file, SECONDS).await?);
                pending_ours.push(ours("/api/pending-updates", SECONDS).await?);
                holdings_ours.push(ours("/api/snaptrade/holdings", SECONDS).await?);
                hook_ours.push(webhook_run(bench, tributary, &user, ours_sql, SECONDS).await?);
            }
        }
    }
    let row = |label: &str, ours: &[f64], floor: &[f64], target| {
        Row::new(label, "ms", Summary::of(ours), "floor", Summary::of(floor).median, Some(target))
    };
    let rows = vec![
        row("`GET /api/portfolio` (cached) p50", &get_ours.p50, &get_floor.p50, 1.3),
        row("`GET /api/portfolio` (cached) p99", &get_ours.p99, &get_floor.p99, 1.3),
        Row::new(
            "diagnostic: `GET /api/pending-updates` p50 (session check + one D1 read)",
            "ms",
            Summary::of(&pending_ours.p50),
            "floor portfolio",
            Summary::of(&get_floor.p50).median,
            None,
        ),
        Row::new(
            "diagnostic: `GET /api/snaptrade/holdings` p50 (one provider's cache, no merge)",
            "ms",
            Summary::of(&holdings_ours.p50),
            "floor portfolio",
            Summary::of(&get_floor.p50).median,
            None,
        ),
        row("SnapTrade webhook p50", &hook_ours.p50, &hook_floor.p50, 1.5),
        row("SnapTrade webhook p99", &hook_ours.p99, &hook_floor.p99, 1.5),
    ];
    let rate = |s: &Series| Summary::of(&s.per_s).median;
    let notes = vec![
        format!(
            "Load: `wrk -t1 -c{CONNECTIONS} -d{SECONDS}s --latency`, {ROUNDS} rounds per target after a \
             {WARM_UP_SECONDS} s warm-up, floor and Tributary alternating; each row's median is over the \
             rounds' percentiles, the floor's too."
        ),
        format!(
            "Throughput (median req/s) — portfolio: Tributary {:.0}, floor {:.0}; pending-updates {:.0}; \
             snaptrade/holdings {:.0}; webhook: Tributary {:.0}, floor {:.0}.",
            rate(&get_ours),
            rate(&get_floor),
            rate(&pending_ours),
            rate(&holdings_ours),
            rate(&hook_ours),
            rate(&hook_floor)
        ),
        format!(
            "Portfolio body: {} bytes (consolidated view, 2 providers × 10 accounts), stored in the floor's D1 \
             and served by one `SELECT`; Tributary checks the session, reads its D1 cache, merges and serialises.",
            body.len()
        ),
        "D1 round trips per request, one after another (from the code): floor 1; pending-updates 1; \
         snaptrade/holdings 4 (accounts → positions → balances, the snapshot read beside them, then the pending \
         flags); portfolio 4 (connected providers, then for both providers at once accounts → positions → \
         balances beside the snapshot) plus the merge; webhook 3 (already seen?, whose user?, the event + flag \
         batch) plus HMAC verification."
            .into(),
        "Webhooks: distinct `ACCOUNT_HOLDINGS_UPDATED` deliveries signed by the simulator's SnapTrade \
         signer, cycled by `bench/wrk/webhook.lua`; Tributary verifies the HMAC and timestamp, checks the id, \
         finds the user and writes the event and the pending flag in one batch — every completed request \
         was checked to have stored exactly one first-time event (no dedup path measured). The floor writes \
         the body as one row."
            .into(),
        "Tributary runs here with `ENVIRONMENT=production` (its real configuration, provider credentials \
         included), so no development-only work (the dev clock's KV read) is measured."
            .into(),
    ];
    Ok(Figure { id: "worker_overhead", title: "2. Worker overhead", rows, notes })
}
