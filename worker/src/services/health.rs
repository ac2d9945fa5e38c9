//! Provider health for link-time routing, gathered from what the worker can know cheaply:
//! which providers this deployment configures, and which institutions SnapTrade reports in
//! maintenance (its `/brokerages` list, cached in KV for ten minutes). The rule is the core's.

use crate::auth::Authenticated;
use crate::institutions::resolve;
use crate::services::snaptrade::client;
use crate::store::KV;
use std::collections::BTreeSet;
use tributary_core::coverage::{ProviderHealth, ProviderState};
use tributary_core::snaptrade::brokerages_in_maintenance;
use tributary_core::{InstitutionSlug, Provider};
use worker::Env;

const MAINTENANCE_KEY: &str = "routing:snaptrade:maintenance";
const MAINTENANCE_TTL_S: u64 = 600;

/// The routing health of every provider for this deployment, now.
pub async fn provider_health(env: &Env, session: &Authenticated) -> ProviderHealth {
    let mut health = ProviderHealth::all_healthy();
    for provider in Provider::ALL {
        if session.config.provider(provider).is_none() {
            health = health.with(provider, ProviderState::not_configured());
        }
    }
    if session.config.provider(Provider::SnapTrade).is_some() {
        let mut state = ProviderState::healthy();
        for slug in snaptrade_maintenance(env, session).await {
            state = state.with_maintenance(slug);
        }
        health = health.with(Provider::SnapTrade, state);
    }
    health
}

/// Institutions SnapTrade reports in maintenance; empty (fail-open) when it cannot be read.
async fn snaptrade_maintenance(env: &Env, session: &Authenticated) -> BTreeSet<InstitutionSlug> {
    let kv = env.kv(KV).ok();
    if let Some(kv) = &kv {
        if let Ok(Some(cached)) = kv.get(MAINTENANCE_KEY).text().await {
            if let Ok(slugs) = serde_json::from_str::<BTreeSet<InstitutionSlug>>(&cached) {
                return slugs;
            }
        }
    }
    let Ok(client) = client(session) else { return BTreeSet::new() };
    let slugs = match client.brokerages().await {
        Ok(list) => brokerages_in_maintenance(&list, &resolve),
        // The failed call is already logged by the client; routing proceeds on configuration alone.
        Err(_) => return BTreeSet::new(),
    };
    if let (Some(kv), Ok(text)) = (kv, serde_json::to_string(&slugs)) {
        if let Ok(put) = kv.put(MAINTENANCE_KEY, text) {
            let _ = put.expiration_ttl(MAINTENANCE_TTL_S).execute().await;
        }
    }
    slugs
}
