//! The MCP endpoint (`POST /mcp`) against the real development worker: the official TypeScript
//! SDK client (legacy era) lists the tools and calls each one, and its structured results equal
//! the API's own answers for the same user; raw HTTP proves the session and `Origin` checks, the
//! 405s, tool errors as `isError` results, unknown tools as `-32602`, a refresh inside the
//! cooldown refused with when it is next allowed (and nothing billed), and the modern era's
//! fields and header checks.

use crate::support::{Ctx, Reply, TestResult};
use crate::trials;
use serde_json::{json, Value};
use std::sync::Arc;
use tributary_e2e::repo_root;

pub fn trials() -> Vec<(&'static str, crate::support::TestFn)> {
    trials![
        mcp_typescript_sdk_reads_exactly_what_the_api_answers,
        mcp_refuses_missing_and_bad_tokens_foreign_origins_and_get,
        mcp_bad_arguments_are_tool_errors_and_unknown_tools_protocol_errors,
        mcp_refresh_within_the_cooldown_is_an_error_saying_when_and_bills_nothing,
        mcp_modern_era_gets_modern_fields_and_a_header_mismatch_is_400,
        mcp_python_sdk_in_the_modern_era_reads_exactly_what_the_api_answers,
        mcp_place_order_where_the_deployment_allows_it_places_once_and_only_the_callers_preview,
    ]
}

const MODERN: &str = "2026-07-28";
const SCRIPT_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

async fn connected(ctx: &Ctx, label: &str) -> (String, String) {
    let user = ctx.user(label);
    let token = ctx.token(&user);
    crate::snaptrade::connect_snaptrade_as(ctx, &token, "Charles Schwab", "SCHWAB", "trade").await;
    let sync = ctx.post(&ctx.dev, "/api/snaptrade/connections/sync", &token, json!({})).await;
    assert_eq!(sync.status, 200, "{:?}", sync.body);
    (user, token)
}

/// The user's first SnapTrade account id (a trade connection: it can preview).
async fn trading_account(ctx: &Ctx, token: &str) -> String {
    let holdings = ctx.get(&ctx.dev, "/api/snaptrade/holdings", Some(token)).await;
    holdings.body["accounts"][0]["account_id"].as_str().expect("an account").to_owned()
}

/// A legacy-era JSON-RPC request to `/mcp` (no `MCP-Protocol-Version`: 2025-03-26 assumed).
async fn rpc(ctx: &Ctx, token: &str, method: &str, params: Value) -> Reply {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    ctx.send(ctx.http.post(format!("{}/mcp", ctx.dev)).bearer_auth(token).json(&body)).await
}

async fn call_tool(ctx: &Ctx, token: &str, name: &str, arguments: Value) -> Value {
    let reply = rpc(ctx, token, "tools/call", json!({"name": name, "arguments": arguments})).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["result"].clone()
}

fn text(result: &Value) -> String {
    result["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

/// `value` without the per-provider `cache_info.age_hours`, which ages between two reads.
fn ageless(mut value: Value) -> Value {
    if let Some(providers) = value["providers"].as_array_mut() {
        for provider in providers {
            if let Some(cache) = provider.get_mut("cache_info").and_then(Value::as_object_mut) {
                assert!(cache.remove("age_hours").is_some(), "cache_info has age_hours: {cache:?}");
            }
        }
    }
    value
}

/// Runs an MCP client script (`program` with `script` under `tests/mcp/`) and reads its JSON.
async fn run_client(ctx: &Ctx, token: &str, program: &std::path::Path, script: &str) -> Result<Value, String> {
    let account = trading_account(ctx, token).await;
    let run = tokio::process::Command::new(program)
        .arg(repo_root().join("tests/mcp").join(script))
        .env("TRIBUTARY_MCP_URL", format!("{}/mcp", ctx.dev))
        .env("TRIBUTARY_TOKEN", token)
        .env("TRIBUTARY_ACCOUNT", &account)
        .env("TRIBUTARY_KEY", "0f8fad5b-d9cb-469f-a165-70867728950e")
        .current_dir(repo_root())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_LIMIT, run)
        .await
        .map_err(|_| format!("the MCP client did not finish within {} s", SCRIPT_LIMIT.as_secs()))?
        .map_err(|e| format!("run node: {e}"))?;
    if !output.status.success() {
        return Err(format!("the MCP client {script} failed:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("the MCP client's output is not JSON: {e}"))
}

async fn mcp_typescript_sdk_reads_exactly_what_the_api_answers(ctx: Arc<Ctx>) -> TestResult {
    let (_user, token) = connected(&ctx, "mcp-sdk").await;
    let out = run_client(&ctx, &token, std::path::Path::new("node"), "client.mjs").await?;
    assert_eq!(out["protocolVersion"], "2025-11-25", "the SDK's version is echoed");
    assert_eq!(out["serverVersion"]["name"], "tributary");
    let names: Vec<&str> = out["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["get_positions", "list_connections", "connection_health", "get_transactions", "preview_trade", "place_order"]
    );
    let place_tool = out["tools"].as_array().unwrap().iter().find(|t| t["name"] == "place_order").unwrap();
    assert_eq!(place_tool["annotations"]["destructiveHint"], true, "{place_tool}");
    let calls = &out["calls"];
    for name in ["consolidated", "by_account", "list_connections", "connection_health", "get_transactions"] {
        assert_eq!(calls[name]["isError"], false, "{name}: {}", calls[name]);
        assert!(calls[name]["content"][0]["text"].as_str().is_some_and(|t| !t.is_empty()), "{name} has a summary");
    }
    for view in ["consolidated", "by_account"] {
        let api = ctx.get(&ctx.dev, &format!("/api/portfolio?view={view}"), Some(&token)).await;
        assert_eq!(api.status, 200, "{:?}", api.body);
        assert!(!api.body[view].as_array().unwrap().is_empty(), "the user holds positions");
        assert_eq!(ageless(calls[view]["structuredContent"].clone()), ageless(api.body), "{view}");
    }
    let snaptrade = calls["consolidated"]["structuredContent"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["provider"] == "snaptrade")
        .cloned()
        .unwrap();
    assert_eq!(snaptrade["status"], "ok");
    assert!(snaptrade["cache_info"]["ttl_hours"].as_u64().is_some(), "{snaptrade}");
    let connections = ctx.get(&ctx.dev, "/api/connections", Some(&token)).await;
    assert_eq!(calls["list_connections"]["structuredContent"], connections.body);
    let transactions = ctx.get(&ctx.dev, "/api/transactions", Some(&token)).await;
    assert_eq!(transactions.status, 200, "{:?}", transactions.body);
    assert_eq!(calls["get_transactions"]["structuredContent"], transactions.body);
    let health = &calls["connection_health"]["structuredContent"];
    let snaptrade = health["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "snaptrade").unwrap();
    assert_eq!((&snaptrade["connected"], &snaptrade["configured"]), (&json!(true), &json!(true)), "{health}");
    assert_eq!(health["trading_probe"]["probed"], false);
    assert_eq!(calls["bad_format"]["isError"], true);
    assert!(calls["bad_format"]["content"][0]["text"].as_str().unwrap().contains("format"));
    assert_previewed_not_placed(&ctx, &token, calls).await;
    Ok(())
}

/// The clients' `preview_trade` is the API's preview (stored, for this user, every figure
/// sourced), and their `place_order` on this deployment (MCP_ALLOW_PLACE unset) placed nothing.
async fn assert_previewed_not_placed(ctx: &Ctx, token: &str, calls: &Value) {
    let preview = &calls["preview_trade"];
    assert_eq!(preview["isError"], false, "{preview}");
    let previewed = &preview["structuredContent"];
    assert_eq!(previewed["order"]["symbol"], "AAPL");
    assert_eq!(previewed["order"]["limit_price"], "180.5");
    assert_eq!(previewed["estimate"]["source"]["price"], "brokerage", "{previewed}");
    let stored =
        ctx.d1("SELECT symbol FROM order_previews WHERE id = ?1", &[previewed["preview_id"].as_str().unwrap()]);
    assert_eq!(stored.len(), 1, "the preview is stored like the API's");
    let refused = &calls["place_order"];
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(format!("{refused}").contains("MCP_ALLOW_PLACE"), "{refused}");
    let account = trading_account(ctx, token).await;
    assert!(ctx.sim_state.snaptrade_placements(&account).is_empty(), "nothing reached the broker");
    assert_eq!(calls["bad_trade"]["isError"], true);
    assert!(format!("{}", calls["bad_trade"]).contains("quantity"), "{}", calls["bad_trade"]);
}

async fn mcp_refuses_missing_and_bad_tokens_foreign_origins_and_get(ctx: Arc<Ctx>) -> TestResult {
    let url = format!("{}/mcp", ctx.dev);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let missing = ctx.http.post(&url).json(&ping).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 401);
    assert_eq!(missing.headers()["www-authenticate"].to_str().unwrap(), "Bearer");
    let bad = ctx.http.post(&url).bearer_auth("not.a.token").json(&ping).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    assert!(bad.headers().contains_key("www-authenticate"));
    let body: Value = bad.json().await.unwrap();
    assert!(body["error"]["code"].as_str().is_some(), "{body}");

    let token = ctx.token(&ctx.user("mcp-http"));
    let foreign =
        ctx.send(ctx.http.post(&url).bearer_auth(&token).header("Origin", "https://evil.example").json(&ping)).await;
    assert_eq!((foreign.status, foreign.code()), (403, "origin_not_allowed"), "{:?}", foreign.body);
    let allowed = ctx
        .send(ctx.http.post(&url).bearer_auth(&token).header("Origin", crate::origins::APP_ORIGIN).json(&ping))
        .await;
    assert_eq!(allowed.status, 200, "{:?}", allowed.body);
    // A browser-based MCP client on an allowed origin: its preflight passes with the MCP headers,
    // and the answer carries the API's CORS headers.
    let preflight = ctx
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", crate::origins::APP_ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    let allow_headers = preflight.headers()["access-control-allow-headers"].to_str().unwrap().to_owned();
    assert!(allow_headers.contains("MCP-Protocol-Version") && allow_headers.contains("Mcp-Name"), "{allow_headers}");
    let answered = ctx
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("Origin", crate::origins::APP_ORIGIN)
        .json(&ping)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.headers()["access-control-allow-origin"].to_str().unwrap(), crate::origins::APP_ORIGIN);
    let own = ctx.send(ctx.http.post(&url).bearer_auth(&token).header("Origin", &ctx.dev).json(&ping)).await;
    assert_eq!((own.status, &own.body), (200, &json!({"jsonrpc": "2.0", "id": 1, "result": {}})));

    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let answer = ctx.http.request(method.clone(), &url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 405, "{method}");
        assert_eq!(answer.headers()["allow"].to_str().unwrap(), "POST", "{method}");
    }
    let big = "x".repeat(70 * 1024);
    let large =
        ctx.send(ctx.http.post(&url).bearer_auth(&token).header("content-type", "application/json").body(big)).await;
    assert_eq!((large.status, large.code()), (413, "body_too_large"));
    let garbage = ctx.send(ctx.http.post(&url).bearer_auth(&token).body("{nope")).await;
    assert_eq!((garbage.status, &garbage.body["error"]["code"]), (400, &json!(-32700)));
    let notification =
        ctx.http.post(&url).bearer_auth(&token).json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let accepted = notification.send().await.unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    assert!(accepted.text().await.unwrap().is_empty());
    Ok(())
}

async fn mcp_bad_arguments_are_tool_errors_and_unknown_tools_protocol_errors(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("mcp-args"));
    let result = call_tool(&ctx, &token, "get_transactions", json!({"from": "yesterday"})).await;
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(&result).contains("from"), "{result}");
    let result =
        call_tool(&ctx, &token, "get_positions", json!({"format": "consolidated", "refresh_provider": "acme"})).await;
    assert_eq!(result["isError"], true);
    assert!(text(&result).contains("refresh_provider"), "{result}");
    let result = call_tool(&ctx, &token, "connection_health", json!({"probe_trading": "yes"})).await;
    assert!(result["isError"] == true && text(&result).contains("probe_trading"), "{result}");

    let result = call_tool(
        &ctx,
        &token,
        "preview_trade",
        json!({"account_id": "a", "ticker": "AAPL", "side": "BUY", "quantity": "0"}),
    )
    .await;
    assert!(result["isError"] == true && text(&result).contains("quantity"), "{result}");
    let result =
        call_tool(&ctx, &token, "place_order", json!({"preview_id": "p", "idempotency_key": "not-a-uuid"})).await;
    assert!(result["isError"] == true && text(&result).contains("idempotency_key"), "{result}");
    let unknown = rpc(&ctx, &token, "tools/call", json!({"name": "sell_everything", "arguments": {}})).await;
    assert_eq!((unknown.status, &unknown.body["error"]["code"]), (200, &json!(-32602)), "{:?}", unknown.body);
    let method = rpc(&ctx, &token, "resources/list", json!({})).await;
    assert_eq!((method.status, &method.body["error"]["code"]), (200, &json!(-32601)), "{:?}", method.body);
    Ok(())
}

async fn mcp_refresh_within_the_cooldown_is_an_error_saying_when_and_bills_nothing(ctx: Arc<Ctx>) -> TestResult {
    let (user, token) = connected(&ctx, "mcp-refresh").await;
    let arguments = json!({"format": "consolidated", "refresh_provider": "snaptrade"});
    let first = call_tool(&ctx, &token, "get_positions", arguments.clone()).await;
    assert_eq!(first["isError"], false, "{first}");
    assert_eq!(first["structuredContent"]["refresh"]["decision"], "allowed", "{first}");
    assert!(text(&first).starts_with("Refresh: snaptrade ok."), "{first}");
    let billed = |calls: Value| calls["snaptrade"]["users"][&user]["billed"].as_u64().unwrap_or(0);
    let before = billed(ctx.sim_calls().await);
    let second = call_tool(&ctx, &token, "get_positions", arguments).await;
    assert_eq!(second["isError"], true, "{second}");
    assert!(second.get("structuredContent").is_none());
    let said = text(&second);
    assert!(said.contains("refresh_cooling_down") && said.contains("Next allowed at"), "{said}");
    assert_eq!(billed(ctx.sim_calls().await), before, "a refused refresh bills nothing");
    // The API sees the same cooldown (one policy, one state).
    let api = ctx.post(&ctx.dev, "/api/holdings/refresh", &token, json!({"providers": ["snaptrade"]})).await;
    assert_eq!((api.status, api.code()), (429, "refresh_cooling_down"), "{:?}", api.body);
    Ok(())
}

async fn modern(ctx: &Ctx, token: &str, method: &str, params: Value, headers: &[(&str, &str)]) -> Reply {
    let mut params = params;
    params["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tributary-e2e", "version": "0.0.1"}});
    let body = json!({"jsonrpc": "2.0", "id": "m-1", "method": method, "params": params});
    let mut request = ctx.http.post(format!("{}/mcp", ctx.dev)).bearer_auth(token).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    ctx.send(request).await
}

async fn mcp_modern_era_gets_modern_fields_and_a_header_mismatch_is_400(ctx: Arc<Ctx>) -> TestResult {
    let token = ctx.token(&ctx.user("mcp-modern"));
    let version = ("MCP-Protocol-Version", MODERN);
    let list = modern(&ctx, &token, "tools/list", json!({}), &[version, ("Mcp-Method", "tools/list")]).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert!(list.content_type.starts_with("application/json"));
    let result = &list.body["result"];
    assert_eq!((&result["resultType"], &result["cacheScope"]), (&json!("complete"), &json!("private")));
    assert!(result["ttlMs"].as_u64().is_some() && result["tools"].as_array().unwrap().len() == 6, "{result}");
    let discover =
        modern(&ctx, &token, "server/discover", json!({}), &[version, ("Mcp-Method", "server/discover")]).await;
    let result = &discover.body["result"];
    assert_eq!(discover.status, 200, "{:?}", discover.body);
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"][0], MODERN);
    assert!(result["supportedVersions"].as_array().unwrap().contains(&json!("2025-11-25")));
    assert_eq!(result["capabilities"]["tools"], json!({}));
    let call = modern(
        &ctx,
        &token,
        "tools/call",
        json!({"name": "list_connections", "arguments": {}}),
        &[version, ("Mcp-Method", "tools/call"), ("Mcp-Name", "list_connections")],
    )
    .await;
    assert_eq!((call.status, &call.body["result"]["resultType"]), (200, &json!("complete")), "{:?}", call.body);
    assert_eq!(call.body["result"]["isError"], false);

    let mismatch = modern(&ctx, &token, "tools/list", json!({}), &[version, ("Mcp-Method", "server/discover")]).await;
    assert_eq!((mismatch.status, &mismatch.body["error"]["code"]), (400, &json!(-32020)), "{:?}", mismatch.body);
    let no_headers = modern(&ctx, &token, "tools/list", json!({}), &[]).await;
    assert_eq!((no_headers.status, &no_headers.body["error"]["code"]), (400, &json!(-32020)));
    let wrong_name = modern(
        &ctx,
        &token,
        "tools/call",
        json!({"name": "list_connections", "arguments": {}}),
        &[version, ("Mcp-Method", "tools/call"), ("Mcp-Name", "get_positions")],
    )
    .await;
    assert_eq!((wrong_name.status, &wrong_name.body["error"]["code"]), (400, &json!(-32020)));
    let old = ctx
        .send(
            ctx.http
                .post(format!("{}/mcp", ctx.dev))
                .bearer_auth(&token)
                .header("MCP-Protocol-Version", "1900-01-01")
                .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})),
        )
        .await;
    assert_eq!((old.status, &old.body["error"]["code"]), (400, &json!(-32022)), "{:?}", old.body);
    let unknown = modern(&ctx, &token, "ping", json!({}), &[version, ("Mcp-Method", "ping")]).await;
    assert_eq!((unknown.status, &unknown.body["error"]["code"]), (404, &json!(-32601)), "{:?}", unknown.body);
    Ok(())
}

async fn mcp_python_sdk_in_the_modern_era_reads_exactly_what_the_api_answers(ctx: Arc<Ctx>) -> TestResult {
    let python = repo_root().join("target/venv/bin/python");
    if !python.exists() {
        return Err("target/venv is missing: run scripts/setup (it installs scripts/requirements-contract.txt)".into());
    }
    let (_user, token) = connected(&ctx, "mcp-python").await;
    let out = run_client(&ctx, &token, &python, "client.py").await?;
    assert_eq!(out["protocolVersion"], MODERN, "the probe chose the modern era: {out}");
    assert_eq!(
        out["tools"],
        json!([
            "get_positions",
            "list_connections",
            "connection_health",
            "get_transactions",
            "preview_trade",
            "place_order"
        ])
    );
    let calls = &out["calls"];
    for name in ["consolidated", "list_connections", "connection_health", "get_transactions"] {
        assert_eq!(calls[name]["isError"], false, "{name}: {}", calls[name]);
    }
    let api = ctx.get(&ctx.dev, "/api/portfolio?view=consolidated", Some(&token)).await;
    assert_eq!(ageless(calls["consolidated"]["structuredContent"].clone()), ageless(api.body));
    let connections = ctx.get(&ctx.dev, "/api/connections", Some(&token)).await;
    assert_eq!(calls["list_connections"]["structuredContent"], connections.body);
    let transactions = ctx.get(&ctx.dev, "/api/transactions", Some(&token)).await;
    assert_eq!(calls["get_transactions"]["structuredContent"], transactions.body);
    assert_eq!(calls["bad_from"]["isError"], true);
    assert!(calls["bad_from"]["text"][0].as_str().unwrap().contains("from"), "{}", calls["bad_from"]);
    assert_previewed_not_placed(&ctx, &token, calls).await;
    Ok(())
}

/// On a deployment with `MCP_ALLOW_PLACE=true` (the reliability worker): a preview placed through
/// the tool is placed once (the same key replays it), another user's preview is refused, and the
/// order is the one the API lists.
async fn mcp_place_order_where_the_deployment_allows_it_places_once_and_only_the_callers_preview(
    ctx: Arc<Ctx>,
) -> TestResult {
    let on = Arc::new(ctx.with_worker(&ctx.reliability, &ctx.reliability_state));
    let (_, token) = connected(&on, "mcp-place").await;
    let (_, other) = connected(&on, "mcp-place-other").await;
    let account = trading_account(&on, &token).await;
    let health = call_tool(&on, &token, "connection_health", json!({"probe_trading": true})).await;
    let probed = &health["structuredContent"]["trading_probe"];
    assert_eq!(probed["probed"], true, "{health}");
    let standing = probed["accounts"].as_array().unwrap().iter().find(|a| a["account_id"] == json!(account)).cloned();
    assert_eq!(standing.map(|a| a["can_trade"].clone()), Some(json!(true)), "{probed}");
    let preview = call_tool(&on, &token, "preview_trade", json!({"account_id": account, "ticker": "AAPL", "side": "BUY", "quantity": 1, "order_type": "Limit", "limit_price": "180.5"})).await;
    assert_eq!(preview["isError"], false, "{preview}");
    assert!(text(&preview).contains("nothing has been placed"), "{preview}");
    let preview_id = preview["structuredContent"]["preview_id"].as_str().unwrap().to_owned();
    let key = "5b1f7c2e-3a4d-4e6f-8a9b-0c1d2e3f4a5b";
    let theirs = call_tool(&on, &other, "place_order", json!({"preview_id": preview_id, "idempotency_key": key})).await;
    assert_eq!(theirs["isError"], true, "another user's preview: {theirs}");
    assert!(text(&theirs).contains("preview_not_found"), "{theirs}");
    let placed = call_tool(&on, &token, "place_order", json!({"preview_id": preview_id, "idempotency_key": key})).await;
    assert_eq!(placed["isError"], false, "{placed}");
    let order = placed["structuredContent"]["order"].clone();
    assert_eq!(
        (order["state"].as_str(), placed["structuredContent"]["replayed"].as_bool()),
        (Some("open"), Some(false))
    );
    let again = call_tool(&on, &token, "place_order", json!({"preview_id": preview_id, "idempotency_key": key})).await;
    assert_eq!(
        (&again["structuredContent"]["order"]["id"], &again["structuredContent"]["replayed"]),
        (&order["id"], &json!(true))
    );
    assert_eq!(on.sim_state.snaptrade_orders(&account).len(), 1, "placed once at the broker");
    let listed = on.get(&on.dev, "/api/orders", Some(&token)).await;
    assert_eq!(listed.body["orders"][0]["id"], order["id"]);
    Ok(())
}
