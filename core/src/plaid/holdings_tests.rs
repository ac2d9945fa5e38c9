use super::*;
use crate::domain::SecurityKind;
use crate::ErrorCode;
use serde_json::json;

const FETCHED_AT: i64 = 1_800_000_000;

fn security(id: &str, ticker: Option<&str>, kind: Option<&str>, subtype: Option<&str>) -> Value {
    json!({
        "security_id": id, "ticker_symbol": ticker, "type": kind, "subtype": subtype, "name": format!("{id} name"),
        "cusip": null, "isin": null, "sedol": null, "institution_security_id": null, "institution_id": null,
        "proxy_security_id": null, "is_cash_equivalent": kind == Some("cash"), "close_price": null,
        "close_price_as_of": null, "iso_currency_code": "USD", "unofficial_currency_code": null,
        "market_identifier_code": null, "sector": null, "industry": null, "cfi_code": null,
        "option_contract": null, "fixed_income": null
    })
}

/// A holding; numbers are given as JSON text so the fixture is exactly what Plaid sends.
fn holding(account: &str, security: &str, quantity: &str, price: &str, value: &str, cost: &str, iso: &str) -> Value {
    let iso = if iso == "null" { "null".to_owned() } else { format!("\"{iso}\"") };
    serde_json::from_str(&format!(
        r#"{{"account_id": "{account}", "security_id": "{security}", "quantity": {quantity},
            "institution_price": {price}, "institution_price_as_of": "2026-06-01", "institution_value": {value},
            "cost_basis": {cost}, "iso_currency_code": {iso}, "unofficial_currency_code": null,
            "vested_quantity": null, "vested_value": null}}"#
    ))
    .unwrap()
}

fn fixture() -> Value {
    let mut securities = vec![
        security("sec-usd", Some("USD"), Some("cash"), Some("cash")),
        security("sec-cad", Some("CUR:CAD"), Some("cash"), None),
        security("sec-vti", Some("vti"), Some("etf"), Some("etf")),
        security("sec-vfiax", Some("VFIAX"), Some("mutual fund"), Some("mutual fund")),
        security("sec-vmfxx", Some("VMFXX"), Some("cash"), Some("money market debt")),
        security("sec-swvxx", Some("SWVXX"), Some("mutual fund"), Some("mutual fund")),
        security("sec-aapl", Some("AAPL"), Some("equity"), Some("common stock")),
        security("sec-private", None, Some("equity"), None),
        security("sec-unknown", None, None, None),
        security("sec-sol", Some("SOL"), Some("cryptocurrency"), Some("cryptocurrency")),
        security("sec-nflx-call", Some("NFLX180201C00355000"), Some("derivative"), Some("option")),
        security("sec-bond", None, Some("fixed income"), Some("bond")),
    ];
    securities[7]["cusip"] = json!("12345x109");
    securities[7]["isin"] = json!("US12345X1090");
    securities[8]["name"] = Value::Null;
    securities[9]["iso_currency_code"] = Value::Null;
    securities[9]["unofficial_currency_code"] = json!("USDC");
    securities[11]["isin"] = json!("US912828ZQ64");
    let mut sol = holding("acc-ira", "sec-sol", "0.1", "142", "14.2", "null", "null");
    sol["unofficial_currency_code"] = json!("USDC");
    json!({
        "accounts": [
            {"account_id": "acc-ira", "balances": {"available": 1250.33, "current": 9000.01, "iso_currency_code": "USD",
             "limit": null, "unofficial_currency_code": null}, "mask": "5555", "name": "Plaid IRA",
             "official_name": null, "subtype": "ira", "type": "investment"},
            {"account_id": "acc-cad", "balances": {"available": null, "current": 500.5, "iso_currency_code": "CAD",
             "limit": null, "unofficial_currency_code": null}, "mask": "0042", "name": "",
             "official_name": "Non-registered CAD", "subtype": "brokerage", "type": "investment"},
            {"account_id": "acc-checking", "balances": {"available": 100, "current": 110, "iso_currency_code": "USD",
             "limit": null, "unofficial_currency_code": null}, "mask": "0000", "name": "Plaid Checking",
             "official_name": null, "subtype": "checking", "type": "depository"}
        ],
        "holdings": [
            holding("acc-ira", "sec-usd", "0.1", "1", "0.1", "0.1", "USD"),
            holding("acc-ira", "sec-usd", "0.2", "1", "0.2", "0.2", "USD"),
            holding("acc-cad", "sec-cad", "500.5", "1", "500.5", "500.5", "CAD"),
            holding("acc-ira", "sec-vti", "10.5", "250.12", "2626.26", "2000.1", "USD"),
            holding("acc-ira", "sec-vfiax", "47.74104242992852", "480.01", "22916.30", "null", "USD"),
            holding("acc-ira", "sec-vmfxx", "1000", "1", "1000", "1000", "USD"),
            holding("acc-ira", "sec-swvxx", "250", "1", "250", "250", "USD"),
            holding("acc-cad", "sec-aapl", "3", "190.1", "570.3", "450", "USD"),
            holding("acc-ira", "sec-private", "100", "null", "null", "5000", "USD"),
            holding("acc-ira", "sec-unknown", "1", "null", "12.5", "null", "null"),
            sol,
            holding("acc-ira", "sec-nflx-call", "2", "3.15", "630", "500", "USD"),
            holding("acc-ira", "sec-bond", "5000", "0.9871", "4935.5", "5000", "USD"),
        ],
        "securities": securities,
        "item": {"item_id": "item-1", "institution_id": "ins_12", "institution_name": "Vanguard", "webhook": null,
                 "error": null, "available_products": [], "billed_products": ["investments"],
                 "consent_expiration_time": null, "update_type": "background"},
        "request_id": "l68wb8zpS0hqmsJ"
    })
}

fn normalized() -> Holdings {
    normalize_holdings(&fixture(), None, FETCHED_AT).unwrap()
}

fn position<'a>(holdings: &'a Holdings, key: &str) -> &'a Position {
    holdings.positions.iter().find(|p| p.security_key == key).unwrap_or_else(|| panic!("no position {key}"))
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[test]
fn investment_accounts_keep_their_item_institution_mask_and_currency() {
    let holdings = normalized();
    let ids: Vec<&str> = holdings.accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids, ["acc-ira", "acc-cad"], "the checking account has no holdings and is left out");
    let ira = &holdings.accounts[0];
    assert_eq!(ira.provider, Provider::Plaid);
    assert_eq!(ira.connection_id.as_deref(), Some("item-1"));
    assert_eq!(ira.institution.as_ref().map(InstitutionSlug::as_str), Some("vanguard"));
    assert_eq!(ira.institution_name.as_deref(), Some("Vanguard"));
    assert_eq!((ira.name.as_deref(), ira.number_mask.as_deref()), (Some("Plaid IRA"), Some("••5555")));
    assert_eq!((ira.account_type.as_deref(), ira.currency.as_ref().map(Currency::as_str)), (Some("ira"), Some("USD")));
    let cad = &holdings.accounts[1];
    assert_eq!(
        (cad.name.as_deref(), cad.currency.as_ref().map(Currency::as_str)),
        (Some("Non-registered CAD"), Some("CAD"))
    );
}

#[test]
fn currency_lines_become_cash_per_account_and_currency_and_never_positions() {
    let holdings = normalized();
    let cash: Vec<(&str, &str, String)> =
        holdings.balances.iter().map(|b| (b.account_id.as_str(), b.currency.as_str(), b.amount.to_string())).collect();
    assert_eq!(cash, [("acc-cad", "CAD", "500.5".to_owned()), ("acc-ira", "USD", "0.3".to_owned())]);
    assert!(holdings.balances.iter().all(|b| b.as_of == FETCHED_AT && b.buying_power.is_none()));
    assert!(holdings.positions.iter().all(|p| !["USD", "CUR:CAD"].contains(&p.security_key.as_str())));
    assert_eq!(holdings.positions.len(), 10);
}

#[test]
fn cash_equivalent_funds_stay_positions_with_their_kind() {
    let holdings = normalized();
    assert_eq!(position(&holdings, "VMFXX").kind, SecurityKind::Cash);
    assert_eq!(position(&holdings, "SWVXX").kind, SecurityKind::MutualFund);
    assert_eq!(position(&holdings, "VMFXX").market_value, Some(dec("1000")));
}

#[test]
fn every_plaid_type_maps_to_a_core_kind() {
    let holdings = normalized();
    let kinds = [
        ("VTI", SecurityKind::Etf),
        ("VFIAX", SecurityKind::MutualFund),
        ("AAPL", SecurityKind::Equity),
        ("SOL", SecurityKind::Crypto),
        ("NFLX180201C00355000", SecurityKind::Option),
        ("isin:US912828ZQ64", SecurityKind::FixedIncome),
        ("plaid:sec-unknown", SecurityKind::Other),
    ];
    for (key, kind) in kinds {
        assert_eq!(position(&holdings, key).kind, kind, "{key}");
    }
    let mut warrant: PlaidSecurity =
        serde_json::from_value(security("w", Some("W"), Some("derivative"), Some("warrant"))).unwrap();
    assert_eq!(kind_of(&warrant), SecurityKind::Derivative);
    warrant.security_type = Some("loan".into());
    assert_eq!(kind_of(&warrant), SecurityKind::Loan);
    warrant.security_type = Some("other".into());
    assert_eq!(kind_of(&warrant), SecurityKind::Other);
}

#[test]
fn amounts_are_exact_decimals_and_totals_as_plaid_reports_them() {
    let holdings = normalized();
    let vti = position(&holdings, "VTI");
    assert_eq!(vti.ticker.as_ref().map(Ticker::as_str), Some("vti"));
    assert_eq!(
        (vti.quantity.0, vti.price, vti.market_value, vti.cost_basis),
        (dec("10.5"), Some(dec("250.12")), Some(dec("2626.26")), Some(dec("2000.1")))
    );
    assert_eq!(vti.name.as_deref(), Some("sec-vti name"));
    assert_eq!((vti.as_of, vti.currency.as_str(), vti.provider), (FETCHED_AT, "USD", Provider::Plaid));
    let vfiax = position(&holdings, "VFIAX");
    assert_eq!(vfiax.quantity.0.to_string(), "47.74104242992852");
    assert_eq!(vfiax.market_value.unwrap().to_string(), "22916.3");
    assert_eq!(vfiax.cost_basis, None);
    let option = position(&holdings, "NFLX180201C00355000");
    assert_eq!(
        (option.quantity.0, option.market_value, option.cost_basis),
        (dec("2"), Some(dec("630")), Some(dec("500")))
    );
    let aapl = position(&holdings, "AAPL");
    assert_eq!((aapl.account_id.as_str(), aapl.currency.as_str()), ("acc-cad", "USD"));
}

#[test]
fn missing_prices_stay_unknown_and_tickerless_securities_get_a_marked_key() {
    let holdings = normalized();
    let private = position(&holdings, "cusip:12345X109");
    assert_eq!((private.ticker.as_ref(), private.price, private.market_value), (None, None, None));
    assert_eq!(private.cost_basis, Some(dec("5000")));
    let unknown = position(&holdings, "plaid:sec-unknown");
    assert_eq!((unknown.price, unknown.market_value, unknown.name.as_deref()), (None, Some(dec("12.5")), None));
    assert_eq!(unknown.currency.as_str(), "USD", "falls back to the security's currency");
}

#[test]
fn an_unofficial_currency_is_kept_as_the_positions_currency() {
    let holdings = normalized();
    let sol = position(&holdings, "SOL");
    assert_eq!((sol.currency.as_str(), sol.quantity.0, sol.market_value), ("USDC", dec("0.1"), Some(dec("14.2"))));
}

#[test]
fn the_institution_given_wins_and_an_unknown_name_resolves_to_none() {
    let fidelity = InstitutionSlug::parse("fidelity").unwrap();
    let holdings = normalize_holdings(&fixture(), Some(&fidelity), FETCHED_AT).unwrap();
    assert!(holdings.positions.iter().all(|p| p.institution.as_ref() == Some(&fidelity)));
    assert!(holdings.balances.iter().all(|b| b.institution.as_ref() == Some(&fidelity)));
    let mut response = fixture();
    response["item"]["institution_name"] = json!("Bank of Nowhere");
    let holdings = normalize_holdings(&response, None, FETCHED_AT).unwrap();
    assert!(holdings.accounts.iter().all(|a| a.institution.is_none()));
    assert!(holdings.positions.iter().all(|p| p.institution.is_none()));
}

#[test]
fn a_holding_in_an_account_not_listed_is_kept_with_its_account_id() {
    let mut response = fixture();
    response["holdings"].as_array_mut().unwrap().push(holding("acc-new", "sec-aapl", "1", "190", "190", "null", "USD"));
    let holdings = normalize_holdings(&response, None, FETCHED_AT).unwrap();
    assert!(holdings.positions.iter().any(|p| p.account_id == "acc-new" && p.security_key == "AAPL"));
}

#[test]
fn an_empty_portfolio_is_empty_not_an_error() {
    let response =
        json!({"accounts": [], "holdings": [], "securities": [], "item": {"item_id": "i"}, "request_id": "r"});
    assert_eq!(normalize_holdings(&response, None, FETCHED_AT).unwrap(), Holdings::default());
}

#[test]
fn malformed_shapes_are_refused_with_the_path_of_the_problem() {
    let edit = |f: fn(&mut Value)| {
        let mut response = fixture();
        f(&mut response);
        response
    };
    let cases: [(Value, &str); 11] = [
        (json!([]), "holdings response"),
        (edit(|r| r["holdings"] = Value::Null), "holdings response"),
        (
            edit(|r| r["holdings"][3]["security_id"] = json!("sec-missing")),
            "holdings[3] names security_id \"sec-missing\"",
        ),
        (edit(|r| r["holdings"][3]["quantity"] = json!("10.5")), "holdings[3]"),
        (edit(|r| r["holdings"][3]["quantity"] = Value::Null), "holdings[3].quantity is missing"),
        (edit(|r| r["holdings"][3]["institution_value"] = json!(1e40)), "holdings[3].institution_value"),
        (edit(|r| r["holdings"][3]["iso_currency_code"] = json!("US$")), "holdings[3] currency"),
        (edit(|r| r["holdings"][0]["account_id"] = json!(7)), "holdings[0]"),
        (edit(|r| r["securities"][2]["ticker_symbol"] = json!(["VTI"])), "securities[2]"),
        (edit(|r| r["accounts"][0]["balances"]["iso_currency_code"] = json!("$")), "accounts[0].balances"),
        (edit(|r| r["accounts"][1]["account_id"] = Value::Null), "accounts[1]"),
    ];
    for (response, expected) in cases {
        let error = normalize_holdings(&response, None, FETCHED_AT).unwrap_err();
        assert_eq!(error.code(), "provider_malformed_response");
        assert!(error.to_string().contains(expected), "{expected:?} not in {error}");
    }
}

#[test]
fn a_holding_with_no_currency_anywhere_is_malformed_not_guessed() {
    let mut response = fixture();
    response["securities"][8]["iso_currency_code"] = Value::Null;
    response["accounts"][0]["balances"]["iso_currency_code"] = Value::Null;
    let error = normalize_holdings(&response, None, FETCHED_AT).unwrap_err();
    assert!(error.to_string().contains("holdings[9] (sec-unknown) has no currency"), "{error}");
    response["accounts"][0]["balances"]["iso_currency_code"] = json!("USD");
    assert!(normalize_holdings(&response, None, FETCHED_AT).is_ok(), "the account's currency is the last fallback");
}
