//! Connection health: how one stored connection stands — `ok`, `degraded`, `needs_repair` or
//! `expires_soon` — with a stable reason code and the action that fixes it, from what is stored
//! about it (its flags, its re-login deadline, its provider's last reads) and `now`. Pure and
//! passive: nothing here calls a provider or reads a clock.
//!
//! The rules, in the order [`connection_health`] applies them (the first that holds decides):
//! 1. **Broken.** A connection marked `needs_repair` or `disabled` is [`HealthStatus::NeedsRepair`]:
//!    reason = its stored repair code; without one, `connection_disabled` when disabled, else the
//!    provider's re-login code ([`crate::provider_spec::ProviderSpec::reauth_code`]).
//! 2. **Login over.** A re-login deadline at or before `now` is `NeedsRepair` with the provider's
//!    re-login code (its next read would mark it so).
//! 3. **Login ending.** A re-login deadline within [`EXPIRES_SOON_WINDOW_S`] of `now` is
//!    [`HealthStatus::ExpiresSoon`], reason `login_expires_soon` (Schwab's 48 h warning, the same
//!    window as `tributary_core::schwab::expires_soon`).
//! 4. **Failed read.** The provider's last read failed after its last success:
//!    [`HealthStatus::Degraded`], reason = the failure's stored code (`suspect_empty`,
//!    `provider_endpoint_gone`, `provider_timeout`, …).
//! 5. **Never read.** Nothing was ever read successfully: `Degraded`, reason `never_read`.
//! 6. **Stale.** The last success is stale by the cache's own rule ([`crate::cache::cache_decision`]
//!    with the provider's TTL): `Degraded`, reason `data_stale`.
//! 7. Otherwise [`HealthStatus::Ok`], with no reason and no action.
//!
//! `data_ok` says whether the connection's data itself is sound: the status is `ok` or
//! `expires_soon` AND none of rules 4–6 holds. It equals "status is ok or expires_soon" except
//! when an ending login (rule 3) hides a data problem: then `data_ok` is false and `data_reason`
//! names the problem, so a failed read is never reported as sound data.
//!
//! The reads are the provider's (a provider's holdings are read whole, for every connection at it),
//! so every connection at one provider shares rules 4–6.

use crate::cache::{cache_decision, CacheDecision};
use crate::domain::Provider;
use serde::Serialize;

/// From this long before a re-login deadline the connection reports `expires_soon`.
pub const EXPIRES_SOON_WINDOW_S: i64 = crate::schwab::EXPIRES_SOON_WINDOW_S;

/// How one connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
    NeedsRepair,
    ExpiresSoon,
}

/// What the person (or the operator) does to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionCode {
    /// Sign in again at the provider (Reconnect).
    Reconnect,
    /// Read the provider again now (`POST /api/holdings/refresh`).
    Refresh,
    /// The provider is failing for now: try again later.
    RetryLater,
    /// Nothing the person can do: a Tributary or deployment problem to report.
    ReportProblem,
}

/// The last failed read of the provider, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFailure<'a> {
    pub code: &'a str,
    pub message: Option<&'a str>,
    /// When it was attempted, if known.
    pub at: Option<i64>,
}

/// What is stored about the provider's reads for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadFacts<'a> {
    /// When a read last succeeded (the cache's `fetched_at`).
    pub last_success_at: Option<i64>,
    /// The last read, when it failed.
    pub last_failure: Option<ReadFailure<'a>>,
    /// How long a successful read stays fresh (the deployment's cache TTL of the provider).
    pub ttl_hours: u32,
}

/// What is stored about one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionFacts<'a> {
    pub provider: Provider,
    pub disabled: bool,
    pub needs_repair: bool,
    pub repair_reason: Option<&'a str>,
    /// When the provider needs a new login (Schwab's seven days), if it has such a deadline.
    pub reauth_required_at: Option<i64>,
    pub reads: ReadFacts<'a>,
}

/// A connection's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub status: HealthStatus,
    /// Why (`None` when `ok`).
    pub reason: Option<String>,
    /// What fixes it, as a sentence (`None` when `ok`).
    pub action: Option<String>,
    pub action_code: Option<ActionCode>,
    /// Whether the data itself is sound (see the module doc).
    pub data_ok: bool,
    /// The data problem (rules 4–6), when there is one, even under another status.
    pub data_reason: Option<String>,
}

/// A data problem: its reason code, action sentence and action.
type Problem = (String, String, ActionCode);

/// What fixes a read that failed with `code` (a stored [`crate::ErrorCode::code`]); a code not
/// named here is fixed by reading again.
fn failure_action(code: &str) -> ActionCode {
    // Only a new login or a new credential fixes these (IBKR Flex's: a new token, pasted again).
    const RECONNECT: &[&str] = &[
        "connection_disabled",
        "provider_login_required",
        "provider_user_not_found",
        "ibkr_token_expired",
        "ibkr_token_invalid",
    ];
    const LATER: &[&str] = &[
        "provider_rate_limited",
        "provider_unavailable",
        "provider_timeout",
        "provider_unreachable",
        "provider_not_ready",
        "statement_pending",
    ];
    const REPORT: &[&str] =
        &["provider_endpoint_gone", "provider_not_configured", "provider_auth_failed", "account_linked_elsewhere"];
    if RECONNECT.contains(&code) || Provider::ALL.iter().any(|p| p.spec().reauth_code == code) {
        ActionCode::Reconnect
    } else if LATER.contains(&code) {
        ActionCode::RetryLater
    } else if REPORT.contains(&code) {
        ActionCode::ReportProblem
    } else {
        ActionCode::Refresh
    }
}

/// The hint that ends a failed read's action sentence.
fn hint(code: ActionCode) -> &'static str {
    match code {
        ActionCode::Reconnect => "Reconnect to fix it.",
        ActionCode::Refresh => "Refresh to read it again.",
        ActionCode::RetryLater => "Try again later.",
        ActionCode::ReportProblem => "Report it: nothing on your side fixes it.",
    }
}

/// Rules 4–6: what is wrong with the provider's data, if anything.
fn data_problem(provider: Provider, reads: &ReadFacts<'_>, now: i64) -> Option<Problem> {
    let name = provider.display_name();
    let failed_since_success = reads.last_failure.filter(|f| match (f.at, reads.last_success_at) {
        (Some(at), Some(success)) => at >= success,
        _ => true,
    });
    if let Some(failure) = failed_since_success {
        let action = failure_action(failure.code);
        let what = match failure.message {
            Some(message) => message.trim_end_matches('.').to_owned(),
            None => format!("error {}", failure.code),
        };
        let sentence = format!("The last read of {name} failed: {what}. {}", hint(action));
        return Some((failure.code.to_owned(), sentence, action));
    }
    let Some(success) = reads.last_success_at else {
        let sentence = format!("Nothing has been read from {name} yet: refresh to read it.");
        return Some(("never_read".to_owned(), sentence, ActionCode::Refresh));
    };
    match cache_decision(Some(success), now, reads.ttl_hours) {
        CacheDecision::Stale { age_seconds } => {
            let (hours, ttl) = (age_seconds / 3_600, reads.ttl_hours);
            let sentence =
                format!("The {name} holdings were read {hours} h ago, past their {ttl} h of freshness: refresh to read them again.");
            Some(("data_stale".to_owned(), sentence, ActionCode::Refresh))
        }
        CacheDecision::Fresh { .. } | CacheDecision::Missing => None,
    }
}

/// The connection's health at `now`, by the rules in the module doc.
pub fn connection_health(facts: &ConnectionFacts<'_>, now: i64) -> Health {
    let provider = facts.provider;
    let name = provider.display_name();
    let reauth_code = provider.spec().reauth_code;
    let problem = data_problem(provider, &facts.reads, now);
    let decided = |status, reason: String, action: String, code| Health {
        status,
        reason: Some(reason),
        action: Some(action),
        action_code: Some(code),
        data_ok: matches!(status, HealthStatus::Ok | HealthStatus::ExpiresSoon) && problem.is_none(),
        data_reason: problem.as_ref().map(|(reason, _, _)| reason.clone()),
    };
    let reconnect = format!("Reconnect {name} (sign in at the institution again); the holdings read before are kept.");
    if facts.needs_repair || facts.disabled {
        let reason = match facts.repair_reason {
            Some(code) => code,
            None if facts.disabled => "connection_disabled",
            None => reauth_code,
        };
        return decided(HealthStatus::NeedsRepair, reason.to_owned(), reconnect, ActionCode::Reconnect);
    }
    if let Some(deadline) = facts.reauth_required_at {
        if deadline <= now {
            return decided(HealthStatus::NeedsRepair, reauth_code.to_owned(), reconnect, ActionCode::Reconnect);
        }
        if deadline - now <= EXPIRES_SOON_WINDOW_S {
            let hours = (deadline - now + 3_599) / 3_600;
            let action = format!(
                "The {name} login ends in about {hours} h: reconnect (sign in again) before then to keep it working."
            );
            return decided(HealthStatus::ExpiresSoon, "login_expires_soon".to_owned(), action, ActionCode::Reconnect);
        }
    }
    match &problem {
        Some((reason, action, code)) => decided(HealthStatus::Degraded, reason.clone(), action.clone(), *code),
        None => Health {
            status: HealthStatus::Ok,
            reason: None,
            action: None,
            action_code: None,
            data_ok: true,
            data_reason: None,
        },
    }
}

/// Why a `GET /api/connections/health` query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthQueryError {
    #[error("probe_trading must be true or false, not {0:?}")]
    InvalidProbeTrading(String),
    #[error("unknown query parameter {0:?}; the only one is probe_trading")]
    UnknownParameter(String),
}

impl crate::ErrorCode for HealthQueryError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidProbeTrading(_) => "invalid_input",
            Self::UnknownParameter(_) => "unknown_parameter",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// Whether the query asks for the trading probe: `probe_trading=true` or `=false` (absent:
/// false); any other value or parameter is refused.
pub fn parse_probe_trading<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<bool, HealthQueryError> {
    let mut probe = false;
    for (name, value) in pairs {
        match (name, value) {
            ("probe_trading", "true") => probe = true,
            ("probe_trading", "false") => probe = false,
            ("probe_trading", other) => return Err(HealthQueryError::InvalidProbeTrading(other.to_owned())),
            (other, _) => return Err(HealthQueryError::UnknownParameter(other.to_owned())),
        }
    }
    Ok(probe)
}

#[cfg(test)]
#[path = "connection_health_tests.rs"]
mod tests;
