//! `GET /api/me`: who the session says the caller is; records the user on first sight.

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::store;
use serde_json::json;
use worker::{Request, RouteContext};

/// Returns the session's user, when Tributary first saw them, and when the session expires.
pub async fn get(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let user = &session.claims.user_id;
    let first_seen_at = store::users::ensure(&ctx.env, user, session.now()).await?;
    json(
        200,
        &json!({
            "user_id": user,
            "first_seen_at": first_seen_at,
            "session_expires_at": session.claims.expires_at,
            "environment": session.config.environment.name(),
        }),
    )
}
