//! The client's requests and how their answers are read: API URLs, the institution search, which
//! providers' holdings to fetch (only connected ones, per `GET /api/connections`), what a provider
//! that could not be read contributes to the merge, and the refresh request body.

use super::outcome::ClientFailure;
use crate::domain::Provider;
use crate::error::ValidationError;
use crate::merge::ProviderFailure;
use crate::url::encode_component;
use serde::Serialize;

/// `GET`: which providers the session user has connected.
pub const CONNECTIONS_PATH: &str = "/api/connections";
/// `GET`: the pending-updates flags.
pub const PENDING_UPDATES_PATH: &str = "/api/pending-updates";
/// `POST`: the refresh policy.
pub const REFRESH_PATH: &str = "/api/holdings/refresh";
/// `POST`: exchanges a Plaid public token.
pub const PLAID_EXCHANGE_PATH: &str = "/api/plaid/exchange";
/// `POST`: completes Schwab's OAuth flow with the callback's `code` and `state`.
pub const SCHWAB_CALLBACK_PATH: &str = "/api/schwab/callback";
/// `POST`: stores SnapTrade connections after the portal.
pub const SNAPTRADE_SYNC_PATH: &str = "/api/snaptrade/connections/sync";

/// `base` joined with an absolute API `path` (`""` as base keeps the path relative to the page).
pub fn api_url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The institution search path for `query`.
pub fn institutions_path(query: &str) -> String {
    format!("/api/institutions?q={}", encode_component(query))
}

/// A provider's holdings endpoint.
pub fn holdings_path(provider: Provider) -> &'static str {
    provider.spec().holdings_path
}

/// The connected providers among the `(provider, connected)` entries of a `GET /api/connections`
/// answer; providers this client does not know are skipped (a newer worker may know more).
pub fn connected_providers(entries: &[(String, bool)]) -> Vec<Provider> {
    entries.iter().filter(|(_, connected)| *connected).filter_map(|(name, _)| Provider::parse(name).ok()).collect()
}

/// What to do for one provider when reading holdings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRead {
    /// Fetch its holdings endpoint.
    Fetch { provider: Provider, path: &'static str },
    /// Fetch nothing; the merge reports it as not connected.
    NotConnected { provider: Provider },
}

/// One read per provider, in a stable order: connected providers are fetched, others are not.
pub fn holdings_plan(connected: &[Provider]) -> Vec<ProviderRead> {
    Provider::ALL
        .into_iter()
        .map(|provider| match connected.contains(&provider) {
            true => ProviderRead::Fetch { provider, path: holdings_path(provider) },
            false => ProviderRead::NotConnected { provider },
        })
        .collect()
}

/// The entries a client adds for providers without holdings, in the merge's `ProviderResult`
/// wire form (serialising only these two keeps the browser module small).
#[derive(Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum MergeEntry<'a> {
    Failed { provider: Provider, error: &'a ProviderFailure },
    NotConnected { provider: Provider },
}

fn entry_json(entry: &MergeEntry<'_>) -> String {
    serde_json::to_string(entry).expect("a provider and two strings always serialise")
}

/// The merge entry (JSON text) for one provider read: a holdings body that is valid JSON as it
/// is (the merge reads it), otherwise that provider's failure — never an error for the whole merge.
/// `answer` is the success status and body, or the request's failure.
pub fn merge_entry(provider: Provider, answer: Result<(u16, String), ClientFailure>) -> String {
    let failure = match answer {
        Ok((_, body)) if serde_json::from_str::<serde::de::IgnoredAny>(&body).is_ok() => return body,
        Ok((status, _)) => ClientFailure::invalid_response(status, "the holdings body is not JSON"),
        Err(failure) => failure,
    };
    entry_json(&MergeEntry::Failed { provider, error: &failure.provider_failure() })
}

/// The merge entry of a provider that is not connected.
pub fn not_connected_entry(provider: Provider) -> String {
    entry_json(&MergeEntry::NotConnected { provider })
}

/// `refresh` options (`providers`, `confirmCost`): which providers (left out: whatever is
/// pending) and whether the caller accepts a billed refresh within the cost cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<Provider>>,
    pub confirm_cost: bool,
}

impl RefreshOptions {
    /// Options from provider names as given; an unknown name is `unknown_provider`, as the
    /// worker would answer.
    pub fn new(providers: Option<Vec<String>>, confirm_cost: Option<bool>) -> Result<Self, ValidationError> {
        let providers = providers.map(|names| names.iter().map(|n| Provider::parse(n)).collect()).transpose()?;
        Ok(Self { providers, confirm_cost: confirm_cost.unwrap_or(false) })
    }

    /// The body of `POST /api/holdings/refresh`.
    pub fn request_body(&self) -> String {
        serde_json::to_string(self).expect("provider names and a boolean always serialise")
    }
}

/// What a refresh of only the pending providers answers when nothing is pending (the worker's
/// own answer for that case), so no request has to be made.
pub fn nothing_pending_answer() -> &'static str {
    r#"{"decision":"nothing_pending","results":[]}"#
}
