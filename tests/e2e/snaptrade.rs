//! SnapTrade end to end: register → connection URL → portal (driven over HTTP) → sync → holdings,
//! against the simulator, which checks every signature the worker sends.

use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        snaptrade_connect_sync_and_holdings_show_the_seeded_positions_exactly,
        snaptrade_server_error_is_retried_then_succeeds,
        snaptrade_failed_positions_fetch_keeps_the_cached_positions,
        snaptrade_users_never_see_each_others_data,
        snaptrade_bad_connection_url_requests_get_json_errors,
        snaptrade_wrong_consumer_key_is_rejected_by_the_provider_as_a_clear_auth_error,
        snaptrade_user_secret_is_stored_encrypted_never_in_plain_text,
        measure_cached_snaptrade_holdings_latency,
    ]
}

async fn post(ctx: &Ctx, token: &str, path: &str, body: Value) -> Reply {
    ctx.send(ctx.http.post(format!("{}{path}", ctx.dev)).bearer_auth(token).json(&body)).await
}

/// Connects `broker` for the session user (public for other suites).
pub async fn connect_snaptrade(ctx: &Ctx, token: &str, institution: &str, broker: &str) -> String {
    connect(ctx, token, institution, broker).await
}

/// Connects `broker` for the session user with a `read` or `trade` connection.
pub async fn connect_snaptrade_as(ctx: &Ctx, token: &str, institution: &str, broker: &str, kind: &str) -> String {
    connect_with(ctx, token, institution, broker, kind).await
}

/// Connects `broker` for the session user through the worker and the simulator's portal.
async fn connect(ctx: &Ctx, token: &str, institution: &str, broker: &str) -> String {
    connect_with(ctx, token, institution, broker, "read").await
}

async fn connect_with(ctx: &Ctx, token: &str, institution: &str, broker: &str, kind: &str) -> String {
    let reply = post(
        ctx,
        token,
        "/api/snaptrade/connection-url",
        json!({
            "institution": institution, "connection_type": kind, "redirect": "http://127.0.0.1:9/connected"
        }),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let url = reply.body["redirect_url"].as_str().expect("redirect_url").to_owned();
    finish_portal(ctx, &url, broker).await
}

/// Completes the simulator's connection portal at `url` for `broker`; returns the connection id.
pub async fn finish_portal(ctx: &Ctx, url: &str, broker: &str) -> String {
    assert!(url.starts_with(&ctx.sim), "the portal is the simulator's: {url}");
    let parsed = reqwest::Url::parse(url).unwrap();
    let query: std::collections::HashMap<String, String> = parsed.query_pairs().into_owned().collect();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = [("sessionId", query["sessionId"].as_str()), ("token", query["token"].as_str()), ("broker", broker)];
    let response = no_redirects.post(format!("{}{}", ctx.sim, parsed.path())).form(&form).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://127.0.0.1:9/connected?status=SUCCESS&connection_id="), "{location}");
    location.rsplit('=').next().unwrap().to_owned()
}

/// Injects a simulator fault (`POST /__sim/faults`).
pub async fn sim_fault(ctx: &Ctx, spec: Value) {
    let response = ctx.http.post(format!("{}/__sim/faults", ctx.sim)).json(&spec).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{spec}");
}

fn position<'a>(holdings: &'a Value, key: &str) -> &'a Value {
    holdings["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["security_key"] == key)
        .unwrap_or_else(|| panic!("no {key}"))
}

async fn snaptrade_connect_sync_and_holdings_show_the_seeded_positions_exactly(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("st-alice"));
    let first = post(&ctx, &token, "/api/snaptrade/register", json!({})).await;
    assert_eq!((first.status, &first.body["created"]), (201, &json!(true)), "{:?}", first.body);
    let again = post(&ctx, &token, "/api/snaptrade/register", json!({})).await;
    assert_eq!((again.status, &again.body["created"]), (200, &json!(false)), "register is idempotent");
    assert!(!again.body.to_string().to_lowercase().contains("secret\":\""), "no secret in {:?}", again.body);

    let authorization = connect(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    let sync = post(&ctx, &token, "/api/snaptrade/connections/sync", json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    assert_eq!(sync.body["accounts"], 2);

    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
    assert_eq!(holdings.status, 200, "{:?}", holdings.body);
    let h = &holdings.body;
    assert_eq!(h["cache_info"]["from_cache"], true);
    assert!(h["last_updated"].as_i64().unwrap() > 1_700_000_000);
    let aapl = position(h, "AAPL");
    assert_eq!((aapl["quantity"].as_str(), aapl["price"].as_str()), (Some("10"), Some("189.25")));
    assert_eq!(aapl["market_value"], "1892.50");
    assert_eq!(aapl["institution"], "charles_schwab");
    assert_eq!(position(h, "MSFT")["quantity"], "0.125");
    assert_eq!(position(h, "BTC")["kind"], "crypto");
    let delisted = position(h, "XYZQ");
    assert!(delisted["price"].is_null() && delisted["market_value"].is_null(), "missing price stays unknown");
    let option = h["positions"].as_array().unwrap().iter().find(|p| p["kind"] == "option").expect("option");
    assert_eq!(option["market_value"], "2470.00", "2 contracts x 12.35 x 100");
    let cad: Vec<&Value> = h["balances"].as_array().unwrap().iter().filter(|b| b["currency"] == "CAD").collect();
    // Balances arrive as JSON numbers: the value is exact, the written scale is not kept.
    assert_eq!(cad.len(), 1);
    assert_eq!(
        cad[0]["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap(),
        rust_decimal::Decimal::new(12500, 2)
    );

    let connections = ctx.get(&ctx.dev, "/api/snaptrade/connections", Some(&token)).await;
    let list = connections.body["connections"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{:?}", connections.body);
    assert_eq!(
        (list[0]["external_id"].as_str(), list[0]["type"].as_str()),
        (Some(authorization.as_str()), Some("read"))
    );
    assert_eq!(
        (list[0]["institution_slug"].as_str(), list[0]["disabled"].as_bool()),
        (Some("charles_schwab"), Some(false))
    );
    Ok(())
}

async fn snaptrade_server_error_is_retried_then_succeeds(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("st-retry");
    let token = ctx.token(&user);
    connect(&ctx, &token, "Fidelity", "FIDELITY").await;
    sim_fault(&ctx, json!({"provider": "snaptrade", "endpoint": "accounts", "user_id": user, "kind": "status", "status": 503, "times": 1})).await;
    let sync = post(&ctx, &token, "/api/snaptrade/connections/sync", json!({})).await;
    assert_eq!(sync.status, 200, "one 503 is retried: {:?}", sync.body);
    assert_eq!(sync.body["accounts"], 2);
    Ok(())
}

async fn snaptrade_failed_positions_fetch_keeps_the_cached_positions(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("st-keep");
    let token = ctx.token(&user);
    connect(&ctx, &token, "Robinhood", "ROBINHOOD").await;
    assert_eq!(post(&ctx, &token, "/api/snaptrade/connections/sync", json!({})).await.status, 200);
    let before = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await.body;

    sim_fault(
        &ctx,
        json!({"provider": "snaptrade", "endpoint": "positions", "user_id": user, "kind": "status", "status": 500}),
    )
    .await;
    let failed = post(&ctx, &token, "/api/snaptrade/connections/sync", json!({})).await;
    assert_eq!((failed.status, failed.code()), (502, "provider_unavailable"), "{:?}", failed.body);

    let after = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await.body;
    assert_eq!(after["positions"], before["positions"], "a failed fetch never deletes cached positions");
    assert_eq!(after["last_updated"], before["last_updated"]);
    assert_eq!(after["last_error"]["code"], "provider_unavailable", "{after}");
    Ok(())
}

async fn snaptrade_users_never_see_each_others_data(ctx: Arc<Ctx>) -> TestResult {
    let (alice, bob) = (ctx.token(&ctx.user("st-a")), ctx.token(&ctx.user("st-b")));
    let authorization = connect(&ctx, &alice, "Interactive Brokers", "IBKR").await;
    assert_eq!(post(&ctx, &alice, "/api/snaptrade/connections/sync", json!({})).await.status, 200);
    let alice_accounts: Vec<String> = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&alice)).await.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(alice_accounts.len(), 3);

    let bob_holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&bob)).await;
    assert_eq!(bob_holdings.status, 200, "{:?}", bob_holdings.body);
    let text = bob_holdings.body.to_string();
    assert!(alice_accounts.iter().all(|id| !text.contains(id.as_str())), "bob sees none of alice's accounts");
    assert_eq!(bob_holdings.body["positions"], json!([]));
    let bob_connections = ctx.get(&ctx.dev, "/api/snaptrade/connections", Some(&bob)).await;
    assert_eq!(bob_connections.body["connections"], json!([]));
    let steal = post(
        &ctx,
        &bob,
        "/api/snaptrade/connection-url",
        json!({"reconnect": authorization, "redirect": "http://127.0.0.1:9/x"}),
    )
    .await;
    assert_eq!((steal.status, steal.code()), (404, "provider_not_found"), "{:?}", steal.body);
    Ok(())
}

async fn snaptrade_bad_connection_url_requests_get_json_errors(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("st-bad"));
    let cases = [
        (json!({}), "invalid_input"),
        (json!({"redirect": "javascript:alert(1)"}), "invalid_input"),
        (json!({"redirect": "http://127.0.0.1:9/x", "connection_type": "write"}), "invalid_input"),
        (json!({"redirect": "http://127.0.0.1:9/x", "institution": "Purchase Bank of Nowhere"}), "invalid_input"),
        (json!({"redirect": "http://127.0.0.1:9/x", "color": "blue"}), "invalid_json"),
    ];
    for (body, code) in cases {
        let reply = post(&ctx, &token, "/api/snaptrade/connection-url", body.clone()).await;
        assert_eq!((reply.status, reply.code()), (400, code), "{body} → {:?}", reply.body);
    }
    let anonymous = ctx.send(ctx.http.get(format!("{}/api/snaptrade/holdings", ctx.dev))).await;
    assert_eq!((anonymous.status, anonymous.code()), (401, "missing_token"));
    Ok(())
}

async fn snaptrade_wrong_consumer_key_is_rejected_by_the_provider_as_a_clear_auth_error(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("st-wrongkey");
    let token = ctx.token(&user);
    let reply = ctx.post(&ctx.wrong_key, "/api/snaptrade/register", &token, json!({})).await;
    assert_eq!((reply.status, reply.code()), (502, "provider_auth_failed"), "{:?}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap_or_default().to_lowercase();
    assert!(message.contains("snaptrade") && message.contains("signature"), "a message a person can act on: {message}");
    let calls: Value = ctx.sim_calls().await;
    let register_calls = calls["snaptrade"]["users"][&user]["operations"]["register"].as_u64().unwrap_or(0);
    assert!(register_calls >= 1, "the call reached the simulator, which rejected the signature: {calls}");
    // Nothing was stored for the user: a retry with the right key starts clean.
    let dev = ctx.post(&ctx.dev, "/api/snaptrade/register", &token, json!({})).await;
    assert_eq!((dev.status, &dev.body["created"]), (201, &json!(true)), "{:?}", dev.body);
    Ok(())
}

async fn snaptrade_user_secret_is_stored_encrypted_never_in_plain_text(ctx: Arc<Ctx>) -> TestResult {
    let user = ctx.user("st-sealed");
    let token = ctx.token(&user);
    assert_eq!(post(&ctx, &token, "/api/snaptrade/register", json!({})).await.status, 201);
    // The simulator issued the secret; read it from the simulator's own state, never from our API.
    let secret = ctx.sim_user_secret(&user).unwrap_or_else(|| panic!("the simulator knows {user}"));
    let rows = ctx.d1(
        "SELECT secret_ciphertext AS ct, secret_nonce AS nonce, key_id FROM provider_users
         WHERE user_id = ?1 AND provider = 'snaptrade'",
        &[&user],
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    use base64::Engine as _;
    let decode = |field: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(row[field].as_str().unwrap_or_else(|| panic!("{field} is stored as base64 text: {row}")))
            .unwrap_or_else(|e| panic!("{field} is base64: {e}"))
    };
    let (ciphertext, nonce) = (decode("ct"), decode("nonce"));
    assert_eq!(nonce.len(), 12, "a 96-bit GCM nonce is stored");
    assert_eq!(ciphertext.len(), secret.len() + 16, "ciphertext = secret length + 16-byte tag");
    assert!(
        !ciphertext.windows(8).any(|w| secret.as_bytes().windows(8).any(|s| s == w)),
        "no 8-byte run of the secret"
    );
    assert_eq!(row["key_id"], "e2e", "the key id is stored for rotation");
    let secret_hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let everything = ctx.d1(
        "SELECT group_concat(COALESCE(provider_user_id,'') || COALESCE(hex(secret_ciphertext),'') || COALESCE(key_id,''), '|') AS all_text FROM provider_users",
        &[],
    );
    let all_text = everything[0]["all_text"].as_str().unwrap_or_default();
    assert!(!all_text.contains(&secret) && !all_text.to_lowercase().contains(&secret_hex), "no plain secret anywhere");
    Ok(())
}

/// Prints p50/p99 of `GET /api/snaptrade/holdings` served from the D1 cache (200 sequential
/// requests on loopback, after 20 warm-up requests). A measurement, not an assertion.
async fn measure_cached_snaptrade_holdings_latency(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("st-measure"));
    connect(&ctx, &token, "Charles Schwab", "SCHWAB").await;
    assert_eq!(post(&ctx, &token, "/api/snaptrade/connections/sync", json!({})).await.status, 200);
    let mut samples = Vec::with_capacity(200);
    for i in 0..220 {
        let started = std::time::Instant::now();
        let reply = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(&token)).await;
        let elapsed = started.elapsed();
        assert_eq!((reply.status, &reply.body["cache_info"]["from_cache"]), (200, &json!(true)));
        if i >= 20 {
            samples.push(elapsed.as_secs_f64() * 1000.0);
        }
    }
    samples.sort_by(f64::total_cmp);
    let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "cached GET /api/snaptrade/holdings on wrangler dev: n={} p50={:.2} ms p99={:.2} ms min={:.2} ms max={:.2} ms",
        samples.len(),
        pick(0.5),
        pick(0.99),
        samples[0],
        samples[samples.len() - 1]
    );
    Ok(())
}
