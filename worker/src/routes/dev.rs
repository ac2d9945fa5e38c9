//! `POST /api/dev/session`: issues a session token for local development. Outside
//! `ENVIRONMENT=development` the endpoint does not exist (404, like any unknown path).

use crate::api::{json, now_unix, read_json, ApiResult};
use crate::env::load_config;
use serde::Deserialize;
use serde_json::json;
use tributary_core::session::issue_session_token;
use tributary_core::{RequestError, UserId, ValidationError};
use worker::{Request, RouteContext};

/// Default and longest lifetime of a development session.
const DEFAULT_TTL_SECONDS: i64 = 3600;
const MAX_TTL_SECONDS: i64 = 86_400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    user_id: Option<String>,
    ttl_seconds: Option<i64>,
}

/// `{"user_id", "ttl_seconds"?}` → `{"token", "expires_at"}`, development only.
pub async fn create_session(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let config = load_config(&ctx.env);
    if !config.as_ref().is_ok_and(|c| c.environment.is_development()) {
        return Err(RequestError::NotFound { method: "POST".into(), path: req.path() }.into());
    }
    let config = config?;
    let body: SessionRequest = read_json(&mut req).await?;
    let user_id = UserId::parse(body.user_id.as_deref().ok_or(ValidationError::Empty { field: "user_id" })?)?;
    let ttl = body.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(1..=MAX_TTL_SECONDS).contains(&ttl) {
        return Err(ValidationError::TooLong { field: "ttl_seconds", max: MAX_TTL_SECONDS as usize }.into());
    }
    let now = now_unix();
    let token = issue_session_token(&user_id, &config.session_key, now, ttl);
    json(201, &json!({ "token": token, "user_id": user_id, "expires_at": now + ttl }))
}
