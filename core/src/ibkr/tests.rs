//! The protocol side: credentials, URLs, envelopes, error codes and messages.

use super::*;
use crate::domain::Provider;
use crate::provider_error::ProviderError;
use crate::ErrorCode;

const TOKEN: &str = "528191644107458877539776";

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/src/ibkr/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn credentials_are_trimmed_digits_and_their_debug_is_redacted() {
    let credentials = parse_credentials(&format!("  {TOKEN}\n"), " 800969 ").unwrap();
    assert_eq!((credentials.token.as_str(), credentials.query_id.as_str()), (TOKEN, "800969"));
    let shown = format!("{credentials:?}");
    assert!(!shown.contains(TOKEN) && !shown.contains("800969"), "{shown}");
}

#[test]
fn bad_credentials_name_their_field_and_never_repeat_the_value() {
    for (token, query, field) in [
        ("", "1", "token"),
        ("123456789", "1", "token"),
        (&"1".repeat(65) as &str, "1", "token"),
        ("12345abcde12", "1", "token"),
        (TOKEN, "", "query_id"),
        (TOKEN, "1234567890123", "query_id"),
        (TOKEN, "80 969", "query_id"),
    ] {
        let error = parse_credentials(token, query).unwrap_err();
        assert_eq!(error.field(), field, "{token:?} {query:?}");
        assert!(token.is_empty() || !error.to_string().contains(token));
    }
    assert!(parse_credentials(&"9".repeat(10), "1").is_ok());
    assert!(parse_credentials(&"9".repeat(64), &"1".repeat(12)).is_ok());
}

#[test]
fn urls_carry_only_t_q_and_v3_on_our_own_base() {
    let credentials = parse_credentials(TOKEN, "800969").unwrap();
    assert_eq!(
        send_request_url("https://ndcdyn.interactivebrokers.com/", &credentials),
        format!(
            "https://ndcdyn.interactivebrokers.com/AccountManagement/FlexWebService/SendRequest?t={TOKEN}&q=800969&v=3"
        )
    );
    assert_eq!(
        get_statement_url("http://127.0.0.1:8790", TOKEN, "7412589630"),
        format!("http://127.0.0.1:8790/AccountManagement/FlexWebService/GetStatement?t={TOKEN}&q=7412589630&v=3")
    );
    assert!(get_statement_url("http://x", "a b&c", "1").contains("t=a%20b%26c&q=1&v=3"));
}

#[test]
fn send_request_success_gives_the_reference_code_and_ignores_the_url() {
    assert_eq!(parse_send_response(&fixture("send-success.xml")).unwrap(), "7412589630");
    let lower = b"<FlexStatementResponse timestamp='14 March, 2026 09:15 AM EDT'><status>Success</status>\
        <referencecode> 1234567890 </referencecode><url>https://elsewhere.example/</url></FlexStatementResponse>";
    assert_eq!(parse_send_response(lower).unwrap(), "1234567890");
}

#[test]
fn send_request_fail_and_warn_give_the_error_of_their_code() {
    let expired = parse_send_response(&fixture("send-fail-1012.xml")).unwrap_err();
    assert_eq!(expired, FlexError::Credentials { problem: FlexProblem::TokenExpired, code: 1012 });
    let warn = b"<FlexStatementResponse><Status>Warn</Status><ErrorCode>1018</ErrorCode></FlexStatementResponse>";
    assert_eq!(parse_send_response(warn).unwrap_err(), FlexError::Wait { code: 1018, wait_s: 10 });
}

#[test]
fn unreadable_send_answers_are_malformed() {
    let bodies: [&[u8]; 9] = [
        b"",
        b"   ",
        b"<html><body>503</body></html>",
        b"a,b,c\n1,2,3",
        b"<FlexStatementResponse><Status>Success</Status></FlexStatementResponse>",
        b"<FlexStatementResponse><Status>Success</Status><ReferenceCode>12ab</ReferenceCode></FlexStatementResponse>",
        b"<FlexStatementResponse><Status>Maybe</Status></FlexStatementResponse>",
        b"<FlexStatementResponse><Status>Fail</Status><ErrorCode>99999999</ErrorCode></FlexStatementResponse>",
        b"<FlexQueryResponse />",
    ];
    for body in bodies {
        let error = parse_send_response(body).unwrap_err();
        assert_eq!(error.code(), "provider_malformed_response", "{:?}", String::from_utf8_lossy(body));
    }
    let long = format!(
        "<FlexStatementResponse><Status>Success</Status><ReferenceCode>{}</ReferenceCode></FlexStatementResponse>",
        "1".repeat(33)
    );
    assert!(matches!(parse_send_response(long.as_bytes()), Err(FlexError::Malformed { .. })));
}

#[test]
fn a_pending_statement_is_a_wait_of_five_seconds() {
    let error = read_statement(&fixture("pending-1019.xml"), "c1", 0).unwrap_err();
    assert_eq!(error, FlexError::Wait { code: 1019, wait_s: 5 });
    assert_eq!((error.code(), error.http_status(), error.needs_repair()), ("statement_pending", 503, false));
}

#[test]
fn a_csv_statement_asks_for_xml_and_an_html_page_is_malformed_not_a_wait() {
    let csv = read_statement(&fixture("statement.csv"), "c1", 0).unwrap_err();
    assert_eq!(csv, FlexError::Query(QueryProblem::NotXml));
    assert!(csv.to_string().contains("Format to XML"));
    let html = read_statement(&fixture("html-404.html"), "c1", 0).unwrap_err();
    assert!(matches!(html, FlexError::Malformed { .. }), "{html:?}");
    assert!(!html.needs_repair() && !html.to_provider_error().is_retryable());
    let success = read_statement(&fixture("send-success.xml"), "c1", 0).unwrap_err();
    assert!(matches!(success, FlexError::Malformed { .. }));
}

#[test]
fn a_body_over_twenty_megabytes_is_malformed_before_parsing() {
    let mut body = b"<FlexQueryResponse>".to_vec();
    body.resize(MAX_BODY_BYTES + 1, b' ');
    let error = read_statement(&body, "c1", 0).unwrap_err();
    assert!(matches!(&error, FlexError::Malformed { detail } if detail.contains("larger")), "{error:?}");
}

#[test]
fn dtds_are_refused() {
    let body =
        b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><FlexStatementResponse><Status>Success</Status>\
        <ReferenceCode>&a;</ReferenceCode></FlexStatementResponse>";
    assert!(matches!(parse_send_response(body), Err(FlexError::Malformed { .. })));
}

/// Every IBKR code, what it becomes, its stable code and HTTP status.
const CODES: [(u16, &str, u16); 20] = [
    (1001, "statement_pending", 503),
    (1003, "ibkr_statement_not_available", 409),
    (1004, "statement_pending", 503),
    (1005, "statement_pending", 503),
    (1006, "statement_pending", 503),
    (1007, "statement_pending", 503),
    (1008, "statement_pending", 503),
    (1009, "statement_pending", 503),
    (1010, "ibkr_legacy_query", 409),
    (1011, "ibkr_service_inactive", 409),
    (1012, "ibkr_token_expired", 409),
    (1013, "ibkr_ip_restricted", 409),
    (1014, "ibkr_query_invalid", 409),
    (1015, "ibkr_token_invalid", 409),
    (1016, "ibkr_account_invalid", 409),
    (1017, "ibkr_reference_invalid", 502),
    (1018, "statement_pending", 503),
    (1019, "statement_pending", 503),
    (1020, "ibkr_request_invalid", 409),
    (1021, "statement_pending", 503),
];

#[test]
fn every_ibkr_code_maps_to_its_stable_code_and_status() {
    for (code, stable, status) in CODES {
        let envelope = format!(
            "<FlexStatementResponse><Status>Fail</Status><ErrorCode>{code}</ErrorCode></FlexStatementResponse>"
        );
        let error = read_statement(envelope.as_bytes(), "c1", 0).unwrap_err();
        assert_eq!((error.code(), error.http_status()), (stable, status), "{code}");
        assert_eq!(parse_send_response(envelope.as_bytes()).unwrap_err(), error);
        let waits = matches!(error, FlexError::Wait { .. });
        assert_eq!(waits, wait_after(code).is_some(), "{code}");
        assert_eq!(error.needs_repair(), status == 409, "{code}");
    }
    let unknown = FlexError::from_code(1002);
    assert_eq!((unknown.code(), unknown.http_status()), ("ibkr_rejected", 409));
    assert!(!unknown.needs_repair(), "an unknown code is nothing the person can fix");
    assert!(unknown.to_string().contains("1002"));
}

#[test]
fn waits_are_never_under_the_rate_limit_and_throttling_waits_longest() {
    assert_eq!(wait_after(1018), Some(10));
    for code in [1001, 1004, 1005, 1006, 1007, 1008, 1009, 1019, 1021] {
        assert!(wait_after(code).unwrap() * 1000 >= MIN_REQUEST_GAP_MS, "{code}");
    }
    for code in [0, 1002, 1003, 1012, 1017, 1020, 1022, u16::MAX] {
        assert_eq!(wait_after(code), None, "{code}");
    }
}

fn every_kind_of_error() -> Vec<FlexError> {
    let mut errors: Vec<FlexError> = CODES.iter().map(|(code, ..)| FlexError::from_code(*code)).collect();
    errors.push(FlexError::from_code(4242));
    errors.extend(
        [QueryProblem::NotXml, QueryProblem::SummaryMissing, QueryProblem::AmbiguousDates, QueryProblem::NotActivity]
            .into_iter()
            .chain(
                ["AccountInformation", "OpenPositions", "CashReport", "Trades", "CashTransactions"]
                    .map(|section| QueryProblem::SectionMissing { section }),
            )
            .map(FlexError::Query),
    );
    errors.push(FlexError::Malformed { detail: "OpenPosition has no position".into() });
    errors
}

#[test]
fn messages_name_the_fix_in_client_portal() {
    let message = |e: FlexError| e.to_string();
    assert_eq!(
        message(FlexError::from_code(1012)),
        "Your IBKR Flex token has expired. In Client Portal open Performance & Reports › Flex Queries › Flex Web \
         Service Configuration, generate a new token (choose a longer validity, up to a year) and paste it here."
    );
    let ip = message(FlexError::from_code(1013));
    assert!(ip.contains("bound to an IP address") && ip.contains("\"Valid For IP Address\" left blank"), "{ip}");
    let section = message(FlexError::Query(QueryProblem::SectionMissing { section: "CashReport" }));
    assert!(
        section.contains("Cash Report") && section.contains("CashReport") && section.contains("Activity Flex Query")
    );
    assert!(message(FlexError::Query(QueryProblem::AmbiguousDates)).contains("yyyyMMdd or yyyy-MM-dd"));
    assert!(message(FlexError::Query(QueryProblem::SummaryMissing)).contains("\"Summary\""));
    for error in every_kind_of_error() {
        assert!(message(error.clone()).len() > 40, "{error:?}");
    }
}

#[test]
fn the_token_never_appears_in_any_error() {
    let credentials = parse_credentials(TOKEN, "800969").unwrap();
    let url = send_request_url("https://ndcdyn.interactivebrokers.com", &credentials);
    let mut errors = every_kind_of_error();
    for body in [url.as_bytes(), b"<FlexStatementResponse><Status>Fail</Status></FlexStatementResponse>"] {
        errors.push(read_statement(body, "c1", 0).unwrap_err());
        errors.push(parse_send_response(body).unwrap_err());
    }
    for error in errors {
        let provider = error.to_provider_error();
        for shown in [error.to_string(), format!("{error:?}"), provider.to_string(), format!("{provider:?}")] {
            assert!(!shown.contains(&credentials.token), "{shown}");
        }
    }
}

#[test]
fn the_provider_error_keeps_the_flex_code_status_message_and_round_trips() {
    for error in every_kind_of_error() {
        let provider = error.to_provider_error();
        assert_eq!(provider.provider(), Provider::IbkrFlex);
        assert_eq!((provider.code(), provider.http_status()), (error.code(), error.http_status()));
        assert_eq!(provider.to_string(), error.to_string());
        assert_eq!(provider.is_retryable(), matches!(error, FlexError::Wait { .. }), "{error:?}");
        let json = serde_json::to_string(&provider).unwrap();
        assert_eq!(serde_json::from_str::<ProviderError>(&json).unwrap(), provider, "{json}");
    }
    let wait = FlexError::from_code(1019).to_provider_error();
    assert_eq!(wait.retry_after_s(), Some(5));
    let json = serde_json::to_value(&wait).unwrap();
    assert_eq!(json["kind"], "flex");
    assert_eq!(json["error"]["type"], "wait");
    let unknown_section = r#"{"kind":"flex","provider":"ibkr_flex","error":{"type":"query","problem":"section_missing","section":"Nope"}}"#;
    assert!(serde_json::from_str::<ProviderError>(unknown_section).is_err());
}
