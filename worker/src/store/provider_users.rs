//! The `provider_users` table: a user's registration with a provider, its secret sealed.

use super::{db, query_first, DbResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use tributary_core::sealed::{Sealed, NONCE_LEN};
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::Env;

/// A stored registration: the provider's id for the user and the sealed secret.
pub struct Registration {
    pub provider_user_id: String,
    pub sealed: Sealed,
}

#[derive(Deserialize)]
struct Row {
    provider_user_id: String,
    secret_ciphertext: String,
    secret_nonce: String,
    key_id: String,
}

/// The user's registration with `provider`, if any.
pub async fn get(env: &Env, user: &UserId, provider: Provider) -> DbResult<Option<Registration>> {
    let row: Option<Row> = query_first(
        env,
        "SELECT provider_user_id, secret_ciphertext, secret_nonce, key_id FROM provider_users WHERE user_id = ?1 AND provider = ?2",
        &[user.as_str().into(), provider.as_str().into()],
    )
    .await?;
    Ok(row.and_then(|r| {
        let nonce: [u8; NONCE_LEN] = STANDARD.decode(&r.secret_nonce).ok()?.try_into().ok()?;
        let ciphertext = STANDARD.decode(&r.secret_ciphertext).ok()?;
        Some(Registration {
            provider_user_id: r.provider_user_id,
            sealed: Sealed { ciphertext, nonce, key_id: r.key_id },
        })
    }))
}

/// Stores a registration (first writer wins; a concurrent second insert changes nothing).
pub async fn insert(
    env: &Env,
    user: &UserId,
    provider: Provider,
    registration: &Registration,
    now: i64,
) -> DbResult<()> {
    let args: [JsValue; 7] = [
        user.as_str().into(),
        provider.as_str().into(),
        registration.provider_user_id.as_str().into(),
        STANDARD.encode(&registration.sealed.ciphertext).into(),
        STANDARD.encode(registration.sealed.nonce).into(),
        registration.sealed.key_id.as_str().into(),
        (now as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO provider_users (user_id, provider, provider_user_id, secret_ciphertext, secret_nonce, key_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (user_id, provider) DO NOTHING",
        )
        .bind(&args)?
        .run()
        .await?;
    Ok(())
}

#[derive(Deserialize)]
struct Owner {
    user_id: String,
}

/// Our user registered at `provider` under the provider's id `provider_user_id`, if any.
pub async fn owner(env: &Env, provider: Provider, provider_user_id: &str) -> DbResult<Option<UserId>> {
    let row: Option<Owner> = query_first(
        env,
        "SELECT user_id FROM provider_users WHERE provider = ?1 AND provider_user_id = ?2",
        &[provider.as_str().into(), provider_user_id.into()],
    )
    .await?;
    Ok(row.and_then(|r| UserId::parse(&r.user_id).ok()))
}
