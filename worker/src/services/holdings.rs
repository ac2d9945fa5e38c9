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
use tributary_core::cache::CacheInfo;
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

/// The cached holdings of `provider`, fetched first when nothing was ever fetched.
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
    let snapshot = snapshot?;
    let (holdings, from_cache, last_updated) = match snapshot.as_ref().and_then(|s| s.fetched_at) {
        Some(fetched_at) => (cached?, true, fetched_at),
        None => {
            let (holdings, fetched_at) = fetch_and_cache(env, session, provider).await?;
            (holdings, false, fetched_at)
        }
    };
    let cache_info = session.config.cache.cache_info(provider, last_updated, session.now(), from_cache);
    let last_error = if from_cache { last_error(snapshot.as_ref()) } else { None };
    Ok(ProviderHoldings { provider, holdings, last_updated, cache_info, last_error })
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
