//! The trading routes: `GET /api/accounts/{id}/symbols?q=`, `POST /api/orders/preview`,
//! `POST /api/orders {preview_id}` (with `Idempotency-Key`), `GET /api/orders?account_id=&state=`,
//! `GET /api/orders/{id}` and `POST /api/orders/{id}/cancel`. Parsing and rendering only: the
//! rules are the core's, carried out by `services::trading`.

use crate::api::{read_json, ApiError, ApiResult};
use crate::auth::authenticate;
use crate::services::trading;
use serde::Deserialize;
use tributary_core::trading::{OrderRequest, TradingError};
use tributary_core::ValidationError;
use worker::{Request, RouteContext};

fn query_pairs(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    Ok(url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn path_id(ctx: &RouteContext<()>, name: &str) -> Result<String, ApiError> {
    let id = ctx.param(name).map(String::as_str).unwrap_or_default();
    if id.is_empty() || id.len() > 128 {
        return Err(ValidationError::TooLong { field: "id", max: 128 }.into());
    }
    Ok(id.to_owned())
}

/// `GET /api/accounts/{id}/symbols?q=`.
pub async fn symbols(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let account = path_id(&ctx, "id")?;
    let pairs = query_pairs(&req)?;
    trading::search_symbols(&ctx.env, &session, &account, param(&pairs, "q")).await
}

/// `POST /api/orders/preview` with the order.
pub async fn preview(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: OrderRequest = read_json(&mut req).await?;
    trading::preview(&ctx.env, &session, &body).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceBody {
    preview_id: String,
}

/// `POST /api/orders {preview_id}` with `Idempotency-Key`.
pub async fn place(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let key = req.headers().get("idempotency-key").ok().flatten();
    let body: PlaceBody = read_json(&mut req).await?;
    let preview_id = body.preview_id.trim();
    if preview_id.is_empty() || preview_id.len() > 128 {
        return Err(TradingError::PreviewNotFound(preview_id.chars().take(128).collect()).into());
    }
    trading::place(&ctx.env, &session, key.as_deref(), preview_id).await
}

/// `GET /api/orders?account_id=&state=open|executed|all`.
pub async fn list(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let pairs = query_pairs(&req)?;
    let state = param(&pairs, "state").unwrap_or("all");
    if !matches!(state, "open" | "executed" | "all") {
        return Err(ValidationError::BadCharacters { field: "state", allowed: "open, executed or all" }.into());
    }
    let account = param(&pairs, "account_id").map(str::trim).filter(|a| !a.is_empty());
    if account.is_some_and(|a| a.len() > 128) {
        return Err(ValidationError::TooLong { field: "account_id", max: 128 }.into());
    }
    trading::list(&ctx.env, &session, account, state).await
}

/// `GET /api/orders/{id}`.
pub async fn get(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let id = path_id(&ctx, "id")?;
    trading::get(&ctx.env, &session, &id).await
}

/// `POST /api/orders/{id}/cancel`.
pub async fn cancel(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let id = path_id(&ctx, "id")?;
    trading::cancel(&ctx.env, &session, &id).await
}
