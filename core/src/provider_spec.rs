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
    /// A token and a report template id the person generates at the provider and pastes into
    /// Tributary; no app credentials (IBKR Flex).
    PersonalToken,
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
    /// How many orders one account may place in a window (the broker's own limit, kept locally
    /// so that an order over it is refused before it is sent). Meaningless without trading.
    pub order_rate_limit: RateLimit,
    /// Whether an order may name an amount of money instead of units (SnapTrade's `notional_value`).
    pub orders_by_amount: bool,
    /// Whether link-time routing sends a person who asks for trading here (a provider whose
    /// connections can trade but whose trading depends on the deployment's own app registration
    /// serves the accounts already connected through it, and is not chosen for trading).
    pub routes_trading: bool,
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
    /// The shortest time between two explicit refreshes of one connection, when the provider
    /// throttles them beyond the user's cooldown (IBKR Flex: one statement an hour).
    pub min_refresh_interval_s: Option<u32>,
    /// Whether its data past the cache TTL stops being canonical, so that aggregators' copies of
    /// the same institution stand in (a daily feed whose next statement did not arrive).
    pub stale_yields: bool,
}

const SNAPTRADE: ProviderSpec = ProviderSpec {
    provider: Provider::SnapTrade,
    wire_name: "snaptrade",
    display_name: "SnapTrade",
    auth: AuthKind::SignedRequest,
    read_cost: CallCost::Included,
    refresh_cost: RefreshCost::Paid,
    supports_trading: true,
    // SnapTrade's soft limit: one trade per second per account.
    order_rate_limit: RateLimit { requests: 1, per_seconds: 1 },
    orders_by_amount: true,
    routes_trading: true,
    realtime: true,
    cache_ttl_hours: 24,
    rate_limit: RateLimit { requests: 250, per_seconds: 60 },
    holdings_path: "/api/snaptrade/holdings",
    metadata_priority: 2,
    reauth_code: "snaptrade_reauth_required",
    min_refresh_interval_s: None,
    stale_yields: false,
};

const PLAID: ProviderSpec = ProviderSpec {
    provider: Provider::Plaid,
    wire_name: "plaid",
    display_name: "Plaid",
    auth: AuthKind::AccessToken,
    read_cost: CallCost::Included,
    refresh_cost: RefreshCost::Paid,
    supports_trading: false,
    order_rate_limit: RateLimit { requests: 0, per_seconds: 1 },
    orders_by_amount: false,
    routes_trading: false,
    realtime: false,
    cache_ttl_hours: 72,
    rate_limit: RateLimit { requests: 15, per_seconds: 60 },
    holdings_path: "/api/plaid/holdings",
    metadata_priority: 3,
    reauth_code: "plaid_reauth_required",
    min_refresh_interval_s: None,
    stale_yields: false,
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
    // Orders through the Trader API's own order endpoints (an app registered for "Accounts and
    // Trading"); routing still sends a person who asks for trading at link time to SnapTrade.
    supports_trading: true,
    // The order limit an app chooses at registration is 0–120 order requests a minute per
    // account; 120 is the recommended (and highest) choice.
    order_rate_limit: RateLimit { requests: 120, per_seconds: 60 },
    // Equity orders are for a quantity of shares (`amountIndicator: DOLLARS` is for mutual funds).
    orders_by_amount: false,
    routes_trading: false,
    realtime: true,
    cache_ttl_hours: 1,
    rate_limit: RateLimit { requests: 120, per_seconds: 60 },
    holdings_path: "/api/schwab/holdings",
    metadata_priority: 0,
    reauth_code: "schwab_reauth_required",
    min_refresh_interval_s: None,
    stale_yields: false,
};

const IBKR_FLEX: ProviderSpec = ProviderSpec {
    provider: Provider::IbkrFlex,
    wire_name: "ibkr_flex",
    display_name: "IBKR Flex",
    auth: AuthKind::PersonalToken,
    read_cost: CallCost::Included,
    // The Flex Web Service is free; a "refresh" is asking for a new statement.
    refresh_cost: RefreshCost::Free,
    supports_trading: false,
    order_rate_limit: RateLimit { requests: 0, per_seconds: 1 },
    orders_by_amount: false,
    routes_trading: false,
    // Activity statements are published once a day, after IBKR's close of business.
    realtime: false,
    // A daily pull plus two hours' slack: past this, aggregators' IBKR copies stand in again.
    cache_ttl_hours: 26,
    // Per token: one request a second and ten a minute, both endpoints together.
    rate_limit: RateLimit { requests: 10, per_seconds: 60 },
    holdings_path: "/api/ibkr/holdings",
    metadata_priority: 1,
    reauth_code: "ibkr_flex_reauth_required",
    min_refresh_interval_s: Some(3600),
    stale_yields: true,
};

impl Provider {
    /// The provider's description.
    pub const fn spec(self) -> &'static ProviderSpec {
        match self {
            Provider::SnapTrade => &SNAPTRADE,
            Provider::Plaid => &PLAID,
            Provider::Schwab => &SCHWAB,
            Provider::IbkrFlex => &IBKR_FLEX,
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
            assert!(spec.holdings_path.starts_with("/api/") && spec.holdings_path.ends_with("/holdings"));
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

    #[test]
    fn ibkr_flex_is_a_free_daily_feed_throttled_to_one_statement_an_hour() {
        let spec = Provider::IbkrFlex.spec();
        assert_eq!((spec.auth, spec.refresh_cost, spec.realtime), (AuthKind::PersonalToken, RefreshCost::Free, false));
        assert_eq!((spec.wire_name, spec.holdings_path), ("ibkr_flex", "/api/ibkr/holdings"));
        assert_eq!(spec.min_refresh_interval_s, Some(3600));
        assert_eq!(Provider::parse("ibkr_flex"), Ok(Provider::IbkrFlex));
    }
}
