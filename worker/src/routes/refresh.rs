//! `GET /api/pending-updates` (one D1 read, never a provider call) and `POST /api/holdings/refresh`
//! (the core's refresh policy, an atomic cooldown claim, then the planned refreshes in parallel).

use crate::api::{json, read_json_or_default, ApiResult};
use crate::auth::authenticate;
use crate::services::refresh::{refresh, RefreshBody};
use crate::store::pending::pending_providers;
use serde_json::json;
use tributary_core::Provider;
use worker::{Request, RouteContext};

/// `GET /api/pending-updates` → `{"<provider>": bool, …}`, every provider named.
pub async fn pending(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let pending = pending_providers(&ctx.env, &session.claims.user_id).await?;
    let flags: serde_json::Map<String, serde_json::Value> =
        Provider::ALL.into_iter().map(|p| (p.as_str().to_owned(), json!(pending.contains(&p)))).collect();
    json(200, &flags)
}

/// `POST /api/holdings/refresh {"providers"?: [...], "confirm_cost"?: bool}`.
pub async fn post(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: RefreshBody = read_json_or_default(&mut req).await?;
    refresh(&ctx.env, &session, body).await
}
