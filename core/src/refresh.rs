//! Refresh policy: whether a user's refresh request may run now, and if so which providers are
//! re-read for free and which are asked (and billed) to refresh. Pure: the worker reads the state
//! from D1, passes `now`, and carries out the decision; nothing here stores or calls anything.
//!
//! The rules, in the order they are applied by [`RefreshPolicy::decide`]:
//! 1. **Request.** Without `providers`, the candidates are the connected providers whose pending
//!    flag is set. With `providers` (an explicit refresh), duplicates collapse, an empty list is
//!    [`RefreshError::NoProvidersNamed`], and a named provider that is not connected is
//!    [`RefreshError::NotConnected`]: the request is refused rather than silently narrowed, so the
//!    caller never believes it refreshed something it did not. (Unknown provider names never get
//!    this far: [`Provider`] parsing refuses them with `unknown_provider`.)
//! 2. **Cooldown.** One per user across all providers and triggers (default 60 s), counted from
//!    the latest of the user's last refresh and any provider's: [`RefreshDecision::CoolingDown`]
//!    with the exact whole seconds left (≥ 1), for a 429 with `Retry-After`.
//! 3. **Nothing to do.** No candidates (nothing pending, nothing named): [`RefreshDecision::NothingPending`].
//! 4. **Mode.** A pending provider, and every provider under a [`RefreshTrigger::Webhook`], is
//!    [`RefreshMode::FetchOnly`]: the provider already has the new data, so it is only re-read, for
//!    free. Any other is [`RefreshMode::ProviderRefresh`]: the provider is asked to refresh (billed
//!    when its [`RefreshCost`] is `Paid`), then read.
//! 5. **Cost cap.** A billed `ProviderRefresh` within `paid_cap_s` (default 24 h) of that
//!    provider's last billed refresh is [`RefreshDecision::CostCapped`] unless `confirm_cost` is
//!    set; the whole request is refused (nothing partial is billed). The cap keys on the cost, not
//!    on a provider name: Plaid `/investments/refresh` and SnapTrade's manual refresh both bill per
//!    call ([`provider_refresh_cost`]), so both are capped; a pending provider or a webhook trigger
//!    is never capped because it never bills.
//! 6. **Provider throttle.** A `ProviderRefresh` of a provider whose spec sets
//!    `min_refresh_interval_s` (IBKR Flex: one statement an hour) within that interval of the last
//!    time it was asked for new data — by a refresh, the daily pull or a connect
//!    ([`ProviderRefreshState::last_requested_at`]) — is [`RefreshDecision::Throttled`] with the
//!    seconds left; the whole request is refused, as for the cost cap.
//!
//! Consistency across isolates is the worker's part: it applies an `Allowed` decision only if
//! `UPDATE … SET last_refresh_at = ?now WHERE … AND (last_refresh_at IS NULL OR last_refresh_at <=
//! ?cutoff)` with [`RefreshPolicy::cooldown_cutoff`] changes a row; otherwise another request won
//! and it answers [`RefreshPolicy::retry_after_s`]. Because the cooldown is shorter than the cap,
//! that one statement also keeps two concurrent requests from billing twice.

use crate::capabilities::{provider_refresh_cost, RefreshCost};
use crate::domain::Provider;
use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};

/// How often a user may refresh, and how often a billed refresh may repeat without confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefreshPolicy {
    /// Seconds between two refreshes of one user, any provider (negative counts as 0).
    pub cooldown_s: i64,
    /// Seconds a billed refresh of one provider must wait for the previous one without confirmation.
    pub paid_cap_s: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self { cooldown_s: 60, paid_cap_s: 86_400 }
    }
}

/// What started a refresh; set by the worker, never read from a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTrigger {
    /// A person asked for it.
    #[default]
    Manual,
    /// A verified provider webhook announced new data.
    Webhook,
}

/// A refresh request: which providers (none = whatever is pending) and whether the user accepts the cost.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RefreshRequest {
    #[serde(default)]
    pub providers: Option<Vec<Provider>>,
    #[serde(default)]
    pub confirm_cost: bool,
    #[serde(skip_deserializing)]
    pub trigger: RefreshTrigger,
}

/// What the worker knows about one of the user's providers when a refresh is asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRefreshState {
    pub provider: Provider,
    pub connected: bool,
    /// A verified webhook announced data not yet refreshed.
    pub pending: bool,
    pub last_refresh_at: Option<i64>,
    pub last_billed_refresh_at: Option<i64>,
    pub refresh_cost: RefreshCost,
    /// When the provider was last asked for new data by any path, not only a refresh (the
    /// latest IBKR Flex statement request); the provider throttle counts from the later of this
    /// and `last_refresh_at`.
    #[serde(default)]
    pub last_requested_at: Option<i64>,
}

impl ProviderRefreshState {
    /// A connected provider, nothing pending, never refreshed, at the provider's default cost.
    pub fn connected(provider: Provider) -> Self {
        Self {
            provider,
            connected: true,
            pending: false,
            last_refresh_at: None,
            last_billed_refresh_at: None,
            refresh_cost: provider_refresh_cost(provider),
            last_requested_at: None,
        }
    }
}

/// The user's refresh state: the last refresh of any provider, and each provider's own state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserRefreshState {
    pub last_refresh_at: Option<i64>,
    /// A provider absent from this list counts as not connected; the first entry of one wins.
    pub providers: Vec<ProviderRefreshState>,
}

/// How one provider is refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshMode {
    /// Re-read holdings only: the provider already has the new data. Never billed.
    FetchOnly,
    /// Ask the provider to refresh, then read: the billed call for a `Paid` provider.
    ProviderRefresh,
}

/// One provider in an allowed refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRefresh {
    pub provider: Provider,
    pub mode: RefreshMode,
    /// True exactly when this is a `ProviderRefresh` of a `Paid` provider: record it as billed.
    pub billed: bool,
}

impl PlannedRefresh {
    /// What caused this refresh, for the refresh log: re-reading data a webhook announced is the
    /// webhook's doing; asking the provider to refresh is the person's.
    pub fn trigger(&self) -> RefreshTrigger {
        match self.mode {
            RefreshMode::FetchOnly => RefreshTrigger::Webhook,
            RefreshMode::ProviderRefresh => RefreshTrigger::Manual,
        }
    }
}

impl RefreshTrigger {
    /// The refresh log's name (`manual`, `webhook`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Webhook => "webhook",
        }
    }
}

/// The answer to a refresh request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum RefreshDecision {
    /// Run these refreshes (after winning the cooldown check-and-set).
    Allowed { plan: Vec<PlannedRefresh> },
    /// Too soon after the user's last refresh; try again in `retry_after_s` (≥ 1) seconds.
    CoolingDown { retry_after_s: u64 },
    /// A billed refresh would repeat within the cap; `reason` says why and what to do.
    CostCapped { provider: Provider, next_allowed_at: i64, reason: String },
    /// No provider has pending data and none was named: nothing to refresh.
    NothingPending,
    /// The provider accepts a new request for data only so often; try again in `retry_after_s`.
    Throttled { provider: Provider, retry_after_s: u64, reason: String },
}

impl RefreshDecision {
    /// The HTTP status a shell answers with: 200, 429 for `CoolingDown`, 402 for `CostCapped`.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Allowed { .. } | Self::NothingPending => 200,
            Self::CoolingDown { .. } | Self::Throttled { .. } => 429,
            // 402: the request is fine, but going ahead costs money the caller has not agreed to.
            Self::CostCapped { .. } => 402,
        }
    }
}

/// The answer to a refresh the policy refused, as the API sends it: the JSON error every error has
/// (`error.code`, `error.message`) plus the decision's own fields, which the browser client reads
/// back (`client::outcome::ErrorBody`: `retry_after_s` of a 429; `provider`, `next_allowed_at`
/// and `reason` of a 402).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedRefresh {
    pub error: RefusalError,
    #[serde(flatten)]
    pub decision: RefreshDecision,
}

/// The `error` object of a [`RefusedRefresh`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalError {
    pub code: String,
    pub message: String,
}

/// The HTTP status, `Retry-After` seconds and body of a refused refresh; `None` when `decision`
/// is not a refusal (it is then carried out, and the shell answers what happened).
pub fn refusal(decision: &RefreshDecision) -> Option<(u16, Option<u64>, RefusedRefresh)> {
    let (code, message, retry_after) = match decision {
        RefreshDecision::CoolingDown { retry_after_s } => (
            "refresh_cooling_down",
            format!("Refreshed moments ago; try again in {retry_after_s} s."),
            Some(*retry_after_s),
        ),
        RefreshDecision::CostCapped { reason, .. } => ("refresh_cost_capped", reason.clone(), None),
        RefreshDecision::Throttled { reason, retry_after_s, .. } => {
            ("refresh_throttled", reason.clone(), Some(*retry_after_s))
        }
        RefreshDecision::Allowed { .. } | RefreshDecision::NothingPending => return None,
    };
    let error = RefusalError { code: code.to_owned(), message };
    Some((decision.http_status(), retry_after, RefusedRefresh { error, decision: decision.clone() }))
}

/// Why a refresh request is refused as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefreshError {
    #[error("{provider} is not connected for this user; connect it before refreshing it")]
    NotConnected { provider: Provider },
    #[error("the providers list is empty; omit it to refresh what is pending, or name a provider")]
    NoProvidersNamed,
}

impl ErrorCode for RefreshError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotConnected { .. } => "refresh_provider_not_connected",
            Self::NoProvidersNamed => "refresh_no_providers",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::NotConnected { .. } => 409,
            Self::NoProvidersNamed => 400,
        }
    }
}

impl RefreshPolicy {
    /// The latest stored last-refresh time that still allows a refresh at `now`: allowed iff
    /// `last_refresh_at <= cutoff` (or never refreshed), for one atomic D1 `UPDATE … WHERE`.
    pub fn cooldown_cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(self.cooldown_s.max(0))
    }

    /// Whole seconds until a user last refreshed at `last_refresh_at` may refresh again; `None`
    /// exactly when [`Self::cooldown_cutoff`] allows it now.
    pub fn retry_after_s(&self, last_refresh_at: i64, now: i64) -> Option<u64> {
        let remaining = last_refresh_at.saturating_sub(self.cooldown_cutoff(now));
        u64::try_from(remaining).ok().filter(|&s| s > 0)
    }

    /// When a billed refresh of a provider last billed at `last_billed_at` stops needing confirmation.
    pub fn paid_cap_until(&self, last_billed_at: i64) -> i64 {
        last_billed_at.saturating_add(self.paid_cap_s.max(0))
    }

    /// Applies the rules in the module doc, in that order.
    ///
    /// - MUST return [`RefreshError::NoProvidersNamed`] for `providers: Some([])`;
    /// - MUST return [`RefreshError::NotConnected`] for a named provider that is not connected.
    pub fn decide(
        &self,
        request: &RefreshRequest,
        state: &UserRefreshState,
        now: i64,
    ) -> Result<RefreshDecision, RefreshError> {
        let candidates = candidates(request, state)?;
        let last_refresh = state.providers.iter().map(|p| p.last_refresh_at).fold(state.last_refresh_at, Option::max);
        if let Some(retry_after_s) = last_refresh.and_then(|last| self.retry_after_s(last, now)) {
            return Ok(RefreshDecision::CoolingDown { retry_after_s });
        }
        if candidates.is_empty() {
            return Ok(RefreshDecision::NothingPending);
        }
        let mut plan = Vec::with_capacity(candidates.len());
        for provider in candidates {
            let mode = if provider.pending || request.trigger == RefreshTrigger::Webhook {
                RefreshMode::FetchOnly
            } else {
                RefreshMode::ProviderRefresh
            };
            let billed = mode == RefreshMode::ProviderRefresh && provider.refresh_cost == RefreshCost::Paid;
            if billed && !request.confirm_cost {
                if let Some(capped) = self.cost_cap(provider, now) {
                    return Ok(capped);
                }
            }
            if mode == RefreshMode::ProviderRefresh {
                if let Some(throttled) = throttle(provider, now) {
                    return Ok(throttled);
                }
            }
            plan.push(PlannedRefresh { provider: provider.provider, mode, billed });
        }
        Ok(RefreshDecision::Allowed { plan })
    }

    /// `CostCapped` when `provider`'s last billed refresh is less than `paid_cap_s` before `now`.
    fn cost_cap(&self, provider: &ProviderRefreshState, now: i64) -> Option<RefreshDecision> {
        let last = provider.last_billed_refresh_at?;
        let next_allowed_at = self.paid_cap_until(last);
        (now < next_allowed_at).then(|| RefreshDecision::CostCapped {
            provider: provider.provider,
            next_allowed_at,
            reason: format!(
                "{} charges per refresh; the last one was {} ago; confirm the cost to refresh now, \
                 or wait {} for the next refresh without confirmation",
                display_name(provider.provider),
                span(now.saturating_sub(last).max(0), false),
                span(next_allowed_at.saturating_sub(now), true),
            ),
        })
    }
}

/// `Throttled` when `provider` was asked for new data less than its spec's
/// `min_refresh_interval_s` before `now`.
fn throttle(provider: &ProviderRefreshState, now: i64) -> Option<RefreshDecision> {
    let interval = i64::from(provider.provider.spec().min_refresh_interval_s?);
    let last = provider.last_refresh_at.max(provider.last_requested_at)?;
    let next = last.saturating_add(interval);
    let retry_after_s = u64::try_from(next.saturating_sub(now)).ok().filter(|&s| s > 0)?;
    Some(RefreshDecision::Throttled {
        provider: provider.provider,
        retry_after_s,
        reason: format!(
            "{} publishes new data once a day and is asked for it at most once every {}; it was asked {} ago. \
             Try again in {}.",
            display_name(provider.provider),
            span(interval, true),
            span(now.saturating_sub(last).max(0), false),
            span(next.saturating_sub(now), true),
        ),
    })
}

/// The providers a request is about, each once, in request order (or state order when implicit).
fn candidates<'s>(
    request: &RefreshRequest,
    state: &'s UserRefreshState,
) -> Result<Vec<&'s ProviderRefreshState>, RefreshError> {
    let find = |provider: Provider| state.providers.iter().find(|p| p.provider == provider);
    let mut chosen: Vec<&ProviderRefreshState> = Vec::new();
    match &request.providers {
        None => {
            for entry in &state.providers {
                let first = find(entry.provider).is_some_and(|f| std::ptr::eq(f, entry));
                if first && entry.connected && entry.pending {
                    chosen.push(entry);
                }
            }
        }
        Some(named) if named.is_empty() => return Err(RefreshError::NoProvidersNamed),
        Some(named) => {
            for &provider in named {
                let entry = find(provider).filter(|p| p.connected).ok_or(RefreshError::NotConnected { provider })?;
                if !chosen.iter().any(|c| c.provider == provider) {
                    chosen.push(entry);
                }
            }
        }
    }
    Ok(chosen)
}

/// The provider's name as people write it.
fn display_name(provider: Provider) -> &'static str {
    provider.display_name()
}

/// A duration in the largest unit that keeps it readable: "45 s", "12 min", "3 h". Rounded up
/// when it is a wait (never "0 min" left), down when it is an age.
fn span(seconds: i64, round_up: bool) -> String {
    let (unit, name) = match seconds {
        ..120 => (1, "s"),
        120..7_200 => (60, "min"),
        _ => (3_600, "h"),
    };
    let whole =
        if round_up { seconds.div_euclid(unit) + i64::from(seconds.rem_euclid(unit) != 0) } else { seconds / unit };
    format!("{whole} {name}")
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
