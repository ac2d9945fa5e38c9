//! Reliability suites (issue 8): forged webhooks, the auth matrix, chaos refreshes and concurrent
//! refreshes, against real `wrangler dev` workers and the simulator. Bounded for `make test`;
//! `TRIBUTARY_SOAK=1` (`make soak`) multiplies every count by [`SOAK_FACTOR`].
//!
//! Forgery and chaos use the harness's reliability worker (no refresh cooldown, 5 s provider
//! attempts), which no other suite touches; forgery holds [`exclusive`] and chaos [`shared`], so a
//! forgery's before/after D1 snapshots see nothing but its own traffic. Every random choice comes
//! from a [`Rng`] whose seed is printed; `TRIBUTARY_SEED=<n>` replays a run.

mod auth_matrix;
mod chaos;
mod concurrency;
mod forge;
mod forgery;
mod mutate;
mod sessions;
mod variants;

use crate::support::{Ctx, TestFn};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::future::Future;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// How much longer the suites run under `TRIBUTARY_SOAK=1`.
pub const SOAK_FACTOR: usize = 10;

/// Every reliability trial, named `reliability::<behaviour>` so one filter selects them all.
pub fn trials() -> Vec<(&'static str, TestFn)> {
    let mut trials = forgery::trials();
    trials.extend(auth_matrix::trials());
    trials.extend(chaos::trials());
    trials.extend(concurrency::trials());
    trials
        .into_iter()
        .map(|(name, test)| (&*Box::leak(format!("reliability::{name}").into_boxed_str()), test))
        .collect()
}

/// The reliability worker's variables: the development worker's, with no refresh cooldown,
/// `MCP_ALLOW_PLACE=true` and 5 s provider attempts (so an injected timeout costs seconds, not the 10 s default, while a
/// healthy call never reaches it however busy the machine is).
pub fn worker_vars(dev_vars: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut vars: Vec<(&'static str, String)> = dev_vars
        .iter()
        .filter(|(k, _)| !matches!(*k, "REFRESH_COOLDOWN_SECONDS" | "PROVIDER_TIMEOUT_MS"))
        .cloned()
        .collect();
    vars.push(("REFRESH_COOLDOWN_SECONDS", "0".into()));
    vars.push(("PROVIDER_TIMEOUT_MS", chaos::PROVIDER_TIMEOUT_MS.to_string()));
    // The one worker where assistants may place orders (`tests/e2e/mcp.rs` proves both settings).
    vars.push(("MCP_ALLOW_PLACE", "true".into()));
    vars
}

/// `n` scaled for a soak run (`TRIBUTARY_SOAK=1`), else `n`.
pub fn scaled(n: usize) -> usize {
    if std::env::var("TRIBUTARY_SOAK").is_ok_and(|v| v == "1") {
        n * SOAK_FACTOR
    } else {
        n
    }
}

/// A small deterministic PRNG (SplitMix64): the same seed gives the same suite run.
pub struct Rng(u64);

impl Rng {
    /// A generator for `suite`, seeded from `TRIBUTARY_SEED` or the OS, announcing its seed.
    pub fn for_suite(suite: &str) -> Self {
        let seed = std::env::var("TRIBUTARY_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            u64::from_le_bytes(tributary_e2e::secrets::random_bytes(8).try_into().expect("8 bytes"))
        });
        println!("{suite}: seed {seed} (TRIBUTARY_SEED={seed} replays it)");
        Self(seed)
    }

    /// An independent generator drawn from this one (one per parallel worker of a suite).
    pub fn derived(parent: &mut Rng) -> Self {
        Self(parent.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next_u64() % (high - low + 1) as u64) as i64
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

static RELIABILITY_WORKER: RwLock<()> = RwLock::const_new(());

/// Sole use of the reliability worker (for before/after D1 snapshots).
pub async fn exclusive() -> RwLockWriteGuard<'static, ()> {
    RELIABILITY_WORKER.write().await
}

/// Use of the reliability worker alongside other shared users.
pub async fn shared() -> RwLockReadGuard<'static, ()> {
    RELIABILITY_WORKER.read().await
}

/// A context whose `dev` worker (and D1) is the reliability worker, so every shared helper
/// (connecting, linking, `d1`) works against it unchanged.
pub fn reliability_ctx(ctx: &Ctx) -> Ctx {
    ctx.with_worker(&ctx.reliability, &ctx.reliability_state)
}

/// Every row of every table of `ctx`'s D1 database, by table — the migrations table aside, and the
/// operations counters (`migrations/0010_provider_calls.sql`: provider calls and webhooks counted
/// per minute and day), which every request adds to by design, a refused one included.
pub fn d1_snapshot(ctx: &Ctx) -> BTreeMap<String, Vec<Value>> {
    let tables = ctx.d1(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_cf_%' AND name != 'd1_migrations' \
         AND name NOT IN ('provider_call_window', 'provider_call_days', 'webhook_days') ORDER BY name",
        &[],
    );
    tables
        .iter()
        .filter_map(|t| t["name"].as_str())
        .map(|name| (name.to_owned(), ctx.d1(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"), &[])))
        .collect()
}

/// A user with Schwab through SnapTrade (synced) and Chase through Plaid, on `ctx`'s worker.
pub struct Seeded {
    pub user: String,
    pub token: String,
    /// The SnapTrade connection (brokerage authorization) id.
    pub authorization: String,
    /// The Plaid Item id.
    pub item: String,
}

/// Connects `broker` through SnapTrade and Chase through Plaid for a new user labelled `label`.
pub async fn seed_user(ctx: &Ctx, label: &str, broker: (&str, &str)) -> Seeded {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    let authorization = crate::snaptrade::connect_snaptrade(ctx, &token, broker.0, broker.1).await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "sync for {user}: {:?}", sync.body);
    let item = crate::plaid::link_plaid(ctx, &token, "Chase", "ins_56").await;
    Seeded { user, token, authorization, item }
}

/// Runs `futures` with at most `limit` in flight; outputs in completion order. (A `Vec`, not an
/// iterator: a lazy `map` closure held across awaits makes the test future's `Send` bound unprovable.)
pub async fn bounded<F: Future>(futures: Vec<F>, limit: usize) -> Vec<F::Output> {
    stream::iter(futures).buffer_unordered(limit).collect().await
}

/// An answer as raw as tests need it: status, `error.code` (or ""), and the exact body text.
#[derive(Debug, Clone)]
pub struct Raw {
    pub status: u16,
    pub code: String,
    pub text: String,
}

/// Sends `request` and keeps the raw answer (a transport failure is status 0 with its message);
/// wrangler dev's proxy answering for the worker fails the test as the environment fault it is.
pub async fn send_raw(request: reqwest::RequestBuilder) -> Raw {
    let raw = send_raw_unchecked(request).await;
    tributary_e2e::refuse_proxy_fault("a reliability request", raw.status, &raw.text);
    raw
}

/// [`send_raw`] that hands wrangler dev's proxy faults back to the caller (see
/// [`tributary_e2e::is_proxy_fault`]), for a request that is safe to send again.
pub async fn send_raw_unchecked(request: reqwest::RequestBuilder) -> Raw {
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let code = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Raw { status, code, text }
        }
        Err(e) => Raw { status: 0, code: String::new(), text: e.to_string() },
    }
}

/// How many times each item occurs.
pub fn tally<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    counts
}
