//! Schwab's error answers mapped to typed errors. Schwab answers in at least three JSON shapes
//! (`{"message"}`, `{"errors": [{"title", "detail", "status"}]}`, the gateway's `{"fault"}`) and
//! sometimes HTML or plain text; every one is read leniently and none can panic.

use crate::domain::Provider;
use crate::provider_error::ProviderError;
use serde_json::Value;

const P: Provider = Provider::Schwab;
/// Most characters of an answer's text kept in an error message.
const MAX_DETAIL_CHARS: usize = 200;

/// The human-readable part of an error answer, whatever its shape.
fn detail(status: u16, body: &[u8]) -> String {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text =
        |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let from_json = text(parsed.get("message"))
        .or_else(|| {
            let first = parsed.get("errors")?.as_array()?.first()?;
            match first {
                Value::String(s) => Some(s.clone()),
                other => text(other.get("detail")).or_else(|| text(other.get("title"))),
            }
        })
        .or_else(|| text(parsed.get("error_description")))
        .or_else(|| text(parsed.get("error")))
        .or_else(|| text(parsed.get("fault").and_then(|f| f.get("faultstring"))));
    let raw = || {
        let lossy = String::from_utf8_lossy(body);
        let plain: String = lossy.chars().filter(|c| !c.is_control()).collect();
        Some(plain.trim().to_owned()).filter(|s| !s.is_empty() && !s.starts_with('<'))
    };
    let detail = from_json.or_else(raw).unwrap_or_else(|| format!("HTTP {status}"));
    detail.chars().take(MAX_DETAIL_CHARS).collect()
}

/// Maps a non-2xx answer of a Trader API data call. A 401 is `Auth` (the access token is spent or
/// revoked: the caller refreshes once and retries); `retry_after_s` is the answer's `Retry-After`.
pub fn map_error(status: u16, body: &[u8], retry_after_s: Option<u64>) -> ProviderError {
    let detail = detail(status, body);
    match status {
        401 => ProviderError::Auth { provider: P, detail },
        404 => ProviderError::NotFound { provider: P, what: detail },
        429 => ProviderError::RateLimited { provider: P, retry_after_s },
        500..=599 => ProviderError::ServerError { provider: P, status },
        _ => ProviderError::Rejected { provider: P, status, detail },
    }
}

/// Maps a non-2xx answer of the token endpoint. When `refreshing`, a 400/401 means the refresh
/// token is dead (expired after seven days, or superseded by a newer login): `ReauthRequired`.
/// For a code exchange it means the code was refused (used, late or foreign): `Rejected`.
pub fn map_token_error(status: u16, body: &[u8], refreshing: bool, retry_after_s: Option<u64>) -> ProviderError {
    match status {
        400 | 401 if refreshing => ProviderError::ReauthRequired { provider: P },
        429 => ProviderError::RateLimited { provider: P, retry_after_s },
        500..=599 => ProviderError::ServerError { provider: P, status },
        // Schwab's gateway occasionally answers the token endpoint with an HTML "Access Denied".
        403 if body.trim_ascii_start().starts_with(b"<") => ProviderError::ServerError { provider: P, status },
        _ => ProviderError::Rejected { provider: P, status, detail: detail(status, body) },
    }
}
