//! `GET /api/portfolio?view=by_account|consolidated`: every provider's holdings (cached, or
//! fetched when never fetched) merged by the core — dedup applied to cached and fresh data alike —
//! with each provider's status and `cache_info`. A failed provider is reported, never fatal.

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::services::holdings::merged_portfolio;
use tributary_core::merge::MergeView;
use worker::{Request, RouteContext};

/// `GET /api/portfolio?view=…` (default `consolidated`).
pub async fn get(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let url = req.url().map_err(|e| crate::api::ApiError::internal("request url", e))?;
    let view = url.query_pairs().find(|(k, _)| k == "view").map(|(_, v)| v.into_owned());
    let view = view.as_deref().map(MergeView::parse).transpose()?.unwrap_or_default();
    let merged = merged_portfolio(&ctx.env, &session).await?;
    json(200, &merged.view(view))
}
