use super::*;
use crate::ErrorCode;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::SigningKey;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const KID: &str = "6c5516e1-92dc-479e-a8ff-5a51992e0001";
const BODY: &[u8] = br#"{"webhook_type":"HOLDINGS","webhook_code":"DEFAULT_UPDATE","item_id":"item-1"}"#;

fn signing_key(seed: u8) -> SigningKey {
    let mut secret = [0u8; 32];
    secret[31] = seed;
    secret[0] = 0x42;
    SigningKey::from_slice(&secret).unwrap()
}

fn jwk_of(key: &SigningKey, kid: &str) -> Jwk {
    let point = key.verifying_key().to_encoded_point(false);
    Jwk {
        alg: "ES256".into(),
        crv: "P-256".into(),
        kid: kid.into(),
        kty: "EC".into(),
        key_use: "sig".into(),
        x: URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        y: URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        created_at: NOW - 86_400,
        expired_at: None,
    }
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A token with any header and claims, signed by `key` the way Plaid signs (raw r || s).
fn token(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let signature: Signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn header() -> Value {
    json!({"alg": "ES256", "kid": KID, "typ": "JWT"})
}

fn claims(iat: i64, body: &[u8]) -> Value {
    json!({"iat": iat, "request_body_sha256": lowercase_hex(&Sha256::digest(body))})
}

fn genuine() -> String {
    token(&signing_key(1), &header(), &claims(NOW - 10, BODY))
}

fn verify(jwt: &str) -> Result<(), WebhookError> {
    verify_webhook(jwt, &jwk_of(&signing_key(1), KID), BODY, NOW)
}

#[test]
fn a_genuine_fresh_webhook_is_accepted_and_its_key_id_read() {
    assert_eq!(verify(&genuine()), Ok(()));
    assert_eq!(webhook_key_id(&genuine()).unwrap(), KID);
    let jwk: Jwk = serde_json::from_value(json!({
        "alg": "ES256", "created_at": 1560466150, "crv": "P-256", "expired_at": null, "kid": KID,
        "kty": "EC", "use": "sig", "x": jwk_of(&signing_key(1), KID).x, "y": jwk_of(&signing_key(1), KID).y
    }))
    .unwrap();
    assert_eq!(verify_webhook(&genuine(), &jwk, BODY, NOW), Ok(()));
}

#[test]
fn a_tampered_body_is_a_body_hash_mismatch() {
    let tampered = br#"{"webhook_type":"HOLDINGS","webhook_code":"DEFAULT_UPDATE","item_id":"item-2"}"#;
    let error = verify_webhook(&genuine(), &jwk_of(&signing_key(1), KID), tampered, NOW).unwrap_err();
    assert_eq!(error, WebhookError::BodyHashMismatch);
    assert_eq!(
        verify_webhook(&genuine(), &jwk_of(&signing_key(1), KID), b"", NOW),
        Err(WebhookError::BodyHashMismatch)
    );
}

#[test]
fn a_tampered_payload_or_header_breaks_the_signature() {
    let jwt = genuine();
    let parts: Vec<&str> = jwt.split('.').collect();
    let other_claims = b64(&claims(NOW, b"another body"));
    assert_eq!(verify(&format!("{}.{other_claims}.{}", parts[0], parts[2])), Err(WebhookError::BadSignature));
    let other_header = b64(&json!({"alg": "ES256", "kid": KID}));
    assert_eq!(verify(&format!("{other_header}.{}.{}", parts[1], parts[2])), Err(WebhookError::BadSignature));
}

#[test]
fn every_algorithm_but_es256_is_refused_before_any_key_is_used() {
    let key = signing_key(1);
    for alg in ["none", "HS256", "RS256", "es256", "ES384", ""] {
        let jwt = token(&key, &json!({"alg": alg, "kid": KID}), &claims(NOW, BODY));
        assert_eq!(verify(&jwt), Err(WebhookError::UnsupportedAlgorithm(alg.to_owned())), "{alg}");
        assert_eq!(webhook_key_id(&jwt), Err(WebhookError::UnsupportedAlgorithm(alg.to_owned())), "{alg}");
    }
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "kid": KID})), b64(&claims(NOW, BODY)));
    assert!(verify(&unsigned).is_err());
    for header in [json!({"kid": KID}), json!({"alg": null, "kid": KID}), json!({"alg": ["ES256"], "kid": KID})] {
        let jwt = token(&key, &header, &claims(NOW, BODY));
        assert_eq!(verify(&jwt).unwrap_err().code(), "webhook_malformed_token", "{header}");
        assert_eq!(webhook_key_id(&jwt).unwrap_err().code(), "webhook_malformed_token", "{header}");
    }
}

#[test]
fn iat_must_be_within_five_minutes_either_side() {
    let key = signing_key(1);
    for (iat, ok) in [(NOW - 300, true), (NOW + 300, true), (NOW - 301, false), (NOW + 301, false), (0, false)] {
        let result = verify(&token(&key, &header(), &claims(iat, BODY)));
        assert_eq!(result.is_ok(), ok, "iat {iat}: {result:?}");
        if !ok {
            assert!(matches!(result, Err(WebhookError::Stale { max_s: 300, .. })), "{result:?}");
        }
    }
}

#[test]
fn missing_or_odd_claims_are_refused() {
    let key = signing_key(1);
    let hash = lowercase_hex(&Sha256::digest(BODY));
    let cases = [
        (json!({"request_body_sha256": hash}), "webhook_malformed_timestamp"),
        (json!({"iat": "1800000000", "request_body_sha256": hash}), "webhook_malformed_timestamp"),
        (json!({"iat": 1_800_000_000.5, "request_body_sha256": hash}), "webhook_malformed_timestamp"),
        (json!({"iat": NOW}), "webhook_malformed_token"),
        (json!({"iat": NOW, "request_body_sha256": 5}), "webhook_malformed_token"),
        (json!({"iat": NOW, "request_body_sha256": hash.to_ascii_uppercase()}), "webhook_body_mismatch"),
    ];
    for (claims, code) in cases {
        assert_eq!(verify(&token(&key, &header(), &claims)).unwrap_err().code(), code, "{claims}");
    }
    let not_an_object = format!("{}.{}", b64(&header()), URL_SAFE_NO_PAD.encode(b"[1,2]"));
    let signature: Signature = key.sign(not_an_object.as_bytes());
    let jwt = format!("{not_an_object}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    assert_eq!(verify(&jwt).unwrap_err().code(), "webhook_malformed_token");
}

#[test]
fn a_token_for_another_key_id_or_signed_by_another_key_is_refused() {
    let other_kid = token(&signing_key(1), &json!({"alg": "ES256", "kid": "old-key"}), &claims(NOW, BODY));
    assert_eq!(verify(&other_kid), Err(WebhookError::UnknownKey("old-key".into())));
    assert_eq!(webhook_key_id(&other_kid).unwrap(), "old-key");
    let no_kid = token(&signing_key(1), &json!({"alg": "ES256"}), &claims(NOW, BODY));
    assert_eq!(verify(&no_kid).unwrap_err().code(), "webhook_malformed_token");
    let forged = token(&signing_key(2), &header(), &claims(NOW, BODY));
    assert_eq!(verify(&forged), Err(WebhookError::BadSignature));
}

#[test]
fn an_expired_key_is_refused_even_for_a_valid_signature() {
    let mut jwk = jwk_of(&signing_key(1), KID);
    jwk.expired_at = Some(NOW);
    assert_eq!(verify_webhook(&genuine(), &jwk, BODY, NOW), Err(WebhookError::KeyExpired));
    jwk.expired_at = Some(NOW + 1);
    assert_eq!(verify_webhook(&genuine(), &jwk, BODY, NOW), Ok(()));
}

#[test]
fn a_key_that_is_not_an_es256_p256_signing_key_is_not_used() {
    let good = jwk_of(&signing_key(1), KID);
    let edits: [fn(&mut Jwk); 6] = [
        |k| k.kty = "RSA".into(),
        |k| k.crv = "P-384".into(),
        |k| k.alg = "HS256".into(),
        |k| k.key_use = "enc".into(),
        |k| k.x = URL_SAFE_NO_PAD.encode([7u8; 31]),
        |k| k.y = URL_SAFE_NO_PAD.encode([7u8; 32]),
    ];
    for edit in edits {
        let mut jwk = good.clone();
        edit(&mut jwk);
        assert_eq!(verify_webhook(&genuine(), &jwk, BODY, NOW), Err(WebhookError::UnknownKey(KID.into())), "{jwk:?}");
    }
}

#[test]
fn garbage_and_truncated_tokens_are_malformed_never_a_panic() {
    let jwt = genuine();
    let (head, _) = jwt.rsplit_once('.').unwrap();
    assert_eq!(verify(""), Err(WebhookError::MissingSignature));
    let garbage = [
        "x".to_owned(),
        "a.b".to_owned(),
        "a.b.c.d".to_owned(),
        "..".to_owned(),
        format!("{head}."),
        format!("{head}.!!!"),
        format!("{head}.{}.x", URL_SAFE_NO_PAD.encode([0u8; 64])),
        format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(b"not json")),
        format!("{}.e30.AAAA", URL_SAFE_NO_PAD.encode(b"\"ES256\"")),
        "x".repeat(MAX_TOKEN_LEN + 1),
    ];
    for bad in &garbage {
        let error = verify(bad).unwrap_err();
        assert_eq!(error.code(), "webhook_malformed_token", "{bad}: {error}");
    }
    for cut in 1..jwt.len() {
        assert!(verify(&jwt[..cut]).is_err(), "a token cut at {cut} was accepted");
    }
}

/// DER as an ASN.1 SEQUENCE of two INTEGERs, each with a leading zero when its top bit is set.
fn der(signature: &Signature) -> Vec<u8> {
    let integer = |bytes: &[u8]| {
        let mut value: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        if value.first().is_some_and(|b| b & 0x80 != 0) {
            value.insert(0, 0);
        }
        let mut out = vec![0x02, value.len() as u8];
        out.extend(value);
        out
    };
    let bytes = signature.to_bytes();
    let body = [integer(&bytes[..32]), integer(&bytes[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

#[test]
fn a_der_encoded_signature_is_refused() {
    let key = signing_key(1);
    let signing_input = format!("{}.{}", b64(&header()), b64(&claims(NOW, BODY)));
    let signature: Signature = key.sign(signing_input.as_bytes());
    let jwt = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(der(&signature)));
    assert_eq!(verify(&jwt), Err(WebhookError::BadSignature));
    let zero = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode([0u8; 64]));
    assert_eq!(verify(&zero), Err(WebhookError::BadSignature));
}
