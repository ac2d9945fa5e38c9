//! Plaid webhook verification: the `Plaid-Verification` header is an ES256 JWT whose payload
//! signs the SHA-256 of the raw body. [`verify_webhook`] accepts a webhook only when the token is
//! ES256 (nothing else, whatever the header asks for), is signed by the key Plaid published under
//! the token's `kid`, that key has not expired, `iat` is within 300 s of now (either side), and
//! `request_body_sha256` equals the hash of the exact bytes received (compared in constant time).
//!
//! It does not fetch keys: the shell reads the `kid` with [`webhook_key_id`], fetches (and caches)
//! the key from `/webhook_verification_key/get`, and passes it in with the current time.

use super::keys::Jwk;
use crate::webhook::{WebhookError, MAX_WEBHOOK_AGE_S};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::{EncodedPoint, FieldBytes};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only algorithm accepted, in the header and on the key.
const ALGORITHM: &str = "ES256";
/// Plaid's tokens are a few hundred bytes; anything far larger is not one of them.
const MAX_TOKEN_LEN: usize = 8 * 1024;

fn malformed(detail: &str) -> WebhookError {
    WebhookError::MalformedToken(detail.to_owned())
}

/// The token's three parts, still encoded, and its decoded header.
struct Parts<'a> {
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
    header: Map<String, Value>,
}

fn decode_part(part: &str, what: &str) -> Result<Vec<u8>, WebhookError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed(&format!("the {what} is not base64url")))
}

fn json_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, WebhookError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed(&format!("the {what} is not a JSON object"))),
    }
}

/// Splits the token and checks its header: `alg` exactly `ES256`, no critical extensions.
fn parse(jwt: &str) -> Result<Parts<'_>, WebhookError> {
    let jwt = jwt.trim();
    if jwt.is_empty() {
        return Err(WebhookError::MissingSignature);
    }
    if jwt.len() > MAX_TOKEN_LEN {
        return Err(malformed("the token is too long"));
    }
    let (signing_input, signature) = jwt.rsplit_once('.').ok_or_else(|| malformed("expected three parts"))?;
    let (header, payload) = signing_input.split_once('.').ok_or_else(|| malformed("expected three parts"))?;
    if [header, payload].iter().any(|p| p.is_empty()) || [header, payload, signature].iter().any(|p| p.contains('.')) {
        return Err(malformed("expected three parts"));
    }
    // The algorithm is judged first, so an unsigned `alg: none` token is named for what it is.
    let header = json_object(&decode_part(header, "header")?, "header")?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALGORITHM => {}
        Some(Value::String(alg)) => return Err(WebhookError::UnsupportedAlgorithm(alg.clone())),
        Some(_) => return Err(malformed("the header's alg is not a string")),
        None => return Err(malformed("the header has no alg")),
    }
    if signature.is_empty() {
        return Err(malformed("the token has no signature"));
    }
    if header.contains_key("crit") {
        return Err(malformed("the header asks for critical extensions"));
    }
    Ok(Parts { signing_input, payload, signature, header })
}

fn key_id(header: &Map<String, Value>) -> Result<String, WebhookError> {
    match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => Ok(kid.clone()),
        _ => Err(malformed("the header has no kid")),
    }
}

/// The `kid` of a `Plaid-Verification` token, read only after its `alg` is checked to be ES256,
/// so the shell knows which key to fetch. Says nothing about whether the token is genuine.
pub fn webhook_key_id(jwt: &str) -> Result<String, WebhookError> {
    parse(jwt).and_then(|parts| key_id(&parts.header))
}

/// The P-256 public key of `jwk`, or `UnknownKey` when it is not an ES256 signing key on P-256.
fn verifying_key(jwk: &Jwk) -> Result<VerifyingKey, WebhookError> {
    let unusable = || WebhookError::UnknownKey(jwk.kid.clone());
    if jwk.kty != "EC" || jwk.crv != "P-256" || jwk.alg != ALGORITHM || jwk.key_use != "sig" {
        return Err(unusable());
    }
    let coordinate = |text: &str| {
        URL_SAFE_NO_PAD.decode(text).ok().filter(|b| b.len() == 32).map(|b| FieldBytes::clone_from_slice(&b))
    };
    let (x, y) = coordinate(&jwk.x).zip(coordinate(&jwk.y)).ok_or_else(unusable)?;
    VerifyingKey::from_encoded_point(&EncodedPoint::from_affine_coordinates(&x, &y, false)).map_err(|_| unusable())
}

fn lowercase_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 0x0f)] as char]).collect()
}

/// Checks `iat` (within [`MAX_WEBHOOK_AGE_S`] of `now_unix`, either side) and the body hash.
fn check_claims(claims: &Map<String, Value>, raw_body: &[u8], now_unix: i64) -> Result<(), WebhookError> {
    let iat = match claims.get("iat") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| WebhookError::MalformedTimestamp(format!("iat {n} is not a whole number of seconds")))?,
        Some(other) => return Err(WebhookError::MalformedTimestamp(format!("iat is not a number: {other}"))),
        None => return Err(WebhookError::MalformedTimestamp("the token has no iat".to_owned())),
    };
    let age_s = now_unix.saturating_sub(iat).saturating_abs();
    if age_s > MAX_WEBHOOK_AGE_S {
        return Err(WebhookError::Stale { age_s, max_s: MAX_WEBHOOK_AGE_S });
    }
    let claimed = match claims.get("request_body_sha256") {
        Some(Value::String(hash)) => hash.as_bytes(),
        Some(_) => return Err(malformed("request_body_sha256 is not a string")),
        None => return Err(malformed("the token has no request_body_sha256")),
    };
    let actual = lowercase_hex(&Sha256::digest(raw_body));
    if bool::from(claimed.ct_eq(actual.as_bytes())) {
        Ok(())
    } else {
        Err(WebhookError::BodyHashMismatch)
    }
}

/// Accepts a Plaid webhook only if `jwt` (the `Plaid-Verification` header) is a genuine, fresh
/// ES256 token from `jwk` that signs exactly `raw_body`; otherwise says why, changing nothing.
pub fn verify_webhook(jwt: &str, jwk: &Jwk, raw_body: &[u8], now_unix: i64) -> Result<(), WebhookError> {
    let parts = parse(jwt)?;
    let kid = key_id(&parts.header)?;
    if kid != jwk.kid {
        return Err(WebhookError::UnknownKey(kid));
    }
    let key = verifying_key(jwk)?;
    if jwk.expired_at.is_some_and(|expired_at| expired_at <= now_unix) {
        return Err(WebhookError::KeyExpired);
    }
    let signature_bytes = decode_part(parts.signature, "signature")?;
    // JOSE signatures are r || s, 32 bytes each; DER or any other length is refused here.
    let signature = Signature::from_slice(&signature_bytes).map_err(|_| WebhookError::BadSignature)?;
    key.verify(parts.signing_input.as_bytes(), &signature).map_err(|_| WebhookError::BadSignature)?;
    let claims = json_object(&decode_part(parts.payload, "payload")?, "payload")?;
    check_claims(&claims, raw_body, now_unix)
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
