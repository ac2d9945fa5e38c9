//! Requests and answers: URLs, the connected providers, the holdings plan, merge entries for
//! providers that failed, and the refresh body.

use super::outcome::ClientFailure;
use super::requests::*;
use crate::domain::Provider;
use crate::merge::{merge_portfolios, ProviderResult, ProviderResultInput};
use serde_json::{json, Value};

#[test]
fn urls_join_the_base_and_encode_the_query() {
    assert_eq!(api_url("http://127.0.0.1:8787/", "/api/me"), "http://127.0.0.1:8787/api/me");
    assert_eq!(api_url("", "/api/me"), "/api/me", "an empty base stays on the page's origin");
    assert_eq!(institutions_path("Schwab & Co"), "/api/institutions?q=Schwab%20%26%20Co");
    assert_eq!(holdings_path(Provider::Plaid), "/api/plaid/holdings");
}

#[test]
fn only_connected_providers_are_fetched() {
    let entries = [("snaptrade".to_owned(), true), ("plaid".to_owned(), false), ("ibkr".to_owned(), true)];
    let connected = connected_providers(&entries);
    assert_eq!(connected, vec![Provider::SnapTrade], "unknown providers are skipped");
    assert_eq!(
        holdings_plan(&connected),
        vec![
            ProviderRead::Fetch { provider: Provider::SnapTrade, path: "/api/snaptrade/holdings" },
            ProviderRead::NotConnected { provider: Provider::Plaid },
            ProviderRead::NotConnected { provider: Provider::Schwab },
            ProviderRead::NotConnected { provider: Provider::IbkrFlex },
        ]
    );
    assert!(holdings_plan(&[]).iter().all(|r| matches!(r, ProviderRead::NotConnected { .. })));
}

fn read(entry: &str) -> ProviderResult {
    serde_json::from_str::<ProviderResultInput>(entry).unwrap().into_result().unwrap()
}

#[test]
fn a_readable_body_passes_through_and_a_failure_becomes_that_providers_entry() {
    let body =
        json!({"provider": "snaptrade", "status": "ok", "accounts": [], "positions": [], "balances": []}).to_string();
    assert_eq!(merge_entry(Provider::SnapTrade, Ok((200, body.clone()))), body);

    let failure = ClientFailure::invalid_response(500, "x");
    let failed = read(&merge_entry(Provider::Plaid, Err(failure.clone())));
    assert_eq!(failed, ProviderResult::Failed { provider: Provider::Plaid, error: failure.provider_failure() });

    let garbled = read(&merge_entry(Provider::Plaid, Ok((200, "<html>".into()))));
    assert!(
        matches!(&garbled, ProviderResult::Failed { error, .. } if error.code == "invalid_response"),
        "{garbled:?}"
    );
    assert_eq!(read(&not_connected_entry(Provider::Plaid)), ProviderResult::NotConnected { provider: Provider::Plaid });
}

#[test]
fn a_failed_provider_never_fails_the_merge() {
    let ok = ProviderResult::Ok {
        provider: Provider::SnapTrade,
        holdings: crate::Holdings { accounts: vec![], positions: vec![], balances: vec![] },
        last_updated: Some(1),
        cache_info: None,
    };
    let failed = read(&merge_entry(Provider::Plaid, Err(ClientFailure::token_unavailable("gone"))));
    let merged = merge_portfolios(vec![ok, failed], &Provider::ALL);
    let statuses: Vec<Value> =
        merged.providers.iter().map(|r| serde_json::to_value(r).unwrap()["status"].clone()).collect();
    assert_eq!(statuses.len(), Provider::ALL.len(), "every provider is reported");
    assert!(statuses.contains(&json!("failed")), "{statuses:?}");
}

#[test]
fn the_refresh_body_names_providers_only_when_given() {
    let body = |options: RefreshOptions| serde_json::from_str::<Value>(&options.request_body()).unwrap();
    assert_eq!(body(RefreshOptions::default()), json!({"confirm_cost": false}));
    let options = RefreshOptions::new(Some(vec!["plaid".into()]), Some(true)).unwrap();
    assert_eq!(body(options), json!({"providers": ["plaid"], "confirm_cost": true}));
    let unknown = RefreshOptions::new(Some(vec!["ibkr".into()]), None).unwrap_err();
    assert_eq!(crate::ErrorCode::code(&unknown), "unknown_provider");
    let nothing: Value = serde_json::from_str(nothing_pending_answer()).unwrap();
    assert_eq!(nothing, json!({"decision": "nothing_pending", "results": []}));
}
