//! The rolling failure rate that routes link-time connections around a provider failing now.
//!
//! Rules, in the order they apply:
//! 1. Every attempt is counted in the minute it was made ([`minute_of`]) under its provider and
//!    institution; an attempt whose institution the adapter does not know is counted under the
//!    provider alone (it never marks an institution, but counts in rule 4).
//! 2. The window is the current minute and the [`WINDOW_MINUTES`]` - 1` before it
//!    ([`window_minutes`]): between 9 and 10 minutes of history.
//! 3. An institution is failing at a provider when the window holds at least
//!    [`MIN_ATTEMPTS_FOR_FAILURE_RATE`] attempts there and at least
//!    [`FAILURE_RATE_THRESHOLD_PERCENT`] of them failed (`CallResult::Failed`: 5xx, timeout,
//!    unreachable, malformed; a refusal such as a login required, or a rate limit — our own call
//!    volume, answered with when to ask again — is not a failure).
//!    The routing answer is `ProviderProblem::HighFailureRate` (the core's existing health rule).
//! 4. The window never takes a provider away from everybody: whether it is up as a whole is its
//!    own health source's to say (SnapTrade's brokerage status, configuration). Failures one user's
//!    connections cause (a revoked login answering 5xx, a broken Item) must not reroute every
//!    other user; an institution failing for many users is what rule 3 catches.
//! 5. Recovery needs nothing stored: the provider is usable again once its failures leave the
//!    window (at most [`WINDOW_MINUTES`] minutes after the last one), or sooner when successful
//!    attempts bring the share under the threshold.
//! 6. Bounded storage: each write deletes window rows older than [`RETAIN_WINDOW_MINUTES`] and
//!    daily aggregates older than [`RETAIN_DAYS`] days, both at the wall clock (the shell passes
//!    real time: a development user's advanced clock never prunes rows others still count) ([`prune_minutes_before`],
//!    [`prune_days_before`]).

use super::{CallOutcome, CallResult};
use crate::coverage::{ProviderHealth, ProviderState, RecentFailures};
pub use crate::coverage::{FAILURE_RATE_THRESHOLD_PERCENT, MIN_ATTEMPTS_FOR_FAILURE_RATE};
use crate::domain::{InstitutionSlug, Provider};
use crate::time::Date;
use std::collections::BTreeMap;

/// How many minutes the failure rate looks back (the current one included).
pub const WINDOW_MINUTES: i64 = 10;
/// How many minutes of window rows are kept (older ones are deleted by the next write).
pub const RETAIN_WINDOW_MINUTES: i64 = 60;
/// How many days of daily aggregates are kept.
pub const RETAIN_DAYS: i64 = 400;

/// The minute (Unix minutes) a Unix time falls in.
pub fn minute_of(at: i64) -> i64 {
    at.div_euclid(60)
}

/// The first and last minute (inclusive) of the window at `now`.
pub fn window_minutes(now: i64) -> (i64, i64) {
    let last = minute_of(now);
    (last - (WINDOW_MINUTES - 1), last)
}

/// Window rows in minutes before this one are deleted by a write at `now`.
pub fn prune_minutes_before(now: i64) -> i64 {
    minute_of(now) - RETAIN_WINDOW_MINUTES
}

/// Daily aggregates of days before this one are deleted by a write at `now`.
pub fn prune_days_before(now: i64) -> Date {
    Date::from_unix(now).add_days(-RETAIN_DAYS)
}

/// Attempts and failures in one minute (or summed over the window) for one provider and
/// institution (`None`: not known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowCount {
    pub minute: i64,
    pub provider: Provider,
    pub institution: Option<InstitutionSlug>,
    pub attempts: u32,
    pub failures: u32,
}

/// The per-minute increments a request's outcomes add to the window, one per (minute, provider,
/// institution).
pub fn window_increments(outcomes: &[CallOutcome]) -> Vec<WindowCount> {
    let mut counts: BTreeMap<(i64, Provider, Option<InstitutionSlug>), (u32, u32)> = BTreeMap::new();
    for outcome in outcomes {
        let key = (minute_of(outcome.at), outcome.provider, outcome.institution.clone());
        let entry = counts.entry(key).or_default();
        entry.0 += 1;
        entry.1 += u32::from(outcome.result == CallResult::Failed);
    }
    counts
        .into_iter()
        .map(|((minute, provider, institution), (attempts, failures))| WindowCount {
            minute,
            provider,
            institution,
            attempts,
            failures,
        })
        .collect()
}

/// `state` with the window's counts of `provider` applied (rule 3); `rows` may hold every
/// provider's counts (others are ignored) and be per minute or already summed. An unconfigured
/// provider stays as it is.
pub fn with_recent_calls(mut state: ProviderState, provider: Provider, rows: &[WindowCount]) -> ProviderState {
    if !state.configured {
        return state;
    }
    let mut per_institution: BTreeMap<InstitutionSlug, RecentFailures> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.provider == provider) {
        if let Some(slug) = &row.institution {
            let entry = per_institution.entry(slug.clone()).or_default();
            entry.attempts = entry.attempts.saturating_add(row.attempts);
            entry.failures = entry.failures.saturating_add(row.failures);
        }
    }
    for (slug, recent) in per_institution {
        state.recent_failures.insert(slug, recent);
    }
    state
}

/// Every provider's health with the window's counts applied ([`with_recent_calls`]).
pub fn health_with_recent_calls(health: ProviderHealth, rows: &[WindowCount]) -> ProviderHealth {
    let mut health = health;
    for provider in Provider::ALL {
        if let Some(state) = health.state(provider).cloned() {
            health = health.with(provider, with_recent_calls(state, provider, rows));
        }
    }
    health
}
