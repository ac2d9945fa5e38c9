//! `GET /api/pending-updates` (two D1 reads at once, never a provider call) and `POST /api/holdings/refresh`
//! (the core's refresh policy, an atomic cooldown claim, then the planned refreshes in parallel).

use crate::api::{json, read_json_or_default, ApiResult};
use crate::auth::authenticate;
use crate::services::refresh::{refresh, RefreshBody};
use crate::store::pending::pending_providers;
use serde_json::json;
use tributary_core::Provider;
use worker::{Request, RouteContext};

/// `GET /api/pending-updates` → `{"<provider>": bool, …, "transactions": {"<provider>": bool, …}}`:
/// every provider's holdings flag (as before) and, beside them, its transactions flag.
pub async fn pending(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let user = &session.claims.user_id;
    let (pending, transactions) = futures_util::try_join!(
        pending_providers(&ctx.env, user),
        crate::store::transactions::pending_flags(&ctx.env, user)
    )?;
    let mut flags: serde_json::Map<String, serde_json::Value> =
        Provider::ALL.into_iter().map(|p| (p.as_str().to_owned(), json!(pending.contains(&p)))).collect();
    let transactions: serde_json::Map<String, serde_json::Value> = Provider::ALL
        .into_iter()
        .map(|p| (p.as_str().to_owned(), json!(transactions.iter().any(|(f, on, _)| *f == p && *on))))
        .collect();
    flags.insert("transactions".into(), serde_json::Value::Object(transactions));
    json(200, &flags)
}

/// `POST /api/holdings/refresh {"providers"?: [...], "confirm_cost"?: bool}`.
pub async fn post(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: RefreshBody = read_json_or_default(&mut req).await?;
    refresh(&ctx.env, &session, body).await
}
