//! Session tokens from the host app: HS256 JWTs carried as `Authorization: Bearer <token>`.
//!
//! Verification is pure (token + key + now → claims or a typed error). The algorithm is pinned to
//! HS256: a token naming any other `alg` (including `none`) is refused before its signature is
//! looked at. `exp` is required and enforced; `nbf`, when present, too.

use crate::domain::UserId;
use crate::error::{ErrorCode, ValidationError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest token accepted; anything larger is refused before any decoding work.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The HMAC key sessions are signed with (`SESSION_SIGNING_KEY`), at least 32 bytes long.
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

impl SessionKey {
    pub const MIN_LEN: usize = 32;

    /// Refuses keys shorter than 32 bytes: HS256 is only as strong as its key.
    pub fn new(secret: &str) -> Result<Self, SessionError> {
        if secret.len() < Self::MIN_LEN {
            return Err(SessionError::WeakKey);
        }
        Ok(Self(secret.as_bytes().to_vec()))
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC accepts keys of any length")
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

/// What a verified session token says: who the user is, until when, and an optional role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionClaims {
    pub user_id: UserId,
    pub expires_at: i64,
    pub issued_at: Option<i64>,
    /// The optional `role` claim; absent for ordinary users (and for any role Tributary does not know).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// A role a session token may carry in its `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May read the operator endpoints (`/api/ops/*`).
    Operator,
}

impl Role {
    /// The claim's value (`operator`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
        }
    }

    /// The role a claim names exactly; any other value is no role (never an error: a host app
    /// may use roles of its own).
    pub fn parse(value: &str) -> Option<Self> {
        (value == "operator").then_some(Self::Operator)
    }
}

/// Why a request's session was refused. Every variant answers 401 except `WeakKey` (a server fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("no session token: send 'Authorization: Bearer <token>'")]
    MissingToken,
    #[error("the session token is malformed: {0}")]
    Malformed(&'static str),
    #[error("session tokens must be signed with HS256, this one says {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("the session token's signature does not match")]
    BadSignature,
    #[error("the session token expired at {expired_at} (unix seconds)")]
    Expired { expired_at: i64 },
    #[error("the session token is not valid before {not_before} (unix seconds)")]
    NotYetValid { not_before: i64 },
    #[error("the session token's subject is not a valid user id: {0}")]
    InvalidSubject(ValidationError),
    #[error("SESSION_SIGNING_KEY must be at least 32 bytes long")]
    WeakKey,
}

impl ErrorCode for SessionError {
    fn code(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::Malformed(_) => "malformed_token",
            Self::UnsupportedAlgorithm(_) => "unsupported_token_algorithm",
            Self::BadSignature => "bad_token_signature",
            Self::Expired { .. } => "token_expired",
            Self::NotYetValid { .. } => "token_not_yet_valid",
            Self::InvalidSubject(_) => "invalid_token_subject",
            Self::WeakKey => "config_invalid",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::WeakKey => 503,
            _ => 401,
        }
    }
}

/// Extracts the token from an `Authorization` header value (`Bearer <token>`, scheme case-insensitive).
pub fn bearer_token(authorization: Option<&str>) -> Result<&str, SessionError> {
    let header = authorization.map(str::trim).filter(|h| !h.is_empty()).ok_or(SessionError::MissingToken)?;
    let (scheme, token) = header.split_once(' ').ok_or(SessionError::Malformed("expected 'Bearer <token>'"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(SessionError::Malformed("expected the Bearer scheme"));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(SessionError::MissingToken);
    }
    Ok(token)
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    typ: Option<String>,
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Payload {
    sub: Option<String>,
    exp: Option<serde_json::Value>,
    nbf: Option<serde_json::Value>,
    iat: Option<serde_json::Value>,
    role: Option<serde_json::Value>,
}

fn numeric_date(value: Option<serde_json::Value>, what: &'static str) -> Result<Option<i64>, SessionError> {
    match value {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
            .map(Some)
            .ok_or(SessionError::Malformed(what)),
    }
}

fn decode_json<T: for<'de> Deserialize<'de>>(segment: &str, what: &'static str) -> Result<T, SessionError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| SessionError::Malformed(what))?;
    serde_json::from_slice(&bytes).map_err(|_| SessionError::Malformed(what))
}

/// Verifies an HS256 session token against `key` at `now_unix`, returning its claims.
pub fn verify_session_token(token: &str, key: &SessionKey, now_unix: i64) -> Result<SessionClaims, SessionError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(SessionError::Malformed("token too long"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SessionError::Malformed("expected three dot-separated parts"));
    };

    let header: Header = decode_json(header_b64, "header is not base64url JSON")?;
    match header.alg.as_deref() {
        Some("HS256") => {}
        other => return Err(SessionError::UnsupportedAlgorithm(other.unwrap_or("<missing>").to_owned())),
    }
    if header.typ.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return Err(SessionError::Malformed("typ must be JWT"));
    }
    if header.crit.is_some() {
        return Err(SessionError::Malformed("critical header extensions are not supported"));
    }

    let signature =
        URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| SessionError::Malformed("signature is not base64url"))?;
    let mut mac = key.mac();
    mac.update(header_b64.as_bytes());
    mac.update(b".");
    mac.update(payload_b64.as_bytes());
    mac.verify_slice(&signature).map_err(|_| SessionError::BadSignature)?;

    let payload: Payload = decode_json(payload_b64, "payload is not base64url JSON")?;
    let expires_at =
        numeric_date(payload.exp, "exp must be a number")?.ok_or(SessionError::Malformed("exp is required"))?;
    if now_unix >= expires_at {
        return Err(SessionError::Expired { expired_at: expires_at });
    }
    if let Some(not_before) = numeric_date(payload.nbf, "nbf must be a number")? {
        if now_unix < not_before {
            return Err(SessionError::NotYetValid { not_before });
        }
    }
    let issued_at = numeric_date(payload.iat, "iat must be a number")?;
    let sub = payload.sub.ok_or(SessionError::Malformed("sub is required"))?;
    let user_id = UserId::parse(&sub).map_err(SessionError::InvalidSubject)?;
    let role = payload.role.as_ref().and_then(serde_json::Value::as_str).and_then(Role::parse);
    Ok(SessionClaims { user_id, expires_at, issued_at, role })
}

/// Issues an HS256 session token for `user` valid for `ttl_seconds` from `now_unix`.
///
/// Host apps issue their own tokens; Tributary uses this for the development session endpoint.
pub fn issue_session_token(user: &UserId, key: &SessionKey, now_unix: i64, ttl_seconds: i64) -> String {
    issue_session_token_with_role(user, key, now_unix, ttl_seconds, None)
}

/// [`issue_session_token`] with a `role` claim when `role` is given.
pub fn issue_session_token_with_role(
    user: &UserId,
    key: &SessionKey,
    now_unix: i64,
    ttl_seconds: i64,
    role: Option<Role>,
) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let mut payload = serde_json::json!({ "sub": user.as_str(), "iat": now_unix, "exp": now_unix + ttl_seconds });
    if let Some(role) = role {
        payload["role"] = serde_json::json!(role.as_str());
    }
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let mut mac = key.mac();
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{header}.{payload}.{signature}")
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
