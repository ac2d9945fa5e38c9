//! The worker's clock. Decisions read [`now_unix`]: the runtime's time, moved forward by the
//! development clock offset (kept in KV, set by `POST /api/dev/clock`) and applied only when
//! `ENVIRONMENT=development`, by the core's rule. Provider calls read [`real_now_unix`]: their
//! signatures are checked against the provider's own clock.
//!
//! Every request starts with [`load`], which sets the worker-wide offset this isolate applies: in
//! production it is always 0 and nothing is read from KV. A user's own offset (set by `POST
//! /api/dev/clock {"advance_s", "user_id"}`) is read once per authenticated request into that
//! request's [`Clock`] (see [`for_user`]); it is never kept in shared state, so concurrent requests
//! of different users never see each other's time.

use crate::store::KV;
use std::sync::atomic::{AtomicI64, Ordering};
use tributary_core::config::Environment;
use tributary_core::dev_clock::{advance as advance_offset, effective_now, user_offset, DevClockError};
use tributary_core::UserId;
use worker::Env;

/// Where the development clock offset (seconds) is kept.
const OFFSET_KEY: &str = "dev:clock:offset_s";

/// Where one user's own development clock offset (seconds) is kept: this prefix + the user id.
const USER_OFFSET_PREFIX: &str = "dev:clock:user:";

/// The offset [`now_unix`] applies, as set by the latest [`load`] or [`advance`] in this isolate.
static APPLIED_OFFSET_S: AtomicI64 = AtomicI64::new(0);

/// Unix seconds from the runtime's clock, never shifted.
pub fn real_now_unix() -> i64 {
    (worker::Date::now().as_millis() / 1000) as i64
}

/// Unix seconds as decisions see them (the real time outside development).
pub fn now_unix() -> i64 {
    real_now_unix().saturating_add(APPLIED_OFFSET_S.load(Ordering::Relaxed))
}

fn environment(env: &Env) -> Environment {
    Environment::parse(crate::env::lookup(env, "ENVIRONMENT").as_deref())
}

/// The time one request's decisions for one user use.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset_s: i64,
}

impl Clock {
    /// Unix seconds now, as this request's decisions see them.
    pub fn now(&self) -> i64 {
        real_now_unix().saturating_add(self.offset_s)
    }
}

/// The clock of `user`'s requests: the worker-wide offset plus the user's own in development,
/// the real time elsewhere (nothing is read from KV then).
pub async fn for_user(env: &Env, user: &UserId) -> Clock {
    let environment = environment(env);
    if !environment.is_development() {
        return Clock { offset_s: 0 };
    }
    let own = stored(env, &user_key(user)).await;
    Clock { offset_s: user_offset(APPLIED_OFFSET_S.load(Ordering::Relaxed), own) }
}

fn user_key(user: &UserId) -> String {
    format!("{USER_OFFSET_PREFIX}{}", user.as_str())
}

async fn stored_offset(env: &Env) -> i64 {
    stored(env, OFFSET_KEY).await
}

async fn stored(env: &Env, key: &str) -> i64 {
    let Ok(kv) = env.kv(KV) else { return 0 };
    match kv.get(key).text().await {
        Ok(Some(text)) => text.trim().parse().unwrap_or(0),
        Ok(None) => 0,
        Err(e) => {
            crate::api::log_failure("read dev clock", e);
            0
        }
    }
}

/// Sets the offset this request's decisions use: the stored one in development, 0 elsewhere.
pub async fn load(env: &Env) {
    let environment = environment(env);
    let offset = if environment.is_development() { stored_offset(env).await } else { 0 };
    APPLIED_OFFSET_S.store(effective_now(0, &environment, offset), Ordering::Relaxed);
}

/// Why the development clock could not be moved.
pub enum AdvanceError {
    Refused(DevClockError),
    Storage(String),
}

/// Moves the development clock forward by `advance_s` and returns the new offset. Callers check
/// that this is a development deployment first.
pub async fn advance(env: &Env, advance_s: i64) -> Result<i64, AdvanceError> {
    let next = advance_offset(stored_offset(env).await, advance_s).map_err(AdvanceError::Refused)?;
    store(env, OFFSET_KEY, next).await?;
    APPLIED_OFFSET_S.store(effective_now(0, &environment(env), next), Ordering::Relaxed);
    Ok(next)
}

/// Moves only `user`'s development clock forward by `advance_s` and returns that user's new own
/// offset. Callers check that this is a development deployment first.
pub async fn advance_user(env: &Env, user: &UserId, advance_s: i64) -> Result<i64, AdvanceError> {
    let key = user_key(user);
    let next = advance_offset(stored(env, &key).await, advance_s).map_err(AdvanceError::Refused)?;
    store(env, &key, next).await?;
    Ok(next)
}

async fn store(env: &Env, key: &str, offset_s: i64) -> Result<(), AdvanceError> {
    let kv = env.kv(KV).map_err(|e| AdvanceError::Storage(e.to_string()))?;
    kv.put(key, offset_s.to_string())
        .map_err(|e| AdvanceError::Storage(e.to_string()))?
        .execute()
        .await
        .map_err(|e| AdvanceError::Storage(e.to_string()))
}
