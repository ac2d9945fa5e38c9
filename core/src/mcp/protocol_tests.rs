use super::*;
use crate::mcp::era::{META_CLIENT_CAPABILITIES, META_PROTOCOL_VERSION};
use crate::mcp::tools::TOOL_NAMES as TOOL_NAMES_FOR_TESTS;
use crate::mcp::MODERN_VERSION;
use crate::merge::MergeView;

fn reply(step: Step) -> Reply {
    match step {
        Step::Reply(reply) => reply,
        Step::Call { call, .. } => panic!("expected a reply, got a call of {call:?}"),
    }
}

fn legacy(body: Value) -> Reply {
    let headers = McpHeaders { protocol_version: Some("2025-11-25".into()), ..Default::default() };
    reply(handle(body.to_string().as_bytes(), &headers))
}

fn modern_headers(method: &str, name: Option<&str>) -> McpHeaders {
    McpHeaders {
        protocol_version: Some(MODERN_VERSION.into()),
        method: Some(method.into()),
        name: name.map(Into::into),
    }
}

fn modern_body(id: i64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({META_PROTOCOL_VERSION: MODERN_VERSION, META_CLIENT_CAPABILITIES: {},
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}});
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn modern(method: &str, params: Value) -> Reply {
    let name = params.get("name").and_then(Value::as_str).map(str::to_owned);
    reply(handle(modern_body(1, method, params).to_string().as_bytes(), &modern_headers(method, name.as_deref())))
}

fn body(reply: &Reply) -> &Value {
    reply.body.as_ref().expect("a body")
}

#[test]
fn initialize_echoes_a_supported_version_without_modern_fields() {
    let r = legacy(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}}}));
    assert_eq!(r.status, 200);
    let result = &body(&r)["result"];
    assert_eq!(result["protocolVersion"], "2025-06-18");
    assert_eq!(result["capabilities"]["tools"]["listChanged"], false);
    assert_eq!(result["serverInfo"]["name"], "tributary");
    assert!(result.get("resultType").is_none());
}

#[test]
fn initialize_with_an_unknown_version_offers_the_latest_legacy_one() {
    let r =
        legacy(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05"}}));
    assert_eq!(body(&r)["result"]["protocolVersion"], "2025-11-25");
}

#[test]
fn notifications_and_client_responses_are_accepted_without_a_body() {
    let r = legacy(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    assert_eq!(r, Reply { status: 202, body: None });
    let r = legacy(json!({"jsonrpc": "2.0", "id": 4, "result": {}}));
    assert_eq!(r.status, 202);
}

#[test]
fn ping_answers_an_empty_result() {
    let r = legacy(json!({"jsonrpc": "2.0", "id": 7, "method": "ping"}));
    assert_eq!(body(&r), &json!({"jsonrpc": "2.0", "id": 7, "result": {}}));
}

#[test]
fn a_body_that_is_not_json_is_a_parse_error() {
    let r = reply(handle(b"{not json", &McpHeaders::default()));
    assert_eq!((r.status, body(&r)["error"]["code"].as_i64()), (400, Some(codes::PARSE_ERROR)));
}

#[test]
fn a_batch_or_a_non_jsonrpc_object_is_an_invalid_request() {
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]);
    for message in
        [batch, json!({"id": 1, "method": "ping"}), json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"})]
    {
        let r = legacy(message.clone());
        assert_eq!((r.status, body(&r)["error"]["code"].as_i64()), (400, Some(codes::INVALID_REQUEST)), "{message}");
    }
}

#[test]
fn legacy_unknown_method_is_method_not_found_in_a_200() {
    let r = legacy(json!({"jsonrpc": "2.0", "id": "x", "method": "resources/list"}));
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["error"]["code"], codes::METHOD_NOT_FOUND);
    assert_eq!(body(&r)["id"], "x");
}

#[test]
fn modern_unknown_method_is_a_404_method_not_found() {
    let r = modern("ping", json!({}));
    assert_eq!(r.status, 404);
    assert_eq!(body(&r)["error"]["code"], codes::METHOD_NOT_FOUND);
}

#[test]
fn legacy_tools_list_names_every_tool_without_modern_fields() {
    let r = legacy(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let result = &body(&r)["result"];
    let names: Vec<&str> = result["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOL_NAMES_FOR_TESTS);
    for field in ["resultType", "ttlMs", "cacheScope", "nextCursor"] {
        assert!(result.get(field).is_none(), "{field}");
    }
}

#[test]
fn modern_tools_list_is_complete_private_and_cacheable() {
    let r = modern("tools/list", json!({}));
    assert_eq!(r.status, 200);
    let result = &body(&r)["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["ttlMs"], TOOLS_LIST_TTL_MS);
    assert_eq!(result["cacheScope"], "private");
    assert_eq!(result["tools"].as_array().unwrap().len(), TOOL_NAMES_FOR_TESTS.len());
    assert_eq!(result["_meta"][META_SERVER_INFO]["name"], "tributary");
}

#[test]
fn modern_discover_lists_supported_versions_and_tools() {
    let r = modern("server/discover", json!({}));
    let result = &body(&r)["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"], json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]));
    assert_eq!(result["capabilities"], json!({"tools": {}}));
    assert_eq!(result["cacheScope"], "public");
    assert!(result["ttlMs"].as_u64().is_some());
}

#[test]
fn modern_header_mismatch_is_a_400_with_32020() {
    let body_text = modern_body(3, "tools/list", json!({})).to_string();
    let r = reply(handle(body_text.as_bytes(), &modern_headers("server/discover", None)));
    assert_eq!(r.status, 400);
    assert_eq!(body(&r)["error"]["code"], codes::HEADER_MISMATCH);
    assert_eq!(body(&r)["id"], 3);
}

#[test]
fn modern_unsupported_version_is_a_400_with_32022_and_the_supported_list() {
    let mut message = modern_body(3, "tools/list", json!({}));
    message["params"]["_meta"][META_PROTOCOL_VERSION] = json!("1900-01-01");
    let r = reply(handle(message.to_string().as_bytes(), &modern_headers("tools/list", None)));
    assert_eq!(r.status, 400);
    let error = &body(&r)["error"];
    assert_eq!(error["code"], codes::UNSUPPORTED_VERSION);
    assert_eq!(error["data"]["requested"], "1900-01-01");
    assert_eq!(error["data"]["supported"][0], MODERN_VERSION);
}

#[test]
fn tools_call_of_a_known_tool_is_handed_to_the_shell_with_its_era() {
    let message = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "get_positions", "arguments": {"format": "by_account"}}});
    match handle(message.to_string().as_bytes(), &McpHeaders::default()) {
        Step::Call { context, call } => {
            assert_eq!(context.id, json!(5));
            assert_eq!(context.era, Era::Legacy { version: "2025-03-26".into() });
            assert_eq!(call, ToolCall::GetPositions { view: MergeView::ByAccount, refresh_provider: None });
        }
        other => panic!("expected a call, got {other:?}"),
    }
}

#[test]
fn tools_call_of_an_unknown_tool_is_32602_in_band() {
    let r = legacy(
        json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "sell_everything", "arguments": {}}}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(body(&r)["error"]["code"], codes::INVALID_PARAMS);
    assert!(body(&r)["error"]["message"].as_str().unwrap().contains("sell_everything"));
}

#[test]
fn tools_call_with_a_bad_argument_is_an_is_error_result_naming_it() {
    let r = legacy(json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "get_positions", "arguments": {"format": "flat"}}}));
    assert_eq!(r.status, 200);
    let result = &body(&r)["result"];
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"].as_str().unwrap().contains("format"));
}

#[test]
fn a_modern_tool_result_carries_result_type() {
    let context = CallContext { id: json!("c-1"), era: Era::Modern };
    let r = render_call(&context, ToolOutcome::success("ok", json!({"providers": []})));
    let result = &body(&r)["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["isError"], false);
    assert_eq!(body(&r)["id"], "c-1");
    let legacy = CallContext { id: json!(1), era: Era::Legacy { version: "2025-11-25".into() } };
    assert!(body(&render_call(&legacy, ToolOutcome::failure("no")))["result"].get("resultType").is_none());
}

#[test]
fn a_modern_tools_call_with_a_mismatched_name_header_is_refused_before_the_tool_runs() {
    let message = modern_body(8, "tools/call", json!({"name": "list_connections", "arguments": {}}));
    let r = reply(handle(message.to_string().as_bytes(), &modern_headers("tools/call", Some("get_positions"))));
    assert_eq!((r.status, body(&r)["error"]["code"].as_i64()), (400, Some(codes::HEADER_MISMATCH)));
}
