//! Plaid flows: linking, the Item's access token sealed at rest, holdings fetch and cache.

use crate::api::ApiError;
use crate::auth::Authenticated;
use tributary_core::provider_error::ProviderError;
use tributary_core::{Holdings, Provider};
use worker::Env;

/// Fetches the user's Plaid holdings and replaces the cache.
pub async fn refresh_cache(_env: &Env, _session: &Authenticated) -> Result<(Holdings, i64), ApiError> {
    Err(ProviderError::NotConfigured { provider: Provider::Plaid }.into())
}

/// A Plaid hosted-link session for the user.
pub struct PlaidLink {
    pub hosted_link_url: String,
    pub link_token: String,
}

/// Creates a hosted-link session that returns to `redirect`.
pub async fn create_link(
    _env: &Env,
    _session: &Authenticated,
    _institution: Option<&tributary_core::InstitutionSlug>,
    _redirect: &str,
) -> Result<PlaidLink, ApiError> {
    Err(ProviderError::NotConfigured { provider: Provider::Plaid }.into())
}

/// Asks Plaid to refresh every Item of the user (`/investments/refresh`, billed per call).
pub async fn provider_refresh(_env: &Env, _session: &Authenticated) -> Result<(usize, Option<ApiError>), ApiError> {
    Err(ProviderError::NotConfigured { provider: Provider::Plaid }.into())
}
