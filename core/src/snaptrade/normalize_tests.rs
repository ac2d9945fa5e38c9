use super::*;
use serde_json::json;

fn schwab(_: &str) -> Option<InstitutionSlug> {
    InstitutionSlug::parse("charles_schwab").ok()
}

fn account() -> Account {
    let raw = json!({
        "id": "acc-1", "brokerage_authorization": "auth-1", "name": "Schwab Individual", "number": "Q6542138443",
        "institution_name": "Charles Schwab", "raw_type": "Margin",
        "balance": {"total": {"amount": 15363.23, "currency": "USD"}}
    });
    normalize_account(&raw, &schwab).unwrap()
}

#[test]
fn account_keeps_its_connection_institution_and_masks_the_number() {
    let a = account();
    assert_eq!((a.account_id.as_str(), a.connection_id.as_deref()), ("acc-1", Some("auth-1")));
    assert_eq!(a.institution.unwrap().as_str(), "charles_schwab");
    assert_eq!(a.number_mask.as_deref(), Some("••8443"));
    assert_eq!(a.currency.unwrap().as_str(), "USD");
    assert!(normalize_account(&json!({"id": 5}), &schwab).is_err());
}

#[test]
fn positions_keep_exact_decimals_for_fractional_option_crypto_and_missing_price() {
    let body = json!({
        "data_freshness": {"as_of": "2023-11-14T22:13:20Z"},
        "results": [
            {"instrument": {"kind": "stock", "id": "i1", "symbol": "AAPL", "raw_symbol": "AAPL", "description": "Apple Inc."},
             "units": "0.125", "price": "190.10", "cost_basis": "150.00", "currency": "USD"},
            {"instrument": {"kind": "option", "id": "i2", "symbol": "AAPL  261218C00240000", "option_type": "CALL",
                            "strike_price": "240", "expiration_date": "2026-12-18", "multiplier": "100",
                            "underlying": {"kind": "stock", "id": "i1", "symbol": "AAPL", "raw_symbol": "AAPL"}},
             "units": "2", "price": "3.15", "cost_basis": "2.50", "currency": "USD"},
            {"instrument": {"kind": "crypto", "id": "i3", "symbol": "BTC", "raw_symbol": "BTC", "currency": "USD"},
             "units": "0.00012345", "price": null, "cost_basis": null},
            {"instrument": {"kind": "mutualfund", "id": "i4", "symbol": "SWVXX", "raw_symbol": "SWVXX"},
             "units": "1000", "price": "1", "currency": "USD", "cash_equivalent": true}
        ]
    });
    let positions = normalize_positions(&body, &account(), 42).unwrap();
    assert_eq!(positions.len(), 4);
    let [stock, option, crypto, fund] = [&positions[0], &positions[1], &positions[2], &positions[3]];
    assert_eq!(stock.quantity.0.to_string(), "0.125");
    assert_eq!(stock.market_value.unwrap().to_string(), "23.76250");
    assert_eq!(stock.cost_basis.unwrap().to_string(), "18.75000");
    assert_eq!(stock.as_of, 1_700_000_000);
    assert_eq!(option.kind, SecurityKind::Option);
    assert_eq!(option.market_value.unwrap().normalize().to_string(), "630");
    assert_eq!(option.cost_basis.unwrap().normalize().to_string(), "500");
    assert_eq!(option.security_key, "AAPL  261218C00240000");
    assert_eq!((crypto.kind, crypto.price, crypto.market_value), (SecurityKind::Crypto, None, None));
    assert_eq!(crypto.quantity.0.to_string(), "0.00012345");
    assert_eq!(fund.kind, SecurityKind::MutualFund);
    assert!(positions.iter().all(|p| p.institution.as_ref().unwrap().as_str() == "charles_schwab"));
}

#[test]
fn a_position_without_any_currency_is_malformed_not_guessed() {
    let mut a = account();
    a.currency = None;
    let body = json!({"results": [{"instrument": {"kind": "stock", "id": "x", "symbol": "X", "raw_symbol": "X"}, "units": "1"}],
                      "data_freshness": {"as_of": "2023-11-14T22:13:20Z"}});
    let err = normalize_positions(&body, &a, 0).unwrap_err();
    assert!(err.to_string().contains("no currency"), "{err}");
}

#[test]
fn garbage_positions_are_malformed() {
    for body in [
        json!({}),
        json!({"results": [{"units": "1"}]}),
        json!({"results": [{"instrument": {"kind": "stock", "symbol": "A"}, "units": "x"}]}),
    ] {
        assert!(normalize_positions(&body, &account(), 0).is_err(), "{body}");
    }
}

#[test]
fn balances_keep_every_currency_exactly() {
    let body = json!([
        {"currency": {"id": "c1", "code": "USD", "name": "US Dollar"}, "cash": 300.71, "buying_power": 410.71},
        {"currency": {"id": "c2", "code": "CAD", "name": "Canadian Dollar"}, "cash": "1250.5", "buying_power": null},
        {"currency": {"id": "c3", "code": "EUR"}, "cash": null}
    ]);
    let balances = normalize_balances(&body, &account(), 7).unwrap();
    assert_eq!(balances.len(), 2);
    assert_eq!((balances[0].currency.as_str(), balances[0].amount.to_string()), ("USD", "300.71".to_owned()));
    assert_eq!(balances[0].buying_power.unwrap().to_string(), "410.71");
    assert_eq!((balances[1].currency.as_str(), balances[1].amount.to_string()), ("CAD", "1250.5".to_owned()));
    assert!(normalize_balances(&json!({"cash": 1}), &account(), 7).is_err());
}

/// Found by `fuzz/` (target `snaptrade_normalize`): price × units (× multiplier) beyond what a
/// decimal holds panicked with "Multiplication overflowed", which aborts the worker's request.
#[test]
fn a_value_too_large_to_represent_is_malformed_not_a_panic() {
    let huge = "9".repeat(28);
    let position = |kind: &str, units: &str, price: Value, cost_basis: Value| {
        json!({"results": [{"instrument": {"kind": kind, "symbol": "BIG"}, "units": units,
                            "price": price, "cost_basis": cost_basis, "currency": "USD"}]})
    };
    for body in [
        position("stock", &huge, json!("10"), Value::Null),
        position("stock", &huge, Value::Null, json!("10.5")),
        position("option", "1000000000000000000000000000", json!("1"), Value::Null),
    ] {
        let err = normalize_positions(&body, &account(), 0).unwrap_err();
        assert!(err.to_string().contains("too large to represent"), "{body}: {err}");
    }
    let largest = position("stock", &huge, json!("1"), json!("1"));
    let kept = normalize_positions(&largest, &account(), 0).unwrap();
    assert_eq!(kept[0].market_value.unwrap().to_string(), huge, "the largest representable value is kept");
}
