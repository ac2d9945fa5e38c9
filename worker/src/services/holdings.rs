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
use tributary_core::cache::{CacheInfo, ReadPlan};
use tributary_core::merge::{stale_yields, ProviderResult, Supply};
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
    let owner = super::random_owner();
    let now_ms = crate::clock::real_now_unix().saturating_mul(1_000);
    if holdings::claim_reread(env, user, provider, &owner, now_ms, now_ms + REREAD_LEASE_MS).await? {
        let fetched = fetch_and_cache(env, session, provider).await;
        if let Err(e) = holdings::release_reread(env, user, provider, &owner).await {
            crate::api::log_failure("release re-read lease", e);
        }
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

/// One cron run's reads: every provider's due users (`ProviderPort::due_reads`) read through the
/// shared fetch path, one after another, each read bounded by its adapter. A failed read is logged
/// and never stops the others. Returns how many reads each provider had.
pub async fn scheduled_reads(env: &Env) -> Vec<(Provider, usize, usize)> {
    let config = match crate::env::load_config(env) {
        Ok(config) => config,
        Err(e) => {
            crate::api::log_failure("scheduled: configuration", e);
            return Vec::new();
        }
    };
    let mut report = Vec::new();
    for provider in Provider::ALL {
        let due = match port(provider).due_reads(env).await {
            Ok(due) => due,
            Err(error) => {
                crate::api::log_failure("scheduled: due reads", error.code());
                continue;
            }
        };
        let mut failed = 0;
        for read in &due {
            let claims = tributary_core::session::SessionClaims {
                user_id: read.user.clone(),
                expires_at: crate::clock::real_now_unix() + 60,
                issued_at: None,
            };
            let session = Authenticated { claims, config: config.clone(), clock: read.clock };
            if let Err(error) = fetch_and_cache(env, &session, provider).await {
                failed += 1;
                worker::console_log!(
                    "{}",
                    json!({"level": "info", "event": "scheduled_read", "provider": provider, "outcome": error.code()})
                );
            }
        }
        if !due.is_empty() {
            report.push((provider, due.len(), failed));
        }
    }
    report
}
