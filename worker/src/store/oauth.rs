//! The `oauth_states` and `oauth_grants` tables: OAuth `state` values consumed exactly once by the
//! user who created them, and each user's sealed access and refresh tokens with their deadlines
//! and the refresh lease that lets one request refresh for a whole burst.

use super::{db, query_first, DbResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use tributary_core::sealed::Sealed;
use tributary_core::{Provider, UserId};
use wasm_bindgen::JsValue;
use worker::Env;

/// Remembers a fresh `state` for `user`'s flow at `provider`, returning the person to `redirect`.
pub async fn insert_state(
    env: &Env,
    state: &str,
    user: &UserId,
    provider: Provider,
    redirect: &str,
    now: i64,
) -> DbResult<()> {
    let database = db(env)?;
    // States older than an hour are of no use to anyone: swept as new ones are made.
    database
        .prepare("DELETE FROM oauth_states WHERE user_id = ?1 AND created_at < ?2")
        .bind(&[user.as_str().into(), ((now - 3_600) as f64).into()])?
        .run()
        .await?;
    database
        .prepare(
            "INSERT INTO oauth_states (state, user_id, provider, redirect, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&[state.into(), user.as_str().into(), provider.as_str().into(), redirect.into(), (now as f64).into()])?
        .run()
        .await?;
    Ok(())
}

/// A consumed `state`: where the flow returns the person, and when it began.
#[derive(Debug, Deserialize)]
pub struct TakenState {
    pub redirect: String,
    pub created_at: i64,
}

/// Consumes `state` if `user` created it for `provider` (one atomic delete: a replay, or another
/// user's state, finds nothing and leaves the owner's state untouched).
pub async fn take_state(env: &Env, state: &str, user: &UserId, provider: Provider) -> DbResult<Option<TakenState>> {
    query_first(
        env,
        "DELETE FROM oauth_states WHERE state = ?1 AND user_id = ?2 AND provider = ?3 RETURNING redirect, created_at",
        &[state.into(), user.as_str().into(), provider.as_str().into()],
    )
    .await
}

/// A stored grant: sealed tokens, their deadlines, the connection they serve.
pub struct Grant {
    pub connection_id: String,
    pub access: Sealed,
    pub refresh: Sealed,
    pub access_expires_at: i64,
    pub login_at: i64,
    pub reauth_required_at: i64,
}

#[derive(Deserialize)]
struct GrantRow {
    connection_id: String,
    access_ciphertext: String,
    access_nonce: String,
    refresh_ciphertext: String,
    refresh_nonce: String,
    key_id: String,
    access_expires_at: i64,
    login_at: i64,
    reauth_required_at: i64,
}

/// The user's grant at `provider`, if any; a row whose sealed parts do not decode is an error.
pub async fn grant(env: &Env, user: &UserId, provider: Provider) -> DbResult<Option<Grant>> {
    let row: Option<GrantRow> = query_first(
        env,
        "SELECT connection_id, access_ciphertext, access_nonce, refresh_ciphertext, refresh_nonce, key_id,
                access_expires_at, login_at, reauth_required_at
         FROM oauth_grants WHERE user_id = ?1 AND provider = ?2",
        &[user.as_str().into(), provider.as_str().into()],
    )
    .await?;
    let Some(r) = row else { return Ok(None) };
    let unreadable = || worker::Error::RustError("stored OAuth grant has unreadable sealed tokens".into());
    Ok(Some(Grant {
        access: super::sealed_from_columns(&r.access_ciphertext, &r.access_nonce, &r.key_id).ok_or_else(unreadable)?,
        refresh: super::sealed_from_columns(&r.refresh_ciphertext, &r.refresh_nonce, &r.key_id)
            .ok_or_else(unreadable)?,
        connection_id: r.connection_id,
        access_expires_at: r.access_expires_at,
        login_at: r.login_at,
        reauth_required_at: r.reauth_required_at,
    }))
}

/// When one of the user's grants needs a new login: its provider, the connection it serves (the
/// provider's id) and the deadline.
#[derive(Debug, Deserialize)]
pub struct LoginDeadline {
    pub provider: Provider,
    pub connection_id: String,
    pub reauth_required_at: i64,
}

/// The re-login deadline of every grant the user holds, at every provider (no token is read).
pub async fn login_deadlines(env: &Env, user: &UserId) -> DbResult<Vec<LoginDeadline>> {
    super::query_all(
        env,
        "SELECT provider, connection_id, reauth_required_at FROM oauth_grants WHERE user_id = ?1 ORDER BY provider",
        &[user.as_str().into()],
    )
    .await
}

/// Stores (or replaces, on a new login) the user's grant, clearing any refresh lease.
pub fn upsert_statement(
    env: &Env,
    user: &UserId,
    provider: Provider,
    grant: &Grant,
    now: i64,
) -> DbResult<worker::D1PreparedStatement> {
    let args: [JsValue; 12] = [
        user.as_str().into(),
        provider.as_str().into(),
        grant.connection_id.as_str().into(),
        STANDARD.encode(&grant.access.ciphertext).into(),
        STANDARD.encode(grant.access.nonce).into(),
        STANDARD.encode(&grant.refresh.ciphertext).into(),
        STANDARD.encode(grant.refresh.nonce).into(),
        grant.access.key_id.as_str().into(),
        (grant.access_expires_at as f64).into(),
        (grant.login_at as f64).into(),
        (grant.reauth_required_at as f64).into(),
        (now as f64).into(),
    ];
    db(env)?
        .prepare(
            "INSERT INTO oauth_grants (user_id, provider, connection_id, access_ciphertext, access_nonce, refresh_ciphertext,
                                       refresh_nonce, key_id, access_expires_at, login_at, reauth_required_at,
                                       refreshing_until, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12)
             ON CONFLICT (user_id, provider) DO UPDATE SET
               connection_id = excluded.connection_id, access_ciphertext = excluded.access_ciphertext,
               access_nonce = excluded.access_nonce, refresh_ciphertext = excluded.refresh_ciphertext,
               refresh_nonce = excluded.refresh_nonce, key_id = excluded.key_id,
               access_expires_at = excluded.access_expires_at, login_at = excluded.login_at,
               reauth_required_at = excluded.reauth_required_at, refreshing_until = NULL, updated_at = excluded.updated_at",
        )
        .bind(&args)
}

/// Takes the refresh lease until `until` (worker clock) if nobody holds it and the access token
/// is still the one that expires at `seen_expires_at`; true when this request won it.
pub async fn claim_refresh(
    env: &Env,
    user: &UserId,
    provider: Provider,
    seen_expires_at: i64,
    now: i64,
    until: i64,
) -> DbResult<bool> {
    let won: Option<serde_json::Value> = query_first(
        env,
        "UPDATE oauth_grants SET refreshing_until = ?5
         WHERE user_id = ?1 AND provider = ?2 AND access_expires_at = ?3
           AND (refreshing_until IS NULL OR refreshing_until < ?4)
         RETURNING 1 AS won",
        &[
            user.as_str().into(),
            provider.as_str().into(),
            (seen_expires_at as f64).into(),
            (now as f64).into(),
            (until as f64).into(),
        ],
    )
    .await?;
    Ok(won.is_some())
}

/// Stores a refreshed access token (and whatever refresh token came back) and frees the lease.
pub async fn store_refreshed(
    env: &Env,
    user: &UserId,
    provider: Provider,
    access: &Sealed,
    refresh: &Sealed,
    access_expires_at: i64,
    now: i64,
) -> DbResult<()> {
    db(env)?
        .prepare(
            "UPDATE oauth_grants SET access_ciphertext = ?3, access_nonce = ?4, refresh_ciphertext = ?5, refresh_nonce = ?6,
                    key_id = ?7, access_expires_at = ?8, refreshing_until = NULL, updated_at = ?9
             WHERE user_id = ?1 AND provider = ?2",
        )
        .bind(&[
            user.as_str().into(),
            provider.as_str().into(),
            STANDARD.encode(&access.ciphertext).into(),
            STANDARD.encode(access.nonce).into(),
            STANDARD.encode(&refresh.ciphertext).into(),
            STANDARD.encode(refresh.nonce).into(),
            access.key_id.as_str().into(),
            (access_expires_at as f64).into(),
            (now as f64).into(),
        ])?
        .run()
        .await?;
    Ok(())
}

/// Frees the refresh lease without changing the tokens (the refresh failed).
pub async fn release_refresh(env: &Env, user: &UserId, provider: Provider) -> DbResult<()> {
    db(env)?
        .prepare("UPDATE oauth_grants SET refreshing_until = NULL WHERE user_id = ?1 AND provider = ?2")
        .bind(&[user.as_str().into(), provider.as_str().into()])?
        .run()
        .await?;
    Ok(())
}

/// Moves the re-login deadline to `now` (the refresh token was refused) and frees the lease.
pub async fn expire_login(env: &Env, user: &UserId, provider: Provider, now: i64) -> DbResult<()> {
    db(env)?
        .prepare(
            "UPDATE oauth_grants SET reauth_required_at = MIN(reauth_required_at, ?3), refreshing_until = NULL
             WHERE user_id = ?1 AND provider = ?2",
        )
        .bind(&[user.as_str().into(), provider.as_str().into(), (now as f64).into()])?
        .run()
        .await?;
    Ok(())
}
