use super::*;
use proptest::prelude::*;

const NOW: i64 = 1_800_000_000;

fn key() -> SessionKey {
    SessionKey::new("an-honest-session-key-of-32-bytes!!").unwrap()
}

fn user() -> UserId {
    UserId::parse("user-1").unwrap()
}

fn forge(header: &str, payload: &str, key: &[u8]) -> String {
    let h = URL_SAFE_NO_PAD.encode(header);
    let p = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[test]
fn issued_token_verifies_and_names_its_user() {
    let token = issue_session_token(&user(), &key(), NOW, 3600);
    let claims = verify_session_token(&token, &key(), NOW + 10).unwrap();
    assert_eq!(claims.user_id, user());
    assert_eq!(claims.expires_at, NOW + 3600);
    assert_eq!(claims.issued_at, Some(NOW));
}

#[test]
fn expired_token_is_refused_at_and_after_exp() {
    let token = issue_session_token(&user(), &key(), NOW, 60);
    assert_eq!(verify_session_token(&token, &key(), NOW + 60), Err(SessionError::Expired { expired_at: NOW + 60 }));
    assert_eq!(verify_session_token(&token, &key(), NOW + 59).map(|c| c.expires_at), Ok(NOW + 60));
}

#[test]
fn token_signed_with_another_key_is_refused() {
    let other = SessionKey::new("another-session-key-with-32-bytes!!!").unwrap();
    let token = issue_session_token(&user(), &other, NOW, 60);
    assert_eq!(verify_session_token(&token, &key(), NOW), Err(SessionError::BadSignature));
}

#[test]
fn alg_none_and_other_algorithms_are_refused_before_the_signature() {
    let payload = format!(r#"{{"sub":"user-1","exp":{}}}"#, NOW + 60);
    for alg in [r#"{"alg":"none"}"#, r#"{"alg":"HS512"}"#, r#"{"alg":"RS256"}"#, r#"{"alg":"hs256"}"#, r#"{}"#] {
        let token = forge(alg, &payload, b"an-honest-session-key-of-32-bytes!!");
        let err = verify_session_token(&token, &key(), NOW).unwrap_err();
        assert_eq!(err.code(), "unsupported_token_algorithm", "{alg}");
    }
    let unsigned = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode(&payload));
    assert_eq!(verify_session_token(&unsigned, &key(), NOW).unwrap_err().code(), "unsupported_token_algorithm");
}

#[test]
fn token_without_exp_or_sub_is_malformed() {
    let k = b"an-honest-session-key-of-32-bytes!!";
    let no_exp = forge(r#"{"alg":"HS256"}"#, r#"{"sub":"user-1"}"#, k);
    assert_eq!(verify_session_token(&no_exp, &key(), NOW), Err(SessionError::Malformed("exp is required")));
    let no_sub = forge(r#"{"alg":"HS256"}"#, &format!(r#"{{"exp":{}}}"#, NOW + 5), k);
    assert_eq!(verify_session_token(&no_sub, &key(), NOW), Err(SessionError::Malformed("sub is required")));
    let bad_sub = forge(r#"{"alg":"HS256"}"#, &format!(r#"{{"sub":"a b","exp":{}}}"#, NOW + 5), k);
    assert_eq!(verify_session_token(&bad_sub, &key(), NOW).unwrap_err().code(), "invalid_token_subject");
}

#[test]
fn nbf_in_the_future_is_refused() {
    let token = forge(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(r#"{{"sub":"user-1","exp":{},"nbf":{}}}"#, NOW + 600, NOW + 60),
        b"an-honest-session-key-of-32-bytes!!",
    );
    assert_eq!(verify_session_token(&token, &key(), NOW), Err(SessionError::NotYetValid { not_before: NOW + 60 }));
    assert!(verify_session_token(&token, &key(), NOW + 60).is_ok());
}

#[test]
fn garbage_is_malformed_never_a_panic() {
    for token in ["", "a", "a.b", "a.b.c.d", "!!!.???.***", "e30.e30.e30", &"x".repeat(10_000)] {
        assert!(verify_session_token(token, &key(), NOW).is_err(), "{token:?}");
    }
}

#[test]
fn bearer_header_is_parsed_strictly() {
    assert_eq!(bearer_token(Some("Bearer abc")), Ok("abc"));
    assert_eq!(bearer_token(Some("bearer  abc ")), Ok("abc"));
    assert_eq!(bearer_token(None), Err(SessionError::MissingToken));
    assert_eq!(bearer_token(Some("  ")), Err(SessionError::MissingToken));
    assert_eq!(bearer_token(Some("Basic abc")).unwrap_err().code(), "malformed_token");
    assert_eq!(bearer_token(Some("Bearer")).unwrap_err().code(), "malformed_token");
}

#[test]
fn short_keys_are_refused() {
    assert_eq!(SessionKey::new("short").unwrap_err(), SessionError::WeakKey);
    assert_eq!(format!("{:?}", key()), "SessionKey(<redacted>)");
}

proptest! {
    #[test]
    fn any_single_character_change_is_refused(pos in 0usize..200, replacement in "[A-Za-z0-9_-]") {
        let token = issue_session_token(&user(), &key(), NOW, 3600);
        let pos = pos % token.len();
        let mut chars: Vec<char> = token.chars().collect();
        prop_assume!(chars[pos] != '.' && chars[pos].to_string() != replacement);
        chars[pos] = replacement.chars().next().unwrap();
        let tampered: String = chars.into_iter().collect();
        // The last character of a base64url segment may carry unused bits; decode equality decides.
        let same_bytes = tampered.split('.').zip(token.split('.')).all(|(a, b)| {
            URL_SAFE_NO_PAD.decode(a).ok() == URL_SAFE_NO_PAD.decode(b).ok()
        });
        prop_assume!(!same_bytes);
        prop_assert!(verify_session_token(&tampered, &key(), NOW).is_err());
    }
}

#[test]
fn an_operator_role_claim_is_read_and_any_other_role_is_no_role() {
    let token = issue_session_token_with_role(&user(), &key(), NOW, 60, Some(Role::Operator));
    assert_eq!(verify_session_token(&token, &key(), NOW).unwrap().role, Some(Role::Operator));
    let plain = issue_session_token(&user(), &key(), NOW, 60);
    assert_eq!(verify_session_token(&plain, &key(), NOW).unwrap().role, None);
    assert_eq!(Role::parse("admin"), None);
    assert_eq!(Role::parse("Operator"), None, "exactly `operator`");
}
