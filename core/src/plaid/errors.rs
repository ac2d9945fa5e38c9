//! Plaid's error answers (`{error_type, error_code, error_message, display_message, request_id}`)
//! mapped to [`ProviderError`]. The detail kept is Plaid's type, code, message and request id,
//! with anything shaped like a Plaid token redacted and the length bounded: an error message
//! never carries an access token or a credential onward.

use crate::domain::Provider;
use crate::provider_error::ProviderError;
use serde_json::Value;

const P: Provider = Provider::Plaid;
const MAX_DETAIL_CHARS: usize = 300;
/// Prefixes of Plaid's tokens (`access-production-…`, `public-sandbox-…`, `link-…`).
const TOKEN_PREFIXES: [&str; 4] = ["access-", "public-", "link-", "processor-"];

/// Every whitespace-separated word that looks like a Plaid token or a secret becomes `[redacted]`.
fn redact(text: &str) -> String {
    let looks_secret = |word: &str| {
        let bare = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let lower = bare.to_ascii_lowercase();
        TOKEN_PREFIXES.iter().any(|p| lower.starts_with(p) && lower.len() > p.len() + 8)
            || (bare.len() >= 24 && bare.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let words: Vec<&str> = text.split_whitespace().map(|w| if looks_secret(w) { "[redacted]" } else { w }).collect();
    let joined = words.join(" ");
    match joined.char_indices().nth(MAX_DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &joined[..cut]),
        None => joined,
    }
}

fn field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// Codes meaning the user must go through Link's update mode before the Item works again.
const LOGIN_REQUIRED: [&str; 8] = [
    "ITEM_LOGIN_REQUIRED",
    "INVALID_CREDENTIALS",
    "INVALID_MFA",
    "INVALID_UPDATED_USERNAME",
    "ITEM_LOCKED",
    "USER_SETUP_REQUIRED",
    "PENDING_DISCONNECT",
    "PENDING_EXPIRATION",
];
/// Codes meaning our credentials (or the stored access token) are wrong for this environment.
const AUTH: [&str; 8] = [
    "INVALID_ACCESS_TOKEN",
    "INVALID_API_KEYS",
    "INVALID_SECRET",
    "INVALID_CLIENT_ID",
    "MISSING_CLIENT_ID",
    "MISSING_SECRET",
    "UNAUTHORIZED_ENVIRONMENT",
    "UNAUTHORIZED_ROUTE_ACCESS",
];
/// Codes meaning the institution or Plaid is failing; a later retry can succeed.
const UNAVAILABLE: [&str; 5] = [
    "INSTITUTION_DOWN",
    "INSTITUTION_NOT_RESPONDING",
    "INSTITUTION_NOT_AVAILABLE",
    "INTERNAL_SERVER_ERROR",
    "PLANNED_MAINTENANCE",
];
/// Codes meaning the connection is gone for good until the user connects again.
const DISABLED: [&str; 4] =
    ["USER_PERMISSION_REVOKED", "ACCESS_NOT_GRANTED", "INSTITUTION_NO_LONGER_SUPPORTED", "ITEM_NOT_SUPPORTED"];

/// Maps a non-2xx Plaid answer to a typed error; an unreadable body is `Malformed` unless the
/// status alone says enough (429 → rate limited, 5xx → server error).
pub fn map_error(status: u16, body: &[u8]) -> ProviderError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok().filter(Value::is_object);
    let readable = parsed.is_some();
    let body = parsed.unwrap_or_default();
    let error_type = field(&body, "error_type").unwrap_or_default();
    let error_code = field(&body, "error_code").unwrap_or_default();
    let server_error = ProviderError::ServerError { provider: P, status };
    if error_code.is_empty() {
        return match status {
            429 => ProviderError::RateLimited { provider: P, retry_after_s: None },
            500..=599 => server_error,
            _ => {
                let shape = if readable { "an error body without error_code" } else { "an unreadable error body" };
                ProviderError::Malformed { provider: P, detail: format!("HTTP {status} with {shape}") }
            }
        };
    }
    let mut detail = format!("{error_type}/{error_code}");
    if let Some(message) = field(&body, "error_message") {
        detail = format!("{detail}: {message}");
    }
    if let Some(request_id) = field(&body, "request_id") {
        detail = format!("{detail} (request {request_id})");
    }
    let detail = redact(&detail);
    match error_code {
        _ if error_type == "RATE_LIMIT_EXCEEDED" || status == 429 => {
            ProviderError::RateLimited { provider: P, retry_after_s: None }
        }
        "PRODUCT_NOT_READY" => ProviderError::NotReady { provider: P },
        "ITEM_NOT_FOUND" => ProviderError::NotFound { provider: P, what: "this connection (Plaid Item)".to_owned() },
        "NO_INVESTMENT_ACCOUNTS" | "NO_INVESTMENT_AUTH_ACCOUNTS" | "NO_ACCOUNTS" => {
            ProviderError::NotFound { provider: P, what: "investment accounts on this connection".to_owned() }
        }
        code if LOGIN_REQUIRED.contains(&code) => ProviderError::LoginRequired { provider: P },
        code if AUTH.contains(&code) => ProviderError::Auth { provider: P, detail },
        code if DISABLED.contains(&code) => ProviderError::ConnectionDisabled { provider: P, detail },
        code if UNAVAILABLE.contains(&code) || error_type == "API_ERROR" || error_type == "INSTITUTION_ERROR" => {
            server_error
        }
        _ if (500..=599).contains(&status) => server_error,
        _ => ProviderError::Rejected { provider: P, status, detail },
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
