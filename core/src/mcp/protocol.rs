//! One `POST /mcp` body in, one decision out: an answer to send ([`Reply`]) or a tool call for
//! the shell to carry out ([`Step::Call`]), whose outcome [`render_call`] turns into the answer.
//! The order of the checks is the module doc of [`super`].

use super::era::{classify, negotiate_legacy, Era, EraError, McpHeaders, META_SERVER_INFO};
use super::tools::{definitions, parse_call, CallError, ToolCall, ToolOutcome};
use super::{codes, supported_versions, INSTRUCTIONS, SERVER_NAME};
use serde_json::{json, Value};

/// How long a modern client may reuse `tools/list` (the list depends on the user: private).
pub const TOOLS_LIST_TTL_MS: u64 = 60_000;
/// How long a modern client may reuse `server/discover` (the same for everyone: public).
pub const DISCOVER_TTL_MS: u64 = 3_600_000;

/// An HTTP answer: its status and JSON body (`None`: no body, as a 202 has).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
}

/// What the shell does with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this.
    Reply(Reply),
    /// Carry out `call`, then send [`render_call`] of its outcome.
    Call { context: CallContext, call: ToolCall },
}

/// What rendering a tool call's outcome needs to know about its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub id: Value,
    pub era: Era,
}

fn error(status: u16, id: &Value, code: i64, message: impl Into<String>, data: Option<Value>) -> Reply {
    let mut error = json!({"code": code, "message": message.into()});
    if let Some(data) = data {
        error["data"] = data;
    }
    Reply { status, body: Some(json!({"jsonrpc": "2.0", "id": id, "error": error})) }
}

fn era_error(id: &Value, refused: EraError) -> Reply {
    match refused {
        EraError::HeaderMismatch(why) => {
            error(400, id, codes::HEADER_MISMATCH, format!("Header mismatch: {why}"), None)
        }
        EraError::UnsupportedVersion { requested } => error(
            400,
            id,
            codes::UNSUPPORTED_VERSION,
            "Unsupported protocol version",
            Some(json!({"supported": supported_versions(), "requested": requested})),
        ),
        EraError::MissingMeta(key) => {
            error(400, id, codes::INVALID_REQUEST, format!("Invalid request: params._meta must hold {key}"), None)
        }
    }
}

/// A result in `era`: modern results say `resultType` and name the server in `_meta`.
fn result(id: &Value, era: &Era, mut result: Value) -> Reply {
    if *era == Era::Modern {
        result["resultType"] = json!("complete");
        result["_meta"] = json!({ META_SERVER_INFO: server_info() });
    }
    Reply { status: 200, body: Some(json!({"jsonrpc": "2.0", "id": id, "result": result})) }
}

fn server_info() -> Value {
    json!({"name": SERVER_NAME, "version": crate::VERSION})
}

/// Decides what to answer `body` (sent with `headers`), or which tool call to carry out.
pub fn handle(body: &[u8], headers: &McpHeaders) -> Step {
    let none = Value::Null;
    let message: Value = match serde_json::from_slice(body) {
        Ok(message) => message,
        Err(e) => return Step::Reply(error(400, &none, codes::PARSE_ERROR, format!("Parse error: {e}"), None)),
    };
    let Some(object) = message.as_object() else {
        let why = "Invalid request: the body must be one JSON-RPC object (batches are not accepted)";
        return Step::Reply(error(400, &none, codes::INVALID_REQUEST, why, None));
    };
    let id = object.get("id").cloned();
    let method = object.get("method").and_then(Value::as_str);
    let valid_id = id.as_ref().is_none_or(|id| id.is_string() || id.is_i64() || id.is_u64());
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || !valid_id {
        let why = "Invalid request: not a JSON-RPC 2.0 message (jsonrpc \"2.0\", a string or integer id)";
        return Step::Reply(error(400, &id.unwrap_or(Value::Null), codes::INVALID_REQUEST, why, None));
    }
    let (Some(id), Some(method)) = (id, method) else {
        // A notification (no id) or a client's response (no method): accepted, nothing to answer.
        return Step::Reply(Reply { status: 202, body: None });
    };
    let params = object.get("params");
    if params.is_some_and(|p| !p.is_object()) {
        return Step::Reply(error(200, &id, codes::INVALID_PARAMS, "Invalid params: params must be an object", None));
    }
    let era = match classify(method, params, headers) {
        Ok(era) => era,
        Err(refused) => return Step::Reply(era_error(&id, refused)),
    };
    let reply = match (method, &era) {
        ("initialize", Era::Legacy { version }) => result(
            &id,
            &era,
            json!({"protocolVersion": negotiate_legacy(version), "capabilities": {"tools": {"listChanged": false}},
                   "serverInfo": server_info(), "instructions": INSTRUCTIONS}),
        ),
        ("ping", Era::Legacy { .. }) => result(&id, &era, json!({})),
        ("server/discover", Era::Modern) => result(
            &id,
            &era,
            json!({"supportedVersions": supported_versions(), "capabilities": {"tools": {}},
                   "instructions": INSTRUCTIONS, "ttlMs": DISCOVER_TTL_MS, "cacheScope": "public"}),
        ),
        ("tools/list", Era::Legacy { .. }) => result(&id, &era, json!({"tools": definitions()})),
        ("tools/list", Era::Modern) => result(
            &id,
            &era,
            json!({"tools": definitions(), "nextCursor": null, "ttlMs": TOOLS_LIST_TTL_MS, "cacheScope": "private"}),
        ),
        ("tools/call", _) => return tool_call(id, era, params),
        (_, Era::Modern) => error(404, &id, codes::METHOD_NOT_FOUND, format!("Method not found: {method}"), None),
        (_, Era::Legacy { .. }) => {
            error(200, &id, codes::METHOD_NOT_FOUND, format!("Method not found: {method}"), None)
        }
    };
    Step::Reply(reply)
}

fn tool_call(id: Value, era: Era, params: Option<&Value>) -> Step {
    let Some(name) = params.and_then(|p| p.get("name")).and_then(Value::as_str) else {
        return Step::Reply(error(200, &id, codes::INVALID_PARAMS, "Invalid params: tools/call needs a name", None));
    };
    let context = CallContext { id, era };
    match parse_call(name, params.and_then(|p| p.get("arguments"))) {
        Ok(call) => Step::Call { context, call },
        Err(CallError::UnknownTool(name)) => {
            Step::Reply(error(200, &context.id, codes::INVALID_PARAMS, format!("Unknown tool: {name}"), None))
        }
        Err(CallError::ArgumentsNotAnObject) => Step::Reply(error(
            200,
            &context.id,
            codes::INVALID_PARAMS,
            "Invalid params: arguments must be an object",
            None,
        )),
        Err(CallError::Argument(invalid)) => Step::Reply(render_call(&context, ToolOutcome::from(invalid))),
    }
}

/// The answer to a tool call that was carried out (or refused by its own validation).
pub fn render_call(context: &CallContext, outcome: ToolOutcome) -> Reply {
    result(&context.id, &context.era, outcome.to_result())
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
