//! What Tributary asks of Plaid to connect an Item: the `/link/token/create` body for a Hosted
//! Link session (investments only) and the session read back from its answer.
//!
//! Bodies never contain credentials: the shell sends `PLAID-CLIENT-ID` / `PLAID-SECRET` as headers.

use crate::error::ValidationError;
use crate::provider_error::ProviderError;
use crate::time::parse_rfc3339;
use crate::url::validate_redirect;
use crate::Provider;
use serde_json::{json, Value};

/// The application name Link shows to the user.
pub const CLIENT_NAME: &str = "Tributary";
/// Country codes `/link/token/create` accepts (ISO-3166-1 alpha-2).
const COUNTRIES: [&str; 20] = [
    "US", "GB", "ES", "NL", "FR", "IE", "CA", "DE", "IT", "PL", "DK", "NO", "SE", "EE", "LT", "LV", "PT", "BE", "AT",
    "FI",
];
/// Languages Link can be shown in.
const LANGUAGES: [&str; 17] =
    ["da", "nl", "en", "et", "fr", "de", "hi", "it", "lv", "lt", "no", "pl", "pt", "ro", "es", "sv", "vi"];
const MAX_CLIENT_USER_ID: usize = 128;

/// Where Link looks for institutions and which language it speaks; only values Plaid accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkLocale {
    country_codes: Vec<String>,
    language: String,
}

impl Default for LinkLocale {
    /// United States institutions, in English.
    fn default() -> Self {
        Self { country_codes: vec!["US".to_owned()], language: "en".to_owned() }
    }
}

impl LinkLocale {
    /// Accepts one or more of Plaid's country codes (any case, duplicates dropped) and a language.
    pub fn parse(country_codes: &[&str], language: &str) -> Result<Self, ValidationError> {
        if country_codes.is_empty() {
            return Err(ValidationError::Empty { field: "country_codes" });
        }
        let mut codes: Vec<String> = Vec::with_capacity(country_codes.len());
        for code in country_codes {
            let code = code.trim().to_ascii_uppercase();
            if !COUNTRIES.contains(&code.as_str()) {
                return Err(ValidationError::BadCharacters {
                    field: "country_codes",
                    allowed: "country codes Plaid serves, e.g. US, CA, GB",
                });
            }
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        let language = language.trim().to_ascii_lowercase();
        if !LANGUAGES.contains(&language.as_str()) {
            return Err(ValidationError::BadCharacters {
                field: "language",
                allowed: "a language Link supports, e.g. en",
            });
        }
        Ok(Self { country_codes: codes, language })
    }
}

fn check_client_user_id(value: &str) -> Result<&str, ValidationError> {
    let field = "client_user_id";
    if value.trim().is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if value.chars().count() > MAX_CLIENT_USER_ID {
        return Err(ValidationError::TooLong { field, max: MAX_CLIENT_USER_ID });
    }
    if value.chars().any(char::is_control) || value.trim() != value {
        return Err(ValidationError::BadCharacters {
            field,
            allowed: "printable characters without surrounding spaces",
        });
    }
    Ok(value)
}

/// The `/link/token/create` body for a Hosted Link session that links an Item for investments
/// and sends the user back to `completion_redirect_uri` (checked like every redirect: https, or
/// http only for loopback, or anywhere when `development`). `webhook_url` is checked the same way.
pub fn link_token_request(
    client_user_id: &str,
    completion_redirect_uri: &str,
    webhook_url: Option<&str>,
    locale: &LinkLocale,
    development: bool,
) -> Result<Value, ValidationError> {
    let mut body = hosted_link_base(client_user_id, completion_redirect_uri, locale, development)?;
    body["products"] = json!(["investments"]);
    if let Some(webhook) = webhook_url {
        let webhook = validate_redirect(webhook, development).map_err(|e| match e {
            ValidationError::Empty { .. } => ValidationError::Empty { field: "webhook" },
            ValidationError::TooLong { max, .. } => ValidationError::TooLong { field: "webhook", max },
            _ => ValidationError::BadCharacters { field: "webhook", allowed: "an absolute https:// URL" },
        })?;
        body["webhook"] = json!(webhook);
    }
    Ok(body)
}

/// What every Hosted Link `/link/token/create` body carries (the app, the locale, the user, the
/// Hosted Link returning to `completion_redirect_uri`), with the user id and redirect checked.
pub(super) fn hosted_link_base(
    client_user_id: &str,
    completion_redirect_uri: &str,
    locale: &LinkLocale,
    development: bool,
) -> Result<Value, ValidationError> {
    let client_user_id = check_client_user_id(client_user_id)?;
    let redirect = validate_redirect(completion_redirect_uri, development)?;
    Ok(json!({
        "client_name": CLIENT_NAME,
        "language": locale.language,
        "country_codes": locale.country_codes,
        "user": { "client_user_id": client_user_id },
        "hosted_link": { "completion_redirect_uri": redirect },
    }))
}

/// A Hosted Link session: the token (to match the `SESSION_FINISHED` webhook), the page to send
/// the user to, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedLinkSession {
    /// The session's link token (not a credential: it only starts Link).
    pub link_token: String,
    /// The Plaid-hosted page to send the user to.
    pub hosted_link_url: String,
    /// Unix seconds; `None` when Plaid's timestamp could not be read.
    pub expires_at: Option<i64>,
}

/// Reads a `/link/token/create` answer; `Malformed` unless it has a link token and an absolute
/// https (or loopback http) `hosted_link_url`.
pub fn parse_link_token_response(body: &[u8]) -> Result<HostedLinkSession, ProviderError> {
    let malformed = |detail: &str| ProviderError::Malformed { provider: Provider::Plaid, detail: detail.to_owned() };
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed("link token answer is not JSON"))?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let link_token = text("link_token").ok_or_else(|| malformed("link token answer has no link_token"))?;
    let url = text("hosted_link_url").ok_or_else(|| malformed("link token answer has no hosted_link_url"))?;
    let url = validate_redirect(url, false).map_err(|_| malformed("hosted_link_url is not an https URL"))?;
    Ok(HostedLinkSession {
        link_token: link_token.to_owned(),
        hosted_link_url: url.to_owned(),
        expires_at: text("expiration").and_then(parse_rfc3339),
    })
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;

/// The `client_user_id` Tributary gives Plaid for a user: a hash of our user id, so no personal
/// data (a host app's user id may be an email address) ever reaches Plaid. Stable per user.
#[cfg(feature = "server")]
pub fn client_user_id(user: &crate::domain::UserId) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(user.as_str().as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("tributary-{hex}")
}

#[cfg(all(test, feature = "server"))]
mod client_user_id_tests {
    use super::*;
    use crate::domain::UserId;

    #[test]
    fn client_user_ids_are_stable_distinct_and_carry_no_personal_data() {
        let alice = UserId::parse("alice@example.com").unwrap();
        let bob = UserId::parse("bob@example.com").unwrap();
        assert_eq!(client_user_id(&alice), client_user_id(&alice));
        assert_ne!(client_user_id(&alice), client_user_id(&bob));
        assert!(!client_user_id(&alice).contains("alice"));
        assert_eq!(client_user_id(&alice).len(), "tributary-".len() + 32);
    }
}
