//! `GET /api/institutions?q=`: the institution picker — each match with the provider a read-only
//! and a trading connection would use right now, why, and the resulting capabilities.

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::services::health::provider_health;
use serde_json::json;
use tributary_core::coverage::catalog;
use tributary_core::ValidationError;
use worker::{Request, RouteContext};

/// Longest search query accepted.
const MAX_QUERY_CHARS: usize = 100;

/// `GET /api/institutions?q=<search>`; a blank or absent `q` lists the popular institutions.
pub async fn search(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let url = req.url().map_err(|e| crate::api::ApiError::internal("request url", e))?;
    let query = url.query_pairs().find(|(k, _)| k == "q").map(|(_, v)| v.into_owned()).unwrap_or_default();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ValidationError::TooLong { field: "q", max: MAX_QUERY_CHARS }.into());
    }
    let health = provider_health(&ctx.env, &session).await;
    json(200, &json!({ "query": query, "institutions": catalog(&query, &health) }))
}
