//! `GET /api/portfolio?view=by_account|consolidated`: every provider's holdings (cached, or
//! fetched when never fetched) merged by the core — dedup applied to cached and fresh data alike —
//! with each provider's status and `cache_info`. A failed provider is reported, never fatal.

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::services::holdings::{available_providers, provider_results};
use serde_json::json;
use tributary_core::merge::merge_portfolios;
use tributary_core::ValidationError;
use worker::{Request, RouteContext};

/// `GET /api/portfolio?view=…` (default `consolidated`).
pub async fn get(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env)?;
    let url = req.url().map_err(|e| crate::api::ApiError::internal("request url", e))?;
    let view = url.query_pairs().find(|(k, _)| k == "view").map(|(_, v)| v.into_owned());
    let view = match view.as_deref() {
        None | Some("consolidated") => "consolidated",
        Some("by_account") => "by_account",
        Some(_) => {
            return Err(ValidationError::BadCharacters { field: "view", allowed: "by_account or consolidated" }.into())
        }
    };
    let results = provider_results(&ctx.env, &session).await?;
    let merged = merge_portfolios(results, &available_providers(&session));
    let mut body = json!({
        "view": view,
        "cash": merged.cash,
        "totals": merged.totals,
        "providers": merged.providers,
    });
    body[view] = if view == "by_account" { json!(merged.by_account) } else { json!(merged.consolidated) };
    json(200, &body)
}
