//! The provider port: what every provider adapter offers the shared paths (holdings fetch and
//! cache, the refresh policy, routing health, link-time connect, `/api/portfolio`), and the one
//! registry that names each provider's adapter. Nothing outside an adapter matches on a provider.

use crate::api::{ApiError, ApiResult};
use crate::auth::Authenticated;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;
use tributary_core::coverage::ProviderState;
use tributary_core::{Holdings, InstitutionSlug, Provider};
use worker::{Env, Request};

/// What a connect request asks of the chosen provider.
pub struct ConnectRequest<'a> {
    pub institution: Option<&'a InstitutionSlug>,
    pub need_trading: bool,
    /// Where the provider's flow returns the person (already validated).
    pub redirect: &'a str,
    /// The request that asked, for URLs built from its origin (webhook targets).
    pub req: &'a Request,
}

/// How a connect request is answered.
pub enum Connect {
    /// The provider's flow: `{kind, url, …}`, returned beside the routing decision.
    Flow(Value),
    /// A complete answer instead of a flow (e.g. 409: the institution is already linked).
    Answer(ApiResult),
}

/// One provider, served to the shared paths. Each method states its error contract.
pub trait ProviderPort: Sync {
    /// The provider this adapter serves.
    fn provider(&self) -> Provider;

    /// Reads the session user's complete holdings from the provider now, normalised by the core.
    ///
    /// - MUST return empty holdings (not an error) when the user has nothing connected there.
    /// - MUST return `ProviderError::Auth` when the provider rejects our credentials, and
    ///   `ProviderError::ReauthRequired` when only a new login at the provider can help (after
    ///   marking the connection `needs_repair` with that code).
    /// - MUST fail whole rather than return a partial read (a missing account is an error).
    /// - MUST NOT write the holdings cache: the shared path replaces it after a complete read.
    fn fetch_holdings<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        now: i64,
    ) -> LocalBoxFuture<'a, Result<Holdings, ApiError>>;

    /// Asks the provider to re-read the institution (a billed call where its spec says so).
    /// Returns how many such calls succeeded and the first failure; MUST attempt every
    /// connection even after one fails, and MUST return `(0, None)` when the provider has no such
    /// call (its reads are already live).
    fn provider_refresh<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
    ) -> LocalBoxFuture<'a, Result<(usize, Option<ApiError>), ApiError>>;

    /// The provider's routing health for this deployment, given that it is configured. MUST NOT
    /// fail: a health source that cannot be read counts as healthy (fail-open routing).
    fn health<'a>(&'a self, _env: &'a Env, _session: &'a Authenticated) -> LocalBoxFuture<'a, ProviderState> {
        Box::pin(async { ProviderState::healthy() })
    }

    /// Starts the provider's connection flow for a routed institution. MUST create nothing billed
    /// before the person completes the flow.
    fn connect<'a>(
        &'a self,
        env: &'a Env,
        session: &'a Authenticated,
        request: ConnectRequest<'a>,
    ) -> LocalBoxFuture<'a, Result<Connect, ApiError>>;
}

/// The adapter serving `provider`: the one place a provider is tied to its code.
pub fn port(provider: Provider) -> &'static dyn ProviderPort {
    let adapter: &'static dyn ProviderPort = match provider {
        Provider::SnapTrade => &crate::services::snaptrade::SnapTradePort,
        Provider::Plaid => &crate::services::plaid::PlaidPort,
        Provider::Schwab => &crate::services::schwab::SchwabPort,
    };
    debug_assert_eq!(adapter.provider(), provider, "the registry names each provider's own adapter");
    adapter
}
