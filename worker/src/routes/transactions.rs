//! The ledger's routes: `GET /api/transactions` (one deduplicated page, newest first),
//! `GET /api/transactions.csv` (the same filters, every row, as CSV), `POST
//! /api/transactions/sync {providers?}` (fetch-only, under a cooldown) and `GET
//! /api/transactions/reconciliation`. Parsing and rendering only; the rules are the core's.

use crate::api::{json, read_json_or_default, ApiError, ApiResult};
use crate::auth::{authenticate, Authenticated};
use crate::services::transactions;
use serde::Deserialize;
use serde_json::json;
use tributary_core::time::Date;
use tributary_core::transactions::query::TransactionQuery;
use tributary_core::transactions::render::to_csv;
use tributary_core::Provider;
use worker::{Request, Response, RouteContext};

/// The most rows one CSV download holds (a five-year window of a very active account fits).
const CSV_MAX_ROWS: usize = 50_000;

fn query(req: &Request, session: &Authenticated) -> Result<TransactionQuery, ApiError> {
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let today = Date::from_unix(session.now());
    Ok(TransactionQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), today)?)
}

/// `GET /api/transactions?from&to&account&type&cursor&limit`.
pub async fn list(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let query = query(&req, &session)?;
    let page = transactions::list(&ctx.env, &session, &query).await?;
    json(200, &page.body(&query))
}

/// `GET /api/transactions.csv` with the same filters (every page; the cursor and limit are ignored).
pub async fn csv(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let query = query(&req, &session)?;
    let rows = transactions::all(&ctx.env, &session, &query, CSV_MAX_ROWS).await?;
    let mut response = Response::ok(to_csv(&rows)).map_err(|e| ApiError::internal("csv response", e))?;
    let headers = response.headers_mut();
    let disposition = format!("attachment; filename=\"transactions-{}-to-{}.csv\"", query.from, query.to);
    for (name, value) in [("Content-Type", "text/csv; charset=utf-8"), ("Content-Disposition", disposition.as_str())] {
        headers.set(name, value).map_err(|e| ApiError::internal("csv headers", e))?;
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncBody {
    #[serde(default)]
    providers: Option<Vec<String>>,
}

/// `POST /api/transactions/sync {providers?}`.
pub async fn sync(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: SyncBody = read_json_or_default(&mut req).await?;
    let providers = body
        .providers
        .map(|names| names.iter().map(|n| Provider::parse(n)).collect::<Result<Vec<_>, _>>())
        .transpose()?;
    transactions::sync(&ctx.env, &session, providers).await
}

/// `GET /api/transactions/reconciliation` → `{mismatches: [...]}`.
pub async fn reconciliation(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let mismatches = transactions::reconciliation(&ctx.env, &session).await?;
    json(200, &json!({ "mismatches": mismatches }))
}
