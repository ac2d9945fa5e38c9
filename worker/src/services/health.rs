//! Provider health for link-time routing, gathered once for every provider through its port:
//! an unconfigured provider is unavailable; a configured one reports its own health (SnapTrade's
//! brokerage maintenance list, …). The rule is the core's.

use crate::auth::Authenticated;
use crate::registry::port;
use tributary_core::coverage::{ProviderHealth, ProviderState};
use tributary_core::Provider;
use worker::Env;

/// The routing health of every provider for this deployment, now.
pub async fn provider_health(env: &Env, session: &Authenticated) -> ProviderHealth {
    let mut health = ProviderHealth::all_healthy();
    for provider in Provider::ALL {
        let state = match session.config.provider(provider) {
            None => ProviderState::not_configured(),
            Some(_) => port(provider).health(env, session).await,
        };
        health = health.with(provider, state);
    }
    health
}
