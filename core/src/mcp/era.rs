//! Which protocol era a request speaks, and whether its MCP headers agree with its body.
//!
//! The rules, in order (reference: "How a dual-era server tells the eras apart"):
//! 1. `initialize` is legacy ([`Era::Legacy`] with the version the body asks for).
//! 2. `params._meta["io.modelcontextprotocol/protocolVersion"]` present is modern: that version
//!    must be [`super::MODERN_VERSION`] (else [`EraError::UnsupportedVersion`]); `_meta` must hold
//!    `clientCapabilities` (else [`EraError::MissingMeta`]); the headers `MCP-Protocol-Version`
//!    and `Mcp-Method` must be present and equal the body's version and method, and `Mcp-Name`
//!    must equal `params.name` on `tools/call` (else [`EraError::HeaderMismatch`]). Header values
//!    written `=?base64?…?=` are decoded before they are compared.
//! 3. Otherwise legacy: `MCP-Protocol-Version` absent means 2025-03-26; a legacy version is
//!    served; the modern version without `_meta` is a [`EraError::HeaderMismatch`]; anything else
//!    is [`EraError::UnsupportedVersion`].

use super::{ASSUMED_LEGACY_VERSION, LEGACY_VERSIONS, MODERN_VERSION};
use base64::Engine;
use serde_json::Value;

/// The `_meta` key naming a modern request's protocol version.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// The `_meta` key holding a modern client's capabilities (required).
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The `_meta` key a modern result names the server under.
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// The MCP headers of one request, as sent (the shell reads them; nothing else is needed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpHeaders {
    /// `MCP-Protocol-Version`.
    pub protocol_version: Option<String>,
    /// `Mcp-Method`.
    pub method: Option<String>,
    /// `Mcp-Name`.
    pub name: Option<String>,
}

/// The era a request is served in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Era {
    /// 2025-03-26 … 2025-11-25: results without `resultType`, `ttlMs`, `cacheScope`.
    Legacy { version: String },
    /// 2026-07-28: per-request `_meta`, `resultType` on every result.
    Modern,
}

/// Why a request's era or headers are refused (400 each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EraError {
    /// `-32020`: a required header is missing or disagrees with the body.
    HeaderMismatch(String),
    /// `-32022`: the version named is not one this server speaks.
    UnsupportedVersion { requested: String },
    /// `-32600`: modern `_meta` lacks a required key.
    MissingMeta(&'static str),
}

/// A header value with an `=?base64?…?=` envelope decoded; other values as sent, trimmed.
pub fn decode_header(value: &str) -> Option<String> {
    let value = value.trim();
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(value.to_owned()),
    }
}

fn header_agrees(header: Option<&String>, name: &str, expected: &str) -> Result<(), EraError> {
    match header.map(|h| decode_header(h)) {
        None => Err(EraError::HeaderMismatch(format!("the {name} header is required"))),
        Some(Some(value)) if value == expected => Ok(()),
        Some(got) => Err(EraError::HeaderMismatch(format!(
            "{name} is {:?} but the body says {expected:?}",
            got.unwrap_or_default()
        ))),
    }
}

/// The era of a request with this `method` and `params` under `headers` (rules in the module doc).
pub fn classify(method: &str, params: Option<&Value>, headers: &McpHeaders) -> Result<Era, EraError> {
    if method == "initialize" {
        let asked = params.and_then(|p| p.get("protocolVersion")).and_then(Value::as_str).unwrap_or_default();
        return Ok(Era::Legacy { version: asked.to_owned() });
    }
    let meta = params.and_then(|p| p.get("_meta"));
    if let Some(version) = meta.and_then(|m| m.get(META_PROTOCOL_VERSION)) {
        let version = version.as_str().unwrap_or_default();
        if version != MODERN_VERSION {
            return Err(EraError::UnsupportedVersion { requested: version.to_owned() });
        }
        if meta.and_then(|m| m.get(META_CLIENT_CAPABILITIES)).is_none_or(|c| !c.is_object()) {
            return Err(EraError::MissingMeta(META_CLIENT_CAPABILITIES));
        }
        header_agrees(headers.protocol_version.as_ref(), "MCP-Protocol-Version", version)?;
        header_agrees(headers.method.as_ref(), "Mcp-Method", method)?;
        if method == "tools/call" {
            let name = params.and_then(|p| p.get("name")).and_then(Value::as_str).unwrap_or_default();
            header_agrees(headers.name.as_ref(), "Mcp-Name", name)?;
        }
        return Ok(Era::Modern);
    }
    let version = match headers.protocol_version.as_deref().map(decode_header) {
        None => ASSUMED_LEGACY_VERSION.to_owned(),
        Some(Some(v)) => v,
        Some(None) => String::new(),
    };
    if LEGACY_VERSIONS.contains(&version.as_str()) {
        Ok(Era::Legacy { version })
    } else if version == MODERN_VERSION {
        Err(EraError::HeaderMismatch(format!(
            "MCP-Protocol-Version is {MODERN_VERSION} but params._meta has no {META_PROTOCOL_VERSION}"
        )))
    } else {
        Err(EraError::UnsupportedVersion { requested: version })
    }
}

/// The version `initialize` answers with: the client's when served, else the newest legacy one.
pub fn negotiate_legacy(asked: &str) -> &'static str {
    LEGACY_VERSIONS.into_iter().find(|v| *v == asked).unwrap_or(LEGACY_VERSIONS[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn modern_headers(method: &str, name: Option<&str>) -> McpHeaders {
        McpHeaders {
            protocol_version: Some(MODERN_VERSION.into()),
            method: Some(method.into()),
            name: name.map(Into::into),
        }
    }

    fn modern_params() -> Value {
        json!({"_meta": {META_PROTOCOL_VERSION: MODERN_VERSION, META_CLIENT_CAPABILITIES: {}}})
    }

    #[test]
    fn initialize_is_legacy_whatever_the_headers_say() {
        let params = json!({"protocolVersion": "2025-06-18"});
        let era = classify("initialize", Some(&params), &modern_headers("x", None));
        assert_eq!(era, Ok(Era::Legacy { version: "2025-06-18".into() }));
    }

    #[test]
    fn meta_version_with_agreeing_headers_is_modern() {
        let era = classify("tools/list", Some(&modern_params()), &modern_headers("tools/list", None));
        assert_eq!(era, Ok(Era::Modern));
    }

    #[test]
    fn modern_header_values_are_base64_decoded_before_comparison() {
        let mut params = modern_params();
        params["name"] = json!("get_positions");
        let headers = modern_headers("tools/call", Some("=?base64?Z2V0X3Bvc2l0aW9ucw==?="));
        assert_eq!(classify("tools/call", Some(&params), &headers), Ok(Era::Modern));
    }

    #[test]
    fn modern_request_whose_method_header_disagrees_is_a_header_mismatch() {
        let era = classify("tools/list", Some(&modern_params()), &modern_headers("tools/call", None));
        assert!(matches!(era, Err(EraError::HeaderMismatch(m)) if m.contains("Mcp-Method")));
    }

    #[test]
    fn modern_request_without_headers_is_a_header_mismatch() {
        let era = classify("tools/list", Some(&modern_params()), &McpHeaders::default());
        assert!(matches!(era, Err(EraError::HeaderMismatch(m)) if m.contains("MCP-Protocol-Version")));
    }

    #[test]
    fn modern_tools_call_needs_mcp_name_equal_to_the_tool() {
        let mut params = modern_params();
        params["name"] = json!("get_positions");
        let era = classify("tools/call", Some(&params), &modern_headers("tools/call", Some("list_connections")));
        assert!(matches!(era, Err(EraError::HeaderMismatch(m)) if m.contains("Mcp-Name")));
        let era = classify("tools/call", Some(&params), &modern_headers("tools/call", None));
        assert!(matches!(era, Err(EraError::HeaderMismatch(_))));
    }

    #[test]
    fn modern_meta_naming_an_unknown_version_is_unsupported() {
        let params = json!({"_meta": {META_PROTOCOL_VERSION: "1900-01-01", META_CLIENT_CAPABILITIES: {}}});
        let era = classify("tools/list", Some(&params), &modern_headers("tools/list", None));
        assert_eq!(era, Err(EraError::UnsupportedVersion { requested: "1900-01-01".into() }));
    }

    #[test]
    fn modern_meta_without_client_capabilities_is_refused() {
        let params = json!({"_meta": {META_PROTOCOL_VERSION: MODERN_VERSION}});
        let era = classify("tools/list", Some(&params), &modern_headers("tools/list", None));
        assert_eq!(era, Err(EraError::MissingMeta(META_CLIENT_CAPABILITIES)));
    }

    #[test]
    fn legacy_request_without_version_header_assumes_2025_03_26() {
        let era = classify("tools/list", None, &McpHeaders::default());
        assert_eq!(era, Ok(Era::Legacy { version: ASSUMED_LEGACY_VERSION.into() }));
    }

    #[test]
    fn legacy_request_with_an_unknown_version_header_is_unsupported() {
        let headers = McpHeaders { protocol_version: Some("2024-01-01".into()), ..Default::default() };
        let era = classify("tools/list", None, &headers);
        assert_eq!(era, Err(EraError::UnsupportedVersion { requested: "2024-01-01".into() }));
    }

    #[test]
    fn modern_version_header_without_meta_is_a_header_mismatch() {
        let era = classify("tools/list", None, &modern_headers("tools/list", None));
        assert!(matches!(era, Err(EraError::HeaderMismatch(_))));
    }

    #[test]
    fn initialize_echoes_a_served_version_and_otherwise_offers_the_newest_legacy_one() {
        for version in LEGACY_VERSIONS {
            assert_eq!(negotiate_legacy(version), version);
        }
        assert_eq!(negotiate_legacy("2024-11-05"), "2025-11-25");
        assert_eq!(negotiate_legacy(MODERN_VERSION), "2025-11-25");
    }
}
