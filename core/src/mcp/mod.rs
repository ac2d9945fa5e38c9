//! The Model Context Protocol server's rules for `POST /mcp`: one stateless JSON-RPC endpoint
//! serving both protocol eras (2025-03-26 … 2025-11-25 with `initialize`, and 2026-07-28 with
//! per-request `_meta`). Pure: the shell hands in the body bytes and the MCP headers, gets back
//! either an answer to send ([`Reply`]) or a validated tool call to carry out ([`Step::Call`]),
//! and renders the call's outcome with [`render_call`]. Nothing here reads a session, a store or
//! a provider; authentication, `Origin` and body limits are the shell's, before these rules run.
//!
//! The rules, in the order [`handle`] applies them:
//! 1. A body that is not JSON is `-32700` (400); one that is not a single JSON-RPC 2.0 object
//!    (a batch included) is `-32600` (400).
//! 2. A message without `id` (a notification, or a client's response) is accepted: 202, no body.
//! 3. The era ([`era`]): `initialize` is legacy; `params._meta["io.modelcontextprotocol/protocolVersion"]`
//!    is modern, and its headers must agree with the body (`-32020`, 400) and name a supported
//!    version (`-32022`, 400); anything else is legacy, whose `MCP-Protocol-Version` header, when
//!    present, must be a supported version (`-32022`, 400).
//! 4. The method: legacy serves `initialize`, `ping`, `tools/list`, `tools/call` and answers any
//!    other with `-32601` in a 200; modern serves `server/discover`, `tools/list`, `tools/call`
//!    and answers any other with 404 + `-32601`. Modern results carry `resultType`, and its list
//!    and discover results `ttlMs` and `cacheScope`.
//! 5. `tools/call` of an unknown tool is `-32602` (in-band, 200); arguments that fail a tool's
//!    validation are a tool result with `isError` naming the argument ([`tools`]).
//!
//! The few JSON shapes are written by hand over `serde_json` rather than taken from `rmcp`:
//! `rmcp`'s model module compiles for wasm32 but always pulls in `tokio` and `tokio-util`, and
//! its service layer (which needs a tokio runtime Workers do not have) could not be used anyway;
//! the server needs about ten shapes, across two eras whose field sets differ. Measured for
//! wasm32 (opt-level z, LTO): a probe serialising three `rmcp` 3.11.0 model types is 458 KB
//! (139 KB gzip) against 67 KB (29 KB gzip) for the same through `serde_json` alone, while this
//! whole module plus its route adds 75 KB (23 KB gzip) to the worker.

pub mod era;
pub mod outcomes;
pub mod protocol;
pub mod tools;

pub use era::{Era, McpHeaders};
pub use outcomes::McpRefusal;
pub use protocol::{handle, render_call, CallContext, Reply, Step};
pub use tools::{ToolCall, ToolOutcome};

/// The only modern revision served.
pub const MODERN_VERSION: &str = "2026-07-28";
/// Legacy revisions served, newest first; `initialize` falls back to the first.
pub const LEGACY_VERSIONS: [&str; 3] = ["2025-11-25", "2025-06-18", "2025-03-26"];
/// The version a legacy request without `MCP-Protocol-Version` is assumed to speak.
pub const ASSUMED_LEGACY_VERSION: &str = "2025-03-26";
/// The name this server reports in `serverInfo`.
pub const SERVER_NAME: &str = "tributary";
/// What a client is told to do first.
pub const INSTRUCTIONS: &str = "Tributary reads one person's brokerage portfolio across providers. \
Call list_connections to see which providers are connected, get_positions for holdings with their \
freshness, get_transactions for the ledger and connection_health for provider status.";

/// JSON-RPC and MCP error codes this server answers with.
pub mod codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const HEADER_MISMATCH: i64 = -32020;
    pub const UNSUPPORTED_VERSION: i64 = -32022;
}

/// Every version a request may name, modern first (as `server/discover` lists them).
pub fn supported_versions() -> Vec<&'static str> {
    std::iter::once(MODERN_VERSION).chain(LEGACY_VERSIONS).collect()
}
