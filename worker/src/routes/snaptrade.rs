//! `/api/snaptrade/*`: registration, the connection portal, syncing connections, holdings.
//! Every route needs a session and only ever touches the session user's rows.

use crate::api::{json, read_json, read_json_or_default, ApiResult};
use crate::auth::authenticate;
use crate::services::snaptrade::{ensure_registered, portal_url, sync_connections};
use crate::store::connections;
use serde::Deserialize;
use serde_json::json;
use tributary_core::institutions::resolve_field;
use tributary_core::snaptrade::PortalConnectionType;
use tributary_core::{Provider, ValidationError};
use worker::{Request, RouteContext};

const P: Provider = Provider::SnapTrade;

/// `POST /api/snaptrade/register`: idempotent; never returns the user secret.
pub async fn register(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let (_, _, created) = ensure_registered(&ctx.env, &session).await?;
    json(if created { 201 } else { 200 }, &json!({ "provider": "snaptrade", "registered": true, "created": created }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionUrlRequest {
    institution: Option<String>,
    connection_type: Option<String>,
    reconnect: Option<String>,
    redirect: Option<String>,
}

/// `POST /api/snaptrade/connection-url {institution?, connection_type?, reconnect?, redirect}` → `{redirect_url}`.
pub async fn connection_url(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: ConnectionUrlRequest = read_json(&mut req).await?;
    let redirect = body.redirect.as_deref().ok_or(ValidationError::Empty { field: "redirect" })?;
    let redirect = crate::api::pinned_redirect(&req, &session.config, redirect)?;
    let connection_type = body
        .connection_type
        .as_deref()
        .map(PortalConnectionType::parse)
        .transpose()?
        .unwrap_or(PortalConnectionType::Read);
    let broker = resolve_field(body.institution.as_deref())?;
    let url =
        portal_url(&ctx.env, &session, broker.as_ref(), connection_type, body.reconnect.as_deref(), &redirect).await?;
    json(200, &json!({ "redirect_url": url }))
}

/// `POST /api/snaptrade/connections/sync` body: `reconnected` names the authorization a reconnect
/// portal flow just finished for, so its repair flag can be cleared once SnapTrade reports it enabled.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    #[serde(default)]
    reconnected: Option<String>,
}

/// `POST /api/snaptrade/connections/sync {reconnected?}`: stores the user's authorizations (clearing
/// the repair flag of a reconnected one SnapTrade reports enabled), then their accounts and holdings.
pub async fn sync(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: SyncBody = read_json_or_default(&mut req).await?;
    let synced = sync_connections(&ctx.env, &session, body.reconnected.as_deref()).await?;
    json(200, &json!({ "connections": synced.connections, "accounts": synced.accounts, "positions": synced.positions }))
}

/// `GET /api/snaptrade/connections`: type read/trade, disabled, disabled_date, needs repair.
pub async fn list_connections(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let connections = connections::list(&ctx.env, &session.claims.user_id, P).await?;
    json(200, &json!({ "connections": connections }))
}
