use super::*;
use crate::ErrorCode;

const RETURN: &str = "https://app.example/connected?provider=plaid";

#[test]
fn a_hosted_link_request_asks_for_investments_and_carries_no_credentials() {
    let locale = LinkLocale::parse(&["us", "CA", "US"], "EN").unwrap();
    let body =
        link_token_request("user-42", RETURN, Some("https://api.example/webhooks/plaid"), &locale, false).unwrap();
    assert_eq!(
        body,
        json!({
            "client_name": "Tributary",
            "language": "en",
            "country_codes": ["US", "CA"],
            "user": {"client_user_id": "user-42"},
            "products": ["investments"],
            "hosted_link": {"completion_redirect_uri": RETURN},
            "webhook": "https://api.example/webhooks/plaid",
        })
    );
    for secret_field in ["client_id", "secret", "access_token"] {
        assert!(body.get(secret_field).is_none());
    }
    let without_webhook = link_token_request("user-42", RETURN, None, &LinkLocale::default(), false).unwrap();
    assert!(without_webhook.get("webhook").is_none());
    assert_eq!(without_webhook["country_codes"], json!(["US"]));
}

#[test]
fn redirects_webhooks_and_user_ids_are_checked() {
    let locale = LinkLocale::default();
    let refused = [
        ("user-1", "http://app.example/back", None, "redirect"),
        ("user-1", "javascript:alert(1)", None, "redirect"),
        ("user-1", "", None, "redirect"),
        ("user-1", RETURN, Some("http://hooks.example/plaid"), "webhook"),
        ("user-1", RETURN, Some(""), "webhook"),
        ("", RETURN, None, "client_user_id"),
        (" user-1", RETURN, None, "client_user_id"),
        ("user\n1", RETURN, None, "client_user_id"),
    ];
    for (user, redirect, webhook, field) in refused {
        let error = link_token_request(user, redirect, webhook, &locale, false).unwrap_err();
        assert_eq!((error.field(), error.code()), (field, "invalid_input"), "{user:?} {redirect:?} {webhook:?}");
    }
    let long = "u".repeat(129);
    assert!(matches!(link_token_request(&long, RETURN, None, &locale, false), Err(ValidationError::TooLong { .. })));
    assert!(link_token_request("user-1", "http://127.0.0.1:8787/back", None, &locale, false).is_ok());
    assert!(
        link_token_request("user-1", "http://dev.example/back", Some("http://dev.example/h"), &locale, true).is_ok()
    );
}

#[test]
fn only_plaids_countries_and_languages_are_accepted() {
    assert!(LinkLocale::parse(&[], "en").is_err());
    assert!(LinkLocale::parse(&["JP"], "en").is_err());
    assert!(LinkLocale::parse(&["US"], "ja").is_err());
    assert_eq!(LinkLocale::parse(&["US"], "en").unwrap(), LinkLocale::default());
}

#[test]
fn the_hosted_link_session_is_read_from_the_answer() {
    let answer = json!({
        "link_token": "link-sandbox-af1a0311-da53-4636-b754-dd15cc058176",
        "expiration": "2026-06-02T18:30:00Z",
        "request_id": "XQVgFigpGHXkb0b",
        "hosted_link_url": "https://secure.plaid.com/hl/abc"
    });
    let session = parse_link_token_response(answer.to_string().as_bytes()).unwrap();
    assert_eq!(session.hosted_link_url, "https://secure.plaid.com/hl/abc");
    assert_eq!(session.link_token, "link-sandbox-af1a0311-da53-4636-b754-dd15cc058176");
    assert_eq!(session.expires_at, crate::time::parse_rfc3339("2026-06-02T18:30:00Z"));
    for bad in [
        json!({"link_token": "link-x", "expiration": "2026-06-02T18:30:00Z"}),
        json!({"hosted_link_url": "https://secure.plaid.com/hl/abc"}),
        json!({"link_token": "link-x", "hosted_link_url": "javascript:alert(1)"}),
        json!([]),
    ] {
        let error = parse_link_token_response(bad.to_string().as_bytes()).unwrap_err();
        assert_eq!(error.code(), "provider_malformed_response", "{bad}");
    }
    assert!(parse_link_token_response(b"<html>").is_err());
}
