//! `GET /api/connections/health?probe_trading=false`: every connection's health, from D1 alone
//! (no provider is called, the trading probe included). Parsing and rendering only; the rules are
//! the core's (`tributary_core::connection_health`).

use crate::api::{json, ApiError, ApiResult};
use crate::auth::authenticate;
use crate::services::connection_health;
use serde_json::json;
use tributary_core::connection_health::parse_probe_trading;
use worker::{Request, RouteContext};

/// `GET /api/connections/health` → `{"connections": [ConnectionHealth, …]}`, oldest first.
pub async fn get(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let probe_trading = parse_probe_trading(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let connections = connection_health::report(&ctx.env, &session, probe_trading).await?;
    json(200, &json!({ "connections": connections }))
}
