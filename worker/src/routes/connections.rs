//! `POST /api/connections {institution, need_trading, redirect}`: link-time routing. The core
//! chooses the provider (health-aware); the answer is that provider's connection flow plus the
//! decision, so the app can show which provider is used and why.

use crate::api::{json, read_json, ApiResult};
use crate::auth::authenticate;
use crate::port::{self, Connect};
use crate::registry::port;
use crate::services::health::provider_health;
use serde::Deserialize;
use serde_json::json;
use tributary_core::coverage::{CoverageMap, RoutingDecision};
use tributary_core::institutions::AliasTable;
use tributary_core::{Provider, ValidationError};
use worker::{Request, RouteContext};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectBody {
    institution: Option<String>,
    #[serde(default)]
    need_trading: bool,
    redirect: Option<String>,
}

/// `POST /api/connections` → `{provider, decision, flow: {kind, url, …}}`.
pub async fn create(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: ConnectBody = read_json(&mut req).await?;
    let institution = body.institution.as_deref().unwrap_or_default();
    let redirect = body.redirect.as_deref().ok_or(ValidationError::Empty { field: "redirect" })?;
    let redirect = crate::api::pinned_redirect(&req, &session.config, redirect)?;
    let health = provider_health(&ctx.env, &session).await;
    let decision: RoutingDecision =
        CoverageMap::embedded().choose_provider(AliasTable::embedded(), institution, body.need_trading, &health)?;
    let origin = crate::api::origin(&req)?;
    let request = port::ConnectRequest {
        institution: decision.institution.as_ref(),
        need_trading: body.need_trading,
        redirect: &redirect,
        webhook_origin: &origin,
    };
    let flow = match port(decision.provider).connect(&ctx.env, &session, request).await? {
        Connect::Flow(flow) => flow,
        Connect::AlreadyConnected { name, existing } => return already_connected(decision.provider, &name, &existing),
    };
    json(200, &json!({ "provider": decision.provider, "decision": decision, "flow": flow }))
}

/// 409 `already_connected`: the user already has `name` at `provider` (shown as `item`); nothing
/// new was created or billed.
pub fn already_connected(provider: Provider, name: &str, existing: &serde_json::Value) -> ApiResult {
    let message = format!("{name} is already linked through {}; nothing new was created.", provider.display_name());
    json(409, &json!({ "error": {"code": "already_connected", "message": message}, "item": existing }))
}
