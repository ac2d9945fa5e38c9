//! Plaid's webhook verification keys (`/webhook_verification_key/get`): the JWK type, the request
//! body for one key id and the key read back from the answer. Fetching and caching is the shell's.

use crate::provider_error::ProviderError;
use crate::Provider;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A public key as Plaid's `/webhook_verification_key/get` returns it in `key` (a JWK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Signature algorithm; only `ES256` is ever used.
    pub alg: String,
    /// Curve; only `P-256` is ever used.
    pub crv: String,
    /// Key id, matched against the token header's `kid`.
    pub kid: String,
    /// Key type; only `EC` is ever used.
    pub kty: String,
    /// Intended use (`use` on the wire); only `sig` is ever used.
    #[serde(rename = "use")]
    pub key_use: String,
    /// Base64url of the big-endian x coordinate.
    pub x: String,
    /// Base64url of the big-endian y coordinate.
    pub y: String,
    /// Unix seconds the key was created.
    pub created_at: i64,
    /// Unix seconds the key expired; `None` while it is current.
    #[serde(default)]
    pub expired_at: Option<i64>,
}

/// The `/webhook_verification_key/get` body asking for `key_id` (credentials travel as headers).
pub fn verification_key_request(key_id: &str) -> Value {
    json!({ "key_id": key_id })
}

/// Reads the `key` of a `/webhook_verification_key/get` answer; `Malformed` when it is not a JWK
/// for `expected_kid` (a key filed under the wrong id must never verify anything).
pub fn parse_verification_key_response(body: &[u8], expected_kid: &str) -> Result<Jwk, ProviderError> {
    let malformed = |detail: String| ProviderError::Malformed { provider: Provider::Plaid, detail };
    let value: Value =
        serde_json::from_slice(body).map_err(|_| malformed("verification key answer is not JSON".into()))?;
    let key = value.get("key").ok_or_else(|| malformed("verification key answer has no key".into()))?;
    let jwk = Jwk::deserialize(key).map_err(|e| malformed(format!("verification key: {e}")))?;
    if jwk.kid != expected_kid {
        return Err(malformed(format!("asked for key {expected_kid:?}, got {:?}", jwk.kid)));
    }
    Ok(jwk)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn the_key_is_read_from_plaids_answer_and_must_be_the_one_asked_for() {
        let answer = json!({
            "key": {
                "alg": "ES256", "created_at": 1560466150, "crv": "P-256", "expired_at": null,
                "kid": "bfbd5111-8e33-4643-8ced-b2e642a72f3c", "kty": "EC", "use": "sig",
                "x": "hKXLGIjWvCBv-cP5euCTxl8g9GLG9zHo_3pO5NN1DwQ", "y": "shhexqPB7YffGn6fR6h2UhTSuCtPmfzQJ6ENVIoO4Ys"
            },
            "request_id": "RZ6Omi1bzzwDaLo"
        })
        .to_string();
        let jwk = parse_verification_key_response(answer.as_bytes(), "bfbd5111-8e33-4643-8ced-b2e642a72f3c").unwrap();
        assert_eq!((jwk.key_use.as_str(), jwk.expired_at, jwk.created_at), ("sig", None, 1560466150));
        assert_eq!(verification_key_request(&jwk.kid), json!({"key_id": "bfbd5111-8e33-4643-8ced-b2e642a72f3c"}));
        let round_trip: Jwk = serde_json::from_value(serde_json::to_value(&jwk).unwrap()).unwrap();
        assert_eq!(round_trip, jwk);
        for (body, kid) in [
            (answer.as_str(), "another-kid"),
            (r#"{"key": {"kid": "k"}}"#, "k"),
            (r#"{"request_id": "x"}"#, "k"),
            ("<html>", "k"),
        ] {
            let error = parse_verification_key_response(body.as_bytes(), kid).unwrap_err();
            assert_eq!(error.code(), "provider_malformed_response", "{body}");
        }
    }
}
