//! The classification table: every kind of answer the client can get, and the failure its
//! caller sees (status kept in every case).

use super::outcome::{classify, ClientFailure, ErrorBody, HttpOutcome};
use crate::domain::Provider;

const NOW: u64 = 1_800_000_000;

fn error_body(code: &str, message: &str) -> ErrorBody {
    ErrorBody { code: Some(code.into()), message: Some(message.into()), ..ErrorBody::default() }
}

fn empty() -> ErrorBody {
    ErrorBody::default()
}

fn failure(status: u16, retry_after: Option<&str>, body: ErrorBody) -> ClientFailure {
    classify(status, retry_after, body, NOW).into_failure(1).expect("a failure")
}

#[test]
fn every_2xx_is_ok_whatever_the_body() {
    for status in [200, 201, 204, 299] {
        assert_eq!(classify(status, None, error_body("x", "y"), NOW), HttpOutcome::Ok, "{status}");
        assert_eq!(HttpOutcome::Ok.into_failure(1), None);
    }
    assert!(!super::outcome::is_success(199) && !super::outcome::is_success(300));
}

#[test]
fn a_429_takes_retry_after_from_the_header_first_then_the_body() {
    let body = ErrorBody { retry_after_s: Some(9), ..error_body("refresh_cooling_down", "wait") };
    assert_eq!(
        classify(429, Some("3"), body.clone(), NOW),
        HttpOutcome::RateLimited {
            retry_after_s: Some(3),
            code: "refresh_cooling_down".into(),
            message: "wait".into()
        }
    );
    assert_eq!(failure(429, None, body.clone()).retry_after_s, Some(9), "no header: the body's retry_after_s");
    assert_eq!(failure(429, Some("garbage"), body).retry_after_s, Some(9), "unreadable header: the body's");
    let dated = failure(429, Some("Fri, 15 Jan 2027 08:00:20 GMT"), empty());
    assert_eq!(dated.retry_after_s, Some(20), "an HTTP-date header");
}

#[test]
fn a_bare_429_still_names_itself_and_keeps_its_status() {
    let bare = failure(429, None, empty());
    assert_eq!((bare.code.as_str(), bare.status, bare.retry_after_s), ("rate_limited", 429, None));
    assert!(bare.message.contains("later"), "{}", bare.message);
    assert!(failure(429, Some("12"), empty()).message.contains("12 s"));
}

#[test]
fn a_402_cost_cap_carries_provider_next_allowed_at_and_reason() {
    let body = ErrorBody {
        provider: Some("plaid".into()),
        next_allowed_at: Some(1_800_086_400),
        reason: Some("Plaid bills each refresh; the next free one is tomorrow".into()),
        ..error_body("refresh_cost_capped", "Plaid refresh is billed")
    };
    let capped = failure(402, None, body);
    assert_eq!(
        (capped.code.as_str(), capped.status, capped.provider, capped.next_allowed_at),
        ("refresh_cost_capped", 402, Some(Provider::Plaid), Some(1_800_086_400))
    );
    assert_eq!(capped.reason.as_deref(), Some("Plaid bills each refresh; the next free one is tomorrow"));
    assert_eq!(capped.message, "Plaid bills each refresh; the next free one is tomorrow");
}

#[test]
fn a_402_with_another_code_is_fatal() {
    let outcome = classify(402, None, error_body("payment_required", "pay"), NOW);
    assert!(matches!(outcome, HttpOutcome::Fatal { status: 402, .. }), "{outcome:?}");
}

#[test]
fn server_errors_are_transient_except_501_and_keep_the_workers_code() {
    for status in [500, 502, 503, 504, 599] {
        assert!(classify(status, None, empty(), NOW).is_transient(), "{status}");
    }
    let outcome = classify(503, None, error_body("unavailable", "D1 is unavailable right now"), NOW);
    assert_eq!(
        outcome,
        HttpOutcome::Transient {
            status: 503,
            code: "unavailable".into(),
            message: "D1 is unavailable right now".into()
        }
    );
    assert_eq!(failure(502, None, empty()).code, "http_502");
    assert_eq!(failure(502, None, error_body("", "")).code, "http_502", "empty fields count as absent");
    assert!(matches!(classify(501, None, empty(), NOW), HttpOutcome::Fatal { status: 501, .. }));
}

#[test]
fn other_answers_are_fatal_with_their_status_code_and_message() {
    let conflict = failure(409, None, error_body("already_connected", "Chase is already linked"));
    assert_eq!(
        (conflict.code.as_str(), conflict.message.as_str(), conflict.status),
        ("already_connected", "Chase is already linked", 409)
    );
    for status in [300, 400, 401, 403, 404, 408, 413, 422] {
        assert!(matches!(classify(status, None, empty(), NOW), HttpOutcome::Fatal { .. }), "{status}");
        assert_eq!(failure(status, None, empty()).code, format!("http_{status}"));
    }
}

#[test]
fn no_answer_at_all_is_transient_with_status_zero() {
    let outcome = HttpOutcome::network_failure("Failed to fetch");
    assert!(outcome.is_transient());
    let failed = outcome.into_failure(3).unwrap();
    assert_eq!((failed.code.as_str(), failed.status, failed.attempts), ("network_error", 0, 3));
    assert!(failed.message.contains("Failed to fetch"));
}

#[test]
fn the_attempt_count_and_provider_failure_come_along() {
    let failed = classify(503, None, empty(), NOW).into_failure(2).unwrap();
    assert_eq!(failed.attempts, 2);
    let provider_failure = failed.provider_failure();
    assert_eq!(
        (provider_failure.code.as_str(), provider_failure.message.as_str()),
        ("http_503", failed.message.as_str())
    );
    assert_eq!(ClientFailure::invalid_response(200, "x").code, "invalid_response");
    assert_eq!(ClientFailure::token_unavailable("x").status, 0);
}
