//! Provider health for link-time routing, gathered once for every provider through its port:
//! an unconfigured provider is unavailable; a configured one reports its own health (SnapTrade's
//! brokerage maintenance list, …); then the rolling failure rate of recent calls (one D1 read of
//! the window on the session's clock) marks providers failing for an institution, or everywhere.
//! The rules are the core's (`coverage::health`, `ops::window`); a window that cannot be read
//! counts as no failures (fail-open routing).

use crate::auth::Authenticated;
use crate::registry::port;
use tributary_core::coverage::{ProviderHealth, ProviderState};
use tributary_core::ops::window::{health_with_recent_calls, window_minutes};
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
    let (first, last) = window_minutes(session.now());
    match crate::store::provider_calls::window(env, first, last).await {
        Ok(rows) => health_with_recent_calls(health, &rows),
        Err(error) => {
            crate::api::log_failure("read provider call window", error);
            health
        }
    }
}
