//! Connecting through a popup: the start request, the popup watch, and every way a flow ends.

use super::connect::*;
use crate::domain::Provider;
use serde_json::{json, Value};

fn returned(pairs: &[(&str, &str)]) -> FlowEnd {
    let get = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned());
    FlowEnd::Returned(ReturnParams {
        flow: get("flow"),
        public_token: get("public_token"),
        status: get("status"),
        code: get("code"),
        state: get("state"),
        error: get("error"),
    })
}

#[test]
fn a_schwab_return_completes_the_callback_with_its_code_and_state_or_says_why_not() {
    let end = returned(&[("flow", "return"), ("code", "C0.abc@"), ("state", "s1"), ("session", "x")]);
    let Completion::SchwabCallback { body } = completion(Provider::Schwab, "charles_schwab", &end) else {
        panic!("expected the callback")
    };
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), json!({"code": "C0.abc@", "state": "s1"}));
    let denied = returned(&[("flow", "return"), ("error", "access_denied"), ("state", "s1")]);
    assert_eq!(
        completion(Provider::Schwab, "charles_schwab", &denied),
        Completion::Cancelled { reason: "access_denied".into() }
    );
    let bare = returned(&[("flow", "return"), ("code", "C0.abc@")]);
    assert_eq!(completion(Provider::Schwab, "x", &bare), Completion::Cancelled { reason: "not_completed".into() });
}

#[test]
fn the_start_request_returns_to_the_page_origin_unless_told_otherwise() {
    let body: Value =
        serde_json::from_str(&connect_request("Chase", &ConnectOptions::default(), "http://127.0.0.1:8787/")).unwrap();
    assert_eq!(
        body,
        json!({"institution": "Chase", "need_trading": false, "redirect": "http://127.0.0.1:8787/?flow=return"})
    );
    let options = ConnectOptions { need_trading: Some(true), redirect: Some("https://app.example/back".into()) };
    let body: Value = serde_json::from_str(&connect_request("Schwab", &options, "https://ignored")).unwrap();
    assert_eq!((&body["need_trading"], &body["redirect"]), (&json!(true), &json!("https://app.example/back")));
}

#[test]
fn a_return_page_is_recognised_by_flow_return_only() {
    let params = |flow: Option<&str>| ReturnParams { flow: flow.map(str::to_owned), ..ReturnParams::default() };
    assert!(params(Some("return")).is_flow_return());
    assert!(!params(None).is_flow_return());
    assert!(!params(Some("start")).is_flow_return());
}

#[test]
fn the_answer_gives_the_flow_url_and_the_resolved_institution() {
    let answer =
        ConnectAnswer::read(Some("plaid"), Some("https://sim.example/link/x".into()), Some("chase".into())).unwrap();
    assert_eq!(
        (answer.provider, answer.flow_url.as_str(), answer.institution("Chase Bank")),
        (Provider::Plaid, "https://sim.example/link/x", "chase".into())
    );
    let unknown = ConnectAnswer::read(Some("snaptrade"), Some("https://u.example/".into()), None).unwrap();
    assert_eq!(unknown.institution("Tiny CU"), "Tiny CU");
    assert!(ConnectAnswer::read(Some("plaid"), None, None).is_err(), "no flow url");
    assert!(ConnectAnswer::read(Some("ibkr"), Some("u".into()), None).is_err(), "unknown provider");
    assert!(ConnectAnswer::read(None, Some("u".into()), None).is_err(), "no provider");
}

#[test]
fn a_plaid_return_with_a_public_token_is_exchanged_for_the_institution() {
    let end = returned(&[("flow", "return"), ("public_token", "public-sandbox-1"), ("institution_id", "ins_56")]);
    let Completion::PlaidExchange { body } = completion(Provider::Plaid, "chase", &end) else { panic!("exchange") };
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, json!({"public_token": "public-sandbox-1", "institution": "chase"}));
}

#[test]
fn a_snaptrade_success_is_synced_and_any_other_status_cancels() {
    let success = returned(&[("status", "SUCCESS"), ("connection_id", "auth-1")]);
    assert_eq!(completion(Provider::SnapTrade, "charles_schwab", &success), Completion::SnapTradeSync);
    let error = returned(&[("status", "ERROR")]);
    assert_eq!(completion(Provider::SnapTrade, "x", &error), Completion::Cancelled { reason: "error".into() });
    assert_eq!(
        completion(Provider::SnapTrade, "x", &returned(&[("flow", "return")])),
        Completion::Cancelled { reason: "not_completed".into() }
    );
}

#[test]
fn a_return_meant_for_the_other_provider_is_not_finished() {
    let snaptrade_success = returned(&[("status", "SUCCESS")]);
    assert_eq!(
        completion(Provider::Plaid, "chase", &snaptrade_success),
        Completion::Cancelled { reason: "success".into() }
    );
    let plaid_token = returned(&[("public_token", "public-1")]);
    assert_eq!(
        completion(Provider::SnapTrade, "x", &plaid_token),
        Completion::Cancelled { reason: "not_completed".into() }
    );
    assert_eq!(
        completion(Provider::Plaid, "x", &returned(&[("public_token", "")])),
        Completion::Cancelled { reason: "not_completed".into() }
    );
}

#[test]
fn a_closed_or_abandoned_popup_cancels() {
    assert_eq!(
        completion(Provider::Plaid, "x", &FlowEnd::PopupClosed),
        Completion::Cancelled { reason: "popup_closed".into() }
    );
    assert_eq!(
        completion(Provider::Plaid, "x", &FlowEnd::TimedOut),
        Completion::Cancelled { reason: "timed_out".into() }
    );
}

#[test]
fn the_popup_counts_as_closed_on_the_second_check_in_a_row_and_times_out_after_30_minutes() {
    assert_eq!(watch_popup(1, 0), PopupWatch::Wait);
    assert_eq!(watch_popup(5, 1), PopupWatch::Wait, "once may be the popup closing after posting");
    assert_eq!(watch_popup(6, 2), PopupWatch::Closed);
    let limit = FLOW_TIMEOUT_MS / CLOSED_CHECK_MS;
    assert_eq!(watch_popup(limit - 1, 0), PopupWatch::Wait);
    assert_eq!(watch_popup(limit, 0), PopupWatch::TimedOut);
}

#[test]
fn results_serialise_as_the_package_documents_them() {
    let connected = ConnectResult::Connected { provider: Provider::SnapTrade, institution: "charles_schwab".into() };
    assert_eq!(
        serde_json::to_value(connected).unwrap(),
        json!({"status": "connected", "provider": "snaptrade", "institution": "charles_schwab"})
    );
    let cancelled = ConnectResult::Cancelled {
        provider: Provider::Plaid,
        institution: "chase".into(),
        reason: "popup_closed".into(),
    };
    assert_eq!(serde_json::to_value(cancelled).unwrap()["reason"], "popup_closed");
}

#[test]
fn a_pasted_token_provider_has_no_window_and_the_error_says_where_the_token_goes() {
    let error = ConnectAnswer::read(Some("ibkr_flex"), None, None).unwrap_err();
    assert!(error.contains("IBKR Flex has no provider window") && error.contains("connect_url"), "{error}");
    assert_eq!(ConnectAnswer::read(Some("plaid"), None, None).unwrap_err(), "the answer has no flow.url");
}

#[test]
fn a_flow_url_is_opened_only_over_https_or_on_loopback() {
    assert!(ConnectAnswer::read(Some("plaid"), Some("https://hosted.plaid.com/link/x".into()), None).is_ok());
    assert!(ConnectAnswer::read(Some("plaid"), Some("http://127.0.0.1:8790/link/x".into()), None).is_ok());
    for blank in ["about:blank", "about:blank#flow"] {
        assert!(ConnectAnswer::read(Some("snaptrade"), Some(blank.into()), None).is_ok(), "{blank}");
    }
    for bad in [
        "http://evil.example/link",
        "javascript:alert(1)",
        "http://127.0.0.1.evil.example/x",
        "data:text/html,hi",
        "about:blankx",
        "about:srcdoc",
    ] {
        let error = ConnectAnswer::read(Some("snaptrade"), Some(bad.into()), None).unwrap_err();
        assert!(error.contains("not https"), "{bad}: {error}");
    }
}
