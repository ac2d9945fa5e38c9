//! Development-only endpoints; outside `ENVIRONMENT=development` they do not exist (404, like any
//! unknown path):
//! - `POST /api/dev/session`: issues a session token for local development (with `"role":
//!   "operator"`, one that may read the operator endpoints);
//! - `POST /api/dev/clock {"advance_s", "user_id"?}`: moves the worker's clock forward (see
//!   [`crate::clock`]), so a test can let hours pass without sleeping; with `user_id`, only that
//!   user's clock moves (their cooldowns, cache ages and cost caps), so tests sharing one worker
//!   stay independent.

use crate::api::{json, now_unix, read_json, ApiError, ApiResult, WholeNumber};
use crate::clock::{self, AdvanceError};
use crate::env::load_config;
use serde::Deserialize;
use serde_json::json;
use tributary_core::config::Config;
use tributary_core::session::{issue_session_token_with_role, Role};
use tributary_core::{RequestError, UserId, ValidationError};
use worker::{Request, RouteContext};

/// Default and longest lifetime of a development session.
const DEFAULT_TTL_SECONDS: i64 = 3600;
const MAX_TTL_SECONDS: i64 = 86_400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    user_id: Option<String>,
    ttl_seconds: Option<WholeNumber>,
    role: Option<String>,
}

/// The configuration of a development deployment; `not_found` for any other.
fn development_only(req: &Request, ctx: &RouteContext<()>) -> Result<Config, ApiError> {
    match load_config(&ctx.env) {
        Ok(config) if config.environment.is_development() => Ok(config),
        _ => Err(RequestError::NotFound { method: "POST".into(), path: req.path() }.into()),
    }
}

/// `{"user_id", "ttl_seconds"?, "role"?}` → `{"token", "user_id", "expires_at", "role"?}`,
/// development only; `role` may only be `operator`.
pub async fn create_session(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let config = development_only(&req, &ctx)?;
    let body: SessionRequest = read_json(&mut req).await?;
    let user_id = UserId::parse(body.user_id.as_deref().ok_or(ValidationError::Empty { field: "user_id" })?)?;
    let ttl = body.ttl_seconds.map_or(DEFAULT_TTL_SECONDS, |n| n.0);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ValidationError::TooLong { field: "ttl_seconds", max: MAX_TTL_SECONDS as usize }.into());
    }
    let role = match body.role.as_deref() {
        None => None,
        Some(name) => {
            Some(Role::parse(name).ok_or(ValidationError::BadCharacters { field: "role", allowed: "operator" })?)
        }
    };
    let now = now_unix();
    let token = issue_session_token_with_role(&user_id, &config.session_key, now, ttl, role);
    let mut body = json!({ "token": token, "user_id": user_id, "expires_at": now + ttl });
    if let Some(role) = role {
        body["role"] = json!(role.as_str());
    }
    json(201, &body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    advance_s: WholeNumber,
    user_id: Option<String>,
}

/// `{"advance_s", "user_id"?}` → `{"offset_s", "now"}` (and `"user_id"` when one was named): the
/// worker's clock, or only that user's, moved forward; development only. `offset_s` is the offset
/// that was moved (the user's own one for a user), `now` the time that clock now reads.
pub async fn advance_clock(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    development_only(&req, &ctx)?;
    let body: ClockRequest = read_json(&mut req).await?;
    let user = body.user_id.as_deref().map(UserId::parse).transpose()?;
    let advanced = match &user {
        Some(user) => clock::advance_user(&ctx.env, user, body.advance_s.0).await,
        None => clock::advance(&ctx.env, body.advance_s.0).await,
    };
    let offset_s = match advanced {
        Ok(offset_s) => offset_s,
        Err(AdvanceError::Refused(error)) => return Err(error.into()),
        Err(AdvanceError::Storage(error)) => return Err(ApiError::internal("store dev clock", error)),
    };
    match user {
        Some(user) => {
            let now = clock::for_user(&ctx.env, &user).await.now();
            json(200, &json!({ "offset_s": offset_s, "now": now, "user_id": user }))
        }
        None => json(200, &json!({ "offset_s": offset_s, "now": now_unix() })),
    }
}
