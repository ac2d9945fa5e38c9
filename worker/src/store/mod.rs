//! D1 and KV access, one module per table group. Every query binds its parameters.

pub mod connections;
pub mod holdings;
pub mod ibkr_flex;
pub mod items;
pub mod migrations;
pub mod oauth;
pub mod ops;
pub mod pending;
pub mod provider_calls;
pub mod provider_users;
pub mod refresh;
pub mod trading;
pub mod transactions;
pub mod users;
pub mod webhooks;

use crate::api::ApiError;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

/// A sealed secret read back from its base64 columns (ciphertext, nonce) and key id; `None` when
/// the columns do not decode (a corrupt row).
pub fn sealed_from_columns(ciphertext: &str, nonce: &str, key_id: &str) -> Option<tributary_core::sealed::Sealed> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let nonce: [u8; tributary_core::sealed::NONCE_LEN] = b64.decode(nonce).ok()?.try_into().ok()?;
    Some(tributary_core::sealed::Sealed { ciphertext: b64.decode(ciphertext).ok()?, nonce, key_id: key_id.to_owned() })
}

/// The D1 binding name from `wrangler.toml`.
pub const DB: &str = "DB";
/// The KV binding name from `wrangler.toml`.
pub const KV: &str = "KV";

/// A storage failure, logged where it is turned into an [`ApiError`].
pub type DbResult<T> = Result<T, worker::Error>;

impl From<worker::Error> for ApiError {
    fn from(error: worker::Error) -> Self {
        ApiError::internal("storage", error)
    }
}

/// The D1 database binding.
pub fn db(env: &Env) -> DbResult<D1Database> {
    env.d1(DB)
}

/// Runs a query and deserialises its first row.
pub async fn query_first<T: DeserializeOwned>(env: &Env, sql: &str, args: &[JsValue]) -> DbResult<Option<T>> {
    db(env)?.prepare(sql).bind(args)?.first(None).await
}

/// Runs a query and deserialises every row.
pub async fn query_all<T: DeserializeOwned>(env: &Env, sql: &str, args: &[JsValue]) -> DbResult<Vec<T>> {
    db(env)?.prepare(sql).bind(args)?.all().await?.results()
}

/// The last applied migration's name, proving D1 is reachable and migrated.
pub async fn schema_version(env: &Env) -> Result<String, String> {
    let db = env.d1(DB).map_err(|e| format!("binding: {e}"))?;
    let row: Option<serde_json::Value> = db
        .prepare("SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1")
        .first(None)
        .await
        .map_err(|_| "query failed: are the migrations applied?".to_owned())?;
    row.and_then(|r| r.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .ok_or_else(|| "no migration applied".to_owned())
}

/// Whether the KV namespace answers a read.
pub async fn kv_reachable(env: &Env) -> Result<(), String> {
    let kv = env.kv(KV).map_err(|e| format!("binding: {e}"))?;
    kv.get("health:probe").text().await.map(|_| ()).map_err(|e| format!("read failed: {e}"))
}
