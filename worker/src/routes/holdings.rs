//! `GET /api/<provider>/holdings`, written once for every provider: the cached holdings (fetched
//! first when there are none yet), `cache_info`, `has_pending_updates` and `last_error`, plus the
//! provider's own fields (IBKR Flex: `statement_date`).

use crate::api::{json, ApiResult};
use crate::auth::authenticate;
use crate::services::holdings::{cached_or_fetch, has_pending, holdings_body};
use tributary_core::Provider;
use worker::{Request, RouteContext};

/// The session user's `provider` holdings.
pub async fn get(req: Request, ctx: RouteContext<()>, provider: Provider) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let data = cached_or_fetch(&ctx.env, &session, provider).await?;
    let (pending, extra) = futures_util::try_join!(
        has_pending(&ctx.env, &session, provider),
        crate::registry::port(provider).holdings_fields(&ctx.env, &session),
    )?;
    let mut body = holdings_body(&data, pending);
    if let Some(fields) = body.as_object_mut() {
        for (name, value) in extra {
            fields.entry(name).or_insert(value);
        }
    }
    json(200, &body)
}
