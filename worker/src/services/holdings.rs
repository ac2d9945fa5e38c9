//! A provider's holdings as every reader sees them: from the D1 cache when there is a snapshot,
//! fetched (and cached) when there is none — written once for every provider, through the
//! provider port. Which adapter serves a provider is decided by the provider stored with the
//! data, never guessed again.

use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::registry::port;
use crate::store::holdings::{self, Snapshot, SnapshotStatus};
use crate::store::{connections, pending};
use serde_json::{json, Value};
use tributary_core::cache::{sweep_plan, sweep_reads_per_provider, CacheInfo, ReadPlan, REREAD_BACKOFF_S};
use tributary_core::config::Config;
use tributary_core::merge::{merge_portfolios, stale_yields, MergedPortfolio, ProviderResult, Supply};
use tributary_core::provider_error::ProviderError;
use tributary_core::ErrorCode;
use tributary_core::{Holdings, Provider};
use worker::Env;

/// One provider's holdings for the session user, with where they came from.
pub struct ProviderHoldings {
    pub provider: Provider,
    pub holdings: Holdings,
    /// Unix seconds of the real fetch that produced `holdings`.
    pub last_updated: i64,
    pub cache_info: CacheInfo,
    /// The last fetch attempt, when it failed (the cached rows are then older than it).
    pub last_error: Option<Value>,
}

/// Fetches `provider`'s holdings now through its adapter and caches the outcome (see
/// [`super::cache::record`]): the cache is replaced only by a complete read.
pub async fn fetch_and_cache(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
) -> Result<(Holdings, i64), ApiError> {
    let user = &session.claims.user_id;
    let now = session.now();
    // The stored connection types are read while the provider answers (no extra round trip).
    let (fetched, stored) = futures_util::future::join(
        port(provider).fetch_holdings(env, session, now),
        connections::list(env, user, provider),
    )
    .await;
    super::cache::record(env, session, provider, fetched, &stored?, now).await.map(|holdings| (holdings, now))
}

fn last_error(snapshot: Option<&Snapshot>) -> Option<Value> {
    snapshot
        .filter(|s| s.status == SnapshotStatus::Failed)
        .map(|s| json!({"code": s.error_code, "message": s.error_message, "at": s.attempted_at}))
}

/// How long one re-read may hold the lease before another reader may take it over, and how often
/// (and how many times) a waiting reader looks for its result: for longer than the lease.
const REREAD_LEASE_MS: i64 = 60_000;
const REREAD_POLL: std::time::Duration = std::time::Duration::from_millis(200);
const REREAD_POLLS: u32 = 2 * (REREAD_LEASE_MS as u32) / 200;

fn failed_at(snapshot: Option<&Snapshot>) -> Option<i64> {
    snapshot.filter(|s| s.status == SnapshotStatus::Failed).and_then(|s| s.attempted_at)
}

/// The cached holdings of `provider`: fetched first when nothing was ever fetched, and past their
/// TTL re-read for free by one reader (the others wait for its result). A re-read that fails or is
/// still being prepared serves the stale copy, marked by its `cache_info` and the error.
pub async fn cached_or_fetch(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
) -> Result<ProviderHoldings, ApiError> {
    let user = &session.claims.user_id;
    // The cache is read beside its snapshot (one D1 round trip fewer); it is used only when the
    // snapshot says something was fetched.
    let (snapshot, cached) =
        futures_util::future::join(holdings::snapshot(env, user, provider), holdings::read(env, user, provider)).await;
    let mut snapshot = snapshot?;
    let fetched_at = snapshot.as_ref().and_then(|s| s.fetched_at);
    let plan = session.config.cache.read_plan(provider, fetched_at, failed_at(snapshot.as_ref()), session.now());
    let (holdings, from_cache, last_updated) = match (plan, fetched_at) {
        (ReadPlan::Fetch, _) | (_, None) => {
            let (holdings, fetched_at) = fetch_and_cache(env, session, provider).await?;
            (holdings, false, fetched_at)
        }
        (ReadPlan::Serve, Some(fetched_at)) => (cached?, true, fetched_at),
        (ReadPlan::Reread, Some(stale_at)) => match reread(env, session, provider, stale_at).await? {
            Some((holdings, fetched_at)) => (holdings, false, fetched_at),
            None => {
                // The re-read failed (recorded in the snapshot) or is still pending: the stale copy.
                snapshot = holdings::snapshot(env, user, provider).await?;
                let served_at = snapshot.as_ref().and_then(|s| s.fetched_at).unwrap_or(stale_at);
                let rows = if served_at == stale_at { cached? } else { holdings::read(env, user, provider).await? };
                (rows, true, served_at)
            }
        },
    };
    let cache_info = session.config.cache.cache_info(provider, last_updated, session.now(), from_cache);
    let last_error = if from_cache { last_error(snapshot.as_ref()) } else { None };
    Ok(ProviderHoldings { provider, holdings, last_updated, cache_info, last_error })
}

/// Re-reads `provider` for the session user under the single-flight lease: the holder fetches
/// (fetch-only, never billed); a waiter looks for a newer snapshot than `stale_at` for longer than
/// the lease lasts. `None` when no fresh read came of it (the caller serves the stale copy).
async fn reread(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
    stale_at: i64,
) -> Result<Option<(Holdings, i64)>, ApiError> {
    let user = &session.claims.user_id;
    if let Some(fetched) = fetch_under_lease(env, session, provider).await? {
        return match fetched {
            Ok(done) => Ok(Some(done)),
            Err(error) if error.is_provider_failure() => Ok(None),
            Err(error) => Err(error),
        };
    }
    for _ in 0..REREAD_POLLS {
        worker::Delay::from(REREAD_POLL).await;
        let snapshot = holdings::snapshot(env, user, provider).await?;
        let newer = snapshot.as_ref().and_then(|s| s.fetched_at).is_some_and(|at| at > stale_at);
        let failed_since = failed_at(snapshot.as_ref()).is_some_and(|at| at >= stale_at);
        if newer {
            let fetched_at = snapshot.and_then(|s| s.fetched_at).unwrap_or(stale_at);
            return Ok(Some((holdings::read(env, user, provider).await?, fetched_at)));
        }
        if failed_since {
            return Ok(None);
        }
    }
    Ok(None)
}

/// Fetches and caches `provider` for the session user when this caller wins the single-flight
/// lease (released after, whatever the outcome); `None` when another reader holds it.
async fn fetch_under_lease(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
) -> Result<Option<Result<(Holdings, i64), ApiError>>, ApiError> {
    let user = &session.claims.user_id;
    let owner = super::random_owner();
    let now_ms = crate::clock::real_now_unix().saturating_mul(1_000);
    if !holdings::claim_reread(env, user, provider, &owner, now_ms, now_ms + REREAD_LEASE_MS).await? {
        return Ok(None);
    }
    let fetched = fetch_and_cache(env, session, provider).await;
    if let Err(e) = holdings::release_reread(env, user, provider, &owner).await {
        crate::api::log_failure("release re-read lease", e);
    }
    Ok(Some(fetched))
}

/// The JSON body of `GET /api/<provider>/holdings`.
pub fn holdings_body(data: &ProviderHoldings, has_pending_updates: bool) -> Value {
    json!({
        "provider": data.provider,
        "status": "ok",
        "accounts": data.holdings.accounts,
        "positions": data.holdings.positions,
        "balances": data.holdings.balances,
        "last_updated": data.last_updated,
        "cache_info": data.cache_info,
        "has_pending_updates": has_pending_updates,
        "last_error": data.last_error,
    })
}

/// Whether `provider` has an update pending for the session user.
pub async fn has_pending(env: &Env, session: &Authenticated, provider: Provider) -> Result<bool, ApiError> {
    Ok(pending::pending_providers(env, &session.claims.user_id).await?.contains(&provider))
}

/// Every provider's result for the merge — ok (cached or fetched), failed with its error, or not
/// connected — and the providers that can supply data to it for this user: configured, with no
/// connection needing repair and no failed last fetch (an unavailable provider's cached rows yield
/// to any other copy of the same institution; see `tributary_core::dedup`).
pub async fn provider_results(
    env: &Env,
    session: &Authenticated,
) -> Result<(Vec<ProviderResult>, Vec<Provider>), ApiError> {
    let states = connections::provider_states(env, &session.claims.user_id).await?;
    let reads = Provider::ALL.into_iter().map(|provider| {
        let state = states.iter().find(|s| s.provider == provider).copied();
        let configured = session.config.provider(provider).is_some();
        async move {
            let supply =
                |last_fetch_failed, needs_repair, stale| Supply { configured, last_fetch_failed, needs_repair, stale };
            let Some(state) = state else {
                return Ok((ProviderResult::NotConnected { provider }, supply(false, false, false)));
            };
            let needs_repair = state.needing_repair > 0;
            match cached_or_fetch(env, session, provider).await {
                Ok(data) => {
                    let stale = stale_yields(provider, &data.cache_info);
                    Ok((
                        ProviderResult::Ok {
                            provider,
                            holdings: data.holdings,
                            last_updated: Some(data.last_updated),
                            cache_info: Some(data.cache_info),
                        },
                        supply(data.last_error.is_some(), needs_repair, stale),
                    ))
                }
                Err(error) if error.is_provider_failure() => {
                    Ok((ProviderResult::Failed { provider, error: error.failure() }, supply(true, needs_repair, false)))
                }
                Err(error) => Err(error),
            }
        }
    });
    let answers: Vec<(ProviderResult, Supply)> =
        crate::providers::fan_out(session.config.fanout, reads).await.into_iter().collect::<Result<_, ApiError>>()?;
    let available =
        answers.iter().filter(|(_, supply)| supply.is_available()).map(|(result, _)| result.provider()).collect();
    Ok((answers.into_iter().map(|(result, _)| result).collect(), available))
}

/// The session user's portfolio merged by the core (`GET /api/portfolio`, the MCP `get_positions`).
pub async fn merged_portfolio(env: &Env, session: &Authenticated) -> Result<MergedPortfolio, ApiError> {
    let (results, available) = provider_results(env, session).await?;
    Ok(merge_portfolios(results, &available))
}

/// Why a cron run read a provider for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledReason {
    /// The provider's own schedule named the user (`ProviderPort::due_reads`).
    Due,
    /// The cached copy was past its TTL and nothing (no webhook, no page load) re-read it.
    Stale,
}

/// How one provider's reads of one kind went in a cron run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduledReads {
    pub provider: Provider,
    pub reason: ScheduledReason,
    pub reads: usize,
    pub failed: usize,
}

/// A session for a cron run's read of `user`, on the clock their decisions use.
fn scheduled_session(config: &Config, user: tributary_core::UserId, clock: crate::clock::Clock) -> Authenticated {
    let claims = tributary_core::session::SessionClaims {
        user_id: user,
        expires_at: crate::clock::real_now_unix() + 60,
        issued_at: None,
        role: None,
    };
    Authenticated { claims, config: config.clone(), clock }
}

fn log_scheduled_failure(provider: Provider, reason: ScheduledReason, error: &ApiError) {
    let line = json!({"level": "info", "event": "scheduled_read", "provider": provider, "reason": reason, "outcome": error.code()});
    worker::console_log!("{line}");
}

/// One cron run's reads: first every provider's due users (`ProviderPort::due_reads`), then the
/// missed-webhook sweep ([`sweep_stale`]), all through the shared fetch path, one after another,
/// each read bounded by its adapter. A failed read is logged and never stops the others.
pub async fn scheduled_reads(env: &Env) -> Vec<ScheduledReads> {
    let config = match crate::env::load_config(env) {
        Ok(config) => config,
        Err(e) => {
            crate::api::log_failure("scheduled: configuration", e);
            return Vec::new();
        }
    };
    let mut report = Vec::new();
    for provider in Provider::ALL {
        if config.provider(provider).is_none() {
            continue;
        }
        let due = match port(provider).due_reads(env).await {
            Ok(due) => due,
            Err(error) => {
                crate::api::log_failure("scheduled: due reads", error.code());
                continue;
            }
        };
        let mut failed = 0;
        for read in &due {
            let session = scheduled_session(&config, read.user.clone(), read.clock);
            if let Err(error) = fetch_and_cache(env, &session, provider).await {
                failed += 1;
                log_scheduled_failure(provider, ScheduledReason::Due, &error);
            }
        }
        if !due.is_empty() {
            report.push(ScheduledReads { provider, reason: ScheduledReason::Due, reads: due.len(), failed });
        }
    }
    report.extend(sweep_stale(env, &config).await);
    report
}

/// How many cached copies per provider development looks at, each on its user's own clock.
const SWEEP_DEV_CANDIDATES: u32 = 200;

/// The missed-webhook sweep: cached copies past their TTL that no webhook or page load re-read
/// are re-read for free (fetch-only, never a billed refresh), as a page load would, under the same
/// single-flight lease (a copy someone is reading already is skipped). What is read is the
/// core's [`sweep_plan`]: most overdue first, bounded per provider by its rate limit and per run.
/// A provider that answers "rate limited" is not asked again in this run.
async fn sweep_stale(env: &Env, config: &Config) -> Vec<ScheduledReads> {
    let now = crate::api::now_unix();
    let development = config.environment.is_development();
    let mut candidates = Vec::new();
    for provider in Provider::ALL {
        if config.provider(provider).is_none() {
            continue;
        }
        // In production every user shares the worker's clock, so D1 finds exactly the stale
        // copies; in development each user may have their own, and each candidate is checked on it.
        let ttl_s = i64::from(config.cache.ttl_hours(provider)) * 3_600;
        let (fetched_before, failed_since, limit) = if development {
            (None, None, SWEEP_DEV_CANDIDATES)
        } else {
            (Some(now - ttl_s + 1), Some(now - REREAD_BACKOFF_S + 1), sweep_reads_per_provider(provider) as u32)
        };
        let rows = match holdings::sweep_rows(env, provider, fetched_before, failed_since, limit).await {
            Ok(rows) => rows,
            Err(e) => {
                crate::api::log_failure("scheduled: stale copies", e);
                continue;
            }
        };
        for row in rows {
            let clock = crate::clock::for_user(env, &row.user).await;
            let found =
                config.cache.sweep_candidate((row.user, clock), provider, row.fetched_at, row.failed_at, clock.now());
            candidates.extend(found);
        }
    }
    let mut report: Vec<ScheduledReads> = Vec::new();
    let mut limited: Vec<Provider> = Vec::new();
    for candidate in sweep_plan(candidates) {
        let provider = candidate.provider;
        if limited.contains(&provider) {
            continue;
        }
        let (user, clock) = candidate.user;
        let session = scheduled_session(config, user, clock);
        let outcome = match fetch_under_lease(env, &session, provider).await {
            Ok(Some(read)) => read.map(|_| ()),
            // Someone is reading it right now: their read is the re-read.
            Ok(None) => continue,
            Err(error) => Err(error),
        };
        let line = match report.iter_mut().find(|r| r.provider == provider) {
            Some(line) => line,
            None => {
                report.push(ScheduledReads { provider, reason: ScheduledReason::Stale, reads: 0, failed: 0 });
                report.last_mut().expect("just pushed")
            }
        };
        line.reads += 1;
        if let Err(error) = outcome {
            line.failed += 1;
            log_scheduled_failure(provider, ScheduledReason::Stale, &error);
            let rate_limited = ProviderError::RateLimited { provider, retry_after_s: None };
            if error.code() == rate_limited.code() {
                limited.push(provider);
            }
        }
    }
    report
}
