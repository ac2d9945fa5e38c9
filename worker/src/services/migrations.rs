//! Provider migration (`POST /api/migrations`, `GET /api/migrations/{id}`): carries out the core's
//! [`tributary_core::migration`] rules in their order — the confirm token (execute), the old
//! provider's removal support, the target's health gate (from `connection_health`, no provider
//! call), the one connection to remove, both providers read now and compared — then, for an
//! execute, compares again, stores the report (`removing`), removes the old connection through its
//! [`crate::port::ProviderPort::remove_connection`], re-reads the target and settles the report.
//! The removal is the only irreversible step and nothing is checked after it but the re-read.

use super::connection_health::{self, ConnectionHealth};
use super::holdings::fetch_and_cache;
use crate::api::ApiError;
use crate::auth::Authenticated;
use crate::registry::port;
use crate::store::migrations as store;
use serde::Serialize;
use tributary_core::migration::{
    check_confirm, compare, connections_of, gate_target, institution_totals, issue_confirm, ready_to_remove, settle,
    single_candidate, state_sentence, Compared, Comparison, ConfirmClaims, InstitutionTotals, MigrationConnection,
    MigrationError, MigrationReport, MigrationRequest, MigrationStatus, StepFailure, CONFIRM_TTL_S,
};
use tributary_core::{InstitutionSlug, Provider};
use worker::Env;

/// What a dry run found: what would be removed, the comparison and the totals before and after.
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub dry_run: bool,
    pub institution: InstitutionSlug,
    pub from_provider: Provider,
    pub to_provider: Provider,
    /// Whether an execute may follow: the holdings compare equal.
    pub ready: bool,
    /// The one connection an execute would remove.
    pub remove: MigrationConnection,
    /// The target's connections to the institution (all passed the gate).
    pub target: Vec<MigrationConnection>,
    pub comparison: Comparison,
    /// The old provider's totals of the institution (what counts before).
    pub totals_before: InstitutionTotals,
    /// The new provider's totals (what counts after).
    pub totals_after: InstitutionTotals,
    /// The execute's token (`None` unless `ready`), valid until `confirm_expires_at`.
    pub confirm: Option<String>,
    pub confirm_expires_at: Option<i64>,
}

/// How a migration request ended without a refusal.
pub enum Outcome {
    DryRun(Box<DryRun>),
    /// An execute's report: `completed`, or `failed` with its step (the route answers it as an error).
    Executed(Box<MigrationReport>),
}

fn standing(health: ConnectionHealth) -> MigrationConnection {
    MigrationConnection {
        connection_id: health.connection_id,
        external_id: health.external_id,
        provider: health.provider,
        institution_slug: health.institution_slug,
        institution: health.institution,
        status: health.status,
        data_ok: health.data_ok,
        reason: health.data_reason.or(health.reason),
    }
}

/// Reads both providers now (in parallel, each through the shared fetch path that caches a
/// complete read) and compares their holdings of the institution.
async fn read_and_compare(
    env: &Env,
    session: &Authenticated,
    request: &MigrationRequest,
    remove: &MigrationConnection,
) -> Result<Compared, ApiError> {
    let (from, to) = futures_util::try_join!(
        fetch_and_cache(env, session, request.from_provider),
        fetch_and_cache(env, session, request.to_provider),
    )?;
    Ok(compare(&from.0, &to.0, &request.institution, &remove.external_id))
}

/// Answers a migration request by the core's rules (see the module doc).
pub async fn migrate(env: &Env, session: &Authenticated, request: MigrationRequest) -> Result<Outcome, ApiError> {
    let user = &session.claims.user_id;
    let claims = if request.dry_run {
        None
    } else {
        Some(check_confirm(&session.config.data_key, request.confirm.as_deref(), user, &request, session.now())?)
    };
    if !port(request.from_provider).removes_connections() {
        return Err(MigrationError::RemovalUnsupported { provider: request.from_provider }.into());
    }
    let all: Vec<MigrationConnection> =
        connection_health::report(env, session, false).await?.into_iter().map(standing).collect();
    let target = connections_of(&all, request.to_provider, &request.institution);
    gate_target(&target, request.to_provider, &request.institution)?;
    let remove = single_candidate(connections_of(&all, request.from_provider, &request.institution))?;
    let compared = read_and_compare(env, session, &request, &remove).await?;
    match claims {
        None => Ok(Outcome::DryRun(Box::new(dry_run(session, request, remove, target, compared)))),
        Some(claims) => execute(env, session, &request, &remove, compared, &claims).await,
    }
}

fn dry_run(
    session: &Authenticated,
    request: MigrationRequest,
    remove: MigrationConnection,
    target: Vec<MigrationConnection>,
    compared: Compared,
) -> DryRun {
    let now = session.now();
    let ready = compared.comparison.equal;
    let confirm = ready.then(|| {
        issue_confirm(&session.config.data_key, &session.claims.user_id, &request, &compared.fingerprint, now)
    });
    DryRun {
        dry_run: true,
        institution: request.institution,
        from_provider: request.from_provider,
        to_provider: request.to_provider,
        ready,
        remove,
        target,
        comparison: compared.comparison,
        totals_before: compared.totals_before,
        totals_after: compared.totals_after,
        confirm_expires_at: confirm.as_ref().map(|_| now + CONFIRM_TTL_S),
        confirm,
    }
}

/// The execute: ready by the comparison just made, the report stored, the removal, the re-read,
/// the report settled.
async fn execute(
    env: &Env,
    session: &Authenticated,
    request: &MigrationRequest,
    remove: &MigrationConnection,
    compared: Compared,
    claims: &ConfirmClaims,
) -> Result<Outcome, ApiError> {
    ready_to_remove(&compared, claims)?;
    let user = &session.claims.user_id;
    let (from, to) = (request.from_provider, request.to_provider);
    let now = session.now();
    let removing = tributary_core::migration::Settled {
        status: MigrationStatus::Removing,
        failed_step: None,
        old_connection_removed: false,
        verification: None,
    };
    let mut report = MigrationReport {
        id: super::random_uuid(),
        status: MigrationStatus::Removing,
        failed_step: None,
        old_connection_removed: false,
        state: state_sentence(&removing, from, to),
        institution: request.institution.clone(),
        from_provider: from,
        to_provider: to,
        removed_connection_id: remove.connection_id.clone(),
        removed_external_id: remove.external_id.clone(),
        totals_before: compared.totals_before,
        target_before: compared.totals_after,
        totals_after: None,
        verification: None,
        error: None,
        created_at: now,
        updated_at: now,
    };
    // Stored before the removal: a worker that stops after it leaves a `removing` row, never nothing.
    store::insert(env, user, &report).await?;
    let mut failure = None;
    let removed = match port(from).remove_connection(env, session, &remove.external_id).await {
        Ok(()) => true,
        Err(error) => {
            failure = Some(error.failure());
            false
        }
    };
    let mut after = None;
    if removed {
        match fetch_and_cache(env, session, to).await {
            Ok((holdings, _)) => after = Some(institution_totals(&holdings, &request.institution)),
            Err(error) => failure = Some(error.failure()),
        }
    }
    let settled = settle(removed, &report.totals_before, removed.then_some(after.as_ref()));
    report.state = state_sentence(&settled, from, to);
    report.status = settled.status;
    report.failed_step = settled.failed_step;
    report.old_connection_removed = settled.old_connection_removed;
    report.verification = settled.verification;
    report.totals_after = after;
    report.error = failure.map(|f| StepFailure { code: f.code, message: f.message });
    report.updated_at = session.now();
    store::settle(env, user, &report).await?;
    worker::console_log!(
        "{}",
        serde_json::json!({"level": "info", "event": "provider_migration", "from": from.as_str(), "to": to.as_str(),
            "status": report.status.as_str(), "failed_step": report.failed_step.map(|s| s.as_str())})
    );
    Ok(Outcome::Executed(Box::new(report)))
}

/// The user's migration report `id` (another user's reads as none).
pub async fn report(env: &Env, session: &Authenticated, id: &str) -> Result<MigrationReport, ApiError> {
    Ok(store::get(env, &session.claims.user_id, id).await?.ok_or(MigrationError::NotFound)?)
}
