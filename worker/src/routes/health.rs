//! `GET /api/health`: whether D1, KV and the configuration are usable, and the version running.

use crate::api::{json, ApiResult};
use crate::env::load_config;
use crate::store;
use serde_json::json;
use tributary_core::Provider;
use worker::{Request, RouteContext};

/// Answers 200 when every dependency is reachable and the config is complete, 503 otherwise.
pub async fn get(_req: Request, ctx: RouteContext<()>) -> ApiResult {
    let d1 = store::schema_version(&ctx.env).await;
    let kv = store::kv_reachable(&ctx.env).await;
    let config = load_config(&ctx.env);
    let healthy = d1.is_ok() && kv.is_ok() && config.is_ok();
    let providers: serde_json::Map<String, serde_json::Value> = Provider::ALL
        .into_iter()
        .map(|p| {
            let configured = config.as_ref().is_ok_and(|c| c.provider(p).is_some());
            (p.as_str().to_owned(), json!({ "configured": configured }))
        })
        .collect();
    let body = json!({
        "status": if healthy { "ok" } else { "degraded" },
        "version": tributary_core::VERSION,
        "environment": config.as_ref().map(|c| c.environment.name().to_owned()).ok(),
        "d1": match &d1 {
            Ok(schema) => json!({ "ok": true, "schema": schema }),
            Err(e) => json!({ "ok": false, "error": e }),
        },
        "kv": match &kv {
            Ok(()) => json!({ "ok": true }),
            Err(e) => json!({ "ok": false, "error": e }),
        },
        "config": match &config {
            Ok(_) => json!({ "ok": true }),
            Err(e) => json!({ "ok": false, "problems": e.problems.iter().map(|p| json!({"name": p.name, "problem": p.problem})).collect::<Vec<_>>() }),
        },
        "providers": providers,
    });
    json(if healthy { 200 } else { 503 }, &body)
}
