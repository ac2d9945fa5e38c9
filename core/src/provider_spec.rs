//! Every provider described once, as data: its names, how it authenticates, what a read and a
//! refresh cost, what it can do, how long its data stays fresh and how fast it may be called.
//! Shared paths (cache, refresh policy, capabilities, routing labels, the worker's provider port)
//! read these fields instead of matching on the provider.

use crate::capabilities::RefreshCost;
use crate::domain::Provider;
use serde::Serialize;

/// How Tributary proves to a provider who it is and on whose behalf it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// Every request signed with the app's key, plus a per-user secret (SnapTrade).
    SignedRequest,
    /// App credentials plus one long-lived access token per connection (Plaid Items).
    AccessToken,
    /// OAuth 2 authorization code: a person consents at the provider; short-lived access tokens
    /// are refreshed with a refresh token until a fresh login is needed (Schwab).
    OAuth2,
}

/// What one call of a kind costs the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallCost {
    /// Included in the provider's plan (or free): no per-call fee.
    Included,
    /// Billed per call.
    Billed,
}

/// How many requests a provider accepts in a window, per app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    pub requests: u32,
    pub per_seconds: u32,
}

/// One provider, as every shared path sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProviderSpec {
    pub provider: Provider,
    /// The wire and storage name (`snaptrade`).
    pub wire_name: &'static str,
    /// The name people read (`SnapTrade`).
    pub display_name: &'static str,
    pub auth: AuthKind,
    /// What reading holdings costs.
    pub read_cost: CallCost,
    /// What asking the provider to refresh from the institution costs.
    pub refresh_cost: RefreshCost,
    /// Whether orders can be placed through the provider at all.
    pub supports_trading: bool,
    /// Whether positions come fresh from the broker rather than from a daily snapshot.
    pub realtime: bool,
    /// How long cached holdings count as fresh unless the deployment says otherwise.
    pub cache_ttl_hours: u32,
    /// The provider's documented request limit for non-order calls.
    pub rate_limit: RateLimit,
    /// `GET` path of the provider's holdings endpoint on the worker.
    pub holdings_path: &'static str,
    /// Whether the provider's own rows outrank aggregators' copies for names and kinds (a direct
    /// feed reads the broker's own records). Lower is higher priority.
    pub metadata_priority: u8,
    /// The error code of a connection whose login must be redone at the provider.
    pub reauth_code: &'static str,
}

const SNAPTRADE: ProviderSpec = ProviderSpec {
    provider: Provider::SnapTrade,
    wire_name: "snaptrade",
    display_name: "SnapTrade",
    auth: AuthKind::SignedRequest,
    read_cost: CallCost::Included,
    refresh_cost: RefreshCost::Paid,
    supports_trading: true,
    realtime: true,
    cache_ttl_hours: 24,
    rate_limit: RateLimit { requests: 250, per_seconds: 60 },
    holdings_path: "/api/snaptrade/holdings",
    metadata_priority: 1,
    reauth_code: "snaptrade_reauth_required",
};

const PLAID: ProviderSpec = ProviderSpec {
    provider: Provider::Plaid,
    wire_name: "plaid",
    display_name: "Plaid",
    auth: AuthKind::AccessToken,
    read_cost: CallCost::Included,
    refresh_cost: RefreshCost::Paid,
    supports_trading: false,
    realtime: false,
    cache_ttl_hours: 72,
    rate_limit: RateLimit { requests: 15, per_seconds: 60 },
    holdings_path: "/api/plaid/holdings",
    metadata_priority: 2,
    reauth_code: "plaid_reauth_required",
};

const SCHWAB: ProviderSpec = ProviderSpec {
    provider: Provider::Schwab,
    wire_name: "schwab",
    display_name: "Schwab direct",
    auth: AuthKind::OAuth2,
    read_cost: CallCost::Included,
    // Every read is live from Schwab's own books; there is nothing to pay for and no separate
    // "refresh from the institution" call.
    refresh_cost: RefreshCost::Free,
    // Orders through Schwab's own API are not built yet: a person who needs to trade at Schwab is
    // routed through SnapTrade.
    supports_trading: false,
    realtime: true,
    cache_ttl_hours: 1,
    rate_limit: RateLimit { requests: 120, per_seconds: 60 },
    holdings_path: "/api/schwab/holdings",
    metadata_priority: 0,
    reauth_code: "schwab_reauth_required",
};

impl Provider {
    /// The provider's description.
    pub const fn spec(self) -> &'static ProviderSpec {
        match self {
            Provider::SnapTrade => &SNAPTRADE,
            Provider::Plaid => &PLAID,
            Provider::Schwab => &SCHWAB,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_describes_its_own_provider_with_a_unique_name_and_path() {
        for provider in Provider::ALL {
            let spec = provider.spec();
            assert_eq!(spec.provider, provider);
            assert_eq!(Provider::parse(spec.wire_name), Ok(provider));
            assert_eq!(spec.holdings_path, format!("/api/{}/holdings", spec.wire_name));
            assert!(spec.cache_ttl_hours > 0 && spec.rate_limit.requests > 0);
            let others = Provider::ALL.into_iter().filter(|p| *p != provider);
            for other in others {
                assert_ne!(other.spec().metadata_priority, spec.metadata_priority);
            }
        }
    }

    #[test]
    fn schwab_direct_is_oauth_free_to_refresh_and_limited_to_120_a_minute() {
        let spec = Provider::Schwab.spec();
        assert_eq!((spec.auth, spec.refresh_cost), (AuthKind::OAuth2, RefreshCost::Free));
        assert_eq!(spec.rate_limit, RateLimit { requests: 120, per_seconds: 60 });
        assert_eq!(Provider::Schwab.display_name(), "Schwab direct");
    }
}
