//! The walking skeleton through every layer: health, session auth, the development session
//! endpoint, and JSON errors for every bad input.

use crate::support::{now, Ctx, TestResult};
use crate::trials;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        health_reports_d1_kv_config_and_version,
        me_without_a_token_is_401_missing_token,
        me_with_an_expired_token_is_401_token_expired,
        me_with_a_tampered_token_is_401,
        me_with_alg_none_or_hs512_is_401_unsupported_algorithm,
        me_with_a_valid_token_names_the_user_and_remembers_them,
        dev_session_issues_a_token_that_me_accepts,
        dev_session_refuses_bad_input_with_json_errors,
        dev_session_does_not_exist_outside_development,
        dev_clock_does_not_exist_outside_development_and_refuses_bad_advances,
        missing_config_is_a_clear_503_not_a_crash,
        unknown_paths_and_methods_get_json_errors,
        oversized_bodies_are_refused_by_the_worker_never_cut_off,
    ]
}

/// Signs `header.payload` with HS256 under `key`, whatever the header claims.
fn sign(header: &serde_json::Value, payload: &serde_json::Value, key: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let p = URL_SAFE_NO_PAD.encode(payload.to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

async fn health_reports_d1_kv_config_and_version(ctx: Arc<Ctx>) -> TestResult {
    let reply = ctx.get(&ctx.dev, "/api/health", None).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(reply.body["d1"]["ok"], true);
    assert_eq!(reply.body["d1"]["schema"], "0011_provider_migrations.sql");
    assert_eq!(reply.body["kv"]["ok"], true);
    assert_eq!(reply.body["config"]["ok"], true);
    assert_eq!(reply.body["environment"], "development");
    assert!(reply.content_type.starts_with("application/json"), "{}", reply.content_type);
    Ok(())
}

async fn me_without_a_token_is_401_missing_token(ctx: Arc<Ctx>) -> TestResult {
    let reply = ctx.get(&ctx.dev, "/api/me", None).await;
    assert_eq!((reply.status, reply.code()), (401, "missing_token"), "{:?}", reply.body);
    assert!(reply.body["error"]["message"].as_str().is_some_and(|m| m.contains("Bearer")));
    let basic =
        ctx.send(ctx.http.get(format!("{}/api/me", ctx.dev)).header("authorization", "Basic dXNlcjpwYXNz")).await;
    assert_eq!((basic.status, basic.code()), (401, "malformed_token"));
    Ok(())
}

async fn me_with_an_expired_token_is_401_token_expired(ctx: Arc<Ctx>) -> TestResult {
    let payload = json!({"sub": ctx.user("expired"), "iat": now() - 7200, "exp": now() - 3600});
    let token = sign(&json!({"alg": "HS256", "typ": "JWT"}), &payload, ctx.session_key_raw.as_bytes());
    let reply = ctx.get(&ctx.dev, "/api/me", Some(&token)).await;
    assert_eq!((reply.status, reply.code()), (401, "token_expired"), "{:?}", reply.body);
    Ok(())
}

async fn me_with_a_tampered_token_is_401(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("victim"));
    let (head, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged_payload = URL_SAFE_NO_PAD.encode(json!({"sub": "someone-else", "exp": now() + 600}).to_string());
    let tampered = format!("{head}.{forged_payload}.{signature}");
    let reply = ctx.get(&ctx.dev, "/api/me", Some(&tampered)).await;
    assert_eq!((reply.status, reply.code()), (401, "bad_token_signature"), "{:?}", reply.body);

    let wrong_key = sign(
        &json!({"alg": "HS256"}),
        &json!({"sub": "x", "exp": now() + 600}),
        b"not-the-worker-key-but-32-bytes-long!",
    );
    let reply = ctx.get(&ctx.dev, "/api/me", Some(&wrong_key)).await;
    assert_eq!((reply.status, reply.code()), (401, "bad_token_signature"));

    let reply = ctx.get(&ctx.dev, "/api/me", Some("not.a.jwt")).await;
    assert_eq!((reply.status, reply.code()), (401, "malformed_token"));
    Ok(())
}

async fn me_with_alg_none_or_hs512_is_401_unsupported_algorithm(ctx: Arc<Ctx>) -> TestResult {
    let payload = json!({"sub": ctx.user("alg"), "exp": now() + 600});
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let hs512 = sign(&json!({"alg": "HS512"}), &payload, ctx.session_key_raw.as_bytes());
    for token in [none, hs512] {
        let reply = ctx.get(&ctx.dev, "/api/me", Some(&token)).await;
        assert_eq!((reply.status, reply.code()), (401, "unsupported_token_algorithm"), "{:?}", reply.body);
    }
    Ok(())
}

async fn me_with_a_valid_token_names_the_user_and_remembers_them(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("alice");
    let token = ctx.token(&user);
    let first = ctx.get(&ctx.dev, "/api/me", Some(&token)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["user_id"], user.as_str());
    assert!(first.body["session_expires_at"].as_i64().unwrap() > now());
    let second = ctx.get(&ctx.dev, "/api/me", Some(&token)).await;
    assert_eq!(second.body["first_seen_at"], first.body["first_seen_at"], "first sight is recorded once");
    Ok(())
}

async fn dev_session_issues_a_token_that_me_accepts(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("dev");
    let reply = ctx.send(ctx.http.post(format!("{}/api/dev/session", ctx.dev)).json(&json!({"user_id": user}))).await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    let token = reply.body["token"].as_str().expect("token");
    let me = ctx.get(&ctx.dev, "/api/me", Some(token)).await;
    assert_eq!((me.status, me.body["user_id"].as_str()), (200, Some(user.as_str())));
    Ok(())
}

async fn dev_session_refuses_bad_input_with_json_errors(ctx: Arc<Ctx>) -> TestResult {
    let url = format!("{}/api/dev/session", ctx.dev);
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (ctx.http.post(&url).body("{not json"), 400, "invalid_json"),
        (ctx.http.post(&url), 400, "invalid_json"),
        (ctx.http.post(&url).json(&json!({})), 400, "invalid_input"),
        (ctx.http.post(&url).json(&json!({"user_id": ""})), 400, "invalid_input"),
        (ctx.http.post(&url).json(&json!({"user_id": "a b"})), 400, "invalid_input"),
        (ctx.http.post(&url).json(&json!({"user_id": 42})), 400, "invalid_json"),
        (ctx.http.post(&url).json(&json!({"user_id": "ok", "admin": true})), 400, "invalid_json"),
        (ctx.http.post(&url).json(&json!({"user_id": "ok", "ttl_seconds": 0})), 400, "invalid_input"),
        (ctx.http.post(&url).body("x".repeat(70 * 1024)), 413, "body_too_large"),
    ];
    for (request, status, code) in cases {
        let reply = ctx.send(request).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{:?}", reply.body);
        assert!(reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    Ok(())
}

async fn dev_session_does_not_exist_outside_development(ctx: Arc<Ctx>) -> TestResult {
    let reply =
        ctx.send(ctx.http.post(format!("{}/api/dev/session", ctx.prod)).json(&json!({"user_id": "mallory"}))).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"), "{:?}", reply.body);
    Ok(())
}

async fn dev_clock_does_not_exist_outside_development_and_refuses_bad_advances(ctx: Arc<Ctx>) -> TestResult {
    let clock = |base: &str, body: serde_json::Value| ctx.http.post(format!("{base}/api/dev/clock")).json(&body);
    let prod = ctx.send(clock(&ctx.prod, json!({"advance_s": 3600}))).await;
    assert_eq!((prod.status, prod.code()), (404, "not_found"), "{:?}", prod.body);
    // The shared development worker's clock must not move (other tests' sessions would expire):
    // only refusals are tried here; the bench (`make bench`) drives real advances.
    for (body, code) in [
        (json!({"advance_s": 0}), "clock_advance_out_of_range"),
        (json!({"advance_s": -60}), "clock_advance_out_of_range"),
        (json!({"advance_s": 400 * 86_400}), "clock_advance_out_of_range"),
        (json!({"advance_s": "1h"}), "invalid_json"),
    ] {
        let reply = ctx.send(clock(&ctx.dev, body.clone())).await;
        assert_eq!((reply.status, reply.code()), (400, code), "{body}: {:?}", reply.body);
    }
    let user = ctx.user("clock");
    let me = ctx.get(&ctx.dev, "/api/me", Some(&ctx.token(&user))).await;
    assert_eq!(me.status, 200, "a fresh session still works, so the clock did not move: {:?}", me.body);
    Ok(())
}

async fn missing_config_is_a_clear_503_not_a_crash(ctx: Arc<Ctx>) -> TestResult {
    let health = ctx.get(&ctx.prod, "/api/health", None).await;
    assert_eq!((health.status, &health.body["status"]), (503, &json!("degraded")), "{:?}", health.body);
    assert_eq!(health.body["d1"]["ok"], true, "D1 is fine, only config is missing");
    let names: Vec<&str> =
        health.body["config"]["problems"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["SESSION_SIGNING_KEY", "DATA_ENCRYPTION_KEY"]);
    let me = ctx.get(&ctx.prod, "/api/me", Some("a.b.c")).await;
    assert_eq!((me.status, me.code()), (503, "config_invalid"), "{:?}", me.body);
    Ok(())
}

async fn unknown_paths_and_methods_get_json_errors(ctx: Arc<Ctx>) -> TestResult {
    let missing = ctx.get(&ctx.dev, "/api/no-such-thing", None).await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"), "{:?}", missing.body);
    let wrong_method = ctx.send(ctx.http.delete(format!("{}/api/health", ctx.dev))).await;
    assert_eq!((wrong_method.status, wrong_method.code()), (405, "method_not_allowed"), "{:?}", wrong_method.body);
    Ok(())
}

/// Bodies over the 64 KiB limit, sent many at once: every one is answered by the worker itself
/// (413 `body_too_large`, `webhook_too_large` on the webhook paths), never cut off mid-upload. (Refusing before reading the body made
/// wrangler dev's proxy lose the connection under load and answer its own 503 instead.)
async fn oversized_bodies_are_refused_by_the_worker_never_cut_off(ctx: Arc<Ctx>) -> TestResult {
    use crate::reliability::{bounded, send_raw};
    let token = ctx.token(&ctx.user("oversized"));
    let sizes = [64 * 1024 + 1, 100 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024];
    let paths = ["/webhooks/snaptrade", "/webhooks/plaid", "/api/holdings/refresh", "/api/connections"];
    let requests: Vec<_> = (0..120)
        .map(|i| {
            let (size, path) = (sizes[i % sizes.len()], paths[i % paths.len()]);
            let mut body = vec![b' '; size];
            body[0] = b'{';
            body[size - 1] = b'}';
            let request = ctx.http.post(format!("{}{path}", ctx.dev)).bearer_auth(&token).body(body);
            async move { (path, size, send_raw(request).await) }
        })
        .collect();
    let answers = bounded(requests, 16).await;
    let wrong: Vec<String> = answers
        .iter()
        .filter(|(path, _, raw)| {
            let code = if path.starts_with("/webhooks/") { "webhook_too_large" } else { "body_too_large" };
            (raw.status, raw.code.as_str()) != (413, code)
        })
        .map(|(path, size, raw)| format!("{path} ({size} B): {} {}", raw.status, raw.text))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} oversized bodies not refused by the worker: {wrong:#?}",
        wrong.len(),
        answers.len()
    );
    Ok(())
}
