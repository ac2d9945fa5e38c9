//! How structured values cross the JavaScript boundary: as ONE JSON string each way.
//!
//! In: an argument may be a JSON string (passed through untouched) or any JSON-serialisable value,
//! which is turned into one string by the engine's `JSON.stringify`. Out: the core's answer is
//! serialised by `serde_json` and handed back through one `JSON.parse`. Both engine calls are native
//! and fast, so a large portfolio costs two string copies across the boundary — not one boundary
//! call per field, as walking JS objects from Rust (serde-wasm-bindgen) would.

use crate::error::ClientError;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// `value` as JSON text: a string as it is, anything else through `JSON.stringify`; `None` for
/// `undefined` and `null`.
pub fn json_text(value: &JsValue, argument: &str) -> Result<Option<String>, ClientError> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    if let Some(text) = value.as_string() {
        return Ok(Some(text));
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .map(Some)
        .ok_or_else(|| ClientError::invalid_json(format!("{argument} cannot be turned into JSON")))
}

/// `value` serialised and parsed into a plain JavaScript value.
pub fn to_js(value: &impl Serialize) -> Result<JsValue, ClientError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ClientError::internal(format!("could not serialise the answer: {e}")))?;
    parse_js(&text)
}

/// JSON `text` produced here, parsed into a plain JavaScript value.
pub fn parse_js(text: &str) -> Result<JsValue, ClientError> {
    js_sys::JSON::parse(text).map_err(|_| ClientError::internal("the answer was not valid JSON (a Tributary bug)"))
}
