//! The tools this server offers: their definitions (names, schemas and annotations are
//! contracts), the validation of each call's arguments into a typed [`ToolCall`], and the
//! outcome a carried-out call becomes ([`ToolOutcome`]).
//!
//! Validation rules, for every tool: `arguments` absent means `{}`; an argument the tool does
//! not take, a required one missing, or one of the wrong type or value is an [`ArgumentError`]
//! naming it, which the shell answers as an `isError` result (never a protocol error, so the
//! model can correct itself). Ledger windows are checked by the same
//! [`TransactionQuery::parse`] as `GET /api/transactions`, its errors renamed to the argument.

use crate::merge::MergeView;
use crate::time::Date;
use crate::trading::{parse_idempotency_key, OrderForm, OrderRequest, TradingError};
use crate::transactions::query::{TransactionQuery, TransactionQueryError};
use crate::Provider;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// Tool names, in the order `tools/list` gives them.
pub const TOOL_NAMES: [&str; 6] =
    ["get_positions", "list_connections", "connection_health", "get_transactions", "preview_trade", "place_order"];

/// A validated call of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolCall {
    /// The merged portfolio in `view`, after refreshing `refresh_provider` under the refresh policy.
    GetPositions { view: MergeView, refresh_provider: Option<Provider> },
    /// Which providers the user has connected.
    ListConnections,
    /// Each provider's connection and health; `probe_trading` asks for a trading check too.
    ConnectionHealth { probe_trading: bool },
    /// A ledger read; [`TransactionArguments::query`] turns it into the API's query.
    GetTransactions(TransactionArguments),
    /// A trade preview of this checked order (the API's `POST /api/orders/preview`).
    PreviewTrade(OrderForm),
    /// Placing a preview under the caller's idempotency key (a UUID, checked), when the
    /// deployment allows assistants to place (`MCP_ALLOW_PLACE`).
    PlaceOrder { preview_id: String, idempotency_key: String },
}

/// `get_transactions`'s arguments, as given (checked against a date by [`Self::query`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransactionArguments {
    pub from: Option<String>,
    pub to: Option<String>,
    pub account_id: Option<String>,
    pub types: Option<String>,
}

/// An argument that failed validation, and why (the message names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    pub argument: String,
    pub message: String,
}

impl ArgumentError {
    fn new(argument: &str, message: impl Into<String>) -> Self {
        Self { argument: argument.to_owned(), message: message.into() }
    }
}

/// Why a `tools/call` could not become a [`ToolCall`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No tool has this name (`-32602`).
    UnknownTool(String),
    /// `arguments` is not an object (`-32602`).
    ArgumentsNotAnObject,
    /// An argument failed validation (an `isError` result).
    Argument(ArgumentError),
}

impl From<ArgumentError> for CallError {
    fn from(error: ArgumentError) -> Self {
        Self::Argument(error)
    }
}

impl TransactionArguments {
    /// The ledger query these arguments ask for, `today` being the user's date; an error names the
    /// argument at fault (`from`, `to`, `account_id` or `type`).
    pub fn query(&self, today: Date) -> Result<TransactionQuery, ArgumentError> {
        let pairs = [("from", &self.from), ("to", &self.to), ("account", &self.account_id), ("type", &self.types)];
        let given = pairs.iter().filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)));
        TransactionQuery::parse(given, today).map_err(|error| {
            let argument = match &error {
                TransactionQueryError::InvalidDate { field, .. } => field,
                TransactionQueryError::InvertedRange { .. } | TransactionQueryError::RangeTooLong { .. } => "from",
                TransactionQueryError::UnknownType(_) => "type",
                TransactionQueryError::InvalidAccount => "account_id",
                _ => "arguments",
            };
            let message = error.to_string().replacen("account must", "account_id must", 1);
            ArgumentError::new(argument, format!("{argument}: {message}"))
        })
    }
}

/// The arguments of one call, checked against the names a tool takes.
struct Arguments<'a> {
    tool: &'static str,
    given: &'a Map<String, Value>,
}

impl<'a> Arguments<'a> {
    fn new(tool: &'static str, given: &'a Map<String, Value>, takes: &[&str]) -> Result<Self, ArgumentError> {
        if let Some(unknown) = given.keys().find(|k| !takes.contains(&k.as_str())) {
            let takes = if takes.is_empty() { "no arguments".to_owned() } else { takes.join(", ") };
            let name: String = unknown.chars().take(64).collect();
            return Err(ArgumentError::new(
                &name,
                format!("{tool} does not take the argument {name:?}; it takes {takes}"),
            ));
        }
        Ok(Self { tool, given })
    }

    fn string(&self, name: &str) -> Result<Option<&'a str>, ArgumentError> {
        match self.given.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ArgumentError::new(name, format!("{name} must be a string"))),
        }
    }

    fn boolean(&self, name: &str) -> Result<Option<bool>, ArgumentError> {
        match self.given.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ArgumentError::new(name, format!("{name} must be true or false"))),
        }
    }

    fn required_string(&self, name: &str) -> Result<&'a str, ArgumentError> {
        self.string(name)?.ok_or_else(|| ArgumentError::new(name, format!("{name} is required by {}", self.tool)))
    }
}

/// The [`ToolCall`] `name` with `arguments` asks for (rules in the module doc).
pub fn parse_call(name: &str, arguments: Option<&Value>) -> Result<ToolCall, CallError> {
    let empty = Map::new();
    let given = match arguments {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(_) => return Err(CallError::ArgumentsNotAnObject),
    };
    match name {
        "get_positions" => {
            let args = Arguments::new("get_positions", given, &["format", "refresh_provider"])?;
            let format = args.required_string("format")?;
            let view = MergeView::parse(format).map_err(|_| {
                ArgumentError::new(
                    "format",
                    format!("format must be \"consolidated\" or \"by_account\", got {format:?}"),
                )
            })?;
            let refresh_provider = args
                .string("refresh_provider")?
                .map(|p| {
                    Provider::parse(p).map_err(|_| {
                        let known: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
                        let message = format!("refresh_provider must be one of {}, got {p:?}", known.join(", "));
                        ArgumentError::new("refresh_provider", message)
                    })
                })
                .transpose()?;
            Ok(ToolCall::GetPositions { view, refresh_provider })
        }
        "list_connections" => {
            Arguments::new("list_connections", given, &[])?;
            Ok(ToolCall::ListConnections)
        }
        "connection_health" => {
            let args = Arguments::new("connection_health", given, &["probe_trading"])?;
            Ok(ToolCall::ConnectionHealth { probe_trading: args.boolean("probe_trading")?.unwrap_or(false) })
        }
        "get_transactions" => {
            let args = Arguments::new("get_transactions", given, &["from", "to", "account_id", "type"])?;
            let owned = |name| args.string(name).map(|v| v.map(str::to_owned));
            Ok(ToolCall::GetTransactions(TransactionArguments {
                from: owned("from")?,
                to: owned("to")?,
                account_id: owned("account_id")?,
                types: owned("type")?,
            }))
        }
        "preview_trade" => {
            let takes = [
                "account_id",
                "ticker",
                "side",
                "quantity",
                "order_type",
                "limit_price",
                "stop_price",
                "time_in_force",
            ];
            let args = Arguments::new("preview_trade", given, &takes)?;
            args.required_string("account_id")?;
            args.required_string("ticker")?;
            args.required_string("side")?;
            if given.get("quantity").is_none_or(Value::is_null) {
                return Err(ArgumentError::new("quantity", "quantity is required by preview_trade").into());
            }
            let figure = |name: &str| match given.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v @ (Value::String(_) | Value::Number(_))) => Ok(RawValue::from_string(v.to_string()).ok()),
                Some(_) => {
                    Err(ArgumentError::new(name, format!("{name} must be a decimal number or a decimal string")))
                }
            };
            let owned = |name| args.string(name).map(|v| v.map(str::to_owned));
            let request = OrderRequest {
                account_id: owned("account_id")?,
                symbol: owned("ticker")?,
                action: owned("side")?,
                order_type: Some(owned("order_type")?.unwrap_or_else(|| "Market".into())),
                time_in_force: Some(owned("time_in_force")?.unwrap_or_else(|| "Day".into())),
                units: figure("quantity")?,
                limit_price: figure("limit_price")?,
                stop_price: figure("stop_price")?,
                ..OrderRequest::default()
            };
            OrderForm::parse(&request).map(ToolCall::PreviewTrade).map_err(|error| trade_argument(&error).into())
        }
        "place_order" => {
            let args = Arguments::new("place_order", given, &["preview_id", "idempotency_key"])?;
            let preview_id = args.required_string("preview_id")?.trim();
            if preview_id.is_empty() || preview_id.len() > 128 {
                return Err(ArgumentError::new(
                    "preview_id",
                    "preview_id must be the preview_id preview_trade returned",
                )
                .into());
            }
            let key = args.required_string("idempotency_key")?;
            let idempotency_key = parse_idempotency_key(Some(key))
                .map_err(|e| ArgumentError::new("idempotency_key", format!("idempotency_key: {e}")))?;
            Ok(ToolCall::PlaceOrder { preview_id: preview_id.to_owned(), idempotency_key })
        }
        other => Err(CallError::UnknownTool(other.chars().take(128).collect())),
    }
}

/// An order field's refusal, renamed to the `preview_trade` argument that carried it.
fn trade_argument(error: &TradingError) -> ArgumentError {
    let TradingError::InvalidOrder { field, reason } = error else {
        return ArgumentError::new("arguments", error.to_string());
    };
    let argument = match *field {
        "symbol" => "ticker",
        "action" => "side",
        "units" | "notional" => "quantity",
        other => other,
    };
    let reason = reason.replace("symbol_id or symbol", "ticker").replace("units or notional", "quantity");
    ArgumentError::new(argument, format!("{argument}: {reason}"))
}

/// What a carried-out call produced: a readable summary and, on success, the structured result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    pub summary: String,
    pub structured: Option<Value>,
    pub is_error: bool,
}

impl ToolOutcome {
    /// A successful call: `structured` (conforming to the tool's `outputSchema`) and its summary.
    pub fn success(summary: impl Into<String>, structured: Value) -> Self {
        Self { summary: summary.into(), structured: Some(structured), is_error: false }
    }

    /// A failed call (a refused refresh, a provider failure, a bad argument): `isError` with why.
    pub fn failure(message: impl Into<String>) -> Self {
        Self { summary: message.into(), structured: None, is_error: true }
    }

    /// The `CallToolResult` object: the summary (and the structured JSON, for clients that read
    /// only text) as one text block, `structuredContent` when there is one, and `isError`.
    pub fn to_result(&self) -> Value {
        let text = match &self.structured {
            Some(structured) => format!("{}\n\n{structured}", self.summary),
            None => self.summary.clone(),
        };
        let mut result = json!({"content": [{"type": "text", "text": text}], "isError": self.is_error});
        if let Some(structured) = &self.structured {
            result["structuredContent"] = structured.clone();
        }
        result
    }
}

impl From<ArgumentError> for ToolOutcome {
    fn from(error: ArgumentError) -> Self {
        Self::failure(format!("Invalid argument {}: {}", error.argument, error.message))
    }
}

fn annotations(read_only: bool, idempotent: bool, open_world: bool) -> Value {
    json!({"readOnlyHint": read_only, "destructiveHint": false, "idempotentHint": idempotent, "openWorldHint": open_world})
}

/// The trading tools' shared output pieces.
fn order_schema() -> Value {
    json!({"type": "object", "required": ["id", "account_id", "symbol", "action", "state"], "properties": {
        "id": {"type": "string"}, "account_id": {"type": "string"}, "symbol": {"type": "string"},
        "action": {"type": "string"}, "state": {"type": "string"}, "brokerage_order_id": {"type": ["string", "null"]}}})
}

const DATE: &str = "YYYY-MM-DD";

fn provider_names() -> Vec<&'static str> {
    Provider::ALL.iter().map(|p| p.as_str()).collect()
}

/// Every tool's definition, in [`TOOL_NAMES`] order.
pub fn definitions() -> Vec<Value> {
    let provider_report = json!({"type": "object", "required": ["provider", "status"], "properties": {
        "provider": {"type": "string"}, "status": {"type": "string"},
        "cache_info": {"type": ["object", "null"], "properties": {
            "age_hours": {"type": ["string", "null"], "description": "hours as exact decimal text; null when just fetched"},
            "ttl_hours": {"type": "integer"}, "from_cache": {"type": "boolean"}}}}});
    vec![
        json!({
            "name": "get_positions", "title": "Get positions",
            "description": "The person's portfolio merged across every connected provider, consolidated per security or listed by account, with each provider's status and cache_info {age_hours, ttl_hours, from_cache}. With refresh_provider, that provider is refreshed first under the same policy as the app (cooldown, paid-refresh cap); a refused refresh is an error saying why and when it is next allowed.",
            "inputSchema": {"type": "object", "additionalProperties": false, "required": ["format"], "properties": {
                "format": {"type": "string", "enum": ["consolidated", "by_account"]},
                "refresh_provider": {"type": "string", "enum": provider_names()}}},
            "outputSchema": {"type": "object", "required": ["view", "cash", "totals", "providers"], "properties": {
                "view": {"type": "string", "enum": ["consolidated", "by_account"]},
                "consolidated": {"type": "array"}, "by_account": {"type": "array"},
                "cash": {"type": "array"}, "totals": {"type": "array"},
                "providers": {"type": "array", "items": provider_report},
                "refresh": {"type": "object"}}},
            "annotations": annotations(false, false, true),
        }),
        json!({
            "name": "list_connections", "title": "List connections",
            "description": "Which providers the person has connected (a stored fact; no provider is called).",
            "inputSchema": {"type": "object", "additionalProperties": false},
            "outputSchema": {"type": "object", "required": ["providers"], "properties": {"providers": {"type": "array", "items": {
                "type": "object", "required": ["provider", "connected"],
                "properties": {"provider": {"type": "string"}, "connected": {"type": "boolean"}}}}}},
            "annotations": annotations(true, true, false),
        }),
        json!({
            "name": "connection_health", "title": "Connection health",
            "description": "Each provider: whether it is connected for the person, configured for this deployment and available, with institutions under maintenance and recent failures; and each connection: ok, degraded, needs_repair or expires_soon, with a reason code and the action that fixes it. probe_trading: true adds, per account, whether it can trade now and if not why and what to do (read-only connection, institution not enabled, provider that cannot trade, connection to repair); no provider is called.",
            "inputSchema": {"type": "object", "additionalProperties": false, "properties": {"probe_trading": {"type": "boolean"}}},
            "outputSchema": {"type": "object", "required": ["providers", "trading_probe"], "properties": {
                "providers": {"type": "array", "items": {"type": "object",
                    "required": ["provider", "connected", "configured", "available"],
                    "properties": {"provider": {"type": "string"}, "connected": {"type": "boolean"},
                        "configured": {"type": "boolean"}, "available": {"type": "boolean"}}}},
                "connections": {"type": "array", "items": {"type": "object",
                    "required": ["connection_id", "provider", "status", "data_ok"],
                    "properties": {"connection_id": {"type": "string"}, "provider": {"type": "string"},
                        "status": {"enum": ["ok", "degraded", "needs_repair", "expires_soon"]},
                        "data_ok": {"type": "boolean"}, "reason": {"type": ["string", "null"]},
                        "action": {"type": ["string", "null"]}, "action_code": {"type": ["string", "null"]}}}},
                "trading_probe": {"type": "object"}}},
            "annotations": annotations(true, true, true),
        }),
        json!({
            "name": "get_transactions", "title": "Get transactions",
            "description": "The person's transactions across providers, newest first (the first page of at most 100, as the app reads them): the last 90 days unless from/to say otherwise. Amounts > 0 are money into the account.",
            "inputSchema": {"type": "object", "additionalProperties": false, "properties": {
                "from": {"type": "string", "description": DATE}, "to": {"type": "string", "description": DATE},
                "account_id": {"type": "string"},
                "type": {"type": "string", "description": "one type or several separated by commas: buy, sell, dividend, interest, fee, tax, deposit, withdrawal, transfer_in, transfer_out, split, other"}}},
            "outputSchema": {"type": "object", "required": ["from", "to", "transactions", "providers"], "properties": {
                "from": {"type": "string"}, "to": {"type": "string"}, "transactions": {"type": "array"},
                "next_cursor": {"type": ["string", "null"]}, "providers": {"type": "array"}}},
            "annotations": annotations(true, true, true),
        }),
        json!({
            "name": "preview_trade", "title": "Preview a trade",
            "description": "Checks and prices an order in one of the person's tradable accounts (nothing is placed): the broker's own preview where it gives one, with every figure's source (brokerage, estimate from cached prices, or unavailable — an unavailable figure is null, never 0). quantity is in units (shares), as a decimal string or number. order_type defaults to Market, time_in_force to Day; limit_price is required for Limit and StopLimit, stop_price for Stop and StopLimit. The preview_id can be placed for 5 minutes.",
            "inputSchema": {"type": "object", "additionalProperties": false, "required": ["account_id", "ticker", "side", "quantity"], "properties": {
                "account_id": {"type": "string"}, "ticker": {"type": "string"},
                "side": {"type": "string", "enum": ["BUY", "SELL"]},
                "quantity": {"type": ["string", "number"], "description": "units, exact decimal"},
                "order_type": {"type": "string", "enum": ["Market", "Limit", "Stop", "StopLimit"]},
                "limit_price": {"type": ["string", "number"]}, "stop_price": {"type": ["string", "number"]},
                "time_in_force": {"type": "string", "enum": ["Day", "GTC", "FOK", "IOC"]}}},
            "outputSchema": {"type": "object", "required": ["preview_id", "account_id", "expires_at", "order", "estimate"], "properties": {
                "preview_id": {"type": "string"}, "account_id": {"type": "string"}, "brokerage": {"type": "string"},
                "expires_at": {"type": "integer"}, "order": {"type": "object"},
                "estimate": {"type": "object", "required": ["price", "commission", "fees", "remaining_cash", "source"]},
                "warnings": {"type": "array"}}},
            "annotations": annotations(true, false, true),
        }),
        json!({
            "name": "place_order", "title": "Place an order",
            "description": "Places an order previewed in the last 5 minutes by this person, at most once per idempotency_key (a UUID: reuse it to retry the same order safely; a different order needs a new key). Only when this deployment allows assistants to place orders (MCP_ALLOW_PLACE); otherwise it refuses and the person places the preview in the app. Real money: confirm with the person first.",
            "inputSchema": {"type": "object", "additionalProperties": false, "required": ["preview_id", "idempotency_key"], "properties": {
                "preview_id": {"type": "string"}, "idempotency_key": {"type": "string", "format": "uuid"}}},
            "outputSchema": {"type": "object", "required": ["order", "replayed"], "properties": {
                "order": order_schema(), "replayed": {"type": "boolean"}}},
            "annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": true, "openWorldHint": true},
        }),
    ]
}

#[cfg(test)]
#[path = "tools_tests.rs"]
mod tests;
