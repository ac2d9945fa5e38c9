//! `/api/schwab/*`: the OAuth authorize and callback steps of connecting Schwab directly, and the
//! user's Schwab connections with their re-login deadline. Holdings are the shared route's.

use crate::api::{json, read_json, ApiResult};
use crate::auth::authenticate;
use crate::services::schwab::{authorize as start, callback as complete, connections_with_expiry};
use serde::Deserialize;
use serde_json::json;
use tributary_core::ValidationError;
use worker::{Request, RouteContext};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeRequest {
    redirect: Option<String>,
}

/// `POST /api/schwab/authorize {redirect}` → `{authorize_url}`: Schwab's consent page for a fresh,
/// single-use `state` bound to the session user (valid 10 minutes).
pub async fn authorize(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: AuthorizeRequest = read_json(&mut req).await?;
    let redirect = body.redirect.as_deref().ok_or(ValidationError::Empty { field: "redirect" })?;
    let redirect = crate::api::pinned_redirect(&req, &session.config, redirect)?;
    let url = start(&ctx.env, &session, &redirect).await?;
    json(200, &json!({ "authorize_url": url }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallbackRequest {
    code: Option<String>,
    state: Option<String>,
}

/// `POST /api/schwab/callback {code, state}` → 201 `{connection, accounts, positions, redirect}`;
/// 400 `oauth_state_invalid` / `oauth_state_expired` / `oauth_code_rejected` with nothing stored.
pub async fn callback(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: CallbackRequest = read_json(&mut req).await?;
    let code = body.code.as_deref().ok_or(ValidationError::Empty { field: "code" })?;
    let state = body.state.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let state = state.ok_or(ValidationError::Empty { field: "state" })?;
    let connected = complete(&ctx.env, &session, code, state).await?;
    json(
        201,
        &json!({
            "connection": connected.connection,
            "accounts": connected.accounts,
            "positions": connected.positions,
            "redirect": connected.redirect,
        }),
    )
}

/// `GET /api/schwab/connections` → `{connections: [{…, needs_repair, reauth_required_at, expires_soon}]}`.
pub async fn list_connections(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let connections = connections_with_expiry(&ctx.env, &session).await?;
    json(200, &json!({ "connections": connections }))
}
