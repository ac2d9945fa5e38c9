//! `GET /api/<provider>/holdings`, written once for every provider: the cached holdings (fetched
//! first when there are none yet), `cache_info`, `has_pending_updates` and `last_error`.

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::services::holdings::{cached_or_fetch, has_pending, holdings_body};
use tributary_core::Provider;
use worker::{Request, RouteContext};

/// The session user's `provider` holdings.
pub async fn get(req: Request, ctx: RouteContext<()>, provider: Provider) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let data = cached_or_fetch(&ctx.env, &session, provider).await?;
    let pending = has_pending(&ctx.env, &session, provider).await?;
    json(200, &holdings_body(&data, pending))
}
