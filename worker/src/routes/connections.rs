//! `POST /api/connections {institution, need_trading, redirect}`: link-time routing. The core
//! chooses the provider (health-aware); the answer is that provider's connection flow plus the
//! decision, so the app can show which provider is used and why.

use crate::api::{json, read_json, ApiResult};
use crate::auth::authenticate;
use crate::services::health::provider_health;
use crate::services::{plaid, snaptrade};
use serde::Deserialize;
use serde_json::json;
use tributary_core::coverage::{CoverageMap, RoutingDecision};
use tributary_core::institutions::AliasTable;
use tributary_core::snaptrade::PortalConnectionType;
use tributary_core::url::validate_redirect;
use tributary_core::{Provider, ValidationError};
use worker::{Request, RouteContext};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectRequest {
    institution: Option<String>,
    #[serde(default)]
    need_trading: bool,
    redirect: Option<String>,
}

/// `POST /api/connections` → `{provider, decision, flow: {kind, url, …}}`.
pub async fn create(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: ConnectRequest = read_json(&mut req).await?;
    let institution = body.institution.as_deref().unwrap_or_default();
    let redirect = body.redirect.as_deref().ok_or(ValidationError::Empty { field: "redirect" })?;
    let redirect = validate_redirect(redirect, session.config.environment.is_development())?.to_owned();
    let health = provider_health(&ctx.env, &session).await;
    let decision: RoutingDecision =
        CoverageMap::embedded().choose_provider(AliasTable::embedded(), institution, body.need_trading, &health)?;
    let flow = match decision.provider {
        Provider::SnapTrade => {
            let connection_type =
                if body.need_trading { PortalConnectionType::Trade } else { PortalConnectionType::Read };
            let institution =
                decision.institution.as_ref().filter(|s| tributary_core::snaptrade::broker_code(s).is_some());
            let url = snaptrade::portal_url(&ctx.env, &session, institution, connection_type, None, &redirect).await?;
            json!({ "kind": "snaptrade_portal", "url": url, "redirect_url": url })
        }
        Provider::Plaid => {
            let webhook = crate::routes::plaid::webhook_url(&req)?;
            let institution = decision.institution.as_ref();
            match plaid::create_link(&ctx.env, &session, institution, &redirect, Some(&webhook)).await? {
                plaid::Linked::Done(link) => json!({
                    "kind": "plaid_hosted_link", "url": link.hosted_link_url,
                    "hosted_link_url": link.hosted_link_url, "link_token": link.link_token,
                }),
                plaid::Linked::AlreadyLinked(item) => return crate::routes::plaid::already_linked(&item),
            }
        }
    };
    json(200, &json!({ "provider": decision.provider, "decision": decision, "flow": flow }))
}
