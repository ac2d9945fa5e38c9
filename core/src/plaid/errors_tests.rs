use super::*;
use crate::ErrorCode;

fn body(error_type: &str, error_code: &str) -> String {
    serde_json::json!({
        "error_type": error_type, "error_code": error_code, "error_message": "something happened",
        "display_message": null, "request_id": "HNTDNrA8F1shFEW"
    })
    .to_string()
}

#[test]
fn each_documented_answer_maps_to_its_typed_error() {
    let cases = [
        (400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED", "provider_login_required"),
        (400, "ITEM_ERROR", "ITEM_LOCKED", "provider_login_required"),
        (400, "ITEM_ERROR", "INVALID_CREDENTIALS", "provider_login_required"),
        (400, "ITEM_ERROR", "PENDING_DISCONNECT", "provider_login_required"),
        (400, "ITEM_ERROR", "PRODUCT_NOT_READY", "provider_not_ready"),
        (429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT", "provider_rate_limited"),
        (400, "RATE_LIMIT_EXCEEDED", "INVESTMENTS_LIMIT", "provider_rate_limited"),
        (400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN", "provider_auth_failed"),
        (400, "INVALID_INPUT", "INVALID_API_KEYS", "provider_auth_failed"),
        (400, "INVALID_INPUT", "INVALID_SECRET", "provider_auth_failed"),
        (400, "INVALID_INPUT", "INVALID_CLIENT_ID", "provider_auth_failed"),
        (400, "INVALID_INPUT", "UNAUTHORIZED_ENVIRONMENT", "provider_auth_failed"),
        (400, "ITEM_ERROR", "ITEM_NOT_FOUND", "provider_not_found"),
        (400, "ITEM_ERROR", "NO_INVESTMENT_ACCOUNTS", "provider_not_found"),
        (400, "ITEM_ERROR", "USER_PERMISSION_REVOKED", "connection_disabled"),
        (400, "INSTITUTION_ERROR", "INSTITUTION_DOWN", "provider_unavailable"),
        (400, "INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING", "provider_unavailable"),
        (500, "API_ERROR", "INTERNAL_SERVER_ERROR", "provider_unavailable"),
        (503, "API_ERROR", "PLANNED_MAINTENANCE", "provider_unavailable"),
        (502, "ITEM_ERROR", "SOMETHING_NEW", "provider_unavailable"),
        (400, "INVALID_REQUEST", "MISSING_FIELDS", "provider_rejected"),
        (400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN", "provider_rejected"),
    ];
    for (status, error_type, error_code, code) in cases {
        let error = map_error(status, body(error_type, error_code).as_bytes());
        assert_eq!(error.code(), code, "{status} {error_type} {error_code}: {error:?}");
        assert_eq!(error.provider(), Provider::Plaid);
    }
}

#[test]
fn bodies_without_an_error_code_fall_back_on_the_status() {
    let cases = [
        (500, "<html>Bad gateway</html>", "provider_unavailable"),
        (503, "", "provider_unavailable"),
        (429, "Too Many Requests", "provider_rate_limited"),
        (400, "not json", "provider_malformed_response"),
        (401, "{}", "provider_malformed_response"),
        (400, r#"["ITEM_LOGIN_REQUIRED"]"#, "provider_malformed_response"),
        (400, r#"{"error_code": 42}"#, "provider_malformed_response"),
    ];
    for (status, body, code) in cases {
        assert_eq!(map_error(status, body.as_bytes()).code(), code, "{status} {body:?}");
    }
}

#[test]
fn the_detail_keeps_plaids_code_and_request_id_but_never_a_token_or_key() {
    let body = serde_json::json!({
        "error_type": "INVALID_INPUT", "error_code": "INVALID_API_KEYS",
        "error_message": "invalid client_id 5e4a1b2c3d4e5f6a7b8c9d0e or secret for access-production-de3ce8ef-33f8-452c-a685-8671031fc0f6",
        "display_message": null, "request_id": "HNTDNrA8F1shFEW"
    });
    let error = map_error(400, body.to_string().as_bytes());
    let message = error.to_string();
    assert!(message.contains("INVALID_INPUT/INVALID_API_KEYS"), "{message}");
    assert!(message.contains("HNTDNrA8F1shFEW"), "{message}");
    assert!(!message.contains("access-production"), "{message}");
    assert!(!message.contains("5e4a1b2c3d4e5f6a7b8c9d0e"), "{message}");
    let long =
        serde_json::json!({"error_type": "INVALID_REQUEST", "error_code": "X", "error_message": "é".repeat(5000)});
    assert!(map_error(400, long.to_string().as_bytes()).to_string().chars().count() < 400);
}

#[test]
fn retryability_follows_the_mapping() {
    assert!(map_error(400, body("ITEM_ERROR", "PRODUCT_NOT_READY").as_bytes()).is_retryable());
    assert!(map_error(400, body("INSTITUTION_ERROR", "INSTITUTION_DOWN").as_bytes()).is_retryable());
    assert!(!map_error(400, body("ITEM_ERROR", "ITEM_LOGIN_REQUIRED").as_bytes()).is_retryable());
    assert_eq!(map_error(429, b"").retry_after_s(), None);
}
