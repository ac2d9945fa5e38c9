//! Operations: what the shells record about every provider call, and the rules that read it back.
//!
//! - [`window`]: the rolling per-(provider, institution) failure rate that feeds link-time routing
//!   (its window, threshold and recovery), and how long its rows are kept;
//! - [`latency`]: the fixed latency buckets calls are counted in, and percentiles read from them;
//! - [`prices`]: per-call prices (`PROVIDER_CALL_PRICES`) and the cost of billed calls;
//! - [`metrics`]: the operator's per-provider, per-day figures built from the daily aggregates;
//! - [`operator`]: who may read them (the `OPERATOR_TOKEN` bearer, or an `operator` role session).
//!
//! Nothing here reads a clock or storage: the shell passes `now` and the stored rows in.

pub mod latency;
pub mod metrics;
pub mod operator;
pub mod prices;
pub mod window;

use crate::domain::{InstitutionSlug, Provider};
use crate::provider_error::ProviderError;

/// One attempt at a provider call, as the shell saw it (never a secret: no URL, no body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    pub provider: Provider,
    /// The institution the call served, when the adapter knows it.
    pub institution: Option<InstitutionSlug>,
    /// The adapter's name of the call (`investments_refresh`, `accounts`, …).
    pub operation: String,
    /// The HTTP status, when an answer arrived.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// The call is billed by the provider when it succeeds.
    pub billed: bool,
    /// How the attempt ended.
    pub result: CallResult,
    /// Unix seconds on the clock of the request that made it.
    pub at: i64,
}

/// How one attempt ended, for health and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// A 2xx answer the adapter accepted.
    Succeeded,
    /// The provider refused the request for a reason of the user's or ours (a 4xx meaning a login,
    /// a missing item, a bad input): the provider itself works.
    Refused,
    /// The provider failed: 5xx, timeout, unreachable, malformed answer or rate limited. Only
    /// these count against its health.
    Failed,
}

impl CallResult {
    /// The result an attempt's classified error (or its absence) means.
    pub fn of(error: Option<&ProviderError>) -> Self {
        match error {
            None => Self::Succeeded,
            Some(
                ProviderError::ServerError { .. }
                | ProviderError::Timeout { .. }
                | ProviderError::Network { .. }
                | ProviderError::Malformed { .. },
            ) => Self::Failed,
            Some(_) => Self::Refused,
        }
    }
}

impl CallOutcome {
    /// Whether the provider billed this attempt (a billed call that succeeded).
    pub fn was_billed(&self) -> bool {
        self.billed && self.result == CallResult::Succeeded
    }
}

#[cfg(test)]
mod tests;
