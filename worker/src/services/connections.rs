//! Which providers a user has connected (`GET /api/connections`, the MCP `list_connections`) and
//! how each stands (the MCP `connection_health`, whose `connections` are `GET
//! /api/connections/health`'s): D1 reads and each provider's own health report, never a billed call.

use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::services::health::provider_health;
use crate::store::connections::connected_providers;
use serde::Serialize;
use serde_json::{json, Value};
use tributary_core::Provider;
use worker::Env;

/// One provider and whether the user has connected it.
#[derive(Debug, Serialize)]
pub struct ConnectionListing {
    pub provider: Provider,
    pub connected: bool,
}

/// Every provider Tributary knows, in a stable order, with whether the session user connected it.
pub async fn list(env: &Env, session: &Authenticated) -> Result<Vec<ConnectionListing>, ApiError> {
    let connected = connected_providers(env, &session.claims.user_id).await?;
    Ok(Provider::ALL
        .iter()
        .map(|&provider| ConnectionListing { provider, connected: connected.contains(&provider) })
        .collect())
}

/// Every provider's connection and routing health for the session user: connected, configured,
/// available, institutions under maintenance and recent failures; and every connection's health
/// (`services::connection_health`). With `probe_trading`, each account's standing under the
/// trading gate (`services::trading::probe`, no provider called).
pub async fn health(env: &Env, session: &Authenticated, probe_trading: bool) -> Result<Value, ApiError> {
    let listing = list(env, session).await?;
    let health = provider_health(env, session).await;
    let providers: Vec<Value> = listing
        .iter()
        .map(|entry| {
            let state = health.state(entry.provider);
            json!({
                "provider": entry.provider,
                "connected": entry.connected,
                "configured": state.is_some_and(|s| s.configured),
                "available": health.problem(entry.provider, None).is_none(),
                "state": state,
            })
        })
        .collect();
    let probe = if probe_trading { Some(super::trading::probe(env, session).await?) } else { None };
    let connections = super::connection_health::report_with(env, session, probe.as_deref()).await?;
    let trading_probe = match probe {
        Some(accounts) => json!({ "requested": true, "probed": true, "accounts": accounts }),
        None => {
            json!({ "requested": false, "probed": false, "reason": "not asked (probe_trading: true checks each account)" })
        }
    };
    Ok(json!({ "providers": providers, "connections": connections, "trading_probe": trading_probe }))
}
