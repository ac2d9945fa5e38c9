//! The webhook signing keys: an ES256 (P-256) key pair generated at start-up from the operating
//! system's randomness, published by `/webhook_verification_key/get` under a random `kid`, and a
//! second, never-published key for forged webhooks. Signing follows Plaid's webhook verification
//! docs: a JWT in the `Plaid-Verification` header, header `{"alg":"ES256","kid":…,"typ":"JWT"}`,
//! claims `{"iat": <now>, "request_body_sha256": <lowercase hex SHA-256 of the exact body bytes>}`,
//! signature = the raw 64-byte `r || s` (JOSE form, not DER), all parts base64url without padding.
//! [`Tamper`] variants each break exactly one of those properties.

use crate::util::random_bytes;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// How old a `stale_iat` webhook's `iat` is: past Plaid's documented 5-minute window.
pub const STALE_IAT_SECS: i64 = 10 * 60;

/// One defect a forged webhook carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// The body sent differs from the body whose hash was signed (a field added after signing).
    Body,
    /// Header `alg` is `none` and the signature is empty.
    AlgNone,
    /// Header `alg` is `HS256`, "signed" with HMAC keyed by the public key's SEC1 bytes.
    AlgHs256,
    /// `iat` is [`STALE_IAT_SECS`] in the past; otherwise valid.
    StaleIat,
    /// Header `kid` names a key that was never published; signed with the published key.
    UnknownKid,
    /// Header `kid` is the published one, but signed with the unpublished key.
    OtherKey,
    /// The claims lack `request_body_sha256`; otherwise valid.
    MissingHash,
}

impl Tamper {
    /// Parses `body`, `alg_none`, `alg_hs256`, `stale_iat`, `unknown_kid`, `other_key` or `missing_hash`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "body" => Self::Body,
            "alg_none" => Self::AlgNone,
            "alg_hs256" => Self::AlgHs256,
            "stale_iat" => Self::StaleIat,
            "unknown_kid" => Self::UnknownKid,
            "other_key" => Self::OtherKey,
            "missing_hash" => Self::MissingHash,
            _ => return None,
        })
    }
}

/// A signing key and its identity.
struct Key {
    kid: String,
    signing: SigningKey,
    created_at: i64,
}

impl Key {
    fn generate(created_at: i64) -> Self {
        let signing = loop {
            // A uniformly random 32-byte string is a valid scalar except with negligible probability.
            if let Ok(key) = SigningKey::from_slice(&random_bytes(32)) {
                break key;
            }
        };
        let kid = crate::util::random_uuid();
        Self { kid, signing, created_at }
    }

    fn public_sec1(&self) -> Vec<u8> {
        self.signing.verifying_key().to_encoded_point(false).as_bytes().to_vec()
    }
}

/// A webhook ready to send: the exact body bytes and the `Plaid-Verification` header value.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    /// The exact bytes to send (differing from the signed ones only for [`Tamper::Body`]).
    pub body: Vec<u8>,
    /// The `Plaid-Verification` header value.
    pub jwt: String,
}

/// The published key and the forger's key.
pub struct WebhookKeys {
    current: Key,
    other: Key,
}

impl WebhookKeys {
    /// Two fresh key pairs; the first is published as created at `now`.
    pub fn generate(now: i64) -> Self {
        Self { current: Key::generate(now), other: Key::generate(now) }
    }

    /// The published key's `kid`.
    pub fn kid(&self) -> &str {
        &self.current.kid
    }

    /// The JWK published under `kid` (`JWKPublicKey` schema), if that is the published key.
    pub fn jwk(&self, kid: &str) -> Option<Value> {
        if kid != self.current.kid {
            return None;
        }
        let point = self.current.signing.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x()?, point.y()?);
        Some(json!({
            "alg": "ES256",
            "created_at": self.current.created_at,
            "crv": "P-256",
            "expired_at": null,
            "kid": self.current.kid,
            "kty": "EC",
            "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        }))
    }

    /// Signs `body` as issued at `now`, applying `tamper` if given.
    pub fn sign(&self, body: &[u8], tamper: Option<Tamper>, now: i64) -> SignedWebhook {
        let hash: String = Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
        let iat = if tamper == Some(Tamper::StaleIat) { now - STALE_IAT_SECS } else { now };
        let claims = if tamper == Some(Tamper::MissingHash) {
            json!({ "iat": iat })
        } else {
            json!({ "iat": iat, "request_body_sha256": hash })
        };
        let (alg, kid) = match tamper {
            Some(Tamper::AlgNone) => ("none", self.current.kid.clone()),
            Some(Tamper::AlgHs256) => ("HS256", self.current.kid.clone()),
            Some(Tamper::UnknownKid) => ("ES256", crate::util::random_uuid()),
            _ => ("ES256", self.current.kid.clone()),
        };
        let header = json!({ "alg": alg, "kid": kid, "typ": "JWT" });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = match tamper {
            Some(Tamper::AlgNone) => Vec::new(),
            Some(Tamper::AlgHs256) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(&self.current.public_sec1()).expect("any key length");
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Some(Tamper::OtherKey) => es256(&self.other.signing, &signing_input),
            _ => es256(&self.current.signing, &signing_input),
        };
        let body = if tamper == Some(Tamper::Body) { add_field_after_signing(body) } else { body.to_vec() };
        SignedWebhook { body, jwt: format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)) }
    }
}

/// The raw `r || s` ES256 signature of `input`.
fn es256(key: &SigningKey, input: &str) -> Vec<u8> {
    let signature: Signature = key.sign(input.as_bytes());
    signature.to_bytes().to_vec()
}

/// `body` (a JSON object) with `"tampered": true` added before its closing brace.
fn add_field_after_signing(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    match text.rfind('}') {
        Some(end) => format!("{}, \"tampered\": true{}", text[..end].trim_end(), &text[end..]).into_bytes(),
        None => [body, b" "].concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::{signature::Verifier, VerifyingKey};

    fn part(jwt: &str, i: usize) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).unwrap()).unwrap()
    }

    #[test]
    fn a_signed_webhook_verifies_against_the_published_jwk() {
        let keys = WebhookKeys::generate(1_700_000_000);
        let jwk = keys.jwk(keys.kid()).unwrap();
        assert!(keys.jwk("other").is_none());
        let mut sec1 = vec![4u8];
        sec1.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        sec1.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        let verifying = VerifyingKey::from_sec1_bytes(&sec1).unwrap();

        let signed = keys.sign(b"{\"a\": 1}", None, 1_700_000_000);
        let (input, _) = signed.jwt.rsplit_once('.').unwrap();
        let signature = Signature::from_slice(&part(&signed.jwt, 2)).unwrap();
        assert!(verifying.verify(input.as_bytes(), &signature).is_ok());
        let claims: Value = serde_json::from_slice(&part(&signed.jwt, 1)).unwrap();
        let hash: String = Sha256::digest(&signed.body).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(claims, json!({"iat": 1_700_000_000, "request_body_sha256": hash}));

        let forged = keys.sign(b"{\"a\": 1}", Some(Tamper::OtherKey), 1_700_000_000);
        let (input, _) = forged.jwt.rsplit_once('.').unwrap();
        let signature = Signature::from_slice(&part(&forged.jwt, 2)).unwrap();
        assert!(verifying.verify(input.as_bytes(), &signature).is_err());
        let tampered = keys.sign(b"{\"a\": 1}", Some(Tamper::Body), 0);
        assert_eq!(tampered.body, b"{\"a\": 1, \"tampered\": true}");
    }
}
