//! `GET /api/connections`: which providers the session user has connected — one D1 read, never
//! a provider call — so a client fetches holdings only from those (reading an unconnected
//! provider's holdings endpoint would register the user with it and cache an empty snapshot).

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::services::connections;
use serde_json::json;
use worker::{Request, RouteContext};

/// `GET /api/connections` → `{"providers": [{"provider": "snaptrade", "connected": bool}, …]}`,
/// one entry per provider Tributary knows, in a stable order.
pub async fn list(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let providers = connections::list(&ctx.env, &session).await?;
    json(200, &json!({ "providers": providers }))
}
