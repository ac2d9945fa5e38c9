use super::*;
use crate::domain::{Provider, SecurityKind};
use crate::provider_error::ProviderError;
use crate::ErrorCode;
use rust_decimal::Decimal;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const NUMBERS: &str =
    r#"[{"accountNumber":"12345678","hashValue":"HASHA1"},{"accountNumber":87654321,"hashValue":"HASHB2"}]"#;

const ACCOUNTS: &str = r#"[
 {"securitiesAccount":{"type":"MARGIN","accountNumber":"12345678","positions":[
   {"shortQuantity":0.0,"averagePrice":150.25,"longQuantity":10.0,"instrument":{"assetType":"EQUITY","cusip":"000000AA1","symbol":"SYNT"},"marketValue":1550.0},
   {"shortQuantity":1.0,"averagePrice":0.9434,"longQuantity":0.0,"settledShortQuantity":-1.0,
    "instrument":{"assetType":"OPTION","symbol":"SYNT  260605C00121000","putCall":"CALL","type":"VANILLA","assetType":"OPTION"},"marketValue":-3.5},
   {"longQuantity":25.0,"averagePrice":72.1,"instrument":{"assetType":"COLLECTIVE_INVESTMENT","symbol":"SETF","type":"EXCHANGE_TRADED_FUND"},"marketValue":1802.5},
   {"longQuantity":2500.0,"averagePrice":1.0,"instrument":{"assetType":"CASH_EQUIVALENT","symbol":"SWVXX","type":"MONEY_MARKET_FUND"},"marketValue":2500.0}
  ],
  "currentBalances":{"cashBalance":0.1000000000000000055511151231257827,"moneyMarketFund":2500.0,"buyingPower":5000.5,"isInCall":false}},
  "aggregatedBalance":{"currentLiquidationValue":25010.55}},
 {"securitiesAccount":{"type":"CASH","accountNumber":"87654321",
  "currentBalances":{"cashBalance":1500.25,"moneyMarketFund":300.0,"cashAvailableForTrading":1500.25}}}
]"#;

#[test]
fn accounts_are_named_by_hash_and_only_the_last_four_digits_are_kept() {
    let numbers = parse_account_numbers(NUMBERS.as_bytes()).unwrap();
    let holdings = normalize_accounts(ACCOUNTS.as_bytes(), &numbers, "conn1", 100).unwrap();
    let ids: Vec<&str> = holdings.accounts.iter().map(|a| a.account_id.as_str()).collect();
    assert_eq!(ids, ["HASHA1", "HASHB2"]);
    assert_eq!(holdings.accounts[0].number_mask.as_deref(), Some("••5678"));
    let shown = serde_json::to_string(&holdings).unwrap();
    assert!(!shown.contains("12345678") && !shown.contains("87654321"), "plain account numbers never kept");
    assert!(holdings.accounts.iter().all(|a| a.institution.as_ref().unwrap().as_str() == SCHWAB_INSTITUTION));
}

#[test]
fn shorts_are_negative_options_use_the_multiplier_and_numbers_are_exact() {
    let numbers = parse_account_numbers(NUMBERS.as_bytes()).unwrap();
    let holdings = normalize_accounts(ACCOUNTS.as_bytes(), &numbers, "conn1", 100).unwrap();
    let by_key = |k: &str| holdings.positions.iter().find(|p| p.security_key == k).unwrap();
    let option = by_key("SYNT  260605C00121000");
    assert_eq!((option.kind, option.quantity.0), (SecurityKind::Option, dec("-1.0")));
    assert_eq!(option.cost_basis, Some(dec("-94.3400")));
    assert_eq!(option.market_value, Some(dec("-3.5")));
    assert_eq!(by_key("SETF").kind, SecurityKind::Etf);
    assert_eq!(by_key("SYNT").cost_basis, Some(dec("1502.500")));
    assert_eq!(by_key("SYNT").price, None, "Schwab sends no unit price: unknown, never 0");
    // The float text is read as written, not rounded through f64.
    assert_eq!(holdings.balances[0].amount, dec("0.1000000000000000055511151231"));
}

#[test]
fn a_money_market_fund_counts_once() {
    let numbers = parse_account_numbers(NUMBERS.as_bytes()).unwrap();
    let holdings = normalize_accounts(ACCOUNTS.as_bytes(), &numbers, "conn1", 100).unwrap();
    // Margin account: the fund is a position, so its balance line is not added to cash.
    assert!(holdings.positions.iter().any(|p| p.security_key == "SWVXX" && p.kind == SecurityKind::Cash));
    assert_eq!(holdings.balances[0].buying_power, Some(dec("5000.5")));
    // Cash account: no fund position, so the balance's fund is cash.
    assert_eq!(holdings.balances[1].amount, dec("1800.25"));
    assert_eq!(holdings.balances[1].buying_power, Some(dec("1500.25")));
}

#[test]
fn odd_inputs_are_typed_errors_never_panics() {
    let numbers = parse_account_numbers(NUMBERS.as_bytes()).unwrap();
    for body in [
        "",
        "{}",
        "[1]",
        r#"[{"securitiesAccount":{"accountNumber":"999"}}]"#,
        r#"[{"securitiesAccount":{"accountNumber":"12345678","positions":[{"longQuantity":"x","instrument":{"symbol":"A"}}]}}]"#,
        r#"[{"securitiesAccount":{"accountNumber":"12345678","positions":[{"longQuantity":1e400,"instrument":{"symbol":"A"}}]}}]"#,
        r#"[{"securitiesAccount":{"accountNumber":"12345678","positions":[{"longQuantity":1}]}}]"#,
    ] {
        let error = normalize_accounts(body.as_bytes(), &numbers, "c", 0).unwrap_err();
        assert_eq!(error.code(), "provider_malformed_response", "{body}");
    }
    for body in
        ["", "[{}]", r#"[{"accountNumber":"1","hashValue":"../x"}]"#, r#"[{"accountNumber":"1","hashValue":""}]"#]
    {
        assert!(parse_account_numbers(body.as_bytes()).is_err(), "{body}");
    }
}

#[test]
fn unknown_asset_types_are_other_and_positions_may_be_absent() {
    let numbers = parse_account_numbers(NUMBERS.as_bytes()).unwrap();
    let body = r#"[{"securitiesAccount":{"type":"CASH","accountNumber":"12345678","positions":[
        {"longQuantity":3,"instrument":{"assetType":"PRODUCT","symbol":"ZZZ"}}]}}]"#;
    let holdings = normalize_accounts(body.as_bytes(), &numbers, "c", 0).unwrap();
    assert_eq!(holdings.positions[0].kind, SecurityKind::Other);
    assert!(holdings.balances.is_empty(), "no balances reported: no cash line invented");
}

#[test]
fn the_code_is_decoded_once_and_bad_codes_are_refused() {
    assert_eq!(decode_code("C0.b2F1dGgy.XyZ%40").unwrap(), "C0.b2F1dGgy.XyZ@");
    assert_eq!(decode_code("C0.abc@").unwrap(), "C0.abc@");
    for bad in ["", "%4", "%zz", "a%0Ab", &"a".repeat(3000)] {
        assert!(decode_code(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn authorize_url_and_grant_bodies_are_encoded() {
    let url = authorize_url("https://api.schwabapi.com/", "KEY", "https://app.example/cb", "s1");
    assert_eq!(
        url,
        "https://api.schwabapi.com/v1/oauth/authorize?client_id=KEY&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&state=s1"
    );
    assert_eq!(
        code_grant_body("C0.x@", "https://a/cb"),
        "grant_type=authorization_code&code=C0.x%40&redirect_uri=https%3A%2F%2Fa%2Fcb"
    );
    assert_eq!(refresh_grant_body("R@1"), "grant_type=refresh_token&refresh_token=R%401");
    assert_eq!(basic_authorization("id", "secret"), "Basic aWQ6c2VjcmV0");
}

#[test]
fn token_answers_are_read_strictly() {
    let grant =
        parse_token_response(br#"{"expires_in":1800,"token_type":"Bearer","refresh_token":"R","access_token":"A"}"#)
            .unwrap();
    assert_eq!(
        (grant.access_token.as_str(), grant.refresh_token.as_deref(), grant.expires_in_s),
        ("A", Some("R"), 1800)
    );
    assert!(!format!("{grant:?}").contains('A'.to_string().as_str()) || !format!("{grant:?}").contains("\"A\""));
    for bad in [
        &b"<html>"[..],
        br#"{"token_type":"Bearer"}"#,
        br#"{"access_token":"A","token_type":"MAC"}"#,
        br#"{"access_token":"A","expires_in":0}"#,
    ] {
        assert_eq!(parse_token_response(bad).unwrap_err().code(), "provider_malformed_response");
    }
}

#[test]
fn a_dead_refresh_token_means_reauth_and_error_shapes_are_read() {
    let nested = br#"{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{\"error_description\":\"Exception while authenticating refresh token\",\"error\":\"refresh_token_authentication_error\"}\""}"#;
    let error = map_token_error(400, nested, true, None);
    assert_eq!((error.code(), error.http_status()), ("schwab_reauth_required", 409));
    assert!(matches!(map_token_error(400, nested, false, None), ProviderError::Rejected { status: 400, .. }));
    assert!(matches!(
        map_token_error(403, b"<html>Access Denied</html>", true, None),
        ProviderError::ServerError { .. }
    ));
    let unauthorized =
        br#"{"errors":[{"id":"x","status":401,"title":"Unauthorized","detail":"Client not authorized"}]}"#;
    assert_eq!(
        map_error(401, unauthorized, None),
        ProviderError::Auth { provider: Provider::Schwab, detail: "Client not authorized".into() }
    );
    assert!(
        matches!(map_error(400, br#"{"message":"Invalid account number"}"#, None), ProviderError::Rejected { detail, .. } if detail == "Invalid account number")
    );
    assert!(matches!(
        map_error(404, br#"{"errors":[{"status":"404","title":"Not Found"}]}"#, None),
        ProviderError::NotFound { .. }
    ));
    assert_eq!(map_error(429, b"", Some(7)).retry_after_s(), Some(7));
    assert!(matches!(
        map_error(502, b"upstream request timeout", None),
        ProviderError::ServerError { status: 502, .. }
    ));
    assert!(
        matches!(map_error(400, br#"{"fault":{"faultstring":"Body buffer overflow"}}"#, None), ProviderError::Rejected { detail, .. } if detail == "Body buffer overflow")
    );
}

#[test]
fn access_tokens_refresh_with_five_minutes_left_and_logins_last_seven_days() {
    let times = new_grant_times(1_000, 1_800);
    assert_eq!(times.step(1_000, None), TokenStep::Use);
    assert_eq!(times.step(1_000 + 1_800 - ACCESS_REFRESH_LEEWAY_S - 1, None), TokenStep::Use);
    assert_eq!(times.step(1_000 + 1_800 - ACCESS_REFRESH_LEEWAY_S + 1, None), TokenStep::Refresh);
    assert_eq!(times.step(1_000, Some(times.access_expires_at)), TokenStep::Refresh, "a refused token is refreshed");
    assert_eq!(times.step(1_000, Some(times.access_expires_at - 1)), TokenStep::Use, "unless it was already replaced");
    let later = refreshed_times(&times, 5_000, 1_800);
    assert_eq!((later.access_expires_at, later.reauth_required_at), (6_800, times.reauth_required_at));
    assert_eq!(times.step(1_000 + REFRESH_TOKEN_LIFETIME_S, None), TokenStep::Reauth);
    let deadline = times.reauth_required_at;
    assert!(!expires_soon(deadline, deadline - EXPIRES_SOON_WINDOW_S - 1));
    assert!(expires_soon(deadline, deadline - EXPIRES_SOON_WINDOW_S));
    assert!(!expires_soon(deadline, deadline), "past the deadline it is expired, not expiring");
    assert!(!state_expired(0, OAUTH_STATE_TTL_S) && state_expired(0, OAUTH_STATE_TTL_S + 1));
}

#[test]
fn states_are_64_hex_characters_and_callback_errors_are_400s() {
    let state = state_from_bytes(&[0xab; 32]);
    assert_eq!(state.len(), 64);
    assert!(
        is_well_formed_state(&state) && !is_well_formed_state("ABC") && !is_well_formed_state(&state.to_uppercase())
    );
    for (error, code) in [
        (OAuthError::StateInvalid, "oauth_state_invalid"),
        (OAuthError::StateExpired, "oauth_state_expired"),
        (OAuthError::CodeRejected { detail: "x".into() }, "oauth_code_rejected"),
    ] {
        assert_eq!((error.code(), error.http_status()), (code, 400));
    }
}
