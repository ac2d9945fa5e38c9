//! `POST /mcp`: the Model Context Protocol endpoint (Streamable HTTP, stateless, both protocol
//! eras, `application/json` answers). Wiring only: the `Origin` and session checks the API uses,
//! the API's body limit, then the core's protocol rules ([`tributary_core::mcp`]); a tool call
//! runs the same services as the HTTP routes (`GET /api/portfolio`, `POST /api/holdings/refresh`,
//! `GET /api/connections`, `GET /api/transactions`, `POST /api/orders/preview`, `POST /api/orders`). `GET` and `DELETE` are the router's 405.

use crate::api::{finish, read_bytes, ApiError, ApiResult, MAX_BODY_BYTES};
use crate::auth::{authenticate, Authenticated};
use crate::services::holdings::merged_portfolio;
use crate::services::refresh::{refresh_outcome, RefreshOutcome};
use crate::services::{connections, trading, transactions};
use serde_json::{json, Value};
use tributary_core::mcp::outcomes::{
    connections_summary, health_summary, order_summary, place_disabled, positions_summary, preview_summary,
    refresh_summary, refused_refresh, transactions_summary,
};
use tributary_core::mcp::{handle, render_call, McpHeaders, McpRefusal, Reply, Step, ToolCall, ToolOutcome};
use tributary_core::origin::Cors;
use tributary_core::refresh::{RefreshRequest, RefreshTrigger};
use tributary_core::time::Date;
use worker::{Env, Request, Response, RouteContext};

/// `POST /mcp` with one JSON-RPC message.
pub async fn post(mut req: Request, ctx: RouteContext<()>) -> ApiResult {
    refuse_foreign_origin(&req, &ctx.env)?;
    let session = match authenticate(&req, &ctx.env).await {
        Ok(session) => session,
        Err(error) => return Ok(challenge(finish(Err(error)))),
    };
    let body = read_bytes(&mut req, MAX_BODY_BYTES).await?;
    let header = |name| req.headers().get(name).ok().flatten();
    let headers = McpHeaders {
        protocol_version: header("mcp-protocol-version"),
        method: header("mcp-method"),
        name: header("mcp-name"),
    };
    let reply = match handle(&body, &headers) {
        Step::Reply(reply) => reply,
        Step::Call { context, call } => render_call(&context, run(&ctx.env, &session, call).await),
    };
    render(&reply)
}

/// A present `Origin` must be the worker's own or in `ALLOWED_ORIGINS`: the API's CORS standing
/// (an allowed origin's answer carries the API's CORS headers); else 403.
fn refuse_foreign_origin(req: &Request, env: &Env) -> Result<(), ApiError> {
    match crate::api::cors(req, env, "/mcp") {
        Cors::Refused => Err(McpRefusal::OriginNotAllowed.into()),
        Cors::SameOrigin | Cors::Allowed { .. } => Ok(()),
    }
}

/// A 401 tells the client how to authenticate (`WWW-Authenticate: Bearer`).
fn challenge(mut response: Response) -> Response {
    if response.status_code() == 401 {
        if let Err(e) = response.headers_mut().set("WWW-Authenticate", "Bearer") {
            crate::api::log_failure("set WWW-Authenticate", e);
        }
    }
    response
}

fn render(reply: &Reply) -> ApiResult {
    match &reply.body {
        Some(body) => crate::api::json(reply.status, body),
        None => Response::empty().map(|r| r.with_status(reply.status)).map_err(|e| ApiError::internal("mcp reply", e)),
    }
}

fn failed(error: &ApiError) -> ToolOutcome {
    let failure = error.failure();
    ToolOutcome::failure(format!("{} ({})", failure.message, failure.code))
}

fn structured(value: &impl serde::Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::internal("serialise tool result", e))
}

/// Carries out one validated tool call; every failure becomes an `isError` outcome.
async fn run(env: &Env, session: &Authenticated, call: ToolCall) -> ToolOutcome {
    let outcome = match call {
        ToolCall::GetPositions { view, refresh_provider } => {
            let refreshed = match refresh_provider {
                None => None,
                Some(provider) => {
                    let request = RefreshRequest {
                        providers: Some(vec![provider]),
                        confirm_cost: false,
                        trigger: RefreshTrigger::Manual,
                    };
                    match refresh_outcome(env, session, request).await {
                        Ok(RefreshOutcome::Done(result)) => Some(result),
                        Ok(RefreshOutcome::Refused(decision)) => {
                            return refused_refresh(&decision, session.now())
                                .unwrap_or_else(|| ToolOutcome::failure("the refresh was refused"));
                        }
                        Err(error) => return failed(&error),
                    }
                }
            };
            positions(env, session, view, refreshed).await
        }
        ToolCall::ListConnections => connections::list(env, session).await.and_then(|providers| {
            let listing = json!({ "providers": structured(&providers)? });
            Ok(ToolOutcome::success(connections_summary(&listing), listing))
        }),
        ToolCall::ConnectionHealth { probe_trading } => connections::health(env, session, probe_trading)
            .await
            .map(|health| ToolOutcome::success(health_summary(&health), health)),
        ToolCall::GetTransactions(arguments) => match arguments.query(Date::from_unix(session.now())) {
            Err(invalid) => return invalid.into(),
            Ok(query) => transactions::list(env, session, &query).await.map(|page| {
                let page = page.body(&query);
                ToolOutcome::success(transactions_summary(&page), page)
            }),
        },
        ToolCall::PreviewTrade(order) => trading::preview_order(env, session, order)
            .await
            .map(|preview| ToolOutcome::success(preview_summary(&preview), preview)),
        ToolCall::PlaceOrder { .. } if !session.config.mcp_allow_place => return place_disabled(),
        ToolCall::PlaceOrder { preview_id, idempotency_key } => {
            trading::place_order(env, session, &idempotency_key, &preview_id)
                .await
                .map(|(_, answer)| ToolOutcome::success(order_summary(&answer), answer))
        }
    };
    outcome.unwrap_or_else(|error| failed(&error))
}

async fn positions(
    env: &Env,
    session: &Authenticated,
    view: tributary_core::merge::MergeView,
    refreshed: Option<Value>,
) -> Result<ToolOutcome, ApiError> {
    let merged = merged_portfolio(env, session).await?;
    let mut portfolio = structured(&merged.view(view))?;
    let mut summary = positions_summary(&portfolio);
    if let Some(refresh) = refreshed {
        summary = format!("{} {summary}", refresh_summary(&refresh));
        portfolio["refresh"] = refresh;
    }
    Ok(ToolOutcome::success(summary, portfolio))
}
