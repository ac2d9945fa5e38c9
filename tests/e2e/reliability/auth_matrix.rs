//! The auth matrix, on the development worker. Every user endpoint — read from the router in
//! `worker/src/lib.rs`, so a route added tomorrow is covered tomorrow — is called with every kind of
//! bad session (none, expired, tampered, `alg: none`, HS512, wrong key, ...) and must answer 401
//! with a session error code. Then user A uses user B's resource ids (Item, connection, public
//! token) and must get 404 (or, where an id is only a hint, see B's rows untouched), and no answer A
//! gets — whatever it asked — carries a single one of B's ids, account names or tickers.

use super::sessions::{bad_sessions, SESSION_CODES};
use super::{bounded, seed_user, send_raw, tally, Raw, Seeded};
use crate::support::{Ctx, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        auth_every_user_endpoint_refuses_every_bad_session_with_401,
        auth_other_users_ids_are_404_and_no_byte_of_their_data_reaches_another_user,
        auth_another_users_plaid_public_token_does_not_link_their_item,
    ]
}

/// `(method, path)` of every user endpoint in the worker's router: `/api/*` except health and
/// the development-only `/api/dev/*`.
fn user_endpoints() -> Vec<(String, String)> {
    let source =
        std::fs::read_to_string(tributary_e2e::repo_root().join("worker/src/lib.rs")).expect("read the router");
    let mut routes = Vec::new();
    for method in ["get", "post", "put", "patch", "delete"] {
        for piece in source.split(&format!(".{method}_async(\"")).skip(1) {
            let path = piece.split('"').next().unwrap_or_default();
            if path.starts_with("/api/") && path != "/api/health" && !path.starts_with("/api/dev/") {
                routes.push((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    routes.sort();
    routes
}

async fn call(ctx: &Ctx, method: &str, path: &str, authorization: Option<&str>, body: Option<Value>) -> Raw {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = ctx.http.request(method, format!("{}{path}", ctx.dev));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    send_raw(request).await
}

/// A body that would be a valid request to `path` (so a refusal is about the session only).
fn plausible_body(path: &str) -> Value {
    match path {
        "/api/snaptrade/connection-url" => json!({"institution": "Charles Schwab", "redirect": "http://127.0.0.1:9/x"}),
        "/api/connections" => json!({"institution": "Chase", "redirect": "http://127.0.0.1:9/x"}),
        "/api/plaid/link" => json!({"institution": "Chase", "redirect": "http://127.0.0.1:9/x"}),
        "/api/plaid/exchange" => json!({"public_token": "public-sandbox-x"}),
        "/api/holdings/refresh" => json!({"confirm_cost": true}),
        _ => json!({}),
    }
}

async fn auth_every_user_endpoint_refuses_every_bad_session_with_401(ctx: Arc<Ctx>) -> TestResult {
    let endpoints = user_endpoints();
    assert!(endpoints.len() >= 15, "the router parse found the user endpoints: {endpoints:?}");
    let (me, victim) = (ctx.user("authz-me"), ctx.user("authz-victim"));
    let sessions = bad_sessions(&ctx, &me, &victim);
    let cases: Vec<_> = endpoints
        .iter()
        .flat_map(|(method, path)| sessions.iter().map(move |(name, header)| (method, path, *name, header.clone())))
        .collect();
    let ctx = &ctx;
    let requests: Vec<_> = cases
        .iter()
        .map(|(method, path, name, header)| async move {
            let concrete = path.replace(":id", "item-x");
            let body = (*method != "GET" && *method != "DELETE").then(|| plausible_body(path));
            (format!("{method} {path} [{name}]"), call(ctx, method, &concrete, header.as_deref(), body).await)
        })
        .collect();
    let answers = bounded(requests, 8).await;
    let wrong: Vec<String> = answers
        .iter()
        .filter(|(_, raw)| raw.status != 401 || !SESSION_CODES.contains(&raw.code.as_str()))
        .map(|(case, raw)| format!("{case}: {} {}", raw.status, raw.text))
        .collect();
    println!(
        "auth matrix: {} endpoints × {} bad sessions = {} requests; codes {:?}",
        endpoints.len(),
        sessions.len(),
        answers.len(),
        tally(answers.iter().map(|(_, raw)| raw.code.as_str()))
    );
    assert!(wrong.is_empty(), "not a 401 session refusal: {wrong:#?}");
    Ok(())
}

/// JSON keys whose string values identify a user's data.
const IDENTIFYING_KEYS: &[&str] = &[
    "id",
    "account_id",
    "connection_id",
    "external_id",
    "item_id",
    "authorization_id",
    "ticker",
    "symbol",
    "security_key",
    "name",
    "account_name",
    "number_mask",
];

/// Every identifying string value (at least 3 characters) anywhere in `value`.
fn identifying_values(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match inner {
                    Value::String(s) if IDENTIFYING_KEYS.contains(&key.as_str()) && s.len() >= 3 => {
                        out.insert(s.clone());
                    }
                    _ => identifying_values(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| identifying_values(v, out)),
        _ => {}
    }
}

/// Bodies of every GET user endpoint for `token` (with `:id` as `id`).
async fn everything_visible(ctx: &Ctx, token: &str, id: &str) -> Vec<(String, Raw)> {
    let bearer = format!("Bearer {token}");
    let mut out = Vec::new();
    for (method, path) in user_endpoints().into_iter().filter(|(m, _)| m == "GET") {
        for query in ["", "?view=by_account&q=a"] {
            let target = format!("{}{query}", path.replace(":id", id));
            out.push((format!("{method} {target}"), call(ctx, &method, &target, Some(&bearer), None).await));
        }
    }
    out
}

/// B's identifying values that A has no business seeing: B's, minus A's own and public catalog ones.
async fn secrets_of(ctx: &Ctx, b: &Seeded, a: &Seeded) -> BTreeSet<String> {
    let mut theirs = BTreeSet::new();
    for (_, raw) in everything_visible(ctx, &b.token, &b.item).await {
        identifying_values(&serde_json::from_str(&raw.text).unwrap_or(Value::Null), &mut theirs);
    }
    let mut shared = BTreeSet::new();
    for (_, raw) in everything_visible(ctx, &a.token, &a.item).await {
        identifying_values(&serde_json::from_str(&raw.text).unwrap_or(Value::Null), &mut shared);
    }
    let catalog = call(ctx, "GET", "/api/institutions?q=", Some(&format!("Bearer {}", a.token)), None).await;
    theirs.retain(|v| !shared.contains(v) && !catalog.text.contains(v.as_str()));
    theirs.extend([b.item.clone(), b.authorization.clone(), b.user.clone()]);
    theirs
}

async fn auth_other_users_ids_are_404_and_no_byte_of_their_data_reaches_another_user(ctx: Arc<Ctx>) -> TestResult {
    let a = seed_user(&ctx, "authz-a", ("Charles Schwab", "SCHWAB")).await;
    let b = seed_user(&ctx, "authz-b", ("Robinhood", "ROBINHOOD")).await;
    let spec = json!({"event_type": "CONNECTION_BROKEN", "user_id": b.user, "authorization_id": b.authorization,
                      "url": format!("{}/webhooks/snaptrade", ctx.dev)});
    assert_eq!(ctx.sim_webhook("/__sim/snaptrade/webhook", &spec).await.0, 200, "B's connection needs repair");
    let secrets = secrets_of(&ctx, &b, &a).await;
    assert!(secrets.iter().any(|s| s.contains("TSLA")), "B's unique tickers are among the secrets: {secrets:?}");
    let b_rows = |ctx: &Ctx| {
        json!([
            ctx.d1("SELECT external_id, needs_repair FROM connections WHERE user_id = ?1 ORDER BY id", &[&b.user]),
            ctx.d1("SELECT external_id, status FROM provider_items WHERE user_id = ?1", &[&b.user]),
            ctx.d1("SELECT COUNT(*) AS n FROM positions WHERE user_id = ?1", &[&b.user]),
        ])
    };
    let b_before = b_rows(&ctx);

    let as_a = format!("Bearer {}", a.token);
    let item = &b.item;
    let attempts: Vec<(&str, String, Option<Value>, &[u16])> = vec![
        ("DELETE", format!("/api/plaid/items/{item}?dry_run=true"), None, &[404]),
        ("DELETE", format!("/api/plaid/items/{item}?dry_run=false"), None, &[404]),
        (
            "POST",
            "/api/snaptrade/connection-url".into(),
            Some(json!({"reconnect": b.authorization, "redirect": "http://127.0.0.1:9/x"})),
            &[404],
        ),
        // `reconnected` is only a hint about A's own connections: A's sync runs, B's flag stays.
        ("POST", "/api/snaptrade/connections/sync".into(), Some(json!({"reconnected": b.authorization})), &[200]),
    ];
    let mut answers = Vec::new();
    for (method, path, body, allowed) in &attempts {
        let raw = call(&ctx, method, path, Some(&as_a), body.clone()).await;
        assert!(
            allowed.contains(&raw.status),
            "A: {method} {path} → {} {} (expected {allowed:?})",
            raw.status,
            raw.text
        );
        answers.push((format!("{method} {path}"), raw));
    }
    answers.extend(everything_visible(&ctx, &a.token, item).await);
    for (case, raw) in &answers {
        let leaked: Vec<&String> = secrets.iter().filter(|s| raw.text.contains(s.as_str())).collect();
        assert!(leaked.is_empty(), "A's {case} shows B's {leaked:?}: {}", raw.text);
    }
    assert_eq!(b_rows(&ctx), b_before, "A's attempts changed B's rows");
    let calls = ctx.sim_calls().await;
    let b_plaid = crate::plaid::plaid_user(&b.user);
    assert_eq!(
        calls["plaid"]["users"][&b_plaid]["operations"]["item_remove"],
        Value::Null,
        "B's Item was never removed"
    );
    println!(
        "auth matrix: {} of A's answers checked against {} of B's identifying values",
        answers.len(),
        secrets.len()
    );
    Ok(())
}

async fn auth_another_users_plaid_public_token_does_not_link_their_item(ctx: Arc<Ctx>) -> TestResult {
    // B finishes Plaid's hosted Link; the public token comes back on B's redirect. If A gets hold
    // of it (a leaked URL, a shared screen), exchanging it must not give A B's brokerage account.
    let (a, b) = (ctx.user("token-thief"), ctx.user("token-owner"));
    let (a_token, b_token) = (ctx.token(&a), ctx.token(&b));
    let b_public_token = crate::plaid::hosted_link(&ctx, &b_token, Some("Vanguard"), "ins_990001").await;
    let stolen = ctx.post(&ctx.dev, "/api/plaid/exchange", &a_token, json!({"public_token": b_public_token})).await;
    let a_items = ctx.d1("SELECT external_id FROM provider_items WHERE user_id = ?1", &[&a]);
    assert!(
        [403, 404].contains(&stolen.status) && a_items.is_empty(),
        "A exchanged B's public token: {} {:?}; A now holds Items {a_items:?}. The worker must exchange only \
         public tokens from Link sessions of link tokens it created for this user (`/link/token/get` lists them)",
        stolen.status,
        stolen.body
    );
    let own = ctx.post(&ctx.dev, "/api/plaid/exchange", &b_token, json!({"public_token": b_public_token})).await;
    assert_eq!(own.status, 201, "B can still exchange their own token: {:?}", own.body);
    Ok(())
}
