//! A provider's holdings as every reader sees them: from the D1 cache when there is a snapshot,
//! fetched (and cached) when there is none. Which client serves a provider is decided here by the
//! provider stored with the data — never guessed again.

use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::store::holdings::{self, Snapshot};
use crate::store::{connections, pending};
use serde_json::{json, Value};
use tributary_core::cache::{CacheInfo, CachePolicy};
use tributary_core::merge::ProviderResult;
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

/// Fetches `provider`'s holdings now and replaces its cache (a failure keeps the cache).
pub async fn fetch_and_cache(
    env: &Env,
    session: &Authenticated,
    provider: Provider,
) -> Result<(Holdings, i64), ApiError> {
    match provider {
        Provider::SnapTrade => super::snaptrade::refresh_cache(env, session).await,
        Provider::Plaid => super::plaid::refresh_cache(env, session).await,
    }
}

fn last_error(snapshot: Option<&Snapshot>) -> Option<Value> {
    snapshot
        .filter(|s| s.status == "failed")
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
    let cache_info = CachePolicy::default().cache_info(provider, last_updated, session.now(), from_cache);
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

/// Every provider's result for the merge: ok (cached or fetched), failed with its error, or not connected.
pub async fn provider_results(env: &Env, session: &Authenticated) -> Result<Vec<ProviderResult>, ApiError> {
    let connected = connections::connected_providers(env, &session.claims.user_id).await?;
    let reads = Provider::ALL.into_iter().map(|provider| {
        let connected = connected.contains(&provider);
        async move {
            if !connected {
                return Ok(ProviderResult::NotConnected { provider });
            }
            match cached_or_fetch(env, session, provider).await {
                Ok(data) => Ok(ProviderResult::Ok {
                    provider,
                    holdings: data.holdings,
                    last_updated: Some(data.last_updated),
                    cache_info: Some(data.cache_info),
                }),
                Err(error) if error.is_provider_failure() => {
                    Ok(ProviderResult::Failed { provider, error: error.failure() })
                }
                Err(error) => Err(error),
            }
        }
    });
    crate::providers::fan_out(session.config.fanout, reads).await.into_iter().collect()
}

/// The providers a merge may route data to: configured for this deployment.
pub fn available_providers(session: &Authenticated) -> Vec<Provider> {
    Provider::ALL.into_iter().filter(|p| session.config.provider(*p).is_some()).collect()
}
