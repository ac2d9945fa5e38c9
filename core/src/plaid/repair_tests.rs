use super::*;

const RETURN: &str = "https://app.example/connected?provider=plaid&repair=1";
const TOKEN: &str = "access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6";

#[test]
fn the_update_mode_body_names_the_item_and_asks_for_no_products() {
    let body = update_link_token_request("user-42", TOKEN, RETURN, &LinkLocale::default(), false).unwrap();
    assert_eq!(
        body,
        json!({
            "client_name": "Tributary",
            "language": "en",
            "country_codes": ["US"],
            "user": {"client_user_id": "user-42"},
            "access_token": TOKEN,
            "update": {"account_selection_enabled": false},
            "hosted_link": {"completion_redirect_uri": RETURN},
        })
    );
    assert!(body.get("products").is_none(), "update mode omits products");
    assert!(body.get("webhook").is_none(), "a webhook has no effect in update mode");
}

#[test]
fn the_update_mode_body_checks_its_inputs() {
    let locale = LinkLocale::default();
    let error = update_link_token_request("user-1", "  ", RETURN, &locale, false).unwrap_err();
    assert_eq!(error.field(), "access_token");
    let error = update_link_token_request("user-1", TOKEN, "http://app.example/back", &locale, false).unwrap_err();
    assert_eq!(error.field(), "redirect");
    let error = update_link_token_request("", TOKEN, RETURN, &locale, false).unwrap_err();
    assert_eq!(error.field(), "client_user_id");
    assert!(update_link_token_request("user-1", TOKEN, "http://dev.example/back", &locale, true).is_ok());
}

#[test]
fn a_link_request_is_a_repair_or_a_create_never_both() {
    assert_eq!(link_intent(None, Some("item-1")), Ok(LinkIntent::Repair { item_id: "item-1" }));
    assert_eq!(link_intent(Some("Chase"), None), Ok(LinkIntent::Create { institution: Some("Chase") }));
    assert_eq!(link_intent(Some(" "), Some(" ")), Ok(LinkIntent::Create { institution: None }));
    let both = link_intent(Some("Chase"), Some("item-1")).unwrap_err();
    assert_eq!((both.code(), both.http_status()), ("invalid_input", 400));
}

fn item_get(error: Value) -> Vec<u8> {
    json!({
        "item": {"item_id": "item-1", "institution_id": "ins_56", "error": error, "available_products": []},
        "status": {"investments": null}, "request_id": "m8MDnv9okwxFNBV"
    })
    .to_string()
    .into_bytes()
}

#[test]
fn item_get_says_healthy_only_when_its_error_is_null() {
    assert_eq!(parse_item_get(&item_get(Value::Null), "item-1").unwrap(), ItemHealth::Healthy);
    let login = json!({"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED", "error_code_reason": null,
                       "error_message": "the login details of this item have changed", "display_message": null});
    let broken = parse_item_get(&item_get(login), "item-1").unwrap();
    assert_eq!(broken, ItemHealth::Broken { error_code: "ITEM_LOGIN_REQUIRED".into() });
    let refused = broken.into_repaired().unwrap_err();
    assert_eq!((refused.code(), refused.http_status()), ("plaid_item_still_broken", 409));
    assert!(refused.to_string().contains("ITEM_LOGIN_REQUIRED"), "{refused}");
    assert_eq!(ItemHealth::Healthy.into_repaired(), Ok(()));
    let without_error = json!({"item": {"item_id": "item-1"}}).to_string();
    assert_eq!(parse_item_get(without_error.as_bytes(), "item-1").unwrap(), ItemHealth::Healthy);
}

#[test]
fn an_unreadable_item_get_is_malformed_never_healthy() {
    let cases: Vec<Vec<u8>> = vec![
        b"<html>".to_vec(),
        json!({"status": {}}).to_string().into_bytes(),
        item_get(json!({"error_type": "ITEM_ERROR"})),
        item_get(json!({"error_code": "access-sandbox-leak lower case"})),
        item_get(json!({"error_code": "X".repeat(65)})),
    ];
    for body in cases {
        let error = parse_item_get(&body, "item-1").unwrap_err();
        assert_eq!(error.code(), "provider_malformed_response", "{}", String::from_utf8_lossy(&body));
    }
    let other = parse_item_get(&item_get(Value::Null), "item-2").unwrap_err();
    assert_eq!(other.code(), "provider_malformed_response");
}

#[test]
fn only_plaids_login_required_errors_need_update_mode() {
    assert!(needs_update_mode(&ProviderError::LoginRequired { provider: Provider::Plaid }));
    assert!(!needs_update_mode(&ProviderError::LoginRequired { provider: Provider::SnapTrade }));
    assert!(!needs_update_mode(&ProviderError::NotReady { provider: Provider::Plaid }));
    let mapped = crate::plaid::map_error(
        400,
        br#"{"error_type":"ITEM_ERROR","error_code":"ITEM_LOGIN_REQUIRED","error_message":"m","request_id":"r"}"#,
    );
    assert!(needs_update_mode(&mapped));
}
