//! The `pending_updates` table: per (user, provider), whether a verified webhook announced new
//! data that has not been refreshed yet. Reading it is one D1 query, never a provider call.

use super::{query_all, DbResult};
use serde::Deserialize;
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::Env;

#[derive(Deserialize)]
struct Row {
    provider: String,
    pending: i64,
    last_event_id: Option<String>,
}

/// A provider's pending flag and the event that last raised it.
#[derive(Debug, Clone)]
pub struct PendingFlag {
    pub provider: Provider,
    pub pending: bool,
    pub last_event_id: Option<String>,
}

/// Every pending flag row of `user` (one D1 read).
pub async fn flags(env: &Env, user: &UserId) -> DbResult<Vec<PendingFlag>> {
    let rows: Vec<Row> = query_all(
        env,
        "SELECT provider, pending, last_event_id FROM pending_updates WHERE user_id = ?1",
        &[user.as_str().into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let provider = Provider::parse(&r.provider).ok()?;
            Some(PendingFlag { provider, pending: r.pending != 0, last_event_id: r.last_event_id })
        })
        .collect())
}

/// The providers with an update pending for `user`.
pub async fn pending_providers(env: &Env, user: &UserId) -> DbResult<Vec<Provider>> {
    Ok(flags(env, user).await?.into_iter().filter(|f| f.pending).map(|f| f.provider).collect())
}

/// Raises the (user, provider) pending flag for the verified event `event_id`.
pub fn raise_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    event_id: &str,
    now: i64,
) -> DbResult<worker::D1PreparedStatement> {
    super::db(env)?
        .prepare(
            "INSERT INTO pending_updates (user_id, provider, pending, raised_at, last_event_id) VALUES (?1, ?2, 1, ?3, ?4)
             ON CONFLICT (user_id, provider) DO UPDATE SET pending = 1, raised_at = ?3, last_event_id = ?4",
        )
        .bind(&[user.as_str().into(), provider.as_str().into(), (now as f64).into(), event_id.into()])
}

/// Clears the flag after a successful refresh, only if no newer event raised it again while the
/// refresh ran (`seen_event` is the flag's event when the refresh started).
pub async fn clear(env: &Env, user: &UserId, provider: Provider, seen_event: Option<&str>, now: i64) -> DbResult<()> {
    super::db(env)?
        .prepare(
            "UPDATE pending_updates SET pending = 0, cleared_at = ?4
             WHERE user_id = ?1 AND provider = ?2 AND pending = 1 AND last_event_id IS ?3",
        )
        .bind(&[
            user.as_str().into(),
            provider.as_str().into(),
            seen_event.map_or(JsValue::NULL, JsValue::from),
            (now as f64).into(),
        ])?
        .run()
        .await?;
    Ok(())
}
