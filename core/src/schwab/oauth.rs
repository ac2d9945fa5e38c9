//! The OAuth 2 authorization-code flow as Schwab runs it: the authorize URL, the code (which
//! arrives URL-encoded, ending in `%40`) decoded once, the form bodies of the token calls with the
//! client credentials in HTTP Basic, and the token answer read strictly.

use crate::domain::Provider;
use crate::error::ValidationError;
use crate::provider_error::ProviderError;
use crate::url::{encode_component, encode_query};
use serde::Deserialize;

const P: Provider = Provider::Schwab;
/// Longest authorization code accepted from a callback.
const MAX_CODE_LEN: usize = 2048;

/// `GET {base}/v1/oauth/authorize?client_id&redirect_uri&response_type=code&state`.
pub fn authorize_url(base_url: &str, client_id: &str, redirect_uri: &str, state: &str) -> String {
    let query = encode_query(&[
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("state", state),
    ]);
    format!("{}/v1/oauth/authorize?{query}", base_url.trim_end_matches('/'))
}

/// The authorization code as the token endpoint wants it: percent-decoded exactly once (a code
/// copied from the callback URL ends in `%40`, Schwab expects `@`). Refuses an empty, overlong,
/// badly encoded or non-printable code.
pub fn decode_code(code: &str) -> Result<String, ValidationError> {
    let code = code.trim();
    if code.is_empty() {
        return Err(ValidationError::Empty { field: "code" });
    }
    if code.len() > MAX_CODE_LEN {
        return Err(ValidationError::TooLong { field: "code", max: MAX_CODE_LEN });
    }
    let bad = || ValidationError::BadCharacters { field: "code", allowed: "a URL-encoded authorization code" };
    let bytes = code.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = code.get(i + 1..i + 3).ok_or_else(bad)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    let decoded = String::from_utf8(out).map_err(|_| bad())?;
    if decoded.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad());
    }
    Ok(decoded)
}

/// `Basic base64(client_id:client_secret)` for the token endpoint.
#[cfg(feature = "server")]
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}")))
}

/// The form body exchanging a decoded `code` (see [`decode_code`]) for tokens.
pub fn code_grant_body(code: &str, redirect_uri: &str) -> String {
    encode_query(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)])
}

/// The form body asking for a new access token with `refresh_token`.
pub fn refresh_grant_body(refresh_token: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={}", encode_component(refresh_token))
}

/// A token answer: the access token and how long it lives, and the refresh token (Schwab sends
/// one on every grant; whatever comes back is kept).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in_s: i64,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenGrant(<redacted>, expires_in_s={})", self.expires_in_s)
    }
}

#[derive(Deserialize)]
struct RawGrant {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<serde_json::Value>,
    token_type: Option<String>,
}

/// Reads a 200 answer of the token endpoint. A missing access token, a token type other than
/// Bearer, or a lifetime outside 1 s – 1 day is `Malformed`; a missing `expires_in` is Schwab's
/// documented 1800 s.
pub fn parse_token_response(body: &[u8]) -> Result<TokenGrant, ProviderError> {
    let malformed = |detail: &str| ProviderError::Malformed { provider: P, detail: format!("token: {detail}") };
    let raw: RawGrant = serde_json::from_slice(body).map_err(|_| malformed("not a JSON object"))?;
    let access_token = raw.access_token.filter(|t| !t.trim().is_empty()).ok_or_else(|| malformed("no access_token"))?;
    if raw.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
        return Err(malformed("token_type is not Bearer"));
    }
    let expires_in_s = match raw.expires_in {
        None | Some(serde_json::Value::Null) => 1800,
        Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(|| malformed("expires_in is not whole"))?,
        Some(serde_json::Value::String(s)) => s.trim().parse().map_err(|_| malformed("expires_in is not a number"))?,
        Some(_) => return Err(malformed("expires_in is not a number")),
    };
    if !(1..=86_400).contains(&expires_in_s) {
        return Err(malformed("expires_in is outside 1 s to 1 day"));
    }
    let refresh_token = raw.refresh_token.filter(|t| !t.trim().is_empty());
    Ok(TokenGrant { access_token, refresh_token, expires_in_s })
}

/// Why a callback was refused before anything was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("this sign-in link is not valid for you (unknown, already used, or started by another user); start the connection again")]
    StateInvalid,
    #[error("this sign-in took longer than 10 minutes; start the connection again")]
    StateExpired,
    #[error(
        "Schwab refused the authorization code (it is used, late or not ours): {detail}; start the connection again"
    )]
    CodeRejected { detail: String },
}

impl crate::ErrorCode for OAuthError {
    fn code(&self) -> &'static str {
        match self {
            Self::StateInvalid => "oauth_state_invalid",
            Self::StateExpired => "oauth_state_expired",
            Self::CodeRejected { .. } => "oauth_code_rejected",
        }
    }
    fn http_status(&self) -> u16 {
        400
    }
}

/// A fresh OAuth `state` from 32 random bytes: 64 lowercase hex characters.
pub fn state_from_bytes(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `state` has the shape [`state_from_bytes`] makes (checked before any lookup).
pub fn is_well_formed_state(state: &str) -> bool {
    state.len() == 64 && state.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
