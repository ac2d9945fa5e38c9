//! One error taxonomy for every provider: whatever SnapTrade or Plaid answers, the shells see
//! one of these, with a stable code, a message a person can act on, and whether a retry can help.

use crate::domain::Provider;
use crate::error::ErrorCode;
use crate::ibkr::FlexError;
use serde::{Deserialize, Serialize};

/// A provider call that did not produce usable data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProviderError {
    #[error("{provider} refused our credentials or signature: {detail}")]
    Auth { provider: Provider, detail: String },
    #[error("{provider} does not know this user any more; connect again")]
    UserNotFound { provider: Provider },
    #[error("{provider} is rate limiting us; try again in {} s", retry_after_s.map_or("a few".to_owned(), |s| s.to_string()))]
    RateLimited { provider: Provider, retry_after_s: Option<u64> },
    #[error("the {provider} connection is disabled and needs to be reconnected: {detail}")]
    ConnectionDisabled { provider: Provider, detail: String },
    #[error("trading is not enabled for this {} connection; reconnect with trading permission or use another account", brokerage.as_deref().unwrap_or("brokerage"))]
    TradingNotPermitted { provider: Provider, brokerage: Option<String> },
    #[error("{provider} no longer serves {operation} (410 Gone); this is a Tributary bug, not an empty portfolio")]
    EndpointGone { provider: Provider, operation: String },
    /// A complete read answered no positions for accounts the cache holds positions for, with no
    /// sign they were really emptied (see [`crate::empty_read`]): the cached holdings are kept.
    #[error("{provider} answered no positions for {} account(s) that held some, with unchanged cash; the holdings read before are kept until a second read in a row (or a changed cash balance) confirms the account is empty", accounts.len())]
    SuspectEmpty { provider: Provider, accounts: Vec<String> },
    #[error("{provider} could not find {what}")]
    NotFound { provider: Provider, what: String },
    #[error("{provider} needs the user to log in to their institution again")]
    LoginRequired { provider: Provider },
    #[error("{provider} is still preparing this data; try again shortly")]
    NotReady { provider: Provider },
    #[error("{provider} had a server error ({status})")]
    ServerError { provider: Provider, status: u16 },
    #[error("{provider} did not answer in time")]
    Timeout { provider: Provider },
    #[error("{provider} could not be reached: {detail}")]
    Network { provider: Provider, detail: String },
    #[error("{provider} sent a response we could not read: {detail}")]
    Malformed { provider: Provider, detail: String },
    #[error("{provider} rejected the request ({status}): {detail}")]
    Rejected { provider: Provider, status: u16, detail: String },
    #[error("{provider} is not configured on this deployment")]
    NotConfigured { provider: Provider },
    #[error("this {provider} account is already linked to another Tributary user; it is not linked a second time (each account belongs to one user)")]
    AccountLinkedElsewhere { provider: Provider },
    #[error("the {provider} login has expired; sign in to {} again (Reconnect) — the holdings already fetched are kept", provider.display_name())]
    ReauthRequired { provider: Provider },
    /// IBKR's Flex Web Service refused the request or sent what could not be read; the code,
    /// status and message are the [`FlexError`]'s own.
    #[error("{error}")]
    Flex { provider: Provider, error: FlexError },
}

impl ProviderError {
    /// Whether the same call may succeed if retried shortly (server errors, timeouts, network,
    /// and a Flex statement IBKR is still preparing).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ServerError { .. }
                | Self::Timeout { .. }
                | Self::Network { .. }
                | Self::NotReady { .. }
                | Self::Flex { error: FlexError::Wait { .. }, .. }
        )
    }

    /// Whether the data is still being prepared rather than failing: a Flex statement IBKR is
    /// generating. A read that ends so is not a failed fetch — the cached rows stay canonical.
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::Flex { error: FlexError::Wait { .. }, .. })
    }

    /// The provider the error came from.
    pub fn provider(&self) -> Provider {
        match self {
            Self::Auth { provider, .. }
            | Self::UserNotFound { provider }
            | Self::RateLimited { provider, .. }
            | Self::ConnectionDisabled { provider, .. }
            | Self::TradingNotPermitted { provider, .. }
            | Self::EndpointGone { provider, .. }
            | Self::SuspectEmpty { provider, .. }
            | Self::NotFound { provider, .. }
            | Self::LoginRequired { provider }
            | Self::NotReady { provider }
            | Self::ServerError { provider, .. }
            | Self::Timeout { provider }
            | Self::Network { provider, .. }
            | Self::Malformed { provider, .. }
            | Self::Rejected { provider, .. }
            | Self::NotConfigured { provider }
            | Self::ReauthRequired { provider }
            | Self::AccountLinkedElsewhere { provider }
            | Self::Flex { provider, .. } => *provider,
        }
    }

    /// Seconds the provider asked us to wait, when it said.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_s, .. } => *retry_after_s,
            Self::Flex { error: FlexError::Wait { wait_s, .. }, .. } => Some(*wait_s),
            _ => None,
        }
    }
}

impl ErrorCode for ProviderError {
    fn code(&self) -> &'static str {
        match self {
            Self::Auth { .. } => "provider_auth_failed",
            Self::UserNotFound { .. } => "provider_user_not_found",
            Self::RateLimited { .. } => "provider_rate_limited",
            Self::ConnectionDisabled { .. } => "connection_disabled",
            Self::TradingNotPermitted { .. } => "trading_not_permitted",
            Self::EndpointGone { .. } => "provider_endpoint_gone",
            Self::SuspectEmpty { .. } => crate::empty_read::SUSPECT_EMPTY_CODE,
            Self::NotFound { .. } => "provider_not_found",
            Self::LoginRequired { .. } => "provider_login_required",
            Self::NotReady { .. } => "provider_not_ready",
            Self::ServerError { .. } => "provider_unavailable",
            Self::Timeout { .. } => "provider_timeout",
            Self::Network { .. } => "provider_unreachable",
            Self::Malformed { .. } => "provider_malformed_response",
            Self::Rejected { .. } => "provider_rejected",
            Self::NotConfigured { .. } => "provider_not_configured",
            Self::ReauthRequired { provider } => provider.spec().reauth_code,
            Self::AccountLinkedElsewhere { .. } => "account_linked_elsewhere",
            Self::Flex { error, .. } => error.code(),
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            Self::Flex { error, .. } => error.http_status(),
            Self::RateLimited { .. } | Self::NotReady { .. } | Self::NotConfigured { .. } => 503,
            Self::ConnectionDisabled { .. }
            | Self::LoginRequired { .. }
            | Self::UserNotFound { .. }
            | Self::ReauthRequired { .. }
            | Self::AccountLinkedElsewhere { .. } => 409,
            Self::TradingNotPermitted { .. } => 403,
            Self::NotFound { .. } => 404,
            Self::Timeout { .. } => 504,
            _ => 502,
        }
    }
}
