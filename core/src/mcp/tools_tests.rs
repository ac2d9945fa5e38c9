use super::*;
use serde_json::json;

fn call(name: &str, arguments: Value) -> Result<ToolCall, CallError> {
    parse_call(name, Some(&arguments))
}

fn argument_error(result: Result<ToolCall, CallError>) -> ArgumentError {
    match result {
        Err(CallError::Argument(error)) => error,
        other => panic!("expected an argument error, got {other:?}"),
    }
}

#[test]
fn definitions_name_every_tool_in_order_with_object_schemas() {
    let defs = definitions();
    let names: Vec<&str> = defs.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, TOOL_NAMES);
    for def in &defs {
        assert_eq!(def["inputSchema"]["type"], "object", "{}", def["name"]);
        assert_eq!(def["inputSchema"]["additionalProperties"], false, "{}", def["name"]);
        assert_eq!(def["outputSchema"]["type"], "object", "{}", def["name"]);
        let places = def["name"] == "place_order";
        assert_eq!(def["annotations"]["destructiveHint"], places, "only place_order is destructive: {}", def["name"]);
    }
}

#[test]
fn only_get_positions_and_place_order_are_not_read_only() {
    for def in definitions() {
        let refreshes = def["name"] == "get_positions";
        let writes = refreshes || def["name"] == "place_order";
        assert_eq!(def["annotations"]["readOnlyHint"], !writes, "{}", def["name"]);
        if refreshes {
            assert_eq!(def["annotations"]["idempotentHint"], false);
        }
    }
}

#[test]
fn get_positions_parses_its_format_and_refresh_provider() {
    let parsed = call("get_positions", json!({"format": "by_account", "refresh_provider": "snaptrade"}));
    assert_eq!(
        parsed,
        Ok(ToolCall::GetPositions { view: MergeView::ByAccount, refresh_provider: Some(Provider::SnapTrade) })
    );
    let parsed = call("get_positions", json!({"format": "consolidated"}));
    assert_eq!(parsed, Ok(ToolCall::GetPositions { view: MergeView::Consolidated, refresh_provider: None }));
}

#[test]
fn get_positions_without_format_names_format() {
    let error = argument_error(call("get_positions", json!({})));
    assert_eq!(error.argument, "format");
    assert!(error.message.contains("required"));
}

#[test]
fn get_positions_with_an_unknown_format_names_format() {
    let error = argument_error(call("get_positions", json!({"format": "flat"})));
    assert_eq!(error.argument, "format");
    assert!(error.message.contains("\"flat\""));
}

#[test]
fn get_positions_with_an_unknown_provider_names_refresh_provider() {
    let error = argument_error(call("get_positions", json!({"format": "consolidated", "refresh_provider": "acme"})));
    assert_eq!(error.argument, "refresh_provider");
    assert!(error.message.contains("snaptrade"));
}

#[test]
fn an_argument_of_the_wrong_type_is_named() {
    let error = argument_error(call("get_positions", json!({"format": 3})));
    assert_eq!(error.argument, "format");
    let error = argument_error(call("connection_health", json!({"probe_trading": "yes"})));
    assert_eq!(error.argument, "probe_trading");
}

#[test]
fn an_argument_a_tool_does_not_take_is_named() {
    let error = argument_error(call("list_connections", json!({"provider": "plaid"})));
    assert_eq!(error.argument, "provider");
    assert!(error.message.contains("no arguments"));
}

#[test]
fn absent_or_null_arguments_mean_none() {
    assert_eq!(parse_call("list_connections", None), Ok(ToolCall::ListConnections));
    assert_eq!(
        parse_call("connection_health", Some(&Value::Null)),
        Ok(ToolCall::ConnectionHealth { probe_trading: false })
    );
    assert_eq!(
        call("connection_health", json!({"probe_trading": true})),
        Ok(ToolCall::ConnectionHealth { probe_trading: true })
    );
}

#[test]
fn arguments_that_are_not_an_object_are_refused() {
    assert_eq!(call("list_connections", json!([1])), Err(CallError::ArgumentsNotAnObject));
}

#[test]
fn an_unknown_tool_is_refused_by_name() {
    assert_eq!(call("sell_everything", json!({})), Err(CallError::UnknownTool("sell_everything".into())));
}

fn argument_of(result: Result<ToolCall, CallError>) -> String {
    match result {
        Err(CallError::Argument(error)) => error.argument,
        other => panic!("expected an argument error, got {other:?}"),
    }
}

#[test]
fn preview_trade_checks_the_order_as_the_api_does_naming_its_own_arguments() {
    let Ok(ToolCall::PreviewTrade(order)) =
        call("preview_trade", json!({"account_id": "acc", "ticker": "MSFT", "side": "buy", "quantity": "2.50"}))
    else {
        panic!("a market day order");
    };
    assert_eq!(order.order_type, crate::trading::OrderType::Market);
    assert_eq!(order.size, crate::trading::OrderSize::Units(rust_decimal::Decimal::new(25, 1)));
    let limit = call(
        "preview_trade",
        json!({"account_id": "acc", "ticker": "MSFT", "side": "SELL", "quantity": 1, "order_type": "Limit", "limit_price": 401.25}),
    );
    assert!(
        matches!(limit, Ok(ToolCall::PreviewTrade(ref o)) if o.limit_price == Some(rust_decimal::Decimal::new(40125, 2))),
        "{limit:?}"
    );
    let base = json!({"account_id": "acc", "ticker": "MSFT", "side": "BUY", "quantity": "1"});
    let with = |key: &str, value: Value| {
        let mut args = base.clone();
        args[key] = value;
        call("preview_trade", args)
    };
    assert_eq!(argument_of(with("side", json!("HOLD"))), "side");
    assert_eq!(argument_of(with("quantity", json!("-1"))), "quantity");
    assert_eq!(argument_of(with("quantity", json!(true))), "quantity");
    assert_eq!(argument_of(with("order_type", json!("Limit"))), "limit_price");
    assert_eq!(argument_of(with("units", json!("1"))), "units");
    assert_eq!(
        argument_of(call("preview_trade", json!({"account_id": "acc", "side": "BUY", "quantity": "1"}))),
        "ticker"
    );
    assert_eq!(
        argument_of(call("preview_trade", json!({"account_id": "acc", "ticker": "X", "side": "BUY"}))),
        "quantity"
    );
}

#[test]
fn place_order_needs_a_preview_and_a_uuid_key() {
    let key = "0f8fad5b-d9cb-469f-a165-70867728950e";
    assert_eq!(
        call("place_order", json!({"preview_id": "p1", "idempotency_key": key.to_uppercase()})),
        Ok(ToolCall::PlaceOrder { preview_id: "p1".into(), idempotency_key: key.into() })
    );
    assert_eq!(
        argument_of(call("place_order", json!({"preview_id": "p1", "idempotency_key": "k"}))),
        "idempotency_key"
    );
    assert_eq!(argument_of(call("place_order", json!({"idempotency_key": key}))), "preview_id");
}

fn today() -> Date {
    Date::parse("2026-06-30").unwrap()
}

fn transactions(arguments: Value) -> TransactionArguments {
    match call("get_transactions", arguments) {
        Ok(ToolCall::GetTransactions(args)) => args,
        other => panic!("expected get_transactions, got {other:?}"),
    }
}

#[test]
fn get_transactions_builds_the_same_query_as_the_api() {
    let args =
        transactions(json!({"from": "2026-01-01", "to": "2026-03-31", "account_id": "acc-1", "type": "buy,dividend"}));
    let query = args.query(today()).unwrap();
    let api = TransactionQuery::parse(
        [("from", "2026-01-01"), ("to", "2026-03-31"), ("account", "acc-1"), ("type", "buy,dividend")],
        today(),
    )
    .unwrap();
    assert_eq!(query, api);
    let default = transactions(json!({})).query(today()).unwrap();
    assert_eq!(default, TransactionQuery::parse([], today()).unwrap());
}

#[test]
fn get_transactions_errors_name_the_argument() {
    for (arguments, argument) in [
        (json!({"from": "yesterday"}), "from"),
        (json!({"to": "2026-13-01"}), "to"),
        (json!({"from": "2026-03-01", "to": "2026-01-01"}), "from"),
        (json!({"type": "purchase"}), "type"),
        (json!({"account_id": "x".repeat(200)}), "account_id"),
    ] {
        let error = transactions(arguments.clone()).query(today()).unwrap_err();
        assert_eq!(error.argument, argument, "{arguments}");
        assert!(error.message.starts_with(argument), "{}", error.message);
    }
    assert_eq!(argument_error(call("get_transactions", json!({"account": "a"}))).argument, "account");
}

#[test]
fn an_outcome_renders_text_structured_content_and_is_error() {
    let ok = ToolOutcome::success("2 providers", json!({"providers": []})).to_result();
    assert_eq!(ok["isError"], false);
    assert_eq!(ok["structuredContent"], json!({"providers": []}));
    assert_eq!(ok["content"][0]["type"], "text");
    assert!(ok["content"][0]["text"].as_str().unwrap().starts_with("2 providers"));
    let failed = ToolOutcome::from(ArgumentError::new("format", "format is required")).to_result();
    assert_eq!(failed["isError"], true);
    assert!(failed.get("structuredContent").is_none());
    assert!(failed["content"][0]["text"].as_str().unwrap().contains("format"));
}
