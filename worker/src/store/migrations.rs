//! The `provider_migrations` table: one row per executed migration, read back as the core's
//! [`MigrationReport`] (status and step as core enums, totals as the core's JSON). Every query is
//! scoped to its user: another user's id reads as absent.

use super::{db, query_first, DbResult};
use serde::Deserialize;
use tributary_core::migration::{
    Comparison, InstitutionTotals, MigrationReport, MigrationStatus, MigrationStep, StepFailure,
};
use tributary_core::{InstitutionSlug, Provider, UserId};
use wasm_bindgen::JsValue;
use worker::Env;

fn to_json<T: serde::Serialize>(value: &T) -> DbResult<String> {
    serde_json::to_string(value).map_err(|e| worker::Error::RustError(format!("serialise migration: {e}")))
}

fn optional_json<T: serde::Serialize>(value: Option<&T>) -> DbResult<JsValue> {
    Ok(match value {
        Some(value) => to_json(value)?.into(),
        None => JsValue::NULL,
    })
}

fn optional_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from)
}

/// Stores `report` for `user` (its first write, status `removing`).
pub async fn insert(env: &Env, user: &UserId, report: &MigrationReport) -> DbResult<()> {
    let args = [
        report.id.as_str().into(),
        user.as_str().into(),
        report.institution.as_str().into(),
        report.from_provider.as_str().into(),
        report.to_provider.as_str().into(),
        report.removed_connection_id.as_str().into(),
        report.removed_external_id.as_str().into(),
        report.status.as_str().into(),
        report.state.as_str().into(),
        to_json(&report.totals_before)?.into(),
        to_json(&report.target_before)?.into(),
        (report.created_at as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO provider_migrations (id, user_id, institution, from_provider, to_provider,
                 removed_connection_id, removed_external_id, status, state, totals_before, target_before,
                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        )
        .bind(&args)?
        .run()
        .await?;
    Ok(())
}

/// Writes how `report` settled (status, step, removal, re-read, verification, error).
pub async fn settle(env: &Env, user: &UserId, report: &MigrationReport) -> DbResult<()> {
    let args = [
        report.id.as_str().into(),
        user.as_str().into(),
        report.status.as_str().into(),
        optional_text(report.failed_step.map(MigrationStep::as_str)),
        JsValue::from(i32::from(report.old_connection_removed)),
        report.state.as_str().into(),
        optional_json(report.totals_after.as_ref())?,
        optional_json(report.verification.as_ref())?,
        optional_text(report.error.as_ref().map(|e| e.code.as_str())),
        optional_text(report.error.as_ref().map(|e| e.message.as_str())),
        (report.updated_at as f64).into(),
    ];
    db(env)?
        .prepare(
            "UPDATE provider_migrations SET status = ?3, failed_step = ?4, old_connection_removed = ?5,
                 state = ?6, totals_after = ?7, verification = ?8, error_code = ?9, error_message = ?10,
                 updated_at = ?11
             WHERE id = ?1 AND user_id = ?2",
        )
        .bind(&args)?
        .run()
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Row {
    id: String,
    institution: String,
    from_provider: String,
    to_provider: String,
    removed_connection_id: String,
    removed_external_id: String,
    status: String,
    failed_step: Option<String>,
    old_connection_removed: i64,
    state: String,
    totals_before: String,
    target_before: String,
    totals_after: Option<String>,
    verification: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn corrupt(what: &str) -> worker::Error {
    worker::Error::RustError(format!("provider_migrations row: unreadable {what}"))
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> DbResult<T> {
    serde_json::from_str(text).map_err(|_| corrupt(what))
}

impl Row {
    fn into_report(self) -> DbResult<MigrationReport> {
        let provider = |name: &str| Provider::parse(name).map_err(|_| corrupt("provider"));
        Ok(MigrationReport {
            status: MigrationStatus::from_name(&self.status).ok_or_else(|| corrupt("status"))?,
            failed_step: match self.failed_step.as_deref() {
                Some(step) => Some(MigrationStep::from_name(step).ok_or_else(|| corrupt("failed_step"))?),
                None => None,
            },
            old_connection_removed: self.old_connection_removed != 0,
            state: self.state,
            institution: InstitutionSlug::parse(&self.institution).map_err(|_| corrupt("institution"))?,
            from_provider: provider(&self.from_provider)?,
            to_provider: provider(&self.to_provider)?,
            removed_connection_id: self.removed_connection_id,
            removed_external_id: self.removed_external_id,
            totals_before: parse_json::<InstitutionTotals>(&self.totals_before, "totals_before")?,
            target_before: parse_json::<InstitutionTotals>(&self.target_before, "target_before")?,
            totals_after: self.totals_after.as_deref().map(|t| parse_json(t, "totals_after")).transpose()?,
            verification: self
                .verification
                .as_deref()
                .map(|t| parse_json::<Comparison>(t, "verification"))
                .transpose()?,
            error: match (self.error_code, self.error_message) {
                (Some(code), message) => Some(StepFailure { code, message: message.unwrap_or_default() }),
                _ => None,
            },
            id: self.id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The user's migration `id`, `None` when there is none of theirs.
pub async fn get(env: &Env, user: &UserId, id: &str) -> DbResult<Option<MigrationReport>> {
    let row: Option<Row> = query_first(
        env,
        "SELECT * FROM provider_migrations WHERE id = ?1 AND user_id = ?2",
        &[id.into(), user.as_str().into()],
    )
    .await?;
    row.map(Row::into_report).transpose()
}
