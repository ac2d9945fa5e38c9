//! The ledger's rules on both providers' sample payloads (the references' own examples): one sign
//! convention from two, stable ids, routing, what a complete read removes, and CSV.

use super::render::{to_csv, CSV_HEADER};
use super::*;
use crate::domain::{Account, Provider};
use crate::plaid::normalize_investment_transactions;
use crate::snaptrade::normalize_activities;
use serde_json::json;
use std::str::FromStr;

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn slug(text: &str) -> InstitutionSlug {
    InstitutionSlug::parse(text).unwrap()
}

fn snaptrade_account() -> Account {
    Account {
        provider: Provider::SnapTrade,
        account_id: "acc-st-1".into(),
        connection_id: Some("auth-1".into()),
        institution: Some(slug("fidelity")),
        institution_name: Some("Fidelity".into()),
        name: None,
        number_mask: None,
        account_type: None,
        currency: None,
    }
}

fn snaptrade_page() -> serde_json::Value {
    json!({"data": [
        {"id": "2f7dc9b3-5c33-4668-3440-2b31e056ebe6",
         "symbol": {"id": "sym-aapl", "symbol": "AAPL", "raw_symbol": "AAPL", "description": "APPLE INC",
                    "currency": {"id": "c", "code": "USD", "name": "US Dollar"}},
         "option_symbol": null, "price": 190.5, "units": 2, "amount": -381.0,
         "currency": {"id": "c", "code": "USD", "name": "US Dollar"}, "type": "BUY", "option_type": "",
         "description": "BOUGHT 2 AAPL @ 190.50", "trade_date": "2026-03-22T16:27:55Z",
         "settlement_date": "2026-03-24T00:00:00Z", "fee": 0, "fx_rate": null, "institution": "Fidelity",
         "external_reference_id": "ord-123"},
        {"id": "sell-1", "symbol": {"id": "sym-aapl", "symbol": "AAPL"}, "price": 200, "units": 1, "amount": 199.5,
         "currency": {"code": "USD"}, "type": "SELL", "trade_date": "2026-03-25T00:00:00Z", "fee": -0.5},
        {"id": "div-cad", "symbol": {"id": "sym-shop", "symbol": "SHOP.TO"}, "price": 0, "units": 20, "amount": 12.34,
         "currency": {"code": "CAD"}, "type": "DIVIDEND", "trade_date": "2026-03-20T00:00:00Z"},
        {"id": "dep-1", "symbol": null, "amount": 1000, "currency": {"code": "USD"}, "type": "CONTRIBUTION",
         "trade_date": null, "settlement_date": "2026-03-01T00:00:00Z"},
        {"id": "odd-1", "symbol": null, "amount": 5, "currency": {"code": "USD"}, "type": "REBATE",
         "trade_date": "2026-03-02"}
    ], "pagination": {"offset": 0, "limit": 1000, "total": 7}})
}

fn plaid_page() -> serde_json::Value {
    json!({"investment_transactions": [
        {"investment_transaction_id": "itx_1", "account_id": "acc_1", "security_id": "sec_1", "date": "2026-01-28",
         "transaction_datetime": "2026-01-27T15:10:09Z", "name": "SELL EXAMPLE FUND", "quantity": -47.74,
         "amount": -1289.01, "price": 27.53, "fees": 7.99, "type": "sell", "subtype": "sell",
         "iso_currency_code": "USD", "unofficial_currency_code": null},
        {"investment_transaction_id": "itx_2", "account_id": "acc_1", "security_id": "sec_2", "date": "2026-01-27",
         "name": "BUY EXAMPLE BOND FUND", "quantity": 0.7388, "amount": 7.70, "price": 10.42, "fees": 0,
         "type": "buy", "subtype": "buy", "iso_currency_code": "USD", "unofficial_currency_code": null},
        {"investment_transaction_id": "itx_3", "account_id": "acc_1", "security_id": "sec_3", "date": "2026-01-26",
         "name": "DIVIDEND RECEIVED", "quantity": 0, "amount": -8.72, "price": 0, "fees": 0,
         "type": "cash", "subtype": "dividend", "iso_currency_code": "USD", "unofficial_currency_code": null},
        {"investment_transaction_id": "itx_4", "account_id": "acc_1", "security_id": null, "date": "2026-01-25",
         "name": "CANCELLED", "quantity": 0, "amount": 5, "price": 0, "fees": null,
         "type": "cancel", "subtype": "cancel", "iso_currency_code": "USD", "unofficial_currency_code": null}
    ],
    "securities": [
        {"security_id": "sec_1", "ticker_symbol": "EXFND", "name": "Example Fund", "type": "mutual fund"},
        {"security_id": "sec_2", "ticker_symbol": null, "name": "Example Bond Fund", "type": "mutual fund", "cusip": "123456789"},
        {"security_id": "sec_3", "ticker_symbol": "VTI", "name": "Vanguard Total", "type": "etf"}
    ],
    "accounts": [], "item": {"item_id": "item_1", "institution_name": "Chase"},
    "total_investment_transactions": 4, "request_id": "req_1"})
}

#[test]
fn snaptrade_activities_keep_their_cash_sign_and_take_the_ledgers_quantity_sign() {
    let page = normalize_activities(&snaptrade_page(), &snaptrade_account()).unwrap();
    assert_eq!(page.total, 7);
    let [buy, sell, dividend, deposit, other] = page.transactions.as_slice() else { panic!("{page:?}") };
    assert_eq!(
        (buy.kind, buy.amount, buy.quantity, buy.price),
        (TransactionType::Buy, Some(dec("-381.0")), Some(dec("2")), Some(dec("190.5")))
    );
    assert_eq!(
        (buy.trade_date.to_string(), buy.settlement_date.unwrap().to_string()),
        ("2026-03-22".into(), "2026-03-24".into())
    );
    assert_eq!(buy.security.as_ref().unwrap().security_key, "AAPL");
    assert_eq!((buy.provider_type.as_str(), buy.institution.as_ref().map(|i| i.as_str())), ("BUY", Some("fidelity")));
    assert_eq!(
        (sell.kind, sell.amount, sell.quantity, sell.fees),
        (TransactionType::Sell, Some(dec("199.5")), Some(dec("-1")), Some(dec("0.5")))
    );
    assert_eq!(
        (dividend.kind, dividend.amount, dividend.quantity),
        (TransactionType::Dividend, Some(dec("12.34")), None),
        "a cash dividend moves no shares"
    );
    assert_eq!(dividend.currency.as_ref().unwrap().as_str(), "CAD");
    assert_eq!(
        (deposit.kind, deposit.trade_date.to_string(), deposit.security.is_none()),
        (TransactionType::Deposit, "2026-03-01".into(), true)
    );
    assert_eq!(
        (other.kind, other.provider_type.as_str()),
        (TransactionType::Other, "REBATE"),
        "unknown types are kept as other"
    );
    assert_eq!(buy.id, transaction_id(Provider::SnapTrade, "2f7dc9b3-5c33-4668-3440-2b31e056ebe6"));
}

#[test]
fn plaid_amounts_are_negated_into_the_ledgers_convention_and_cancels_left_out() {
    let page = normalize_investment_transactions(&plaid_page(), None).unwrap();
    assert_eq!((page.total, page.received, page.cancels), (4, 4, 1));
    let [sell, buy, dividend] = page.transactions.as_slice() else { panic!("{page:?}") };
    // Plaid: a sale credits cash (negative); the ledger: money in (positive).
    assert_eq!(
        (sell.kind, sell.amount, sell.quantity, sell.fees),
        (TransactionType::Sell, Some(dec("1289.01")), Some(dec("-47.74")), Some(dec("7.99")))
    );
    assert_eq!(
        (sell.trade_date.to_string(), sell.settlement_date.map(|d| d.to_string())),
        ("2026-01-27".into(), Some("2026-01-28".into()))
    );
    assert_eq!((buy.kind, buy.amount, buy.quantity), (TransactionType::Buy, Some(dec("-7.70")), Some(dec("0.7388"))));
    assert_eq!(buy.security.as_ref().unwrap().security_key, "cusip:123456789", "the key positions use");
    assert_eq!(
        (dividend.kind, dividend.amount, dividend.quantity),
        (TransactionType::Dividend, Some(dec("8.72")), None)
    );
    assert_eq!(dividend.provider_type, "cash/dividend");
    assert_eq!(sell.institution.as_ref().map(|i| i.as_str()), Some("chase"), "from the Item's name");
    assert_eq!(sell.id, transaction_id(Provider::Plaid, "itx_1"));
}

#[test]
fn both_conventions_agree_on_what_a_purchase_and_a_sale_do_to_cash() {
    let st = normalize_activities(&snaptrade_page(), &snaptrade_account()).unwrap().transactions;
    let pl = normalize_investment_transactions(&plaid_page(), None).unwrap().transactions;
    for tx in st.iter().chain(&pl) {
        match tx.kind {
            TransactionType::Buy => {
                assert!(tx.amount.unwrap().is_sign_negative() && tx.quantity.unwrap() > Decimal::ZERO)
            }
            TransactionType::Sell => {
                assert!(tx.amount.unwrap() > Decimal::ZERO && tx.quantity.unwrap().is_sign_negative())
            }
            TransactionType::Dividend | TransactionType::Deposit => assert!(tx.amount.unwrap() > Decimal::ZERO),
            _ => {}
        }
    }
}

#[test]
fn malformed_pages_are_refused_whole_never_a_panic() {
    let account = snaptrade_account();
    for body in [
        json!({}),
        json!({"data": [{"type": "BUY", "trade_date": "2026-01-01"}]}),
        json!({"data": [{"id": "x"}]}),
        json!({"data": [{"id": "x", "trade_date": "2026-01-01", "units": "lots"}]}),
    ] {
        let error = normalize_activities(&body, &account).unwrap_err();
        assert_eq!(crate::ErrorCode::code(&error), "provider_malformed_response", "{body}");
    }
    let mut missing_security = plaid_page();
    missing_security["securities"] = json!([]);
    assert!(normalize_investment_transactions(&missing_security, None).is_err());
    let mut bad_date = plaid_page();
    bad_date["investment_transactions"][0]["date"] = json!("2026-02-30");
    assert!(normalize_investment_transactions(&bad_date, None).is_err());
    assert!(normalize_investment_transactions(&json!({"investment_transactions": []}), None).is_err());
}

#[test]
fn ids_are_stable_per_provider_row_and_never_collide_across_providers() {
    assert_eq!(transaction_id(Provider::Plaid, "itx_1"), transaction_id(Provider::Plaid, "itx_1"));
    assert_ne!(transaction_id(Provider::Plaid, "itx_1"), transaction_id(Provider::SnapTrade, "itx_1"));
    let id = transaction_id(Provider::SnapTrade, "a");
    assert!(id.starts_with("tx_") && id.len() == 35 && query::Cursor::decode(&format!("2026-01-01~{id}")).is_some());
}

#[test]
fn an_institutions_transactions_count_from_its_canonical_provider_when_it_can_supply_them() {
    let pairs = [
        (Provider::Plaid, slug("charles_schwab")),
        (Provider::SnapTrade, slug("charles_schwab")),
        (Provider::Plaid, slug("chase")),
    ];
    let decide = |available: &[Provider]| -> Vec<bool> {
        transaction_routing(&pairs, available).iter().map(|(_, d)| d.should_skip()).collect()
    };
    assert_eq!(
        decide(&[Provider::SnapTrade, Provider::Plaid]),
        [true, false, false],
        "Plaid's Schwab yields to SnapTrade"
    );
    assert_eq!(decide(&[Provider::Plaid]), [false, true, false], "SnapTrade cannot supply it: Plaid's copy stands in");
    assert_eq!(decide(&[]), [false, false, false], "fail-open: nobody can, every copy stays");
    assert_eq!(
        decide(&[Provider::Schwab, Provider::SnapTrade, Provider::Plaid]),
        [true, true, false],
        "Schwab direct first"
    );
}

#[test]
fn a_complete_read_removes_only_what_it_no_longer_has_in_its_window() {
    let page = normalize_investment_transactions(&plaid_page(), None).unwrap().transactions;
    let day = |t: &str| Date::parse(t).unwrap();
    let stored = vec![
        (page[0].id.clone(), day("2026-01-27")),
        ("tx_gone".to_owned(), day("2026-01-26")),
        ("tx_old".to_owned(), day("2025-01-01")),
    ];
    assert_eq!(removed_by_read(&stored, &page, day("2026-01-01"), day("2026-01-31")), ["tx_gone"]);
}

#[test]
fn csv_has_a_header_exact_decimals_quoting_and_inert_formulas() {
    let mut rows = normalize_activities(&snaptrade_page(), &snaptrade_account()).unwrap().transactions;
    rows[0].description = Some("=HYPERLINK(\"x\"), \"quoted\"".into());
    let csv = to_csv(&rows);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert_eq!(lines.len(), rows.len() + 2, "header, rows, and the final line break");
    assert!(lines[1].contains(",-381.0,") && lines[1].contains(",190.5,"), "{}", lines[1]);
    assert!(lines[1].ends_with(",USD,\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\""), "{}", lines[1]);
    assert!(lines[2].contains(",-1,") && lines[2].contains("2026-03-25"), "{}", lines[2]);
}
