//! Refresh bookkeeping: the per-user cooldown claim (one atomic upsert) and the refresh log that
//! records every refresh and every billed provider call, so cost can be counted.

use super::{db, query_all, query_first, DbResult};
use serde::Deserialize;
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::Env;

/// Which of a user's cooldowns a claim is for: holdings refreshes, or transactions syncs (each
/// keeps its own clock under the same rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cooldown {
    Refresh,
    TransactionsSync,
}

impl Cooldown {
    fn table(self) -> &'static str {
        match self {
            Self::Refresh => "refresh_cooldowns",
            Self::TransactionsSync => "transaction_sync_cooldowns",
        }
    }
}

/// Claims the user's refresh cooldown at `now` if the stored last refresh is at or before
/// `cutoff`. Exactly one of any number of concurrent claims succeeds. Returns whether this one did.
pub async fn claim_cooldown(env: &Env, user: &UserId, now: i64, cutoff: i64) -> DbResult<bool> {
    claim(env, Cooldown::Refresh, user, now, cutoff).await
}

/// [`claim_cooldown`] for `cooldown`.
pub async fn claim(env: &Env, cooldown: Cooldown, user: &UserId, now: i64, cutoff: i64) -> DbResult<bool> {
    let table = cooldown.table();
    let row: Option<serde_json::Value> = query_first(
        env,
        &format!(
            "INSERT INTO {table} (user_id, last_refresh_at) VALUES (?1, ?2)
             ON CONFLICT (user_id) DO UPDATE SET last_refresh_at = excluded.last_refresh_at
             WHERE {table}.last_refresh_at <= ?3
             RETURNING last_refresh_at"
        ),
        &[user.as_str().into(), (now as f64).into(), (cutoff as f64).into()],
    )
    .await?;
    Ok(row.is_some())
}

#[derive(Deserialize)]
struct Last {
    last_refresh_at: Option<i64>,
}

/// The user's last claimed refresh time, if any.
pub async fn last_refresh_at(env: &Env, user: &UserId) -> DbResult<Option<i64>> {
    last_claimed(env, Cooldown::Refresh, user).await
}

/// The user's last claim of `cooldown`, if any.
pub async fn last_claimed(env: &Env, cooldown: Cooldown, user: &UserId) -> DbResult<Option<i64>> {
    let sql = format!("SELECT last_refresh_at FROM {} WHERE user_id = ?1", cooldown.table());
    let row: Option<Last> = query_first(env, &sql, &[user.as_str().into()]).await?;
    Ok(row.and_then(|r| r.last_refresh_at))
}

/// Per provider: the last refresh and the last billed refresh, from the log.
#[derive(Debug, Deserialize)]
pub struct ProviderHistory {
    pub provider: String,
    pub last_refresh_at: Option<i64>,
    pub last_billed_at: Option<i64>,
}

/// The refresh history of every provider the user ever refreshed.
pub async fn history(env: &Env, user: &UserId) -> DbResult<Vec<ProviderHistory>> {
    query_all(
        env,
        "SELECT provider, MAX(started_at) AS last_refresh_at,
                MAX(CASE WHEN billed = 1 THEN started_at END) AS last_billed_at
         FROM refresh_log WHERE user_id = ?1 GROUP BY provider",
        &[user.as_str().into()],
    )
    .await
}

/// One refresh-log entry.
pub struct LogEntry<'a> {
    pub provider: Provider,
    pub trigger: &'a str,
    pub billed: bool,
    pub operation: &'a str,
    pub status: &'a str,
    pub error_code: Option<&'a str>,
    pub started_at: i64,
    pub finished_at: i64,
}

/// Appends one entry to the refresh log.
pub async fn log(env: &Env, user: &UserId, entry: &LogEntry<'_>) -> DbResult<()> {
    let args: [JsValue; 9] = [
        user.as_str().into(),
        entry.provider.as_str().into(),
        entry.trigger.into(),
        (if entry.billed { 1.0 } else { 0.0 }).into(),
        entry.operation.into(),
        entry.status.into(),
        entry.error_code.map_or(JsValue::NULL, JsValue::from),
        (entry.started_at as f64).into(),
        (entry.finished_at as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO refresh_log (user_id, provider, trigger, billed, operation, status, error_code, started_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .bind(&args)?
        .run()
        .await?;
    Ok(())
}
