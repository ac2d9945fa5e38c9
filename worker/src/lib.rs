//! Tributary's Cloudflare Worker: the thin shell around `tributary-core`.
//!
//! It owns HTTP (routes declared here, in one place), session checks, D1/KV access and the
//! outbound provider clients. Decisions come from the core; this crate carries them out.

mod api;
mod auth;
mod calls;
mod clock;
mod env;
mod institutions;
mod port;
mod providers;
mod registry;
mod routes;
mod services;
mod store;

use api::{finish, ApiResult};
use tributary_core::Provider;
use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router, ScheduleContext, ScheduledEvent};

/// Adapts a handler returning [`ApiResult`] to the router's signature, rendering errors as JSON.
async fn api(handler: impl std::future::Future<Output = ApiResult>) -> Result<Response> {
    Ok(finish(handler.await))
}

/// Every route the router below declares, as (method, path pattern): a 405 answers `Allow` from
/// it. `tests/e2e/contract.rs` checks that it, the router and `openapi.yaml` name the same routes.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/health"),
    ("GET", "/api/me"),
    ("POST", "/api/dev/session"),
    ("POST", "/api/dev/clock"),
    ("POST", "/api/snaptrade/register"),
    ("POST", "/api/snaptrade/connection-url"),
    ("POST", "/api/snaptrade/connections/sync"),
    ("GET", "/api/snaptrade/connections"),
    ("GET", "/api/snaptrade/holdings"),
    ("GET", "/api/institutions"),
    ("GET", "/api/connections"),
    ("GET", "/api/connections/health"),
    ("GET", "/api/ops/metrics"),
    ("POST", "/api/connections"),
    ("GET", "/api/portfolio"),
    ("GET", "/api/pending-updates"),
    ("POST", "/api/holdings/refresh"),
    ("POST", "/api/migrations"),
    ("GET", "/api/migrations/:id"),
    ("GET", "/api/transactions"),
    ("GET", "/api/transactions.csv"),
    ("POST", "/api/transactions/sync"),
    ("GET", "/api/transactions/reconciliation"),
    ("GET", "/api/accounts/:id/symbols"),
    ("POST", "/api/orders/preview"),
    ("POST", "/api/orders"),
    ("GET", "/api/orders"),
    ("GET", "/api/orders/:id"),
    ("POST", "/api/orders/:id/cancel"),
    ("POST", "/api/plaid/link"),
    ("POST", "/api/plaid/exchange"),
    ("GET", "/api/plaid/holdings"),
    ("GET", "/api/plaid/items"),
    ("DELETE", "/api/plaid/items/:id"),
    ("POST", "/api/plaid/items/:id/repair"),
    ("POST", "/api/schwab/authorize"),
    ("POST", "/api/schwab/callback"),
    ("GET", "/api/schwab/holdings"),
    ("GET", "/api/schwab/connections"),
    ("POST", "/api/ibkr/connect"),
    ("GET", "/api/ibkr/holdings"),
    ("GET", "/api/ibkr/connections"),
    ("DELETE", "/api/ibkr/connections/:id"),
    ("POST", "/webhooks/plaid"),
    ("POST", "/webhooks/snaptrade"),
    ("POST", "/mcp"),
];

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    clock::load(&env).await;
    let method = req.inner().method();
    let path = req.path();
    let cors = api::cors(&req, &env, &path);
    if method == "OPTIONS"
        && tributary_core::origin::cors_applies(&path)
        && cors != tributary_core::origin::Cors::SameOrigin
    {
        // A browser's preflight for a cross-origin call (a plain OPTIONS is the router's 405).
        return Ok(api::preflight(&cors));
    }
    if !api::is_routable_method(&method) {
        // workers-rs reads a method it does not know as GET: never let one reach a GET handler.
        return Ok(api::with_cors(api::unroutable_method(&method, &path, ROUTES), &cors));
    }
    let router = Router::new()
        .get_async("/api/health", |req, ctx: RouteContext<()>| api(routes::health::get(req, ctx)))
        .get_async("/api/me", |req, ctx| api(routes::me::get(req, ctx)))
        .post_async("/api/dev/session", |req, ctx| api(routes::dev::create_session(req, ctx)))
        .post_async("/api/dev/clock", |req, ctx| api(routes::dev::advance_clock(req, ctx)))
        .post_async("/api/snaptrade/register", |req, ctx| api(routes::snaptrade::register(req, ctx)))
        .post_async("/api/snaptrade/connection-url", |req, ctx| api(routes::snaptrade::connection_url(req, ctx)))
        .post_async("/api/snaptrade/connections/sync", |req, ctx| api(routes::snaptrade::sync(req, ctx)))
        .get_async("/api/snaptrade/connections", |req, ctx| api(routes::snaptrade::list_connections(req, ctx)))
        .get_async("/api/snaptrade/holdings", |req, ctx| api(routes::holdings::get(req, ctx, Provider::SnapTrade)))
        .get_async("/api/institutions", |req, ctx| api(routes::institutions::search(req, ctx)))
        .get_async("/api/connections", |req, ctx| api(routes::connected::list(req, ctx)))
        .get_async("/api/connections/health", |req, ctx| api(routes::connection_health::get(req, ctx)))
        .get_async("/api/ops/metrics", |req, ctx| api(routes::ops::metrics(req, ctx)))
        .post_async("/api/connections", |req, ctx| api(routes::connections::create(req, ctx)))
        .get_async("/api/portfolio", |req, ctx| api(routes::portfolio::get(req, ctx)))
        .get_async("/api/pending-updates", |req, ctx| api(routes::refresh::pending(req, ctx)))
        .post_async("/api/holdings/refresh", |req, ctx| api(routes::refresh::post(req, ctx)))
        .post_async("/api/migrations", |req, ctx| api(routes::migrations::create(req, ctx)))
        .get_async("/api/migrations/:id", |req, ctx| api(routes::migrations::get(req, ctx)))
        .get_async("/api/transactions", |req, ctx| api(routes::transactions::list(req, ctx)))
        .get_async("/api/transactions.csv", |req, ctx| api(routes::transactions::csv(req, ctx)))
        .post_async("/api/transactions/sync", |req, ctx| api(routes::transactions::sync(req, ctx)))
        .get_async("/api/transactions/reconciliation", |req, ctx| api(routes::transactions::reconciliation(req, ctx)))
        .get_async("/api/accounts/:id/symbols", |req, ctx| api(routes::orders::symbols(req, ctx)))
        .post_async("/api/orders/preview", |req, ctx| api(routes::orders::preview(req, ctx)))
        .post_async("/api/orders", |req, ctx| api(routes::orders::place(req, ctx)))
        .get_async("/api/orders", |req, ctx| api(routes::orders::list(req, ctx)))
        .get_async("/api/orders/:id", |req, ctx| api(routes::orders::get(req, ctx)))
        .post_async("/api/orders/:id/cancel", |req, ctx| api(routes::orders::cancel(req, ctx)))
        .post_async("/api/plaid/link", |req, ctx| api(routes::plaid::link(req, ctx)))
        .post_async("/api/plaid/exchange", |req, ctx| api(routes::plaid::exchange(req, ctx)))
        .get_async("/api/plaid/holdings", |req, ctx| api(routes::holdings::get(req, ctx, Provider::Plaid)))
        .get_async("/api/plaid/items", |req, ctx| api(routes::plaid::list_items(req, ctx)))
        .delete_async("/api/plaid/items/:id", |req, ctx| api(routes::plaid::remove(req, ctx)))
        .post_async("/api/plaid/items/:id/repair", |req, ctx| api(routes::plaid::repair(req, ctx)))
        .post_async("/api/schwab/authorize", |req, ctx| api(routes::schwab::authorize(req, ctx)))
        .post_async("/api/schwab/callback", |req, ctx| api(routes::schwab::callback(req, ctx)))
        .get_async("/api/schwab/holdings", |req, ctx| api(routes::holdings::get(req, ctx, Provider::Schwab)))
        .get_async("/api/schwab/connections", |req, ctx| api(routes::schwab::list_connections(req, ctx)))
        .post_async("/api/ibkr/connect", |req, ctx| api(routes::ibkr::connect(req, ctx)))
        .get_async("/api/ibkr/holdings", |req, ctx| api(routes::holdings::get(req, ctx, Provider::IbkrFlex)))
        .get_async("/api/ibkr/connections", |req, ctx| api(routes::ibkr::list_connections(req, ctx)))
        .delete_async("/api/ibkr/connections/:id", |req, ctx| api(routes::ibkr::remove(req, ctx)))
        .post_async("/webhooks/plaid", |req, ctx| api(routes::webhooks::plaid(req, ctx)))
        .post_async("/webhooks/snaptrade", |req, ctx| api(routes::webhooks::snaptrade(req, ctx)))
        .post_async("/mcp", |req, ctx| api(routes::mcp::post(req, ctx)))
        .run(req, env.clone());
    // Every provider call and webhook this request made is written in one batch before it answers.
    let response = calls::recorded(&env, router).await;
    Ok(api::with_cors(api::json_fallbacks(response, &method, &path, ROUTES), &cors))
}

/// The cron trigger (`[triggers] crons` in `wrangler.toml`): every provider's due reads (IBKR
/// Flex: pending statements, the daily pull), then the re-read of copies past their TTL that no
/// webhook refreshed, through the shared fetch path; one log line per provider and reason.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    clock::load(&env).await;
    for reads in calls::recorded(&env, services::holdings::scheduled_reads(&env)).await {
        let line = serde_json::json!({"level": "info", "event": "scheduled", "reads": reads});
        worker::console_log!("{line}");
    }
}
