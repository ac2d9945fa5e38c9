//! What the shells know about each provider right now — configured or not, up or down, which
//! institutions are in maintenance, how often recent calls failed — and the one rule that turns it
//! into "usable for this institution" or a named problem. Collecting the numbers is the shells' job.

use crate::domain::{InstitutionSlug, Provider};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A provider counts as broken for an institution when at least this share (in percent) of its
/// recent attempts there failed…
pub const FAILURE_RATE_THRESHOLD_PERCENT: u32 = 50;
/// …and there were at least this many attempts, so one unlucky call never reroutes anybody.
pub const MIN_ATTEMPTS_FOR_FAILURE_RATE: u32 = 5;

/// Recent calls to one provider for one institution, as counted by the shell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentFailures {
    pub attempts: u32,
    pub failures: u32,
}

impl RecentFailures {
    /// True when enough attempts were made and the failure share reaches the threshold.
    pub fn above_threshold(&self) -> bool {
        self.attempts >= MIN_ATTEMPTS_FOR_FAILURE_RATE
            && u64::from(self.failures) * 100 >= u64::from(self.attempts) * u64::from(FAILURE_RATE_THRESHOLD_PERCENT)
    }
}

/// One provider's state as the shell sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderState {
    /// Credentials are present for this deployment.
    pub configured: bool,
    /// The provider as a whole answers (no outage); defaults to true.
    #[serde(default = "default_true")]
    pub available: bool,
    /// Institutions the provider reports as under maintenance (e.g. a SnapTrade brokerage).
    #[serde(default)]
    pub maintenance: BTreeSet<InstitutionSlug>,
    /// Recent call outcomes per institution.
    #[serde(default)]
    pub recent_failures: BTreeMap<InstitutionSlug, RecentFailures>,
}

fn default_true() -> bool {
    true
}

impl ProviderState {
    /// Configured, up, no maintenance, no failures.
    pub fn healthy() -> Self {
        Self { configured: true, available: true, maintenance: BTreeSet::new(), recent_failures: BTreeMap::new() }
    }

    /// No credentials in this deployment.
    pub fn not_configured() -> Self {
        Self { configured: false, ..Self::healthy() }
    }

    /// Configured but down as a whole.
    pub fn unavailable() -> Self {
        Self { available: false, ..Self::healthy() }
    }

    /// The same state with `institution` in maintenance.
    pub fn with_maintenance(mut self, institution: InstitutionSlug) -> Self {
        self.maintenance.insert(institution);
        self
    }

    /// The same state with these recent outcomes recorded for `institution`.
    pub fn with_failures(mut self, institution: InstitutionSlug, attempts: u32, failures: u32) -> Self {
        self.recent_failures.insert(institution, RecentFailures { attempts, failures });
        self
    }

    /// Why this provider cannot serve `institution` now (most fundamental reason first), if at all.
    pub fn problem(&self, institution: Option<&InstitutionSlug>) -> Option<ProviderProblem> {
        if !self.configured {
            return Some(ProviderProblem::NotConfigured);
        }
        if !self.available {
            return Some(ProviderProblem::Unavailable);
        }
        let institution = institution?;
        if self.maintenance.contains(institution) {
            return Some(ProviderProblem::Maintenance);
        }
        match self.recent_failures.get(institution) {
            Some(recent) if recent.above_threshold() => {
                Some(ProviderProblem::HighFailureRate { attempts: recent.attempts, failures: recent.failures })
            }
            _ => None,
        }
    }
}

/// Why a provider was passed over for an institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ProviderProblem {
    NotConfigured,
    Unavailable,
    Maintenance,
    HighFailureRate { attempts: u32, failures: u32 },
}

impl fmt::Display for ProviderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConfigured => f.write_str("it is not configured in this deployment"),
            Self::Unavailable => f.write_str("it is unavailable right now"),
            Self::Maintenance => f.write_str("it reports this institution as under maintenance"),
            Self::HighFailureRate { attempts, failures } => {
                write!(f, "{failures} of its last {attempts} attempts for this institution failed")
            }
        }
    }
}

/// Every provider's state. A provider missing from the map is treated as not configured, so a
/// shell that forgets one never routes users to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderHealth(BTreeMap<Provider, ProviderState>);

impl ProviderHealth {
    /// Every provider configured and healthy.
    pub fn all_healthy() -> Self {
        Self(Provider::ALL.into_iter().map(|p| (p, ProviderState::healthy())).collect())
    }

    /// The same health with `provider`'s state replaced.
    pub fn with(mut self, provider: Provider, state: ProviderState) -> Self {
        self.0.insert(provider, state);
        self
    }

    /// The state recorded for `provider`, if any.
    pub fn state(&self, provider: Provider) -> Option<&ProviderState> {
        self.0.get(&provider)
    }

    /// Why `provider` cannot serve `institution` now; `None` means it can.
    pub fn problem(&self, provider: Provider, institution: Option<&InstitutionSlug>) -> Option<ProviderProblem> {
        match self.0.get(&provider) {
            Some(state) => state.problem(institution),
            None => Some(ProviderProblem::NotConfigured),
        }
    }

    /// Providers that are configured and up (institution-independent): dedup's "available" set.
    pub fn usable_providers(&self) -> Vec<Provider> {
        Provider::ALL.into_iter().filter(|p| self.problem(*p, None).is_none()).collect()
    }
}
