//! Cases shared by the Node (`node.rs`) and Chromium (`browser.rs`) suites.

use serde_json::{json, Value};
use tributary_client::{
    capabilities_for, choose_provider, format_money, format_money_rounded, merge_portfolios, resolve_institution,
    transaction_totals, version, ClientError,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

/// A JS value as JSON, the way a JavaScript caller would see it.
fn seen(value: &JsValue) -> Value {
    serde_json::from_str(&String::from(js_sys::JSON::stringify(value).unwrap())).unwrap()
}

/// A plain JS object or array, as a caller would pass it.
fn js(value: Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap()
}

fn route(institution: &str, need_trading: bool) -> Value {
    seen(&choose_provider(institution, need_trading, JsValue::UNDEFINED).unwrap())
}

/// The error as JavaScript receives it: an `Error` with `code` and `message` properties.
fn thrown(error: ClientError) -> (String, String) {
    let value: JsValue = error.into();
    assert!(value.is_instance_of::<js_sys::Error>(), "thrown as an Error");
    let property = |name: &str| js_sys::Reflect::get(&value, &JsValue::from_str(name)).unwrap().as_string().unwrap();
    (property("code"), property("message"))
}

#[wasm_bindgen_test]
fn version_matches_the_crate() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn format_money_is_exact_and_grouped() {
    assert_eq!(format_money("1234567.891", "cad").unwrap(), "1,234,567.891 CAD");
    assert_eq!(format_money("0.1", "USD").unwrap(), "0.10 USD");
}

#[wasm_bindgen_test]
fn format_money_rounded_shows_the_minor_unit_and_keeps_crypto_digits() {
    assert_eq!(format_money_rounded("26790.22305", "usd").unwrap(), "26,790.22 USD");
    assert_eq!(format_money_rounded("4725.375", "USD").unwrap(), "4,725.38 USD");
    assert_eq!(format_money_rounded("0.00012345", "BTC").unwrap(), "0.00012345 BTC");
    assert!(format_money_rounded("x", "USD").is_err());
}

#[wasm_bindgen_test]
fn format_money_refuses_bad_input() {
    assert!(format_money("12abc", "USD").is_err());
    assert!(format_money("1", "U$").is_err());
}

#[wasm_bindgen_test]
fn aliases_resolve_exactly_and_never_by_substring() {
    assert_eq!(resolve_institution("SCHWAB & CO.").as_deref(), Some("charles_schwab"));
    assert_eq!(resolve_institution("Charles Schwab").as_deref(), Some("charles_schwab"));
    assert_eq!(resolve_institution("Purchase Bank"), None, "\"Chase\" inside it does not count");
    assert_eq!(resolve_institution("  "), None);
}

#[wasm_bindgen_test]
fn schwab_reads_through_schwab_direct_and_trades_through_snaptrade() {
    let decision = route("Schwab", true);
    assert_eq!((&decision["provider"], &decision["trading_available"]), (&json!("snaptrade"), &json!(true)));
    assert_eq!(
        (&decision["institution"], &decision["reason"]["code"]),
        (&json!("charles_schwab"), &json!("trading_needs_fallback"))
    );
    assert_eq!(decision["passed_over"], json!([]));
    assert!(decision["message"].as_str().is_some_and(|m| m.contains("SnapTrade")));
    assert_eq!(route("Schwab", false)["provider"], "schwab");
}

#[wasm_bindgen_test]
fn fidelity_goes_to_snaptrade_without_trading() {
    for need_trading in [false, true] {
        let decision = route("Fidelity", need_trading);
        assert_eq!((&decision["provider"], &decision["trading_available"]), (&json!("snaptrade"), &json!(false)));
    }
}

#[wasm_bindgen_test]
fn chase_goes_to_plaid_without_trading() {
    let decision = route("Chase", false);
    assert_eq!((&decision["provider"], &decision["trading_available"]), (&json!("plaid"), &json!(false)));
}

#[wasm_bindgen_test]
fn an_unknown_institution_goes_to_snaptrade_when_trading_is_needed_else_plaid() {
    let trading = route("Tiny Credit Union of Nowhere", true);
    assert_eq!((&trading["provider"], &trading["institution"]), (&json!("snaptrade"), &Value::Null));
    assert_eq!(trading["reason"]["code"], "unknown_institution_needs_trading");
    assert_eq!(route("Tiny Credit Union of Nowhere", false)["provider"], "plaid");
}

#[wasm_bindgen_test]
fn provider_health_as_object_or_json_text_reroutes_and_bad_health_throws() {
    let health = json!({"snaptrade": {"configured": true, "available": false}, "plaid": {"configured": true}});
    for argument in [js(health.clone()), JsValue::from_str(&health.to_string())] {
        let decision = seen(&choose_provider("E*TRADE", false, argument).unwrap());
        assert_eq!((&decision["provider"], &decision["used_fallback"]), (&json!("plaid"), &json!(true)));
        assert_eq!(
            decision["reason"],
            json!({"code": "fell_back", "from": "snaptrade", "problem": {"code": "unavailable"}})
        );
    }
    let (code, message) = thrown(choose_provider("Chase", false, js(json!({}))).unwrap_err());
    assert_eq!(code, "no_provider_available", "{message}");
    let (code, _) = thrown(choose_provider("Chase", false, JsValue::from_str("{not json")).unwrap_err());
    assert_eq!(code, "invalid_json");
    let (code, message) = thrown(choose_provider("   ", false, JsValue::NULL).unwrap_err());
    assert_eq!((code.as_str(), message.is_empty()), ("institution_required", false));
}

#[wasm_bindgen_test]
fn capabilities_follow_provider_coverage_and_connection_type() {
    let caps = |p: &str, i: Option<&str>, c: &str| seen(&capabilities_for(p, i.map(str::to_owned), c).unwrap());
    assert_eq!(
        caps("snaptrade", Some("SCHWAB & CO."), "trade"),
        json!({"trading": true, "realtime": true, "refresh_cost": "paid"})
    );
    assert_eq!(caps("snaptrade", Some("fidelity"), "trade")["trading"], false, "coverage forbids it");
    assert_eq!(caps("snaptrade", Some("Charles Schwab"), "read")["trading"], false, "read connection");
    assert_eq!(
        caps("plaid", Some("Chase"), "read"),
        json!({"trading": false, "realtime": false, "refresh_cost": "paid"})
    );
    assert_eq!(caps("snaptrade", None, "trade")["trading"], true, "no rule: the connection type decides");
    assert_eq!(thrown(capabilities_for("ibkr", None, "read").unwrap_err()).0, "unknown_provider");
    assert_eq!(thrown(capabilities_for("plaid", None, "trade-if-available").unwrap_err()).0, "unknown_connection_type");
}

/// `GET /api/snaptrade/holdings` as the worker answers it: two USD positions, one CAD, USD cash.
fn snaptrade_holdings_body() -> Value {
    let position = |ticker: &str, quantity: &str, value: &str, currency: &str| {
        json!({"provider": "snaptrade", "account_id": "st-1", "institution": "charles_schwab", "security_key": ticker,
               "ticker": ticker, "name": format!("{ticker} Inc."), "kind": "equity", "quantity": quantity,
               "price": null, "market_value": value, "cost_basis": null, "currency": currency, "as_of": 1_800_000_000})
    };
    json!({
        "provider": "snaptrade",
        "accounts": [{"provider": "snaptrade", "account_id": "st-1", "connection_id": "auth-1",
                      "institution": "charles_schwab", "institution_name": "Charles Schwab", "name": "Individual",
                      "number_mask": "1234", "account_type": "margin", "currency": "USD"}],
        "positions": [position("AAPL", "10", "1905.00", "USD"), position("VTI", "3.5", "850.25", "USD"),
                      position("SHOP", "2", "200", "CAD")],
        "balances": [{"provider": "snaptrade", "account_id": "st-1", "institution": "charles_schwab",
                      "currency": "USD", "amount": "100.10", "buying_power": null, "as_of": 1_800_000_000}],
        "last_updated": 1_800_000_000,
        "cache_info": {"age_hours": null, "ttl_hours": 24, "from_cache": false},
        "last_error": null
    })
}

fn plaid_failed() -> Value {
    json!({"status": "failed", "provider": "plaid", "error": {"code": "provider_unavailable", "message": "Plaid is down"}})
}

fn report<'a>(merged: &'a Value, provider: &str) -> &'a Value {
    merged["providers"].as_array().unwrap().iter().find(|r| r["provider"] == provider).unwrap()
}

#[wasm_bindgen_test]
fn merging_snaptrade_ok_and_plaid_failed_keeps_every_snaptrade_position_and_reports_plaid() {
    let results = js(json!([snaptrade_holdings_body(), plaid_failed()]));
    let merged = seen(&merge_portfolios(results, "by_account").unwrap());
    assert_eq!(merged["view"], "by_account");
    assert!(merged.get("consolidated").is_none(), "only the requested view");
    let accounts = merged["by_account"].as_array().unwrap();
    assert_eq!(accounts.len(), 1);
    let tickers: Vec<&str> =
        accounts[0]["positions"].as_array().unwrap().iter().map(|p| p["ticker"].as_str().unwrap()).collect();
    assert_eq!(tickers.len(), 3);
    assert!(["AAPL", "VTI", "SHOP"].iter().all(|t| tickers.contains(t)), "{tickers:?}");

    let snaptrade = report(&merged, "snaptrade");
    assert_eq!(
        (&snaptrade["status"], &snaptrade["positions"], &snaptrade["balances"]),
        (&json!("ok"), &json!(3), &json!(1))
    );
    let plaid = report(&merged, "plaid");
    assert_eq!(plaid["status"], "failed");
    assert_eq!(plaid["error"], json!({"code": "provider_unavailable", "message": "Plaid is down"}));

    // Totals in equal totals out, per currency, never converted.
    let totals = &merged["totals"];
    assert_eq!(totals.as_array().unwrap().len(), 2);
    let usd = totals.as_array().unwrap().iter().find(|t| t["currency"] == "USD").unwrap();
    assert_eq!(
        (&usd["positions_value"], &usd["cash"], &usd["total"]),
        (&json!("2755.25"), &json!("100.10"), &json!("2855.35"))
    );
    let cad = totals.as_array().unwrap().iter().find(|t| t["currency"] == "CAD").unwrap();
    assert_eq!((&cad["positions_value"], &cad["total"]), (&json!("200"), &json!("200")));
}

#[wasm_bindgen_test]
fn the_consolidated_view_from_json_text_sums_quantities_per_security() {
    let text = json!([snaptrade_holdings_body(), plaid_failed()]).to_string();
    let merged = seen(&merge_portfolios(JsValue::from_str(&text), "consolidated").unwrap());
    assert_eq!(merged["view"], "consolidated");
    assert!(merged.get("by_account").is_none());
    let lines = merged["consolidated"].as_array().unwrap();
    let vti = lines.iter().find(|l| l["security_key"] == "VTI").unwrap();
    assert_eq!(
        (&vti["quantity"], &vti["market_value"], &vti["market_value_complete"]),
        (&json!("3.5"), &json!("850.25"), &json!(true))
    );
    assert_eq!(lines.len(), 3);
    assert_eq!(merged["cash"][0]["amount"], "100.10");
}

#[wasm_bindgen_test]
fn tagged_results_and_unreadable_entries_are_reported_not_thrown() {
    let body = snaptrade_holdings_body();
    let tagged = json!({"status": "ok", "provider": "snaptrade",
                        "holdings": {"accounts": body["accounts"], "positions": body["positions"], "balances": []}});
    let unreadable = json!({"provider": "plaid", "positions": "not a list"});
    let merged = seen(&merge_portfolios(js(json!([tagged, unreadable])), "by_account").unwrap());
    assert_eq!(report(&merged, "snaptrade")["positions"], 3);
    let plaid = report(&merged, "plaid");
    assert_eq!((&plaid["status"], &plaid["error"]["code"]), (&json!("failed"), &json!("provider_malformed_response")));

    let merged =
        seen(&merge_portfolios(js(json!([{"status": "not_connected", "provider": "plaid"}])), "by_account").unwrap());
    assert_eq!(merged["by_account"], json!([]));
    assert!(merged["providers"].as_array().unwrap().iter().all(|r| r["status"] == "not_connected"));
}

#[wasm_bindgen_test]
fn merge_throws_only_for_input_it_cannot_read_at_all() {
    let code = |results: JsValue, view: &str| thrown(merge_portfolios(results, view).unwrap_err()).0;
    assert_eq!(code(JsValue::from_str("{\"provider\": \"snaptrade\"}"), "by_account"), "invalid_json", "not an array");
    assert_eq!(code(js(json!([{"provider": "ibkr"}])), "by_account"), "invalid_json", "no known provider");
    assert_eq!(code(js(json!([])), "flat"), "invalid_input");
    assert_eq!(code(JsValue::UNDEFINED, "by_account"), "invalid_input");
}

/// The snaptrade holdings body re-labelled as Schwab direct's (a hash-named account), with
/// `last_error` as given.
fn schwab_holdings_body(last_error: Value) -> Value {
    let text = snaptrade_holdings_body().to_string().replace("\"snaptrade\"", "\"schwab\"").replace("st-1", "HASH1");
    let mut body: Value = serde_json::from_str(&text).unwrap();
    body["last_error"] = last_error;
    body
}

#[wasm_bindgen_test]
fn schwab_direct_counts_schwab_once_and_yields_to_snaptrade_when_its_last_fetch_failed() {
    let both = |last_error: Value| js(json!([snaptrade_holdings_body(), schwab_holdings_body(last_error)]));
    let merged = seen(&merge_portfolios(both(Value::Null), "consolidated").unwrap());
    let aapl = merged["consolidated"].as_array().unwrap().iter().find(|l| l["ticker"] == "AAPL").unwrap().clone();
    assert_eq!((&aapl["quantity"], &aapl["sources"][0]["provider"]), (&json!("10"), &json!("schwab")));
    assert_eq!(report(&merged, "snaptrade")["routed_away"][0]["to"], "schwab");

    let expired = json!({"code": "schwab_reauth_required", "message": "sign in again", "at": 1});
    let merged = seen(&merge_portfolios(both(expired), "consolidated").unwrap());
    let aapl = merged["consolidated"].as_array().unwrap().iter().find(|l| l["ticker"] == "AAPL").unwrap().clone();
    assert_eq!(
        (&aapl["quantity"], &aapl["sources"][0]["provider"]),
        (&json!("10"), &json!("snaptrade")),
        "once, fail-open"
    );
    assert_eq!(report(&merged, "schwab")["available"], false);
    assert_eq!(
        report(&merged, "snaptrade")["fail_open"][0],
        json!({"institution": "charles_schwab", "preferred": "schwab"})
    );
}

/// A ledger row with only what a total reads (the rest of a `Transaction` is ignored).
fn cash_row(amount: Value, fees: Value, currency: Value) -> Value {
    json!({"id": "tx_1", "type": "other", "amount": amount, "fees": fees, "currency": currency, "quantity": "1"})
}

#[wasm_bindgen_test]
fn transaction_totals_are_exact_per_currency_never_mixing_currencies() {
    let rows = json!([
        cash_row(json!("0.1"), json!(null), json!("USD")),
        cash_row(json!("0.2"), json!("1.00"), json!("USD")),
        cash_row(json!("-1234.565"), json!("0.005"), json!("CAD")),
        cash_row(json!(null), json!(null), json!("USD")),
        cash_row(json!("8.40"), json!(null), json!(null)),
        cash_row(json!("99999999999.99"), json!(null), json!("USD")),
    ]);
    let totals = seen(&transaction_totals(js(rows.clone())).unwrap());
    assert_eq!(
        totals,
        json!([
            {"currency": "CAD", "amount": "-1234.565", "fees": "0.005", "count": 1},
            {"currency": "USD", "amount": "100000000000.29", "fees": "1.00", "count": 4},
            {"currency": null, "amount": "8.40", "fees": "0", "count": 1},
        ]),
        "0.1 + 0.2 is 0.3 exactly; a row without a currency is its own line, last"
    );
    assert_eq!(seen(&transaction_totals(JsValue::from_str(&rows.to_string())).unwrap()), totals, "JSON text too");
    let cancelled = json!([
        cash_row(json!("-5.00"), json!(null), json!("EUR")),
        cash_row(json!("5.00"), json!(null), json!("EUR"))
    ]);
    assert_eq!(seen(&transaction_totals(js(cancelled)).unwrap())[0]["amount"], "0.00", "never a negative zero");
    assert_eq!(seen(&transaction_totals(js(json!([]))).unwrap()), json!([]));
}

#[wasm_bindgen_test]
fn transaction_totals_refuse_what_is_not_a_list_of_decimal_rows() {
    let bad =
        json!([cash_row(json!("1"), json!(null), json!("USD")), cash_row(json!("1,5"), json!(null), json!("USD"))]);
    let (code, message) = thrown(transaction_totals(js(bad)).unwrap_err());
    assert_eq!(code, "invalid_input");
    assert!(message.contains("transaction 1") && message.contains("1,5"), "{message}");
    assert_eq!(thrown(transaction_totals(js(json!({"amount": "1"}))).unwrap_err()).0, "invalid_json");
    let floats = json!([cash_row(json!(0.1), json!(null), json!("USD"))]);
    assert_eq!(
        thrown(transaction_totals(js(floats)).unwrap_err()).0,
        "invalid_json",
        "amounts are strings, never floats"
    );
    assert_eq!(thrown(transaction_totals(JsValue::UNDEFINED).unwrap_err()).0, "invalid_input");
}

#[wasm_bindgen_test]
fn order_keys_are_uuid_v4_kept_per_order_and_forgotten_only_after_a_definitive_outcome() {
    use tributary_core::client::order_keys::{
        fate_of_answer, fate_of_refusal, uuid_v4, KeyBook, KeyFate, PreviewedOrder,
    };
    assert_eq!(uuid_v4([0xff; 16]), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");

    for (status, state, fate) in [
        (201, Some("open"), KeyFate::Forget),
        (200, Some("executed"), KeyFate::Forget),
        (200, Some("rejected"), KeyFate::Forget),
        (202, Some("unknown"), KeyFate::Keep),
        (201, Some("sending"), KeyFate::Keep),
        (201, None, KeyFate::Keep),
    ] {
        assert_eq!(fate_of_answer(status, state), fate, "{status} {state:?}");
    }
    for code in ["order_rejected", "idempotency_key_reused", "preview_expired", "preview_not_found"] {
        assert_eq!(fate_of_refusal(code), KeyFate::Forget, "{code}");
    }
    for code in ["network_error", "order_in_progress", "order_outcome_unknown", "trade_rate_limited", "http_502"] {
        assert_eq!(fate_of_refusal(code), KeyFate::Keep, "{code}");
    }

    let order = |units: &str, limit: &str| PreviewedOrder {
        account_id: "a".into(),
        instrument: "s".into(),
        action: "BUY".into(),
        order_type: "Limit".into(),
        time_in_force: "Day".into(),
        units: Some(units.into()),
        limit_price: Some(limit.into()),
        ..PreviewedOrder::default()
    };
    let first = order("1", "401.25").fingerprint();
    let same = order("1.0", "401.2500").fingerprint();
    assert_eq!(first, same, "the same order written differently");
    assert_ne!(first, order("2", "401.25").fingerprint());
    assert_ne!(first, PreviewedOrder { action: "SELL".into(), ..order("1", "401.25") }.fingerprint());

    let mut book = KeyBook::default();
    book.remember_preview("p-1".into(), first.clone());
    book.remember_preview("p-2".into(), same);
    let (one, two) = (book.order_name("p-1"), book.order_name("p-2"));
    assert_eq!(one, two, "two previews of one order share its key");
    let key = book.key_for(&one, None, || Some("k1".into())).unwrap();
    assert_eq!(book.key_for(&two, None, || Some("k2".into())).as_deref(), Some(key.as_str()));
    book.settle(&one, "an older key", KeyFate::Forget);
    assert_eq!(book.kept(&one), Some("k1"), "only the key that was sent is forgotten");
    book.settle(&one, &key, KeyFate::Forget);
    assert_eq!(book.key_for(&one, None, || Some("k3".into())).as_deref(), Some("k3"));
    assert_eq!(book.key_for("preview:p-9", None, || None), None, "no randomness, no key");
    for n in 0..100 {
        book.remember_preview(format!("q-{n}"), format!("f-{n}"));
    }
    assert_eq!(book.order_name("q-0"), "preview:q-0", "only the latest previews are remembered");
    assert_eq!(book.order_name("q-99"), "order:f-99");
}
