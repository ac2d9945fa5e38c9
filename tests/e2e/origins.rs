//! Origins, against the real worker: CORS for the origins in `ALLOWED_ORIGINS` only (preflights,
//! actual answers, the exposed `Retry-After`, never on webhooks), and every flow's `redirect`
//! pinned to the worker's own origin, an allowed origin or a loopback one (development), so no
//! provider hands a person's token to a host someone else chose.

use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::json;
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        cors_preflights_and_answers_only_the_allowed_origins,
        cors_exposes_retry_after_and_never_covers_webhooks,
        every_flow_refuses_a_redirect_to_a_foreign_origin,
    ]
}

/// The allowed origin the suite's development worker is configured with (`ALLOWED_ORIGINS`).
pub const APP_ORIGIN: &str = "https://app.example";

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

async fn preflight(ctx: &Ctx, origin: &str, path: &str) -> reqwest::Response {
    ctx.http
        .request(reqwest::Method::OPTIONS, format!("{}{path}", ctx.dev))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .expect("the worker answers")
}

async fn cors_preflights_and_answers_only_the_allowed_origins(ctx: Arc<Ctx>) -> TestResult {
    let allowed = preflight(&ctx, APP_ORIGIN, "/api/holdings/refresh").await;
    assert_eq!(allowed.status().as_u16(), 204);
    assert_eq!(header(&allowed, "access-control-allow-origin").as_deref(), Some(APP_ORIGIN));
    let methods = header(&allowed, "access-control-allow-methods").unwrap_or_default();
    assert!(["GET", "POST", "DELETE"].iter().all(|m| methods.contains(m)), "{methods}");
    let headers = header(&allowed, "access-control-allow-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(["authorization", "content-type", "idempotency-key"].iter().all(|h| headers.contains(h)), "{headers}");
    assert!(header(&allowed, "vary").is_some_and(|v| v.contains("Origin")));
    assert_eq!(header(&allowed, "access-control-allow-credentials"), None, "bearer tokens, never cookies");

    for stranger in ["https://evil.example", "https://app.example.evil.example", "null", "http://app.example"] {
        let refused = preflight(&ctx, stranger, "/api/holdings/refresh").await;
        assert_eq!(refused.status().as_u16(), 403, "{stranger}");
        assert!(refused.headers().keys().all(|k| !k.as_str().starts_with("access-control-")), "{stranger}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "origin_not_allowed");
    }

    // Actual answers: the allowed origin is echoed (errors included), a stranger gets none.
    let token = ctx.token(&ctx.user("cors"));
    let me = ctx.http.get(format!("{}/api/me", ctx.dev)).bearer_auth(&token).header("Origin", APP_ORIGIN);
    let me = me.send().await.unwrap();
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(header(&me, "access-control-allow-origin").as_deref(), Some(APP_ORIGIN));
    let unauthenticated =
        ctx.http.get(format!("{}/api/me", ctx.dev)).header("Origin", APP_ORIGIN).send().await.unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    assert_eq!(
        header(&unauthenticated, "access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN),
        "a 401 a page can read"
    );
    let stranger =
        ctx.http.get(format!("{}/api/me", ctx.dev)).bearer_auth(&token).header("Origin", "https://evil.example");
    let stranger = stranger.send().await.unwrap();
    assert_eq!(header(&stranger, "access-control-allow-origin"), None);
    assert!(header(&stranger, "vary").is_some_and(|v| v.contains("Origin")), "caches keep origins apart");
    // Same origin, and no Origin at all: nothing added, and a plain OPTIONS is still the router's 405.
    let plain = ctx.http.get(format!("{}/api/me", ctx.dev)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(header(&plain, "access-control-allow-origin"), None);
    let options = ctx.http.request(reqwest::Method::OPTIONS, format!("{}/api/me", ctx.dev)).send().await.unwrap();
    assert_eq!(options.status().as_u16(), 405);
    Ok(())
}

async fn cors_exposes_retry_after_and_never_covers_webhooks(ctx: Arc<Ctx>) -> TestResult {
    // The cooldown's 429 from the allowed origin: Retry-After is there and exposed to the page.
    let user = ctx.user("cors-429");
    let token = ctx.token(&user);
    crate::plaid::link_plaid(&ctx, &token, "Chase", "ins_56").await;
    let refresh = || {
        ctx.http
            .post(format!("{}/api/holdings/refresh", ctx.dev))
            .bearer_auth(&token)
            .header("Origin", APP_ORIGIN)
            .json(&json!({"providers": ["plaid"], "confirm_cost": true}))
            .send()
    };
    assert_eq!(refresh().await.unwrap().status().as_u16(), 200);
    let cooling = refresh().await.unwrap();
    assert_eq!(cooling.status().as_u16(), 429);
    assert!(header(&cooling, "retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)));
    assert_eq!(header(&cooling, "access-control-allow-origin").as_deref(), Some(APP_ORIGIN));
    let exposed = header(&cooling, "access-control-expose-headers").unwrap_or_default().to_ascii_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");

    // Webhooks are server to server: no CORS, whatever the Origin says.
    let hook = ctx.http.post(format!("{}/webhooks/plaid", ctx.dev)).header("Origin", APP_ORIGIN).body("{}");
    let hook = hook.send().await.unwrap();
    assert_eq!(header(&hook, "access-control-allow-origin"), None, "status {}", hook.status());
    let hook_preflight = preflight(&ctx, APP_ORIGIN, "/webhooks/plaid").await;
    assert_eq!(header(&hook_preflight, "access-control-allow-origin"), None);
    assert_ne!(hook_preflight.status().as_u16(), 204);
    Ok(())
}

async fn every_flow_refuses_a_redirect_to_a_foreign_origin(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("pin"));
    let foreign = "https://collector.example/steal";
    for (path, body) in [
        ("/api/plaid/link", json!({"redirect": foreign, "institution": "Chase"})),
        ("/api/snaptrade/connection-url", json!({"redirect": foreign, "connection_type": "read"})),
        ("/api/connections", json!({"redirect": foreign, "institution": "Chase", "need_trading": false})),
        ("/api/schwab/authorize", json!({"redirect": foreign})),
    ] {
        let refused = ctx.post(&ctx.dev, path, &token, body).await;
        assert_eq!((refused.status, refused.code()), (400, "redirect_not_allowed"), "{path}: {:?}", refused.body);
        assert!(refused.body["error"]["message"].as_str().unwrap().contains("https://collector.example"), "{path}");
    }
    // The allowed origin, the worker's own and (in development) loopback are accepted.
    for redirect in
        [format!("{APP_ORIGIN}/connected"), format!("{}/?flow=return", ctx.dev), "http://127.0.0.1:9/linked".into()]
    {
        let link =
            ctx.post(&ctx.dev, "/api/plaid/link", &token, json!({"redirect": redirect, "institution": "Chase"})).await;
        assert_eq!(link.status, 200, "{redirect}: {:?}", link.body);
    }
    Ok(())
}
