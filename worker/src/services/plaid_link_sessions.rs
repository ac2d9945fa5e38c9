//! Whose Plaid public token is it: every link token created for a user is remembered in KV
//! (`plaid-link:<user id>`, the core's [`RememberedLinkTokens`] as JSON), and a public token is
//! exchanged only when `/link/token/get` lists it among the Link session results of one of them.
//! The core decides (what to keep, what to ask about, whether a token belongs); this module reads
//! and writes KV and calls Plaid. Times are the runtime's real clock: link token expirations are
//! Plaid's, unmoved by the development clock.
//!
//! KV failures are logged without the key (it carries the user id) and end the request as a 500:
//! a link token that cannot be remembered could never be exchanged, and one that cannot be read
//! back must not be trusted.

use crate::api::ApiError;
use crate::clock::real_now_unix;
use crate::providers::plaid::PlaidClient;
use crate::store::KV;
use futures_util::future::join_all;
use tributary_core::plaid::{judge_public_token, HostedLinkSession, RememberedLinkTokens};
use tributary_core::UserId;
use worker::Env;

/// The KV key of the user's remembered link tokens.
fn key(user: &UserId) -> String {
    format!("plaid-link:{}", user.as_str())
}

/// A KV failure as a logged 500, with the user id taken out of whatever the runtime said.
fn kv_failure(context: &str, user: &UserId, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(context, error.to_string().replace(user.as_str(), "<user>"))
}

async fn read(env: &Env, user: &UserId) -> Result<RememberedLinkTokens, ApiError> {
    let kv = env.kv(KV).map_err(|e| kv_failure("plaid link tokens: binding", user, e))?;
    let stored = kv.get(&key(user)).text().await.map_err(|e| kv_failure("plaid link tokens: read", user, e))?;
    Ok(RememberedLinkTokens::parse(stored.as_deref()))
}

/// Remembers `link` as created for `user` (newest first; the core drops old and expired ones).
pub async fn remember(env: &Env, user: &UserId, link: &HostedLinkSession) -> Result<(), ApiError> {
    let now = real_now_unix();
    let list = read(env, user).await?.remember(&link.link_token, link.expires_at, now);
    let kv = env.kv(KV).map_err(|e| kv_failure("plaid link tokens: binding", user, e))?;
    kv.put(&key(user), list.to_json())
        .map_err(|e| kv_failure("plaid link tokens: write", user, e))?
        .expiration_ttl(list.store_ttl_s(now))
        .execute()
        .await
        .map_err(|e| kv_failure("plaid link tokens: write", user, e))
}

/// `Ok` when `public_token` came from a Link session of a link token created for `user`, asking
/// Plaid about every one still worth asking about at once; the core's `judge_public_token` decides.
pub async fn check_public_token(
    env: &Env,
    user: &UserId,
    client: &PlaidClient<'_>,
    public_token: &str,
) -> Result<(), ApiError> {
    let remembered = read(env, user).await?;
    let link_tokens = remembered.worth_asking(real_now_unix());
    let asked = link_tokens
        .iter()
        .map(|link_token| async move { client.link_session_public_tokens(link_token).await.map_err(ApiError::from) });
    let answers = join_all(asked).await;
    judge_public_token(public_token, answers)
}
