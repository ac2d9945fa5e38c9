//! `tributary_core::plaid::verify_webhook` and `webhook_key_id` (then `parse_webhook`,
//! `webhook_effect`, `webhook_delivery_id` on what they accept).
//!
//! Input: byte 0 = flags, byte 1 = `iat` offset (i8 × 4 s), the rest = the raw body; with flag
//! 0x80 the rest is instead `<token>\n<body>`, a token taken as sent. Otherwise the token is
//! built here and each flag adds or removes one defect:
//! - 1: signed with Plaid's key (else with another valid P-256 key);
//! - 2|4: header `alg` ES256 (0, 2), `none` (4) or HS256 (6);
//! - 8: `kid` is the published key's (else another);
//! - 16: `request_body_sha256` is the body's hash (else the hash of other bytes);
//! - 32: the published key has expired.
//!
//! Oracle: a built token is accepted exactly when it has no defect and `iat` is within 300 s; a
//! token taken as sent is accepted only under the published `kid`. Nothing panics.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::json;
use sha2::{Digest, Sha256};
use tributary_core::plaid::{parse_webhook, verify_webhook, webhook_delivery_id, webhook_effect, webhook_key_id, Jwk};
use tributary_core::webhook::MAX_WEBHOOK_AGE_S;
use tributary_fuzz::hex;

const KID: &str = "fuzz-kid";
const NOW: i64 = 1_800_000_000;

fn signing_key(scalar: u8) -> SigningKey {
    SigningKey::from_bytes(&[scalar; 32].into()).expect("a small repeated scalar is a valid key")
}

fn published_key(expired: bool) -> Jwk {
    let point = signing_key(7).verifying_key().to_encoded_point(false);
    Jwk {
        alg: "ES256".into(),
        crv: "P-256".into(),
        kid: KID.into(),
        kty: "EC".into(),
        key_use: "sig".into(),
        x: URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        y: URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        created_at: NOW - 86_400,
        expired_at: expired.then_some(NOW - 1),
    }
}

fn build_token(flags: u8, iat: i64, body: &[u8]) -> String {
    let alg = ["ES256", "ES256", "none", "HS256"][usize::from((flags >> 1) & 3)];
    let kid = if flags & 8 != 0 { KID } else { "another-kid" };
    let hashed: Vec<u8> = if flags & 16 != 0 { body.to_vec() } else { [body, b"!"].concat() };
    let header = json!({ "alg": alg, "kid": kid, "typ": "JWT" });
    let claims = json!({ "iat": iat, "request_body_sha256": hex(&Sha256::digest(&hashed)) });
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = signing_key(if flags & 1 != 0 { 7 } else { 9 });
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fuzz_target!(|data: &[u8]| {
    let [flags, offset, rest @ ..] = data else { return };
    let iat = NOW + i64::from(*offset as i8) * 4;
    let jwk = published_key(flags & 32 != 0);
    let (token, body) = if flags & 0x80 != 0 {
        let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        (String::from_utf8_lossy(&rest[..split]).into_owned(), rest.get(split + 1..).unwrap_or_default())
    } else {
        (build_token(*flags, iat, rest), rest)
    };

    let kid = webhook_key_id(&token);
    let verdict = verify_webhook(&token, &jwk, body, NOW);
    if flags & 0x80 == 0 {
        let flawless = flags & 1 != 0
            && (flags >> 1) & 3 <= 1
            && flags & 8 != 0
            && flags & 16 != 0
            && flags & 32 == 0
            && (NOW - iat).abs() <= MAX_WEBHOOK_AGE_S;
        assert_eq!(verdict.is_ok(), flawless, "flags {flags:#04x}, iat offset {}: {verdict:?}", iat - NOW);
    }
    if verdict.is_ok() {
        assert_eq!(kid.as_deref(), Ok(KID), "accepted a token under a key id Plaid never published");
        assert!(webhook_delivery_id(&token).starts_with("jwt-"));
        if let Ok(webhook) = parse_webhook(body) {
            let _ = webhook_effect(&webhook);
        }
    }
});
