//! The `webhook_events` table: every verified webhook, deduplicated by the provider's own id.

use super::{db, query_first, DbResult};
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::{D1PreparedStatement, Env};

/// Whether a webhook with this id was already recorded.
pub async fn seen(env: &Env, provider: Provider, webhook_id: &str) -> DbResult<bool> {
    let row: Option<serde_json::Value> = query_first(
        env,
        "SELECT 1 AS found FROM webhook_events WHERE provider = ?1 AND webhook_id = ?2",
        &[provider.as_str().into(), webhook_id.into()],
    )
    .await?;
    Ok(row.is_some())
}

/// A verified event to record (a duplicate id changes nothing).
pub struct Event<'a> {
    pub provider: Provider,
    pub webhook_id: &'a str,
    pub event_type: &'a str,
    pub user: Option<&'a UserId>,
    pub outcome: &'a str,
    /// The verified payload as Tributary parsed it (never a secret).
    pub payload: String,
    pub received_at: i64,
}

/// The insert of `event`, to run in the same batch as its effects.
pub fn record_statement(env: &Env, event: &Event<'_>) -> DbResult<D1PreparedStatement> {
    let args: [JsValue; 7] = [
        event.provider.as_str().into(),
        event.webhook_id.into(),
        event.event_type.into(),
        event.user.map_or(JsValue::NULL, |u| JsValue::from(u.as_str())),
        (event.received_at as f64).into(),
        event.outcome.into(),
        event.payload.as_str().into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO webhook_events (provider, webhook_id, event_type, user_id, received_at, outcome, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (provider, webhook_id) DO NOTHING",
        )
        .bind(&args)
}
