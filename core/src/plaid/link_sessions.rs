//! Which Plaid public tokens a user may exchange: only those produced by a Link session of a link
//! token Tributary created for that same user. A public token travels back on a redirect URL, so
//! whoever sees that URL holds it; Plaid's `/link/token/get` lists the public tokens each Link
//! session of a link token produced, and that list — not the bearer of the token — says whose it is.
//!
//! The shell keeps the user's recent link tokens ([`RememberedLinkTokens`], a small JSON list),
//! asks `/link/token/get` about the ones still worth asking about ([`read_link_token_get`]) and
//! exchanges a public token only when [`public_token_belongs`]; otherwise the request ends with
//! [`LinkSessionError::PublicTokenUnknown`] before anything is created or billed. Nothing here
//! performs I/O or reads a clock: `now` is passed in (the provider's clock, as Plaid's
//! `expiration` is).

use super::map_error;
use crate::error::ErrorCode;
use crate::provider_error::ProviderError;
use crate::Provider;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// How long Plaid keeps a link token usable when its answer does not say (Plaid: 4 hours).
pub const LINK_TOKEN_TTL_S: i64 = 4 * 3600;
/// How long a public token may wait to be exchanged (Plaid: 30 minutes), so how long after its
/// link token expires a session of it can still hand us an exchangeable token.
pub const PUBLIC_TOKEN_TTL_S: i64 = 30 * 60;
/// How many of a user's link tokens are remembered (newest first).
pub const MAX_REMEMBERED_LINK_TOKENS: usize = 10;
/// Kept in the store this long beyond the last moment a remembered token can matter.
const STORE_MARGIN_S: i64 = 3600;
/// The store never keeps the list longer than this, whatever expiration Plaid announces.
const MAX_STORE_TTL_S: i64 = 30 * 86_400;
/// The shortest expiration Cloudflare KV accepts.
const MIN_STORE_TTL_S: i64 = 60;

/// Why a public token may not be exchanged by this user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkSessionError {
    /// No Link session of a link token created for this user produced the token.
    #[error("This Plaid public token was not issued to a Link session you started.")]
    PublicTokenUnknown,
}

impl ErrorCode for LinkSessionError {
    fn code(&self) -> &'static str {
        match self {
            Self::PublicTokenUnknown => "public_token_unknown",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::PublicTokenUnknown => 404,
        }
    }
}

/// A link token created for the user, and when Plaid stops accepting it (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedLinkToken {
    /// The link token (not a credential: only our client id and secret can read its sessions).
    pub link_token: String,
    /// Plaid's `expiration` of the link token.
    pub expires_at: i64,
}

/// One user's recent link tokens, newest first, as the shell stores them (a JSON list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RememberedLinkTokens(Vec<IssuedLinkToken>);

impl RememberedLinkTokens {
    /// Reads the stored list; nothing stored, or anything unreadable, is an empty list (so no
    /// public token is accepted: the check fails closed).
    pub fn parse(stored: Option<&str>) -> Self {
        stored.and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default()
    }

    /// The list to store after creating `link_token` at `now`: it comes first (with Plaid's
    /// `expires_at`, or [`LINK_TOKEN_TTL_S`] from `now` when unknown), tokens no longer worth
    /// asking about are dropped, and at most [`MAX_REMEMBERED_LINK_TOKENS`] are kept.
    pub fn remember(self, link_token: &str, expires_at: Option<i64>, now: i64) -> Self {
        let issued = IssuedLinkToken {
            link_token: link_token.to_owned(),
            expires_at: expires_at.unwrap_or(now + LINK_TOKEN_TTL_S),
        };
        let older = self.0.into_iter().filter(|t| t.link_token != link_token && still_useful(t, now));
        Self(std::iter::once(issued).chain(older).take(MAX_REMEMBERED_LINK_TOKENS).collect())
    }

    /// The link tokens whose sessions may still hold an exchangeable public token at `now`:
    /// unexpired, or expired less than [`PUBLIC_TOKEN_TTL_S`] ago. Newest first.
    pub fn worth_asking(&self, now: i64) -> Vec<&str> {
        self.0.iter().filter(|t| still_useful(t, now)).map(|t| t.link_token.as_str()).collect()
    }

    /// The JSON text to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".to_owned())
    }

    /// How long the store should keep the list (its expiration TTL, seconds): until its last
    /// token stops being worth asking about, plus a margin; never less than a fresh link token
    /// needs (4 h + margin), never more than 30 days.
    pub fn store_ttl_s(&self, now: i64) -> u64 {
        let last_useful = self.0.iter().map(|t| t.expires_at.saturating_add(PUBLIC_TOKEN_TTL_S)).max().unwrap_or(now);
        let needed =
            last_useful.saturating_sub(now).max(LINK_TOKEN_TTL_S + PUBLIC_TOKEN_TTL_S).saturating_add(STORE_MARGIN_S);
        needed.clamp(MIN_STORE_TTL_S, MAX_STORE_TTL_S) as u64
    }
}

fn still_useful(token: &IssuedLinkToken, now: i64) -> bool {
    now < token.expires_at.saturating_add(PUBLIC_TOKEN_TTL_S)
}

/// The `/link/token/get` body for `link_token` (credentials travel as headers).
pub fn link_token_get_request(link_token: &str) -> Value {
    json!({ "link_token": link_token })
}

/// Reads a successful `/link/token/get` answer about `link_token`: the public tokens its Link
/// sessions produced (`results.item_add_results[].public_token`, and the legacy
/// `on_success.public_token`), without duplicates. `Malformed` when the answer is not JSON, is
/// about another link token, or a field read has the wrong type; absent or null sessions,
/// results and public tokens simply list nothing.
pub fn parse_link_token_get_response(body: &[u8], link_token: &str) -> Result<Vec<String>, ProviderError> {
    let malformed = |detail: &str| ProviderError::Malformed { provider: Provider::Plaid, detail: detail.to_owned() };
    let value: Value = serde_json::from_slice(body).map_err(|_| malformed("link token details are not JSON"))?;
    match value.get("link_token").and_then(Value::as_str) {
        Some(answered) if answered == link_token => {}
        Some(_) => return Err(malformed("link token details are about another link token")),
        None => return Err(malformed("link token details have no link_token")),
    }
    let mut tokens: Vec<String> = Vec::new();
    let mut add = |holder: &Value, what: &str| -> Result<(), ProviderError> {
        match holder.get("public_token") {
            None | Some(Value::Null) => Ok(()),
            Some(Value::String(token)) => {
                if !token.is_empty() && !tokens.contains(token) {
                    tokens.push(token.clone());
                }
                Ok(())
            }
            Some(_) => Err(malformed(&format!("{what}.public_token is not a string"))),
        }
    };
    for session in optional_array(&value, "link_sessions").map_err(|e| malformed(&e))? {
        if !session.is_object() {
            return Err(malformed("a link session is not an object"));
        }
        match session.get("results") {
            None | Some(Value::Null) => {}
            Some(results) if results.is_object() => {
                for added in optional_array(results, "item_add_results").map_err(|e| malformed(&e))? {
                    if !added.is_object() {
                        return Err(malformed("an item_add_results entry is not an object"));
                    }
                    add(added, "item_add_results[]")?;
                }
            }
            Some(_) => return Err(malformed("link session results are not an object")),
        }
        match session.get("on_success") {
            None | Some(Value::Null) => {}
            Some(success) if success.is_object() => add(success, "on_success")?,
            Some(_) => return Err(malformed("link session on_success is not an object")),
        }
    }
    Ok(tokens)
}

/// `holder[key]` as a list: absent or null is empty, anything but an array is an error message.
fn optional_array<'a>(holder: &'a Value, key: &str) -> Result<&'a [Value], String> {
    match holder.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key} is not an array")),
    }
}

/// What one `/link/token/get` answer (any status) says about `link_token`: the public tokens its
/// sessions produced; none when Plaid no longer knows the token (`INVALID_LINK_TOKEN`: session
/// data is kept only hours); otherwise Plaid's error as [`map_error`] types it.
pub fn read_link_token_get(status: u16, body: &[u8], link_token: &str) -> Result<Vec<String>, ProviderError> {
    if (200..300).contains(&status) {
        return parse_link_token_get_response(body, link_token);
    }
    let code =
        serde_json::from_slice::<Value>(body).ok().and_then(|v| v.get("error_code")?.as_str().map(str::to_owned));
    match code.as_deref() {
        Some("INVALID_LINK_TOKEN") if status == 400 => Ok(Vec::new()),
        _ => Err(map_error(status, body)),
    }
}

/// Whether `public_token` is one of `session_tokens` (the public tokens the user's own Link
/// sessions produced). Exact match; an empty token never belongs.
pub fn public_token_belongs(public_token: &str, session_tokens: &[String]) -> bool {
    !public_token.is_empty() && session_tokens.iter().any(|token| token == public_token)
}

/// Whose public token is it, from Plaid's answers about each of the user's link tokens: the
/// user's as soon as one answer lists it; otherwise the first failure (the check could not be
/// made, so it is not refused as unknown); otherwise [`LinkSessionError::PublicTokenUnknown`].
pub fn judge_public_token<E: From<LinkSessionError>>(
    public_token: &str,
    answers: impl IntoIterator<Item = Result<Vec<String>, E>>,
) -> Result<(), E> {
    let mut first_failure = None;
    for answer in answers {
        match answer {
            Ok(tokens) if public_token_belongs(public_token, &tokens) => return Ok(()),
            Ok(_) => {}
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    Err(first_failure.unwrap_or_else(|| LinkSessionError::PublicTokenUnknown.into()))
}

#[cfg(test)]
#[path = "link_sessions_tests.rs"]
mod tests;
