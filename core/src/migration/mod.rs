//! Provider migration (issue 17 §4): moving one institution from one provider's connection to
//! another's — `POST /api/migrations` — decided here, carried out by the worker. Pure: holdings,
//! connection standings, keys and `now` come in; decisions and reports go out.
//!
//! The rules, in the order a migration applies them (the first that fails decides):
//! 1. **Request.** `institution` (a name or slug), `from_provider`, `to_provider` (different),
//!    `dry_run` (default `true`), `confirm` (an execute's token) — [`parse_request`]; else
//!    [`MigrationError::InvalidInput`] / [`MigrationError::SameProvider`].
//! 2. **Confirm** (execute only): the dry run's token, checked by [`check_confirm`] (absent →
//!    `ConfirmRequired`, foreign or forged → `ConfirmInvalid`, past ten minutes → `ConfirmExpired`).
//! 3. **Removable.** The old provider must be able to end a connection
//!    ([`MigrationError::RemovalUnsupported`] otherwise).
//! 4. **Gate.** The target's connections to the institution: at least one
//!    ([`MigrationError::TargetMissing`]) and every one `ok` with `data_ok`
//!    ([`MigrationError::TargetUnhealthy`], listing each with its reason) — [`gate_target`].
//! 5. **Exactly one to remove.** The old provider's connections to the institution: exactly one
//!    ([`MigrationError::NoCandidate`] / [`MigrationError::SeveralCandidates`] listing them) —
//!    [`single_candidate`].
//! 6. **Compare.** Both providers' holdings of the institution ([`compare`]: cash excluded,
//!    quantities within [`QUANTITY_TOLERANCE`], every difference listed). A dry run answers the
//!    comparison, the connection that would go and the totals before (the old provider's) and
//!    after (the new one's); only an equal comparison gets a confirm token.
//! 7. **Execute.** Compared again right before the removal ([`ready_to_remove`]): a fingerprint
//!    other than the token's is [`MigrationError::Changed`], a difference (only possible with a
//!    token over different holdings) [`MigrationError::HoldingsDiffer`]. Then the removal — the one irreversible step, and the last
//!    before which everything is checked — then the target is re-read and verified
//!    ([`verify_totals`]: it must still hold what the old provider held). Every failure before
//!    the removal leaves both connections; a failure of the removal itself too (the provider
//!    refused it). The one unavoidable case: a re-read or verification failing after the removal
//!    succeeded — the old connection is gone at its provider, and the report says so
//!    ([`MigrationStep::Reread`] / [`MigrationStep::Verify`], `old_connection_removed: true`).

mod compare;
mod confirm;

pub use compare::{
    comparable_key, compare_totals, fingerprint, institution_totals, verify_totals, Comparison, CurrencyTotal,
    DifferenceKind, InstitutionTotals, QuantityDifference, SecurityTotal, QUANTITY_TOLERANCE,
};
pub use confirm::{check_confirm, issue_confirm, ConfirmClaims, CONFIRM_TTL_S};

use crate::connection_health::HealthStatus;
use crate::domain::{Holdings, InstitutionSlug, Provider};
use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The longest `institution` a request may name.
pub const MAX_INSTITUTION_LEN: usize = 100;
/// The longest `confirm` a request may carry.
pub const MAX_CONFIRM_LEN: usize = 2_048;

/// The body of `POST /api/migrations`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationBody {
    pub institution: Option<String>,
    pub from_provider: Option<String>,
    pub to_provider: Option<String>,
    pub dry_run: Option<bool>,
    pub confirm: Option<String>,
}

/// A validated migration request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationRequest {
    pub institution: InstitutionSlug,
    pub from_provider: Provider,
    pub to_provider: Provider,
    pub dry_run: bool,
    pub confirm: Option<String>,
}

/// Rule 1: the request, with `institution` resolved from a name or slug.
pub fn parse_request(body: MigrationBody) -> Result<MigrationRequest, MigrationError> {
    let field = |value: Option<String>, name: &str| {
        value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| MigrationError::InvalidInput(format!("{name} is required")))
    };
    let institution = field(body.institution, "institution")?;
    if institution.chars().count() > MAX_INSTITUTION_LEN {
        return Err(MigrationError::InvalidInput(format!(
            "institution must be at most {MAX_INSTITUTION_LEN} characters"
        )));
    }
    if body.confirm.as_ref().is_some_and(|c| c.len() > MAX_CONFIRM_LEN) {
        return Err(MigrationError::InvalidInput(format!("confirm must be at most {MAX_CONFIRM_LEN} characters")));
    }
    let institution = crate::institutions::resolve_institution(&institution)
        .or_else(|| InstitutionSlug::parse(&institution).ok())
        .ok_or_else(|| {
            MigrationError::InvalidInput(format!("institution {institution:?} is not one Tributary knows"))
        })?;
    let provider = |value: Option<String>, name: &str| {
        let value = field(value, name)?;
        Provider::parse(&value).map_err(|_| MigrationError::InvalidInput(format!("{name} {value:?} is not a provider")))
    };
    let from_provider = provider(body.from_provider, "from_provider")?;
    let to_provider = provider(body.to_provider, "to_provider")?;
    if from_provider == to_provider {
        return Err(MigrationError::SameProvider { provider: from_provider });
    }
    Ok(MigrationRequest {
        institution,
        from_provider,
        to_provider,
        dry_run: body.dry_run.unwrap_or(true),
        confirm: body.confirm,
    })
}

/// A stored connection as migration sees it (with its health, from `connection_health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationConnection {
    /// Our id (`<provider>:<external id>`).
    pub connection_id: String,
    /// The provider's id (the Plaid Item, the SnapTrade authorization).
    pub external_id: String,
    pub provider: Provider,
    pub institution_slug: Option<String>,
    pub institution: Option<String>,
    pub status: HealthStatus,
    pub data_ok: bool,
    pub reason: Option<String>,
}

/// Rule 4: the target's connections to the institution must exist and all be `ok` with `data_ok`.
pub fn gate_target(
    targets: &[MigrationConnection],
    provider: Provider,
    institution: &InstitutionSlug,
) -> Result<(), MigrationError> {
    if targets.is_empty() {
        return Err(MigrationError::TargetMissing { provider, institution: institution.clone() });
    }
    if targets.iter().any(|t| t.status != HealthStatus::Ok || !t.data_ok) {
        return Err(MigrationError::TargetUnhealthy { connections: targets.to_vec() });
    }
    Ok(())
}

/// Rule 5: the one connection of the old provider to the institution.
pub fn single_candidate(mut candidates: Vec<MigrationConnection>) -> Result<MigrationConnection, MigrationError> {
    match candidates.len() {
        0 => Err(MigrationError::NoCandidate),
        1 => Ok(candidates.remove(0)),
        _ => Err(MigrationError::SeveralCandidates { candidates }),
    }
}

/// The connections of `provider` to `institution` among `all`.
pub fn connections_of(
    all: &[MigrationConnection],
    provider: Provider,
    institution: &InstitutionSlug,
) -> Vec<MigrationConnection> {
    all.iter()
        .filter(|c| c.provider == provider && c.institution_slug.as_deref() == Some(institution.as_str()))
        .cloned()
        .collect()
}

/// Rule 6: what both providers hold of the institution, compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compared {
    /// The old provider's totals: the institution's totals before the migration.
    pub totals_before: InstitutionTotals,
    /// The new provider's totals: the institution's totals after it.
    pub totals_after: InstitutionTotals,
    pub comparison: Comparison,
    /// What a confirm token binds (see [`fingerprint`]).
    pub fingerprint: String,
}

/// Compares `from`'s and `to`'s holdings of `institution`, the connection `removed` to go.
pub fn compare(from: &Holdings, to: &Holdings, institution: &InstitutionSlug, removed: &str) -> Compared {
    let totals_before = institution_totals(from, institution);
    let totals_after = institution_totals(to, institution);
    let comparison = compare_totals(&totals_before, &totals_after);
    let fingerprint = fingerprint(&totals_before, &totals_after, removed);
    Compared { totals_before, totals_after, comparison, fingerprint }
}

/// Rule 7, before the removal: the comparison made now must be equal and the one the token saw.
pub fn ready_to_remove(compared: &Compared, claims: &ConfirmClaims) -> Result<(), MigrationError> {
    if compared.fingerprint != claims.fingerprint {
        return Err(MigrationError::Changed);
    }
    if !compared.comparison.equal {
        return Err(MigrationError::HoldingsDiffer { differences: compared.comparison.differences.clone() });
    }
    Ok(())
}

/// The failure a report records: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure {
    pub code: String,
    pub message: String,
}

/// An executed migration's report (`GET /api/migrations/{id}`), as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationReport {
    pub id: String,
    pub status: MigrationStatus,
    /// The step that failed (`None` unless `status` is `failed`).
    pub failed_step: Option<MigrationStep>,
    /// Whether the old connection was ended at its provider.
    pub old_connection_removed: bool,
    /// Where things stand, in a sentence ([`state_sentence`]).
    pub state: String,
    pub institution: InstitutionSlug,
    pub from_provider: Provider,
    pub to_provider: Provider,
    /// The old connection: our id and the provider's.
    pub removed_connection_id: String,
    pub removed_external_id: String,
    /// The institution's totals before: the old provider's, compared right before the removal.
    pub totals_before: InstitutionTotals,
    /// The new provider's totals at that comparison.
    pub target_before: InstitutionTotals,
    /// The new provider's totals re-read after the removal (`None` without a re-read).
    pub totals_after: Option<InstitutionTotals>,
    /// `totals_after` against `totals_before` (`None` without a re-read).
    pub verification: Option<Comparison>,
    /// Why the failed step failed.
    pub error: Option<StepFailure>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where an executed migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationStatus {
    /// Stored just before the removal was asked; stays so only if the worker stopped there.
    Removing,
    Completed,
    Failed,
}

/// The step of an execute that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationStep {
    /// Ending the old connection at its provider (refused or unanswered: both connections stay).
    Remove,
    /// Reading the new provider again after the removal.
    Reread,
    /// The re-read no longer holds what the old provider held.
    Verify,
}

impl MigrationStatus {
    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Removing => "removing",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    /// Parses a storage name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Removing, Self::Completed, Self::Failed].into_iter().find(|s| s.as_str() == name)
    }
}

impl MigrationStep {
    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Remove => "remove",
            Self::Reread => "reread",
            Self::Verify => "verify",
        }
    }

    /// Parses a storage name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Remove, Self::Reread, Self::Verify].into_iter().find(|s| s.as_str() == name)
    }
}

/// What an execute ended with after it asked for the removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub status: MigrationStatus,
    pub failed_step: Option<MigrationStep>,
    pub old_connection_removed: bool,
    /// The re-read's comparison with the totals before (`None` when there was no re-read).
    pub verification: Option<Comparison>,
}

/// How an execute settles: the removal's outcome, then (after a removal) the target's re-read
/// totals or its failure, verified against `before`.
pub fn settle(removed: bool, before: &InstitutionTotals, reread: Option<Option<&InstitutionTotals>>) -> Settled {
    let failed = |step, removed, verification| Settled {
        status: MigrationStatus::Failed,
        failed_step: Some(step),
        old_connection_removed: removed,
        verification,
    };
    if !removed {
        return failed(MigrationStep::Remove, false, None);
    }
    match reread.flatten() {
        None => failed(MigrationStep::Reread, true, None),
        Some(after) => {
            let verification = verify_totals(before, after);
            if verification.equal {
                Settled {
                    status: MigrationStatus::Completed,
                    failed_step: None,
                    old_connection_removed: true,
                    verification: Some(verification),
                }
            } else {
                failed(MigrationStep::Verify, true, Some(verification))
            }
        }
    }
}

/// A sentence saying precisely where things stand after an execute.
pub fn state_sentence(settled: &Settled, from: Provider, to: Provider) -> String {
    let (old, new) = (from.display_name(), to.display_name());
    match (settled.status, settled.failed_step) {
        (MigrationStatus::Completed, _) => {
            format!("The {old} connection was removed; {new} holds the same holdings, verified after a new read.")
        }
        (MigrationStatus::Removing, _) => format!(
            "The removal of the {old} connection was asked for and its outcome was not recorded: check the \
             connections list; the {new} connection is in place."
        ),
        (_, Some(MigrationStep::Remove)) | (_, None) => {
            format!("The {old} connection could not be removed: both connections are in place, nothing changed.")
        }
        (_, Some(MigrationStep::Reread)) => format!(
            "The {old} connection was removed at {old}; reading {new} again failed, so the totals are not verified \
             yet: the {new} connection is in place, refresh it to read it again."
        ),
        (_, Some(MigrationStep::Verify)) => format!(
            "The {old} connection was removed at {old}; the new read of {new} differs from the holdings before \
             (listed): the {new} connection is in place, reconnect {old} to restore the old one."
        ),
    }
}

/// Why a migration was refused (each a stable code; the lists ride in `details`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("from_provider and to_provider are both {}: a migration moves between two providers", provider.as_str())]
    SameProvider { provider: Provider },
    #[error("an execute (dry_run: false) needs the confirm token of a dry run made within ten minutes")]
    ConfirmRequired,
    #[error("the confirm token is not one of this deployment's dry runs for this user, institution and providers")]
    ConfirmInvalid,
    #[error("the confirm token expired at {expired_at}: make a new dry run")]
    ConfirmExpired { expired_at: i64 },
    #[error("{} connections cannot be removed by Tributary; remove it at {} instead", provider.display_name(), provider.display_name())]
    RemovalUnsupported { provider: Provider },
    #[error("there is no {} connection to {} to migrate to: connect it first", provider.display_name(), institution.as_str())]
    TargetMissing { provider: Provider, institution: InstitutionSlug },
    #[error("the target connection is not healthy (it must be ok with sound data): fix it first")]
    TargetUnhealthy { connections: Vec<MigrationConnection> },
    #[error("there is no connection of the old provider to this institution to remove")]
    NoCandidate,
    #[error("several connections of the old provider match this institution: exactly one must")]
    SeveralCandidates { candidates: Vec<MigrationConnection> },
    #[error("the two providers' holdings differ beyond the tolerance: nothing was removed")]
    HoldingsDiffer { differences: Vec<QuantityDifference> },
    #[error("the holdings changed since the dry run: nothing was removed; make a new dry run")]
    Changed,
    #[error("the migration failed at its {} step{}: see details.migration for where things stand", step.as_str(), if *old_connection_removed { " after the old connection was removed" } else { "; both connections are in place" })]
    StepFailed { step: MigrationStep, old_connection_removed: bool },
    #[error("no such migration")]
    NotFound,
}

impl MigrationError {
    /// What the error lists (the connections, candidates or differences), when it lists any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Self::TargetUnhealthy { connections } => Some(json!({ "connections": connections })),
            Self::NoCandidate => Some(json!({ "candidates": [] })),
            Self::SeveralCandidates { candidates } => Some(json!({ "candidates": candidates })),
            Self::HoldingsDiffer { differences } => Some(json!({ "differences": differences })),
            Self::ConfirmExpired { expired_at } => Some(json!({ "expired_at": expired_at })),
            _ => None,
        }
    }
}

impl ErrorCode for MigrationError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::SameProvider { .. } => "migration_same_provider",
            Self::ConfirmRequired => "migration_confirm_required",
            Self::ConfirmInvalid => "migration_confirm_invalid",
            Self::ConfirmExpired { .. } => "migration_confirm_expired",
            Self::RemovalUnsupported { .. } => "migration_removal_unsupported",
            Self::TargetMissing { .. } => "migration_target_missing",
            Self::TargetUnhealthy { .. } => "migration_target_unhealthy",
            Self::NoCandidate => "migration_no_candidate",
            Self::SeveralCandidates { .. } => "migration_several_candidates",
            Self::HoldingsDiffer { .. } => "migration_holdings_differ",
            Self::Changed => "migration_changed",
            Self::StepFailed { .. } => "migration_step_failed",
            Self::NotFound => "migration_not_found",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            Self::InvalidInput(_) | Self::SameProvider { .. } | Self::ConfirmRequired => 400,
            Self::NotFound => 404,
            Self::StepFailed { step: MigrationStep::Verify, .. } => 409,
            Self::StepFailed { .. } => 502,
            _ => 409,
        }
    }
}

#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod tests;
