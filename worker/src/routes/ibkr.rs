//! `/api/ibkr/*`: connecting IBKR Flex with a pasted token and Activity query id, and the user's
//! Flex connections (list, remove). Holdings are the shared route's (`GET /api/ibkr/holdings`).

use crate::api::{json, read_json, ApiResult};
use crate::auth::authenticate;
use crate::services::ibkr_flex::{connect as check_and_store, list_connections as list, remove as remove_connection};
use serde::Deserialize;
use serde_json::json;
use tributary_core::provider_error::ProviderError;
use tributary_core::{Provider, ValidationError};
use worker::{Request, RouteContext};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectRequest {
    token: Option<String>,
    query_id: Option<String>,
}

/// `POST /api/ibkr/connect {token, query_id}` → 201 `{connection, statement_date, accounts,
/// positions, repaired}` once IBKR sent a statement, 202 `{status: "statement_pending",
/// connection, retry_after_s}` (and `Retry-After`) while it is still generating one; IBKR's
/// refusal (expired token, IP restriction, unknown query, not XML, a missing section) → its typed
/// error with nothing stored. The token and query id are never answered back.
pub async fn connect(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let body: ConnectRequest = read_json(&mut req).await?;
    let token = body.token.as_deref().ok_or(ValidationError::Empty { field: "token" })?;
    let query_id = body.query_id.as_deref().ok_or(ValidationError::Empty { field: "query_id" })?;
    let connected = check_and_store(&ctx.env, &session, token, query_id).await?;
    match (&connected.statement, connected.retry_after_s) {
        (Some(statement), _) => json(
            201,
            &json!({
                "status": "connected",
                "connection": connected.connection,
                "statement_date": statement.statement_date,
                "accounts": statement.accounts,
                "positions": statement.positions,
                "repaired": connected.repaired,
            }),
        ),
        (None, retry_after_s) => {
            let mut response = json(
                202,
                &json!({
                    "status": "statement_pending",
                    "connection": connected.connection,
                    "retry_after_s": retry_after_s,
                    "repaired": connected.repaired,
                    "message": "IBKR is still generating the statement; Tributary will finish reading it shortly.",
                }),
            )?;
            if let Some(seconds) = retry_after_s {
                let _ = response.headers_mut().set("Retry-After", &seconds.to_string());
            }
            Ok(response)
        }
    }
}

/// `GET /api/ibkr/connections` → `{connections: [{…, statement_date, last_statement_at,
/// statement_pending, next_poll_at}]}`.
pub async fn list_connections(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    json(200, &json!({ "connections": list(&ctx.env, &session).await? }))
}

/// `DELETE /api/ibkr/connections/{id}` → `{removed: true, connection, accounts, positions,
/// balances}`; another user's or an unknown id → 404 `provider_not_found` (like a Plaid Item's).
pub async fn remove(req: Request, ctx: RouteContext<()>) -> ApiResult {
    let session = authenticate(&req, &ctx.env).await?;
    let id = ctx.param("id").map(String::as_str).unwrap_or_default().to_owned();
    let removed = remove_connection(&ctx.env, &session, &id).await?.ok_or_else(|| ProviderError::NotFound {
        provider: Provider::IbkrFlex,
        what: "that IBKR Flex connection".into(),
    })?;
    json(
        200,
        &json!({
            "removed": true,
            "connection": removed.connection,
            "accounts": removed.accounts,
            "positions": removed.positions,
            "balances": removed.balances,
        }),
    )
}
