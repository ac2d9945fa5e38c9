//! `/api/snaptrade/*`: registration, the connection portal, syncing connections, holdings.
//! Every route needs a session and only ever touches the session user's rows.

use crate::api::{json, now_unix, read_json, ApiResult};
use crate::auth::authenticate;
use crate::institutions::resolve;
use crate::providers::snaptrade::SnapTradeUser;
use crate::services::snaptrade::{client, ensure_registered, refresh_cache};
use crate::store::connections::{self, ConnectionRecord};
use crate::store::holdings;
use serde::Deserialize;
use serde_json::{json, Value};
use tributary_core::cache::CachePolicy;
use tributary_core::provider_error::ProviderError;
use tributary_core::snaptrade::{broker_code, login_body, PortalConnectionType};
use tributary_core::url::validate_redirect;
use tributary_core::{Provider, ValidationError};
use worker::{Request, RouteContext};

const P: Provider = Provider::SnapTrade;

/// `POST /api/snaptrade/register`: idempotent; never returns the user secret.
pub async fn register(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env)?;
    let (_, _, created) = ensure_registered(&ctx.env, &session).await?;
    json(if created { 201 } else { 200 }, &json!({ "provider": "snaptrade", "registered": true, "created": created }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionUrlRequest {
    institution: Option<String>,
    connection_type: Option<String>,
    reconnect: Option<String>,
    redirect: Option<String>,
}

/// `POST /api/snaptrade/connection-url {institution?, connection_type?, reconnect?, redirect}` → `{redirect_url}`.
pub async fn connection_url(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env)?;
    let body: ConnectionUrlRequest = read_json(&mut req).await?;
    let redirect = body.redirect.as_deref().ok_or(ValidationError::Empty { field: "redirect" })?;
    let redirect = validate_redirect(redirect, session.config.environment.is_development())?.to_owned();
    let connection_type = body
        .connection_type
        .as_deref()
        .map(PortalConnectionType::parse)
        .transpose()?
        .unwrap_or(PortalConnectionType::Read);
    let broker = match body.institution.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => {
            let slug = resolve(name).ok_or(ValidationError::BadCharacters {
                field: "institution",
                allowed: "an institution Tributary knows",
            })?;
            Some(broker_code(&slug).ok_or(ValidationError::BadCharacters {
                field: "institution",
                allowed: "an institution SnapTrade serves",
            })?)
        }
    };
    if let Some(reconnect) = body.reconnect.as_deref() {
        if !connections::belongs_to(&ctx.env, &session.claims.user_id, P, reconnect).await? {
            return Err(ProviderError::NotFound { provider: P, what: "that connection".into() }.into());
        }
    }
    let (user_id, secret, _) = ensure_registered(&ctx.env, &session).await?;
    let login = login_body(broker, connection_type, body.reconnect.as_deref(), &redirect);
    let url = client(&session)?.login(&SnapTradeUser { user_id: &user_id, user_secret: &secret }, &login).await?;
    json(200, &json!({ "redirect_url": url }))
}

fn connection_record(value: &Value) -> Option<ConnectionRecord> {
    let brokerage = value.get("brokerage");
    let name = brokerage
        .and_then(|b| b.get("display_name").or_else(|| b.get("name")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(ConnectionRecord {
        external_id: value.get("id")?.as_str()?.to_owned(),
        institution_slug: name.as_deref().and_then(resolve).map(|s| s.as_str().to_owned()),
        institution_name: name,
        connection_type: if value.get("type").and_then(Value::as_str) == Some("trade") { "trade" } else { "read" },
        disabled: value.get("disabled").and_then(Value::as_bool).unwrap_or(false),
        disabled_date: value.get("disabled_date").and_then(Value::as_str).map(str::to_owned),
    })
}

/// `POST /api/snaptrade/connections/sync`: stores the user's authorizations, then their accounts and holdings.
pub async fn sync(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env)?;
    let user = &session.claims.user_id;
    let (user_id, secret, _) = ensure_registered(&ctx.env, &session).await?;
    let credentials = SnapTradeUser { user_id: &user_id, user_secret: &secret };
    let authorizations = client(&session)?.get(&credentials, "/authorizations", "authorizations").await?;
    let list = authorizations
        .as_array()
        .ok_or(ProviderError::Malformed { provider: P, detail: "authorizations: expected a list".into() })?;
    let now = now_unix();
    let statements = list
        .iter()
        .filter_map(connection_record)
        .map(|record| connections::upsert_statement(&ctx.env, user, P, &record, now))
        .collect::<Result<Vec<_>, _>>()?;
    if !statements.is_empty() {
        crate::store::db(&ctx.env)?.batch(statements).await?;
    }
    let (fetched, _) = refresh_cache(&ctx.env, &session).await?;
    let connections = connections::list(&ctx.env, user, P).await?;
    json(
        200,
        &json!({ "connections": connections, "accounts": fetched.accounts.len(), "positions": fetched.positions.len() }),
    )
}

/// `GET /api/snaptrade/holdings`: the cached holdings, fetched first when there are none yet.
pub async fn holdings(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env)?;
    let user = &session.claims.user_id;
    let snapshot = holdings::snapshot(&ctx.env, user, P).await?;
    let (data, from_cache, last_updated) = match snapshot.as_ref().and_then(|s| s.fetched_at) {
        Some(fetched_at) => (holdings::read(&ctx.env, user, P).await?, true, fetched_at),
        None => {
            let (data, fetched_at) = refresh_cache(&ctx.env, &session).await?;
            (data, false, fetched_at)
        }
    };
    let cache_info = CachePolicy::default().cache_info(P, last_updated, now_unix(), from_cache);
    json(
        200,
        &json!({
            "provider": "snaptrade",
            "accounts": data.accounts,
            "positions": data.positions,
            "balances": data.balances,
            "last_updated": last_updated,
            "cache_info": cache_info,
            "last_error": snapshot.filter(|s| s.status == "failed").map(|s| json!({"code": s.error_code, "message": s.error_message, "at": s.attempted_at})),
        }),
    )
}

/// `GET /api/snaptrade/connections`: type read/trade, disabled, disabled_date, needs repair.
pub async fn list_connections(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env)?;
    let connections = connections::list(&ctx.env, &session.claims.user_id, P).await?;
    json(200, &json!({ "connections": connections }))
}
