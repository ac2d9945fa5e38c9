//! The `users` table: one row per Tributary user, created on first sight.

use super::DB;
use crate::api::ApiError;
use tributary_core::UserId;
use wasm_bindgen::JsValue;
use worker::Env;

/// Records the user if new and returns when they were first seen (Unix seconds).
pub async fn ensure(env: &Env, user: &UserId, now: i64) -> Result<i64, ApiError> {
    let db = env.d1(DB).map_err(|e| ApiError::internal("d1 binding", e))?;
    let row: Option<serde_json::Value> = db
        .prepare(
            "INSERT INTO users (id, created_at) VALUES (?1, ?2)
             ON CONFLICT (id) DO UPDATE SET id = excluded.id
             RETURNING created_at",
        )
        .bind(&[JsValue::from(user.as_str()), JsValue::from(now as f64)])
        .map_err(|e| ApiError::internal("bind users.ensure", e))?
        .first(None)
        .await
        .map_err(|e| ApiError::internal("users.ensure", e))?;
    row.and_then(|r| r.get("created_at").and_then(|v| v.as_i64()))
        .ok_or_else(|| ApiError::internal("users.ensure", "no row returned"))
}
